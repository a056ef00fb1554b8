import Foundation
import SIMDMath
import Testing
@testable import Kernels

@Suite struct ElementwiseTests {
    @Test(arguments: [(1, 5), (3, 48), (7, 64), (2, 100), (300, 33)])
    func layerNormMatchesNaive(rows: Int, C: Int) {
        var rng = TestRNG(seed: UInt64(rows * C))
        // An offset mean checks the two-pass variance.
        let inp = rng.floats(rows * C, scale: 3).map { $0 + 10 }
        let weight = rng.floats(C), bias = rng.floats(C)
        var fast = [Float](repeating: .nan, count: rows * C), slow = fast
        var mean = [Float](repeating: 0, count: rows), rstd = mean
        layerNormForward(out: &fast, mean: &mean, rstd: &rstd, inp: inp, weight: weight, bias: bias, rows: rows, C: C, eps: 1e-5)
        layerNormForwardNaive(out: &slow, inp: inp, weight: weight, bias: bias, rows: rows, C: C, eps: 1e-5)
        #expect(maxError(fast, slow) < 2e-5)
        #expect(abs(mean[0] - inp[0..<C].reduce(0, +) / Float(C)) < 1e-4)
    }

    @Test func layerNormOfAConstantRowIsTheBias() {
        let C = 20
        var out = [Float](repeating: 0, count: C)
        let bias = (0..<C).map { Float($0) }
        layerNormForward(out: &out, inp: [Float](repeating: 3, count: C), weight: [Float](repeating: 2, count: C), bias: bias, rows: 1, C: C, eps: 1e-5)
        #expect(out == bias)
    }

    @Test(arguments: [1, 15, 16, 17, 100, 70_001])
    func geluMatchesNaive(n: Int) {
        var rng = TestRNG(seed: UInt64(n))
        var inp = rng.floats(n, scale: 6)
        if n > 4 { inp[0] = -30; inp[1] = 30; inp[2] = 0; inp[3] = -1e-3 }
        var fast = [Float](repeating: .nan, count: n), slow = fast
        geluForward(out: &fast, inp: inp, count: n)
        geluForwardNaive(out: &slow, inp: inp, count: n)
        #expect(maxError(fast, slow) < 1e-6)
    }

    @Test func vectorExpIsWithinTwoUlpOfFoundation() {
        var worst: Float = 0
        var x: Float = -87
        while x < 87.8 {  // every lane stays inside the documented range
            var v = FloatVector()
            for i in 0..<16 { v[i] = x + Float(i) * 0.0071 }
            let e = vectorExp(v)
            for i in 0..<16 {
                let exact = Float(exp(Double(v[i])))
                worst = max(worst, abs(e[i] - exact) / exact.ulp)
            }
            x += 0.113
        }
        #expect(worst <= 2)
        #expect(vectorExp(FloatVector(repeating: -1000))[0] < 1e-37)
        #expect(vectorExp(FloatVector(repeating: 0))[0] == 1)
    }

    @Test(arguments: [1, 2, 16, 31, 257])
    func softmaxMatchesNaive(n: Int) {
        var rng = TestRNG(seed: UInt64(n + 99))
        var fast = rng.floats(n, scale: 20)
        var slow = fast
        softmaxInPlace(&fast, count: n)
        softmaxNaive(&slow, count: n)
        #expect(maxError(fast, slow) < 1e-6)
        #expect(abs(fast.reduce(0, +) - 1) < 1e-5)
    }

    @Test func softmaxSurvivesHugeLogits() {
        var x: [Float] = [1e30, 1e30, -1e30, 0]
        softmaxInPlace(&x, count: 4)
        #expect(x == [0.5, 0.5, 0, 0])
    }
}
