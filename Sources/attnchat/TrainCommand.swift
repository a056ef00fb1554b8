import ArgumentParser
import Chat
import Dispatch
import FileIO
import FoundationEssentials
import Glibc
import GPT
import Synchronization
import Tokenizer
import Training

/// `attnchat train`: train a model from scratch (or resume) on the user's text.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a GPT on a corpus: the chit-chat dataset.json, .jsonl chats, or text files.",
        discussion: """
            Writes DIR/checkpoint.safetensors (weights + optimizer + step, atomically, every --checkpoint-every steps \
            and on Ctrl-C) and DIR/model.safetensors (the weights with the best validation bits/byte). \
            --resume continues from DIR/checkpoint.safetensors with the settings saved in it; without it, a DIR that \
            holds a checkpoint or model is refused (exit 73) unless --force starts a new run over them.
            """)

    @Option(name: .customLong("data"), help: "Corpus file (repeatable).")
    var data: [String] = []
    @Option(help: "Output directory.")
    var output: String
    @Option(help: "Tokenizer directory (default: the embedded one).")
    var vocab: String?
    @Flag(help: "Continue from OUTPUT/checkpoint.safetensors.")
    var resume = false
    @Flag(help: "Start a new run even if OUTPUT holds a checkpoint or model, replacing them (else exit 73).")
    var force = false

    @Option(help: "Transformer blocks (default \(defaultShape.layers)).") var layers: Int?
    @Option(help: "Attention heads per block (default \(defaultShape.heads)).") var heads: Int?
    @Option(help: "Residual width (default \(defaultShape.width)).") var width: Int?
    @Option(help: "Context length in tokens (default \(defaultShape.context)).") var context: Int?
    @Option(help: "Position encoding: \(positionalNames) (default \(defaultShape.positional.rawValue)).") var positional: String?

    @Option(help: "What to train: lm (a GPT on text, the default) or translate (an encoder–decoder on a source<TAB>target<TAB>attribution TSV, e.g. data/tatoeba/spa.tsv).")
    var task = "lm"
    @Option(help: "--task translate: the source language, en or es (default en).") var source = "en"
    @Option(help: "--task translate: the target language, en or es (default es).") var target = "es"
    @Option(name: .customLong("batch-tokens"), help: "--task translate: padded source + target positions per batch (default \(TranslationTraining.defaultBatchTokens)).")
    var batchTokens: Int?
    @Option(name: .customLong("stop-at"), help: .hidden) var stopAt: Int?

    @Option(help: "A JSON object of settings: keys as these flags' names with _ for - (\(TrainingConfigFile.keys.joined(separator: ", "))). Flags given here win over the file.")
    var config: String?

    @Option(help: "Sequences per micro-batch (default \(defaultRun.batch)).") var batch: Int?
    @Option(help: "Micro-batches per update (default \(defaultRun.accumulation)).") var accumulation: Int?
    @Option(help: "Updates (default \(defaultRun.steps)). With --resume: a new total, which re-times the schedule (the run then differs from one made straight).") var steps: Int?
    @Option(help: "Peak learning rate (default \(shown(defaultRun.schedule.peak))).") var lr: Float?
    @Option(help: "Warmup updates (default \(defaultRun.schedule.warmupSteps)).") var warmup: Int?
    @Option(name: .customLong("weight-decay"), help: "AdamW weight decay, matrices only (default \(shown(defaultRun.adam.weightDecay))).") var weightDecay: Float?
    @Option(help: "Gradient-norm clip; 0 turns it off (default \(shown(defaultRun.clip))).") var clip: Float?
    @Option(help: "Dropout probability on the embeddings and each block's attention and MLP outputs; 0 turns it off (default \(shown(defaultRun.dropout))). With --resume: a new value from the checkpoint's step on.") var dropout: Float?
    @Option(help: "Seed of the initialisation and the batches (default \(defaultRun.seed)).") var seed: UInt64?
    @Option(name: .customLong("eval-every"), help: "Validate every N updates (default \(defaultRun.evalEvery)).") var evalEvery: Int?
    @Option(name: .customLong("checkpoint-every"), help: "Checkpoint every N updates (default \(defaultRun.checkpointEvery)).") var checkpointEvery: Int?

    func validate() throws {
        guard !data.isEmpty else { throw ValidationError("give at least one --data file") }
        guard task == "lm" || task == "translate" else { throw ValidationError("--task must be lm or translate (got \(task))") }
        if task == "translate" { try validateTranslation() }
        guard !(resume && force) else { throw ValidationError("--resume continues OUTPUT's run and --force replaces it: give one") }
        for (name, value) in [("--batch", batch), ("--accumulation", accumulation), ("--steps", steps)] {
            if let value, value <= 0 { throw ValidationError("\(name) must be positive (got \(value))") }
        }
        for (name, value) in [("--warmup", warmup), ("--eval-every", evalEvery), ("--checkpoint-every", checkpointEvery)] {
            if let value, value < 0 { throw ValidationError("\(name) must be >= 0 (got \(value))") }
        }
        if let lr, !(lr.isFinite && lr > 0) { throw ValidationError("--lr must be positive (got \(lr))") }
        if let weightDecay, !(weightDecay.isFinite && weightDecay >= 0) { throw ValidationError("--weight-decay must be >= 0 (got \(weightDecay))") }
        if let clip, !(clip.isFinite && clip >= 0) { throw ValidationError("--clip must be >= 0 (got \(clip))") }
        if let dropout, !(dropout >= 0 && dropout < 1) { throw ValidationError("--dropout must be in [0, 1) (got \(dropout))") }
        if let positional, GPTConfig.Positional(rawValue: positional) == nil {
            throw ValidationError("--positional must be \(positionalNames) (got \(positional))")
        }
    }

    /// The training settings given as flags or in the config file that a resume does not use.
    private func ignoredOnResume(file: TrainingConfigFile?) -> [String] {
        let flags: [(String, Bool)] = [
            ("--batch", batch != nil), ("--accumulation", accumulation != nil), ("--lr", lr != nil), ("--warmup", warmup != nil),
            ("--weight-decay", weightDecay != nil), ("--clip", clip != nil), ("--seed", seed != nil),
            ("--eval-every", evalEvery != nil), ("--checkpoint-every", checkpointEvery != nil),
        ]
        var names = flags.filter(\.1).map(\.0)
        if let file, let config {
            let keys: [(String, Bool)] = [
                ("batch", file.batch != nil), ("accumulation", file.accumulation != nil), ("lr", file.lr != nil),
                ("warmup", file.warmup != nil), ("weight_decay", file.weightDecay != nil), ("clip", file.clip != nil),
                ("seed", file.seed != nil), ("eval_every", file.evalEvery != nil), ("checkpoint_every", file.checkpointEvery != nil),
            ]
            names += keys.filter(\.1).map { "\($0.0) (in \(config))" }
        }
        return names
    }

    func run() throws {
        // SIGINT, SIGTERM and SIGHUP end a run the same way wherever they arrive: while it is set
        // up (flags, corpus) there is nothing to save and it exits at once; from then on the run
        // stops after the current step, writes its checkpoint (and model) and exits 128 + signal.
        // A second Ctrl-C quits at once; the last checkpoint on disk stays whole (atomic writes).
        let stop = TrainingStop()
        StopSignals.catchSignals()
        let signals = StopSignals.watch { stop.signalled($0) }
        defer { signals.cancel() }
        if task == "translate" { return try runTranslation(stop: stop, signals: signals) }

        // Flags win over the config file, which wins over the defaults.
        let file = try config.map { path throws(TrainingError) in try TrainingConfigFile(path: path) }
        let layers = self.layers ?? file?.layers, heads = self.heads ?? file?.heads
        let width = self.width ?? file?.width, context = self.context ?? file?.context
        let positional = self.positional ?? file?.positional
        let steps = self.steps ?? file?.steps, dropout = self.dropout ?? file?.dropout
        let seed = self.seed ?? file?.seed ?? defaultRun.seed

        let tokenizer = try loadTokenizer(vocab: vocab, modelPath: nil)
        let hash = tokenizerHash(tokenizer)
        var shape = defaultShape
        shape.layers = layers ?? shape.layers
        shape.heads = heads ?? shape.heads
        shape.width = width ?? shape.width
        shape.context = context ?? shape.context
        shape.positional = positional.flatMap(GPTConfig.Positional.init) ?? shape.positional
        let config = shape.config(vocabSize: tokenizer.vocabularySize)
        if !resume {
            // The shape and the batch as the user gave them, against the limits and the memory
            // they allocate, before anything is written or allocated.
            let given = { (flag: Int?, key: Int?) in flag != nil ? Origin.flag : key != nil ? .file : .neither }
            try checkShape(
                config, layers: given(self.layers, file?.layers), heads: given(self.heads, file?.heads),
                width: given(self.width, file?.width), context: given(self.context, file?.context),
                positional: self.positional != nil ? .flag : file?.positional != nil ? .file : .neither)
            var probe = RunSettings()
            probe.batch = batch ?? file?.batch ?? probe.batch
            probe.dropout = dropout ?? probe.dropout
            try checkMemory(probe.memoryBytes(config: config), sizes: [
                ("--batch", "batch", probe.batch, given(batch, file?.batch)), ("--context", "context", config.contextLength, given(self.context, file?.context)),
                ("--width", "width", config.width, given(self.width, file?.width)), ("--layers", "layers", config.layers, given(self.layers, file?.layers)),
            ])
        }
        try config.validate()

        let checkpointPath = output + "/checkpoint.safetensors"
        let outputs = [checkpointPath, output + "/model.safetensors"]
        try prepareRunDirectory(outputs: outputs, checkpoint: checkpointPath)
        var model: GPTModel
        var optimizer: AdamW?
        var settings = RunSettings()
        var bestSoFar: Double?
        var lossAverageSoFar: Float?
        var skippedSoFar = 0
        if resume {
            let loaded = try Checkpoint.load(path: checkpointPath)
            let requested = [("n_layer", layers, loaded.model.config.layers), ("n_head", heads, loaded.model.config.heads),
                             ("n_embd", width, loaded.model.config.width), ("n_positions", context, loaded.model.config.contextLength)]
            for (field, asked, saved) in requested {
                if let asked, asked != saved { throw TrainingError.resumeMismatch(path: checkpointPath, field: field, checkpoint: "\(saved)", requested: "\(asked)") }
            }
            if let positional, positional != loaded.model.config.positional.rawValue {
                throw TrainingError.resumeMismatch(path: checkpointPath, field: "positional", checkpoint: loaded.model.config.positional.rawValue, requested: positional)
            }
            guard loaded.tokenizerHash == hash else {
                throw TrainingError.resumeMismatch(path: checkpointPath, field: "tokenizer", checkpoint: loaded.tokenizerHash, requested: hash)
            }
            model = loaded.model
            settings = loaded.run
            // Only the length and the dropout of a run can change on resume; say so rather than
            // ignore the rest silently.
            let ignored = ignoredOnResume(file: file)
            if !ignored.isEmpty {
                note("ignored on --resume (the checkpoint's settings apply): " + ignored.joined(separator: ", "))
            }
            if let steps, steps != settings.steps {
                guard steps > loaded.step else {
                    if self.steps == nil, let config = self.config {
                        throw TrainingError.badConfig(path: config, key: "steps", reason: "\(steps) is not beyond the checkpoint's step \(loaded.step)")
                    }
                    throw ValidationError("--steps \(steps) is not beyond the checkpoint's step \(loaded.step)")
                }
                note("changing the run's length from \(settings.steps) to \(steps) updates; the learning-rate schedule follows")
                settings.steps = steps
                settings.schedule.totalSteps = steps
            }
            if let dropout, dropout != settings.dropout {
                note("changing the run's dropout from \(settings.dropout) to \(dropout)")
                settings.dropout = dropout
            }
            // A checkpoint's batch is a size too (checked like the flags, naming the file).
            if settings.memoryBytes(config: model.config) > Double(ProcessInfo.processInfo.physicalMemory) {
                throw TrainingError.checkpoint(path: checkpointPath, reason: "batch \(settings.batch) × context \(model.config.contextLength) needs \(formatBytes(settings.memoryBytes(config: model.config))) of memory; this machine has \(formatBytes(Double(ProcessInfo.processInfo.physicalMemory)))")
            }
            let adam = AdamW(weights: model.weights, hyper: settings.adam)
            adam.restore(m: loaded.m, v: loaded.v, step: loaded.step)
            optimizer = adam
            bestSoFar = loaded.bestBitsPerByte
            lossAverageSoFar = loaded.lossAverage
            skippedSoFar = loaded.skippedInARow
            note("resuming at step \(loaded.step) of \(settings.steps)")
        } else {
            // `settings` holds the defaults (RunSettings()); what flags or the file give replaces them.
            settings.batch = batch ?? file?.batch ?? settings.batch
            settings.accumulation = accumulation ?? file?.accumulation ?? settings.accumulation
            settings.steps = steps ?? settings.steps
            settings.schedule.peak = lr ?? file?.lr ?? settings.schedule.peak
            settings.schedule.warmupSteps = warmup ?? file?.warmup ?? settings.schedule.warmupSteps
            settings.schedule.totalSteps = settings.steps
            settings.adam.weightDecay = weightDecay ?? file?.weightDecay ?? settings.adam.weightDecay
            settings.clip = clip ?? file?.clip ?? settings.clip
            settings.dropout = dropout ?? settings.dropout
            settings.seed = seed
            settings.evalEvery = evalEvery ?? file?.evalEvery ?? settings.evalEvery
            settings.checkpointEvery = checkpointEvery ?? file?.checkpointEvery ?? settings.checkpointEvery
            model = GPTModel(weights: GPTWeights(config: config, seed: seed))
        }

        let start = DispatchTime.now().uptimeNanoseconds
        let corpus = try TrainingCorpus(paths: data, tokenizer: tokenizer)
        let needed = model.config.contextLength + 2
        guard corpus.train.count >= needed else {
            throw TrainingError.corpusTooSmall(path: data.joined(separator: ", "), tokens: corpus.train.count, needed: needed)
        }
        let readSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        note("corpus: \(corpus.train.count) training tokens, \(corpus.validation.count) validation tokens (\(NumberText.fixed(readSeconds, 1)) s to read and tokenize)")
        // From here a signal stops the run after a step, with a checkpoint (see `TrainingStop`).
        stop.trainingBegins()
        let c = model.config
        note("model: \(c.layers) layers, \(c.heads) heads, width \(c.width), context \(c.contextLength), \(c.positional.rawValue) positions, \(c.parameterCount) parameters")

        let byteCounts = (0..<tokenizer.vocabularySize).map { (try? tokenizer.bytes(of: $0).count) ?? 0 }
        let trainer = Trainer(
            model: model, run: settings, optimizer: optimizer, train: corpus.train,
            validation: corpus.validation.count > 1 ? corpus.validation : nil,
            byteLength: { byteCounts[Int($0)] }, tokenizerHash: hash, directory: output, bestBitsPerByte: bestSoFar,
            lossAverage: lossAverageSoFar, skippedInARow: skippedSoFar)
        let bar = TrainingProgressBar()
        // Each step also answers the signals the queue has not got to yet: one that came during
        // the last step still stops the run with 128 + the signal, not a plain exit.
        try trainer.train(progress: bar.show, shouldStop: {
            signals.deliverPending()
            return stop.signal != 0
        })
        bar.finish()
        if let best = trainer.best, best.bitsPerByte == trainer.bestBitsPerByte {
            note("best validation: \(NumberText.fixed(best.bitsPerByte, 4)) bits/byte, \(NumberText.fixed(best.natsPerToken, 4)) nats/token (perplexity \(NumberText.fixed(best.perplexity, 2)))")
        }
        note("wrote \(trainer.modelPath) and \(trainer.checkpointPath)")
        // From here a signal exits at once (the work is saved); one that came just before is
        // delivered now. In the other order a signal between the two was lost (exit 0).
        StopSignals.exitOnArrival()
        signals.deliverPending()
        if stop.signal != 0 { throw ExitCode(128 + stop.signal) }
    }
}

