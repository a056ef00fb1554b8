import ArgumentParser
import Chat
import Dispatch
import FileIO
import FoundationEssentials
import Glibc
import GPT
import Seq2Seq
import Tokenizer
import Training
import Translation

/// `train --task translate`'s defaults: the reference recipe (d 256, 4 heads, 3 + 3
/// layers, MLP 1024, sinusoidal, pre-norm; AdamW β 0.9/0.98, lr 7e-4, weight decay 0.01,
/// warmup then cosine to 10 %, clip 1.0, batches of ~6,000 tokens, 3 epochs).
enum TranslationTraining {
    static let defaultBatchTokens = 6000
    static let defaultContext = 128
    static let defaultEpochs = 3
    static let languages = ["en", "es"]

    static var defaultRun: RunSettings {
        var run = RunSettings()
        run.batch = defaultBatchTokens
        run.schedule.peak = 7e-4
        run.adam.beta1 = 0.9
        run.adam.beta2 = 0.98
        run.adam.weightDecay = 0.01
        run.clip = 1
        return run
    }

    /// Warmup when not given: a tenth of the run, at most 1,000 updates.
    static func defaultWarmup(steps: Int) -> Int { min(1000, steps / 10) }

    /// The pairs turned to the run's direction (the TSV is English<TAB>Spanish).
    static func oriented(_ pairs: [TranslationPair], source: String) -> [TranslationPair] {
        source == "en" ? pairs : pairs.map { TranslationPair(source: $0.target, target: $0.source, attribution: $0.attribution) }
    }

    /// A translation tokenizer from `directory`, with its special tokens checked.
    static func tokenizer(directory: String) throws -> BPETokenizer {
        let tokenizer = try BPETokenizer(directory: directory, specialTokens: TranslationVocabulary.specialTokens)
        if let problem = TranslationVocabulary.problem(with: tokenizer) { throw TrainingError.badConfig(path: directory, key: nil, reason: problem) }
        return tokenizer
    }
}

extension TrainCommand {
    func validateTranslation() throws {
        guard data.count == 1 else { throw ValidationError("--task translate reads one --data TSV (got \(data.count))") }
        for (flag, value) in [("--source", source), ("--target", target)] where !TranslationTraining.languages.contains(value) {
            throw ValidationError("\(flag) must be en or es (got \(value))")
        }
        guard source != target else { throw ValidationError("--source and --target must differ (both \(source))") }
        if let batchTokens, batchTokens <= 0 { throw ValidationError("--batch-tokens must be positive (got \(batchTokens))") }
        for (flag, given) in [("--batch", batch != nil), ("--accumulation", accumulation != nil), ("--config", config != nil)] where given {
            throw ValidationError("\(flag) is for --task lm; --task translate batches by --batch-tokens")
        }
        if let stopAt, stopAt <= 0 { throw ValidationError("--stop-at must be positive (got \(stopAt))") }
    }

