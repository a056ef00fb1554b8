@_spi(Training) import GPT
import Testing
@testable import Training

/// AdamW over a flat parameter count and per-tensor groups, the form any model's trainer uses.
@Suite struct AdamWGroupsTests {
    @Test func flatGroupsUpdateExactlyAsTheGPTInitializer() {
        let config = GPTConfig(vocabSize: 19, contextLength: 8, layers: 1, heads: 2, width: 8)
        let a = GPTWeights(config: config), b = GPTWeights(config: config)
        a.initialiseRandomly(seed: 3)
        b.initialiseRandomly(seed: 3)
        let grads = (0..<a.count).map { Float(($0 * 37) % 23) / 23 - 0.5 }
        let hyper = AdamW.Hyperparameters()
        let gpt = AdamW(weights: a, hyper: hyper)
        let flat = AdamW(parameterCount: b.count, groups: AdamW.groups(tensors: b.tensors.map { ($0.offset, $0.shape) }), hyper: hyper)
        for _ in 0..<3 {
            a.withMutableStorage { p in grads.withUnsafeBufferPointer { gpt.update(params: p, grads: $0, lr: 1e-2) } }
            b.withMutableStorage { p in grads.withUnsafeBufferPointer { flat.update(params: p, grads: $0, lr: 1e-2) } }
        }
        #expect(a.withMutableStorage { Array($0) } == b.withMutableStorage { Array($0) })
        #expect(gpt.m == flat.m && gpt.v == flat.v && gpt.step == flat.step)
    }

    @Test func onlyDecayingGroupsShrinkAndParametersInNoGroupStayPut() {
        var hyper = AdamW.Hyperparameters()
        hyper.weightDecay = 0.5
        let adam = AdamW(parameterCount: 4, groups: [(0..<2, true), (2..<3, false)], hyper: hyper)
        var params: [Float] = [1, 2, 3, 4]
        let zero = [Float](repeating: 0, count: 4)
        params.withUnsafeMutableBufferPointer { p in zero.withUnsafeBufferPointer { adam.update(params: p, grads: $0, lr: 0.1) } }
        // A zero gradient leaves only the decoupled decay: p·(1 − lr·wd) = p·0.95.
        #expect(params == [0.95, 1.9, 3, 4])
    }
}