/// Which stop signal ended a training run, and whether the run is set up (before that a signal
/// exits at once: there is nothing to save yet).
final class TrainingStop: Sendable {
    private let state = Mutex<(training: Bool, signal: Int32)>((false, 0))

    /// The signal that asked the run to stop, or 0.
    var signal: Int32 { state.withLock { $0.signal } }

    func trainingBegins() { state.withLock { $0.training = true } }

    /// From the signal watcher's queue.
    func signalled(_ sig: Int32) {
        state.withLock { s in
            if !s.training { Glibc.exit(128 + sig) }
            if s.signal == SIGINT && sig == SIGINT { Glibc.exit(130) }  // a second Ctrl-C: stop now
            guard s.signal == 0 else { return }
            s.signal = sig
            let again = sig == SIGINT ? " (Ctrl-C again to quit at once)" : ""
            UncheckedOutput.standardError("\nstopping after this step\(again)...\n")
        }
    }
}

extension TrainCommand {
    /// Where a setting's value came from, so a bad one is reported as the user gave it: a flag
    /// is exit 64 naming the flag, a `--config` key exit 65 naming the file and the key.
    enum Origin { case flag, file, neither }

    private func refuse(_ flag: String, _ key: String, _ origin: Origin, _ reason: String) -> any Error {
        if origin == .file, let config { return TrainingError.badConfig(path: config, key: key, reason: reason) }
        return UsageError(description: "\(flag) \(reason)")
    }