    /// `train --task translate`: the encoder–decoder on a TSV of sentence pairs. Signals,
    /// output checks and the directory claim work as for `--task lm` (see `run`).
    func runTranslation(stop: TrainingStop, signals: StopSignals.Watch) throws {
        let path = data[0]
        let corpus = try TranslationCorpus(path: path)
        let split = corpus.split()
        let trainPairs = TranslationTraining.oriented(split.train, source: source)
        let validationPairs = TranslationTraining.oriented(split.validation, source: source)
        guard !trainPairs.isEmpty else { throw TrainingError.corpusTooSmall(path: path, tokens: 0, needed: 1) }

        let checkpointPath = output + "/checkpoint.safetensors", modelPath = output + "/model.safetensors"
        let trainsVocabulary = vocab == nil && !resume
        var outputs = [checkpointPath, modelPath]
        if trainsVocabulary { outputs += BPETokenizer.fileNames.map { output + "/" + $0 } }
        try prepareRunDirectory(outputs: outputs, checkpoint: checkpointPath)

        let tokenizer: BPETokenizer
        if let vocab {
            tokenizer = try TranslationTraining.tokenizer(directory: vocab)
        } else if resume {
            tokenizer = try TranslationTraining.tokenizer(directory: output)
        } else {
            let started = DispatchTime.now().uptimeNanoseconds
            tokenizer = try TranslationVocabulary.train(pairs: trainPairs)
            try tokenizer.save(to: output, existing: .replace)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            printError("trained a shared vocabulary of \(tokenizer.vocabularySize) tokens on the training split's \(source) and \(target) text in \(NumberText.fixed(seconds, 1)) s (\(output)/vocab.json, merges.txt)")
        }
        let identity = Seq2SeqCheckpoint.Identity(tokenizerHash: tokenizerHash(tokenizer), source: source, target: target)

        var model: Seq2SeqModel
        var optimizer: AdamW?
        var settings = TranslationTraining.defaultRun
        var bestLoss: Double?
        if resume {
            let loaded = try Seq2SeqCheckpoint.load(path: checkpointPath)
            for (field, old, new) in [("tokenizer", loaded.identity.tokenizerHash, identity.tokenizerHash), ("source", loaded.identity.source, source), ("target", loaded.identity.target, target)] where old != new {
                throw TrainingError.resumeMismatch(path: checkpointPath, field: field, checkpoint: old, requested: new)
            }
            let c = loaded.model.config
            for (field, asked, saved) in [("layers", layers, c.encoderLayers), ("heads", heads, c.heads), ("width", width, c.width), ("context", context, c.contextLength)] {
                if let asked, asked != saved { throw TrainingError.resumeMismatch(path: checkpointPath, field: field, checkpoint: "\(saved)", requested: "\(asked)") }
            }
            model = loaded.model
            optimizer = loaded.optimizer
            settings = loaded.run
            bestLoss = loaded.bestLoss
            if let steps, steps != settings.steps {
                guard steps > loaded.optimizer.step else { throw ValidationError("--steps \(steps) is not beyond the checkpoint's step \(loaded.optimizer.step)") }
                printError("changing the run's length from \(settings.steps) to \(steps) updates; the learning-rate schedule follows")
                settings.steps = steps
                settings.schedule.totalSteps = steps
            }
            if let dropout, dropout != settings.dropout {
                printError("changing the run's dropout from \(settings.dropout) to \(dropout)")
                settings.dropout = dropout
            }
            printError("resuming at step \(loaded.optimizer.step) of \(settings.steps)")
        } else {
            let positional = try self.positional.map { name throws -> GPTConfig.Positional in
                guard let p = GPTConfig.Positional(rawValue: name) else { throw ValidationError("--positional must be learned, sinusoidal or rope (got \(name))") }
                return p
            } ?? .sinusoidal
            let width = self.width ?? 256
            let config = Seq2SeqConfig(
                vocabSize: tokenizer.vocabularySize, contextLength: context ?? TranslationTraining.defaultContext, width: width, heads: heads ?? 4,
                encoderLayers: layers ?? 3, decoderLayers: layers ?? 3, mlpWidth: 4 * width, positional: positional)
            do { try config.validate() } catch { throw UsageError(description: error.description) }
            settings.seed = seed ?? settings.seed
            model = Seq2SeqModel(weights: Seq2SeqWeights(config: config, seed: settings.seed))
            settings.batch = batchTokens ?? settings.batch
            settings.schedule.peak = lr ?? settings.schedule.peak
            settings.adam.weightDecay = weightDecay ?? settings.adam.weightDecay
            settings.clip = clip ?? settings.clip
            settings.dropout = dropout ?? settings.dropout
            settings.evalEvery = evalEvery ?? settings.evalEvery
            settings.checkpointEvery = checkpointEvery ?? settings.checkpointEvery
        }

        let config = model.config
        let (train, droppedTrain) = TranslationTokens.encoding(trainPairs, tokenizer: tokenizer, config: config)
        let (validation, droppedValidation) = TranslationTokens.encoding(validationPairs, tokenizer: tokenizer, config: config)
        guard train.count > 0 else { throw TrainingError.corpusTooSmall(path: path, tokens: 0, needed: 1) }
        if droppedTrain + droppedValidation > 0 {
            printError("left out \(droppedTrain) training and \(droppedValidation) validation pairs longer than the context of \(config.contextLength) tokens")
        }
        if !resume {
            let batches = TranslationBatches(tokens: train, tokenBudget: settings.batch, seed: settings.seed)
            settings.steps = steps ?? TranslationTraining.defaultEpochs * batches.count
            settings.schedule.totalSteps = settings.steps
            settings.schedule.warmupSteps = warmup ?? TranslationTraining.defaultWarmup(steps: settings.steps)
        }
        let groups = ReferenceGroup.grouping(validationPairs)
        stop.trainingBegins()
        printError("corpus: \(train.count) training pairs (\(train.tokenCount(Array(0..<train.count))) tokens), \(validation.count) validation pairs; \(source) → \(target)")
        printError("model: \(config.encoderLayers) + \(config.decoderLayers) layers, \(config.heads) heads, width \(config.width), MLP \(config.mlpWidth), context \(config.contextLength), \(config.positional.rawValue) positions, \(config.normPlacement.rawValue)-norm, \(model.weights.count) parameters")

        let trainer = Seq2SeqTrainer(
            model: model, run: settings, optimizer: optimizer, train: train, validation: validation.count > 0 ? validation : nil,
            validationGroups: groups, tokenizer: tokenizer, identity: identity, directory: output, bestLoss: bestLoss)
        trainer.stopAt = stopAt
        printError("\(trainer.batches.count) batches per epoch of at most \(settings.batch) tokens; \(settings.steps) updates")
        let bar = TrainingProgressBar()
        try trainer.train(progress: bar.show, shouldStop: {
            signals.deliverPending()
            return stop.signal != 0
        })
        bar.finish()
        if let best = trainer.bestLoss { printError("best validation loss: \(NumberText.fixed(best, 4)) nats/token") }
        printError("wrote \(trainer.modelPath) and \(trainer.checkpointPath)")
        StopSignals.exitOnArrival()
        signals.deliverPending()
        if stop.signal != 0 { throw ExitCode(128 + stop.signal) }
    }
}
