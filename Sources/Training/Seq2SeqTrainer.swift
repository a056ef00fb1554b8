import Dispatch
import FoundationEssentials
import JSON
import Kernels
import Safetensors
import Seq2Seq
import Tokenizer
import Translation

/// The training loop of an encoder–decoder model: bucketed batches (`TranslationBatches`),
/// teacher forcing with label smoothing, clipping, AdamW on the schedule, validation loss and
/// greedy BLEU, atomic checkpoints. The same `RunSettings`, `AdamW`, schedule, clipping and
/// stop protocol as `Trainer` (the GPT's); what differs is the batch (a token budget, in
/// `run.batch`, rather than B windows) and the model type. `run.dropout` drops the embeddings
/// and every sub-layer's output, with masks seeded by the run's seed and the step (a resumed
/// run stays bit-identical). Not here (yet): the GPT trainer's loss-spike skipping.
public final class Seq2SeqTrainer {
    public let model: Seq2SeqModel
    /// `run.batch` is the token budget of one batch (padded source + target positions).
    public let run: RunSettings
    public let optimizer: AdamW
    public let batches: TranslationBatches
    let train: TranslationTokens
    let validation: TranslationTokens?
    /// Validation sentences for BLEU (the first `bleuSentences` distinct sources).
    let bleuGroups: [ReferenceGroup]
    let tokenizer: BPETokenizer
    let identity: Seq2SeqCheckpoint.Identity
    let directory: String
    let grads: Seq2SeqWeights

    public var checkpointPath: String { directory + "/checkpoint.safetensors" }
    public var modelPath: String { directory + "/model.safetensors" }
    /// Best validation loss of the run, resumes included (the model file holds those weights).
    public private(set) var bestLoss: Double?
    /// Test hook and `train --stop-at`: after this update the run stops as on a signal.
    public var stopAt: Int?
    /// Validation sentences BLEU is measured on during training.
    public static let bleuSentences = 600

    public init(
        model: Seq2SeqModel, run: RunSettings, optimizer: AdamW? = nil, train: TranslationTokens, validation: TranslationTokens?,
        validationGroups: [ReferenceGroup], tokenizer: BPETokenizer, identity: Seq2SeqCheckpoint.Identity, directory: String, bestLoss: Double? = nil
    ) {
        self.model = model
        self.run = run
        self.optimizer = optimizer ?? AdamW.forSeq2Seq(model.weights, hyper: run.adam)
        self.train = train
        batches = TranslationBatches(tokens: train, tokenBudget: run.batch, seed: run.seed)
        self.validation = validation
        bleuGroups = Array(validationGroups.prefix(Self.bleuSentences))
        self.tokenizer = tokenizer
        self.identity = identity
        self.directory = directory
        self.bestLoss = bestLoss
        grads = Seq2SeqWeights(config: model.config)
    }

    /// Runs from the optimizer's step to `run.steps`; `shouldStop` is polled after each update
    /// (SIGINT, SIGTERM, SIGHUP): the run then checkpoints and returns.
    /// - Throws: `.nonFiniteLoss` (nothing of that step is applied or saved), `.output` when a
    ///   file cannot be written.
    public func train(progress: (TrainingProgress) -> Void, shouldStop: () -> Bool = { false }) throws(TrainingError) {
        var lastCheckpoint: String? = FileManager.default.fileExists(atPath: checkpointPath) ? checkpointPath : nil
        var latest: (loss: Double, bleu: Double?)?
        let started = DispatchTime.now().uptimeNanoseconds
        let firstStep = optimizer.step
        var tokensSeen = 0
        let pool = BufferPool()
        while optimizer.step < run.steps {
            let step = optimizer.step
            let indices = batches.batch(step: step)
            let batch: Seq2SeqBatch
            do { batch = try train.batch(indices, config: model.config) } catch { preconditionFailure("a fitted pair did not batch: \(error)") }
            tokensSeen += train.tokenCount(indices)
            grads.zero()
            // One pass per batch shape: the buffers are sized to it (a pass of the largest shape
            // would pad every batch to it); the pool hands them from pass to pass.
            let pass = Seq2SeqTrainingPass(
                model: model, sentences: batch.sentences, sourceLength: batch.sourceLength, targetLength: batch.targetLength, pool: pool)
            pass.labelSmoothing = 0.1
            let dropout = run.dropout > 0 ? Seq2SeqTrainingPass.Dropout(probability: run.dropout, seed: dropoutSeed(run.seed, step)) : nil
            let loss = pass.forward(batch: batch, prepareBackward: true, dropout: dropout)
            guard loss.isFinite else { throw .nonFiniteLoss(step: step, lastCheckpoint: lastCheckpoint) }
            pass.backward(into: grads)
            let norm = grads.withMutableStorage { clipGradients($0, maxNorm: run.clip) }
            guard norm.isFinite else { throw .nonFiniteLoss(step: step, lastCheckpoint: lastCheckpoint) }
            let lr = run.schedule.rate(at: step)
            model.weights.withMutableStorage { p in grads.withStorage { g in optimizer.update(params: p, grads: g, lr: lr) } }

            let done = optimizer.step
            let finished = done == run.steps
            let stopping = shouldStop() || stopAt == done
            var validated = false
            if let validation, (run.evalEvery > 0 && done % run.evalEvery == 0) || finished || stopping {
                let result = TranslationEvaluation.loss(model: model, tokens: validation, tokenBudget: run.batch)
                let loss = result.totalNats / Double(max(result.tokens, 1))
                let bleu = bleuGroups.isEmpty ? nil : (try? TranslationEvaluation.bleu(model: model, groups: bleuGroups, tokenizer: tokenizer))?.score
                latest = (loss, bleu)
                validated = true
                if bestLoss == nil || loss < bestLoss! {
                    bestLoss = loss
                    try saveModel()
                }
            } else if validation == nil && (finished || stopping || (run.checkpointEvery > 0 && done % run.checkpointEvery == 0)) {
                try saveModel()
            }
            if (run.checkpointEvery > 0 && done % run.checkpointEvery == 0) || finished || stopping {
                do {
                    try Seq2SeqCheckpoint.save(to: checkpointPath, model: model, optimizer: optimizer, run: run, identity: identity, bestLoss: bestLoss)
                } catch {
                    throw .output(path: checkpointPath, reason: error.description)
                }
                lastCheckpoint = checkpointPath
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            var report = TrainingProgress(
                step: done, totalSteps: run.steps, loss: loss, learningRate: lr, gradientNorm: norm,
                tokensPerSecond: Double(tokensSeen) / seconds, secondsLeft: seconds / Double(done - firstStep) * Double(run.steps - done),
                validation: nil)
            if validated { (report.validationLoss, report.validationBLEU) = (latest?.loss, latest?.bleu) }
            progress(report)
            if stopping { return }
        }
    }

    private func saveModel() throws(TrainingError) {
        do {
            try model.save(to: modelPath, metadata: identity.metadata, existing: .replace)
        } catch {
            throw .output(path: modelPath, reason: error.description)
        }
    }
}

extension AdamW {
    /// The optimizer of an encoder–decoder model: every tensor of `weights`, matrices and the
    /// embedding decayed, biases and norms not.
    public static func forSeq2Seq(_ weights: Seq2SeqWeights, hyper: Hyperparameters) -> AdamW {
        AdamW(parameterCount: weights.count, groups: groups(tensors: weights.tensors.map { ($0.offset, $0.shape) }), hyper: hyper)
    }
}

/// A translation run's checkpoint: the model's tensors (as its model file), `adam.m` and
/// `adam.v` flat, and in `__metadata__` the run settings, the step, the tokenizer's hash, the
/// languages and the best validation loss. Written atomically; the same rules as `Checkpoint`.
public enum Seq2SeqCheckpoint {
    public static let format = "attnchat-seq2seq-checkpoint", version = 1