    /// The model shape's limits (`GPTConfig.limits`), checked per setting so that the error
    /// names the flag or key the user typed rather than the config field it becomes.
    private func checkShape(_ c: GPTConfig, layers: Origin, heads: Origin, width: Origin, context: Origin, positional: Origin) throws {
        let l = GPTConfig.limits
        for (flag, key, value, limit, origin) in [
            ("--layers", "layers", c.layers, l.layers, layers), ("--heads", "heads", c.heads, l.heads, heads),
            ("--width", "width", c.width, l.width, width), ("--context", "context", c.contextLength, l.contextLength, context),
        ] where !(1...limit).contains(value) {
            throw refuse(flag, key, origin, "must be in 1...\(limit) (got \(value))")
        }
        if c.width % c.heads != 0 {
            let (flag, key, origin) = heads != .neither ? ("--heads", "heads", heads) : ("--width", "width", width)
            throw refuse(flag, key, origin, "must split the width into whole heads: width \(c.width) is not divisible by \(c.heads) heads")
        }
        if c.positional == .rope && c.headSize % 2 != 0 {
            let (flag, key, origin) = positional != .neither ? ("--positional", "positional", positional) : heads != .neither ? ("--heads", "heads", heads) : ("--width", "width", width)
            throw refuse(flag, key, origin, "rope needs an even head size (width \(c.width) / \(c.heads) heads = \(c.headSize))")
        }
        if c.parameterCount > l.parameters {
            let (flag, key, origin) = width != .neither ? ("--width", "width", width) : ("--layers", "layers", layers)
            throw refuse(flag, key, origin, "gives \(c.layers) layers of width \(c.width): \(c.parameterCount) parameters, above the limit of \(l.parameters)")
        }
    }

