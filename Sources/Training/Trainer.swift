import Dispatch
import FoundationEssentials
@_spi(Training) import GPT  // the trainer owns the weights and updates them in place
import Kernels

/// What the trainer reports after every update.
public struct TrainingProgress: Sendable {
    public var step: Int  // updates done
    public var totalSteps: Int
    public var loss: Float
    public var learningRate: Float
    public var gradientNorm: Float
    public var tokensPerSecond: Double
    /// Seconds left at the current speed.
    public var secondsLeft: Double
    /// The latest validation result, if one ran.
    public var validation: EvaluationResult?
    /// This update was skipped: its loss was above `Trainer.spikeFactor` × `lossAverage` and at
    /// least `Trainer.spikeMargin` nats above it.
    public var skipped = false
    /// The running average of the loss that spikes are judged by.
    public var lossAverage: Float?
    /// Translation runs: the latest validation cross-entropy (nats per label token) and greedy BLEU.
    public var validationLoss: Double?
    public var validationBLEU: Double?
}

/// The training loop: batches from `TokenWindows`, forward and backward with gradient
/// accumulation, clipping, AdamW on the schedule, validation and atomic checkpoints.
public final class Trainer {
    public let model: GPTModel
    public let run: RunSettings
    public let optimizer: AdamW
    let windows: TokenWindows
    let validation: [Int32]?
    let byteLength: (Int32) -> Int
    let tokenizerHash: String
    let directory: String
    let grads: GPTWeights
    let pass: GPTTrainingPass

    public var checkpointPath: String { directory + "/checkpoint.safetensors" }
    public var modelPath: String { directory + "/model.safetensors" }
    /// Best validation so far in this process (the model file holds those weights).
    public private(set) var best: EvaluationResult?
    /// Best validation bits/byte of the whole run, resumes included.
    public private(set) var bestBitsPerByte: Double?
    /// Exponential average (β 0.98) of the losses of the updates made, saved in checkpoints.
    public private(set) var lossAverage: Float?

    /// After warmup, an update whose loss is above this many times `lossAverage`, and at least
    /// `spikeMargin` nats above it, is skipped (a bad batch or a blow-up should not wreck the
    /// weights; the margin keeps small losses near 0 from counting as spikes)...
    public static let spikeFactor: Float = 2
    public static let spikeMargin: Float = 1
    /// ...and this many skips in a row stop the run: the model itself has gone wrong.
    public static let spikeLimit = 5
    /// Spiking updates skipped in a row so far (saved in checkpoints with `lossAverage`).
    public private(set) var skippedInARow = 0
    /// Test hook: replaces the loss of an update (by 0-based step) before it is judged.
    var injectLoss: ((Int) -> Float?)?

    public init(
        model: GPTModel, run: RunSettings, optimizer: AdamW? = nil, train: [Int32], validation: [Int32]?,
        byteLength: @escaping (Int32) -> Int, tokenizerHash: String, directory: String, bestBitsPerByte: Double? = nil,
        lossAverage: Float? = nil, skippedInARow: Int = 0
    ) {
        self.bestBitsPerByte = bestBitsPerByte
        self.lossAverage = lossAverage
        self.skippedInARow = skippedInARow
        self.model = model
        self.run = run
        self.optimizer = optimizer ?? AdamW(weights: model.weights, hyper: run.adam)
        windows = TokenWindows(stream: train, seed: run.seed)
        self.validation = validation
        self.byteLength = byteLength
        self.tokenizerHash = tokenizerHash
        self.directory = directory
        grads = GPTWeights(config: model.config)
        pass = GPTTrainingPass(model: model, B: run.batch, T: model.config.contextLength)
    }

