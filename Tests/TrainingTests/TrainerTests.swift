import Foundation
@_spi(Training) import GPT
import Testing
@testable import Training

@Suite struct TrainerTests {
    static let config = GPTConfig(vocabSize: 37, contextLength: 16, layers: 2, heads: 2, width: 16)

    /// A stream with structure to learn: a repeating phrase with a little noise.
    static let stream: [Int32] = (0..<3000).map { (i: Int) -> Int32 in
        let noisy: Int = (i * 7) % 37
        let phrase: Int = (i % 11) * 3
        return Int32(i % 11 == 7 ? noisy : phrase)
    }

    static func settings(steps: Int) -> RunSettings {
        var run = RunSettings()
        run.batch = 4
        run.steps = steps
        run.schedule = LearningRateSchedule(peak: 3e-3, warmupSteps: 5, totalSteps: steps)
        run.evalEvery = 0
        run.checkpointEvery = 0
        return run
    }

    static func freshModel() -> GPTModel {
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: 5)
        return GPTModel(weights: weights)
    }

    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attnchat-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func trainer(_ model: GPTModel, _ run: RunSettings, optimizer: AdamW? = nil, directory: String) -> Trainer {
        Trainer(model: model, run: run, optimizer: optimizer, train: stream, validation: Array(stream.prefix(200)),
                byteLength: { _ in 1 }, tokenizerHash: "test", directory: directory)
    }

    /// The CI smoke run: a tiny model learns the stream's pattern in a few hundred steps.
    @Test func lossFallsWellBelowItsStart() throws {
        let model = Self.freshModel()
        var losses: [Float] = []
        try Self.trainer(model, Self.settings(steps: 150), directory: try Self.directory()).train { losses.append($0.loss) }
        #expect(losses.count == 150)
        let start = losses.prefix(5).reduce(0, +) / 5, end = losses.suffix(10).reduce(0, +) / 10
        #expect(start > 3.3)  // ≈ ln 37 at initialisation
        #expect(end < 1.2, "loss went from \(start) to \(end)")
    }

    /// k steps, checkpoint, resume, n − k steps == n steps straight, bit for bit (with dropout
    /// too: its masks derive from the seed and the step).
    @Test(arguments: [Float(0), 0.2])
    func resumeIsBitIdentical(dropout: Float) throws {
        var run = Self.settings(steps: 8)
        run.dropout = dropout
        let straight = Self.freshModel()
        try Self.trainer(straight, run, directory: try Self.directory()).train { _ in }

        let dir = try Self.directory()
        let first = Self.freshModel()
        let interrupted = Self.trainer(first, run, directory: dir)
        try interrupted.train(progress: { _ in }, shouldStop: { interrupted.optimizer.step == 3 })
        #expect(interrupted.optimizer.step == 3)

        let loaded = try Checkpoint.load(path: dir + "/checkpoint.safetensors")
        #expect(loaded.step == 3)
        #expect(loaded.run == run)
        let adam = AdamW(weights: loaded.model.weights, hyper: loaded.run.adam)
        adam.restore(m: loaded.m, v: loaded.v, step: loaded.step)
        try Self.trainer(loaded.model, loaded.run, optimizer: adam, directory: dir).train { _ in }

        let a = straight.weights.withStorage { Array($0) }, b = loaded.model.weights.withStorage { Array($0) }
        #expect(a == b)
    }

    /// A NaN loss stops the run before anything of that step is applied, and the last
    /// checkpoint on disk stays loadable.
    @Test func nonFiniteLossStopsAndKeepsTheCheckpoint() throws {
        let dir = try Self.directory()
        let model = Self.freshModel()
        var run = Self.settings(steps: 10)
        run.checkpointEvery = 2
        let trainer = Self.trainer(model, run, directory: dir)
        try trainer.train(progress: { _ in }, shouldStop: { trainer.optimizer.step == 4 })
        let ln = model.weights.tensor(named: "ln_f.bias")!
        model.weights.withMutableTensor(ln) { $0[0] = .nan }
        #expect(throws: TrainingError.nonFiniteLoss(step: 4, lastCheckpoint: dir + "/checkpoint.safetensors")) {
            try trainer.train { _ in }
        }
        #expect(try Checkpoint.load(path: dir + "/checkpoint.safetensors").step == 4)
    }

    /// RELIABILITY 40: one spiking update (its loss injected at 10x) is skipped — the weights
    /// and moments stay, the step advances, the progress says so — and the run goes on.
    @Test func aLossSpikeSkipsThatUpdateAndTheRunGoesOn() throws {
        let model = Self.freshModel()
        let trainer = Self.trainer(model, Self.settings(steps: 30), directory: try Self.directory())
        var before: [Float] = [], after: [Float] = [], skipped: [Int] = []
        trainer.injectLoss = { step in step == 20 ? 50 : nil }
        try trainer.train { p in
            if p.step == 20 { before = model.weights.withStorage { Array($0) } }
            if p.step == 21 { after = model.weights.withStorage { Array($0) } }
            if p.skipped { skipped.append(p.step) }
        }
        #expect(skipped == [21])
        #expect(!before.isEmpty && before == after, "the spiking update changed the weights")
        #expect(trainer.optimizer.step == 30)
        #expect(trainer.lossAverage.map { $0 < 5 } == true)
    }

    /// Spikes five updates in a row stop the run with a message naming the numbers; the last
    /// checkpoint stays.
    @Test func persistentSpikesStopTheRun() throws {
        let dir = try Self.directory()
        var run = Self.settings(steps: 40)
        run.checkpointEvery = 10
        let trainer = Self.trainer(Self.freshModel(), run, directory: dir)
        trainer.injectLoss = { step in step >= 20 ? 50 : nil }
        do {
            try trainer.train { _ in }
            Issue.record("the run did not stop")
        } catch {
            guard case .lossSpikes(let step, let loss, _, let last) = error else { Issue.record("\(error)"); return }
            #expect(step == 25 && loss == 50 && last == dir + "/checkpoint.safetensors")
            #expect(error.description.contains("the loss spiked for 5 updates in a row up to step 25"), "\(error)")
            #expect(error.exitCode == 65)
        }
        #expect(try Checkpoint.load(path: dir + "/checkpoint.safetensors").step == 20)
    }

    /// A run stopped in the middle of a streak of spikes and resumed stops where a run never
    /// stopped does: the streak and the running average are in the checkpoint.
    @Test func aResumeInsideASpikeStreakStopsAtTheSameStep() throws {
        let spikes: (Int) -> Float? = { step in step >= 20 ? 50 : nil }
        func stopStep(_ trainer: Trainer) -> Int? {
            do { try trainer.train { _ in } } catch { if case .lossSpikes(let step, _, _, _) = error { return step } }
            return nil
        }
        let straight = Self.trainer(Self.freshModel(), Self.settings(steps: 40), directory: try Self.directory())
        straight.injectLoss = spikes
        #expect(stopStep(straight) == 25)

        let dir = try Self.directory()
        let first = Self.trainer(Self.freshModel(), Self.settings(steps: 40), directory: dir)
        first.injectLoss = spikes
        try first.train(progress: { _ in }, shouldStop: { first.optimizer.step == 22 })
        let loaded = try Checkpoint.load(path: dir + "/checkpoint.safetensors")
        #expect(loaded.skippedInARow == 2 && loaded.lossAverage == first.lossAverage)
        let adam = AdamW(weights: loaded.model.weights, hyper: loaded.run.adam)
        adam.restore(m: loaded.m, v: loaded.v, step: loaded.step)
        let resumed = Trainer(
            model: loaded.model, run: loaded.run, optimizer: adam, train: Self.stream, validation: Array(Self.stream.prefix(200)),
            byteLength: { _ in 1 }, tokenizerHash: "test", directory: dir, lossAverage: loaded.lossAverage, skippedInARow: loaded.skippedInARow)
        resumed.injectLoss = spikes
        #expect(stopStep(resumed) == 25)
    }

    /// A resumed run knows the best validation so far and does not replace a better model file.
    @Test func aResumedRunKeepsTheBetterModelFile() throws {
        let dir = try Self.directory()
        var run = Self.settings(steps: 2)
        run.evalEvery = 1
        let trainer = Trainer(
            model: Self.freshModel(), run: run, train: Self.stream, validation: Array(Self.stream.prefix(200)),
            byteLength: { _ in 1 }, tokenizerHash: "test", directory: dir, bestBitsPerByte: 0.001)
        try trainer.train { _ in }
        #expect(!FileManager.default.fileExists(atPath: trainer.modelPath))
        #expect(try Checkpoint.load(path: trainer.checkpointPath).bestBitsPerByte == 0.001)
    }

    @Test func scheduleWarmsUpThenDecaysToTheFloor() {
        let s = LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110)
        #expect(s.rate(at: 0) == 0.1)
        #expect(s.rate(at: 9) == 1)
        #expect(abs(s.rate(at: 60) - 0.55) < 1e-6)
        #expect(abs(s.rate(at: 110) - 0.1) < 1e-6)
    }

    @Test func clippingScalesToTheLimit() {
        var g: [Float] = [3, 4]
        let norm = g.withUnsafeMutableBufferPointer { clipGradients($0, maxNorm: 1) }
        #expect(norm == 5)
        #expect(abs(g[0] - 0.6) < 1e-6 && abs(g[1] - 0.8) < 1e-6)
    }

    @Test func windowsDependOnlyOnSeedAndStep() {
        let w = TokenWindows(stream: Self.stream, seed: 9)
        var (i1, t1, i2, t2) = ([Int32](), [Int32](), [Int32](), [Int32]())
        w.batch(step: 17, B: 3, T: 8, inputs: &i1, targets: &t1)
        w.batch(step: 17, B: 3, T: 8, inputs: &i2, targets: &t2)
        #expect(i1 == i2 && t1 == t2)
        #expect(Array(i1.dropFirst()).prefix(7) == t1.prefix(7))  // targets are inputs shifted by one
        w.batch(step: 18, B: 3, T: 8, inputs: &i2, targets: &t2)
        #expect(i1 != i2)
    }

    /// Bits per byte on a known case: a model that is uniform over V tokens of 1 byte each
    /// scores log2(V).
    @Test func evaluationOfAUniformModelIsLog2V() {
        let config = GPTConfig(vocabSize: 16, contextLength: 8, layers: 1, heads: 1, width: 4)
        let weights = GPTWeights(config: config)  // all zero: every logit is 0
        let model = GPTModel(weights: weights)
        let stream: [Int32] = (0..<30).map { Int32($0 % 16) }
        let r = Evaluation.run(model: model, stream: stream, byteLength: { _ in 1 }, batch: 2)
        #expect(r.tokens == 29 - 3)  // windows of 8 from 0, 8, 16, 24 (the last has 6): 7+7+7+5
        #expect(abs(r.bitsPerByte - 4) < 1e-4)
        #expect(abs(r.perplexity - 16) < 1e-3)
    }
}