    /// Refuses a run that would allocate more than this machine's memory, naming every size the
    /// user gave (`sizes`: flag, config key, value, origin); the allocator would trap instead.
    private func checkMemory(_ bytes: Double, sizes: [(String, String, Int, Origin)]) throws {
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        guard bytes > memory else { return }
        let named = sizes.filter { $0.3 != .neither }
        let reason = "needs \(formatBytes(bytes)) of memory for the weights, gradients, optimizer state and activations; this machine has \(formatBytes(memory))"
        guard !named.isEmpty else { throw UsageError(description: "the default model and batch: training \(reason)") }
        let flags = named.filter { $0.3 == .flag }
        if flags.isEmpty, let config {
            throw TrainingError.badConfig(path: config, key: named.map { $0.1 }.joined(separator: ", "), reason: "training with \(named.map { "\($0.1) \($0.2)" }.joined(separator: ", ")) \(reason)")
        }
        throw UsageError(description: named.map { "\($0.0) \($0.2)" }.joined(separator: ", ") + ": training \(reason)")
    }
}

/// The defaults `train` uses and its help states: one source, `Training`'s `RunSettings()` and `ModelShape()`.
private let defaultRun = RunSettings()
private let defaultShape = ModelShape()
/// "learned, sinusoidal or rope".
private let positionalNames: String = {
    let names = GPTConfig.Positional.allCases.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " or " + names.last!
}()