    /// What ties a run to its data: the tokenizer and the direction. Stored in the model file too.
    public struct Identity: Sendable, Equatable {
        public var tokenizerHash: String
        public var source: String
        public var target: String
        public init(tokenizerHash: String, source: String, target: String) {
            self.tokenizerHash = tokenizerHash
            self.source = source
            self.target = target
        }
        public var metadata: [String: String] { ["tokenizer": tokenizerHash, "source": source, "target": target] }
    }

    public static func save(
        to path: String, model: Seq2SeqModel, optimizer: AdamW, run: RunSettings, identity: Identity, bestLoss: Double?
    ) throws(SafetensorsError) {
        var tensors = model.fileTensors()
        tensors.append(SafetensorsWriter.Tensor(name: "adam.m", shape: [optimizer.m.count], floats: optimizer.m))
        tensors.append(SafetensorsWriter.Tensor(name: "adam.v", shape: [optimizer.v.count], floats: optimizer.v))
        var metadata = model.fileMetadata(extra: identity.metadata)
        metadata["format"] = format
        metadata["format_version"] = String(version)
        metadata["run"] = run.json.serialized()
        metadata["step"] = String(optimizer.step)
        if let bestLoss { metadata["best_loss"] = String(bestLoss) }
        try SafetensorsWriter.write(to: path, tensors: tensors, metadata: metadata, existing: .replace)
    }

    public struct Loaded {
        public let model: Seq2SeqModel
        public let optimizer: AdamW
        public let run: RunSettings
        public let identity: Identity
        public let bestLoss: Double?
    }

    /// Reads a checkpoint; every defect is a `TrainingError.checkpoint` naming the file and field.
    public static func load(path: String) throws(TrainingError) -> Loaded {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw .checkpoint(path: path, reason: error.description) }
        let meta = file.metadata
        guard meta["format"] == format else {
            throw .checkpoint(path: path, reason: "not an attnchat translation checkpoint (format \(meta["format"] ?? "missing"))")
        }
        guard meta["format_version"] == String(version) else {
            throw .checkpoint(path: path, reason: "unsupported version \(meta["format_version"] ?? "missing") (expected \(version))")
        }
        guard let stepText = meta["step"], let step = Int(stepText), step >= 0 else { throw .checkpoint(path: path, reason: "bad step") }
        guard let runText = meta["run"], let runJSON = try? JSONValue.parse(runText), let run = RunSettings(json: runJSON) else {
            throw .checkpoint(path: path, reason: "bad run settings in __metadata__")
        }
        guard let hash = meta["tokenizer"], let source = meta["source"], let target = meta["target"] else {
            throw .checkpoint(path: path, reason: "__metadata__ lacks tokenizer, source or target")
        }
        let model: Seq2SeqModel
        do {
            model = try Seq2SeqModel.load(file: file, format: format, ignoring: ["adam.m", "adam.v"])
        } catch {
            throw .checkpoint(path: path, reason: error.description)
        }
        let (m, v) = try Checkpoint.moments(file: file, parameters: model.weights.count)
        let adam = AdamW.forSeq2Seq(model.weights, hyper: run.adam)
        adam.restore(m: m, v: v, step: step)
        var bestLoss: Double?
        if let text = meta["best_loss"] {
            guard let value = Double(text), value.isFinite else { throw .checkpoint(path: path, reason: "bad best_loss \"\(text)\"") }
            bestLoss = value
        }
        return Loaded(model: model, optimizer: adam, run: run, identity: Identity(tokenizerHash: hash, source: source, target: target), bestLoss: bestLoss)
    }
}
