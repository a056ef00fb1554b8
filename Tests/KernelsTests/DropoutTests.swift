import Testing
@testable import Kernels

@Suite struct DropoutTests {
    @Test(arguments: [Float(0.1), 0.5, 0.9])
    func dropsAboutPAndScalesTheRestByOneOverOneMinusP(p: Float) {
        let n = 200_003  // past the threaded threshold, and not a multiple of 16
        var x = [Float](repeating: 2, count: n), mask = [Float](repeating: -1, count: n)
        dropoutForward(&x, mask: &mask, count: n, probability: p, seed: 7)
        let dropped = x.filter { $0 == 0 }.count
        let rate = Float(dropped) / Float(n)
        // 5 standard deviations of a binomial proportion at n = 200k is < 0.006.
        #expect(abs(rate - p) < 0.006, "dropped \(rate), expected \(p)")
        #expect(x.allSatisfy { $0 == 0 || $0 == 2 / (1 - p) })
        #expect(zip(x, mask).allSatisfy { $0 == 2 * $1 })
    }

    @Test func matchesTheNaiveRuleExactly() {
        let n = 70_001
        var rng = TestRNG(seed: 3)
        let input = rng.floats(n)
        var (fast, slow) = (input, input)
        var (fastMask, slowMask) = ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
        dropoutForward(&fast, mask: &fastMask, count: n, probability: 0.3, seed: 99)
        dropoutForwardNaive(&slow, mask: &slowMask, count: n, probability: 0.3, seed: 99)
        #expect(fast == slow)
        #expect(fastMask == slowMask)
    }

    @Test func theMaskIsAFunctionOfTheSeed() {
        func mask(seed: UInt64) -> [Float] {
            var x = [Float](repeating: 1, count: 1000), m = [Float](repeating: 0, count: 1000)
            dropoutForward(&x, mask: &m, count: 1000, probability: 0.5, seed: seed)
            return m
        }
        #expect(mask(seed: 1) == mask(seed: 1))
        #expect(mask(seed: 1) != mask(seed: 2))
        #expect(dropoutSeed(1, 0) != dropoutSeed(1, 1))
        #expect(dropoutSeed(1, 0) != dropoutSeed(2, 0))
    }

    @Test func zeroProbabilityIsTheIdentity() {
        var rng = TestRNG(seed: 4)
        let input = rng.floats(100)
        var x = input, m = [Float](repeating: 0, count: 100)
        dropoutForward(&x, mask: &m, count: 100, probability: 0, seed: 5)
        #expect(x == input)
        #expect(m.allSatisfy { $0 == 1 })
    }

    @Test func backwardIsTheDerivative() {
        // out = mask ⊙ x is linear in x, so its gradient is exactly dout ⊙ mask.
        var rng = TestRNG(seed: 6)
        let n = 37
        let input = rng.floats(n), w = rng.floats(n)
        var x = input, mask = [Float](repeating: 0, count: n)
        dropoutForward(&x, mask: &mask, count: n, probability: 0.4, seed: 8)
        var grad = [Float](repeating: 0, count: n)
        dropoutBackward(dinp: &grad, dout: w, mask: mask, count: n)
        let numeric = BackwardTests.numericGradient(input, weights: w) { v in
            var out = v, m = [Float](repeating: 0, count: n)
            dropoutForward(&out, mask: &m, count: n, probability: 0.4, seed: 8)
            return out
        }
        #expect(maxError(grad, numeric) < 1e-3)
        #expect(grad.contains(0) && grad.contains { $0 != 0 })
    }
}