/// `x` as help shows it: 1 and 0 rather than 1.0 and 0.0, 0.001 as it is.
private func shown(_ x: Float) -> String { x == x.rounded() && abs(x) < 1e6 ? String(Int(x)) : "\(x)" }

/// 64-bit FNV-1a of the tokenizer's files: a resume with another tokenizer is refused.
func tokenizerHash(_ tokenizer: BPETokenizer) -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in tokenizer.vocabJSON() + tokenizer.mergesText() {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }
    return String(hash, radix: 16)
}

/// One stderr line, redrawn in place: step, loss, speed, ETA and the last validation.
final class TrainingProgressBar {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastPrint: UInt64 = 0

    func show(_ p: TrainingProgress) {
        if p.skipped, let average = p.lossAverage {
            // A line of its own, kept in the scrollback above the bar.
            let text = "step \(p.step): loss \(NumberText.fixed(p.loss, 4)) is over \(NumberText.fixed(Trainer.spikeFactor, 0))x the running average \(NumberText.fixed(average, 4)); update skipped"
            UncheckedOutput.standardError((isTerminal ? "\r\u{1B}[2K" : "") + text + "\n")
        }
        let now = DispatchTime.now().uptimeNanoseconds
        // Without a terminal, one line every 10 s (or on validation) keeps logs readable.
        let due = isTerminal ? now - lastPrint > 100_000_000 : now - lastPrint > 10_000_000_000
        guard due || p.step == p.totalSteps || p.validation != nil && p.step % 50 == 0 || p.validationLoss != nil else { return }
        lastPrint = now
        let width = 24
        let filled = width * p.step / max(p.totalSteps, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        var line = "\(bar) \(p.step)/\(p.totalSteps) loss \(NumberText.fixed(p.loss, 4)) lr \(NumberText.exponent(p.learningRate, 2))"
            + " | \(NumberText.fixed(p.tokensPerSecond, 0)) tok/s | ETA \(duration(p.secondsLeft))"
        if let v = p.validation { line += " | val \(NumberText.fixed(v.bitsPerByte, 4)) bpb" }
        if let loss = p.validationLoss { line += " | val \(NumberText.fixed(loss, 4)) nats" }
        if let bleu = p.validationBLEU { line += " BLEU \(NumberText.fixed(bleu, 2))" }
        UncheckedOutput.standardError(isTerminal ? "\r\u{1B}[2K" + line : line + "\n")
    }

    func finish() {
        if isTerminal { UncheckedOutput.standardError("\n") }
    }

    private func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600)h\(NumberText.zeroPadded(s / 60 % 60, 2))m" : "\(s / 60)m\(NumberText.zeroPadded(s % 60, 2))s"
    }
}