    /// Runs from the optimizer's step to `run.steps`.
    /// - Parameters:
    ///   - shouldStop: polled after each update (SIGINT, SIGTERM, SIGHUP): the run checkpoints and returns.
    /// - Throws: `TrainingError.nonFiniteLoss` (nothing of that step is applied or saved) or
    ///   `.output` when a checkpoint cannot be written.
    public func train(progress: (TrainingProgress) -> Void, shouldStop: () -> Bool = { false }) throws(TrainingError) {
        let T = model.config.contextLength
        var inputs: [Int32] = [], targets: [Int32] = []
        var lastCheckpoint: String? = FileManager.default.fileExists(atPath: checkpointPath) ? checkpointPath : nil
        var latest: EvaluationResult?
        let started = DispatchTime.now().uptimeNanoseconds
        let firstStep = optimizer.step
        while optimizer.step < run.steps {
            let step = optimizer.step
            grads.withMutableStorage { $0.update(repeating: 0) }
            var loss: Float = 0
            for micro in 0..<run.accumulation {
                let batchNumber = step * run.accumulation + micro
                windows.batch(step: batchNumber, B: run.batch, T: T, inputs: &inputs, targets: &targets)
                let dropout = GPTTrainingPass.Dropout(probability: run.dropout, seed: dropoutSeed(run.seed, batchNumber))
                loss += pass.forward(inputs: inputs, targets: targets, prepareBackward: true, dropout: dropout)
                pass.backward(into: grads)
            }
            loss /= Float(run.accumulation)
            if let injected = injectLoss?(step) { loss = injected }
            guard loss.isFinite else { throw .nonFiniteLoss(step: step, lastCheckpoint: lastCheckpoint) }
            let norm = grads.withMutableStorage { g in
                if run.accumulation > 1 { for i in g.indices { g[i] /= Float(run.accumulation) } }
                return clipGradients(g, maxNorm: run.clip)
            }
            guard norm.isFinite else { throw .nonFiniteLoss(step: step, lastCheckpoint: lastCheckpoint) }
            let lr = run.schedule.rate(at: step)
            let spike = step >= run.schedule.warmupSteps
                && lossAverage.map { loss > Self.spikeFactor * $0 && loss - $0 >= Self.spikeMargin } == true
            if spike {
                skippedInARow += 1
                guard skippedInARow < Self.spikeLimit else {
                    throw .lossSpikes(step: step + 1, loss: loss, average: lossAverage!, lastCheckpoint: lastCheckpoint)
                }
                optimizer.skip()
            } else {
                skippedInARow = 0
                model.weights.withMutableStorage { p in grads.withStorage { g in optimizer.update(params: p, grads: g, lr: lr) } }
                lossAverage = lossAverage.map { 0.98 * $0 + 0.02 * loss } ?? loss
            }

            let done = optimizer.step
            let finished = done == run.steps
            let stopping = shouldStop()
            if let validation, (run.evalEvery > 0 && done % run.evalEvery == 0) || finished || stopping {
                latest = Evaluation.run(model: model, stream: validation, byteLength: byteLength)
                if let result = latest, bestBitsPerByte == nil || result.bitsPerByte < bestBitsPerByte! {
                    best = result
                    bestBitsPerByte = result.bitsPerByte
                    try saveModel()
                }
            } else if validation == nil && (finished || stopping || (run.checkpointEvery > 0 && done % run.checkpointEvery == 0)) {
                try saveModel()
            }
            if (run.checkpointEvery > 0 && done % run.checkpointEvery == 0) || finished || stopping {
                do {
                    try Checkpoint.save(
                        to: checkpointPath, model: model, optimizer: optimizer, run: run, tokenizerHash: tokenizerHash,
                        bestBitsPerByte: bestBitsPerByte, lossAverage: lossAverage, skippedInARow: skippedInARow)
                } catch {
                    throw .output(path: checkpointPath, reason: error.description)
                }
                lastCheckpoint = checkpointPath
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let tokens = Double((done - firstStep) * run.accumulation * run.batch * T)
            progress(TrainingProgress(
                step: done, totalSteps: run.steps, loss: loss, learningRate: lr, gradientNorm: norm,
                tokensPerSecond: tokens / seconds, secondsLeft: seconds / Double(done - firstStep) * Double(run.steps - done),
                validation: latest, skipped: spike, lossAverage: lossAverage))
            if stopping { return }
        }
    }

    private func saveModel() throws(TrainingError) {
        do { try model.save(to: modelPath, existing: .replace) } catch { throw .output(path: modelPath, reason: error.description) }
    }
}