private func note(_ text: String) { printError(text) }

extension TrainCommand {
    /// Checks a run's outputs before any work, claims the output directory and clears what killed
    /// runs left there — for the chat model's runs and the translation runs alike.
    func prepareRunDirectory(outputs: [String], checkpoint checkpointPath: String) throws {
        if resume {
            // The checkpoint must be there; the outputs must be files the run may rewrite.
            guard FileManager.default.fileExists(atPath: checkpointPath) else { throw TrainingError.noCheckpoint(path: checkpointPath) }
            try checkOutputs(outputs, existing: .replace)
        } else {
            // Another run's checkpoint is never overwritten by accident: --resume or --force says which.
            try checkOutputs(outputs, in: output, existing: overwritePolicy(force: force, hint: "--resume continues that run; --force starts a new one over it"))
        }
        // The checks above ran before the run; the claim keeps a second run from starting into
        // the same directory until this one ends.
        try AtomicFile.claimDirectory(output)
        // Temporary files of runs killed mid-checkpoint (kill -9 leaves one per kill).
        let stale = outputs.flatMap { AtomicFile.removeStaleTemporaryFiles(for: $0) }
        if !stale.isEmpty { note("removed \(stale.count) temporary file\(stale.count == 1 ? "" : "s") left by killed runs in \(output)") }
    }
}
