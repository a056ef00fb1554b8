import Testing
@testable import Kernels

@Suite struct MatmulTests {
    /// Shapes chosen to miss the SIMD width and BLAS blocking: 1 row is the decode kernel
    /// (`matrixVectorInOut`), including GPT-2's QKV and MLP widths (split over threads) and
    /// input counts that leave a remainder of the four-row pass.
    @Test(arguments: [
        (1, 7, 5), (1, 48, 144), (1, 768, 2304), (1, 3071, 771), (1, 3, 17), (1, 130, 1),
        (3, 17, 33), (16, 64, 256), (37, 101, 19),
    ])
    func matmulMatchesNaive(rows: Int, inDim: Int, outDim: Int) {
        var rng = TestRNG(seed: UInt64(rows * 1000 + inDim))
        let inp = rng.floats(rows * inDim), weight = rng.floats(inDim * outDim), bias = rng.floats(outDim)
        var fast = [Float](repeating: .nan, count: rows * outDim)
        var slow = fast
        matmulForward(out: &fast, inp: inp, weight: weight, bias: bias, rows: rows, inDim: inDim, outDim: outDim)
        matmulForwardNaive(out: &slow, inp: inp, weight: weight, bias: bias, rows: rows, inDim: inDim, outDim: outDim)
        // Each output is a Float sum of inDim products (the decode kernel keeps one running sum
        // per output), whose rounding drifts like √inDim: 1e-5 up to 64 inputs, 7e-5 at 3071.
        let tolerance = 1e-5 * max(1, Float(inDim).squareRoot() / 8)
        #expect(maxError(fast, slow) < tolerance)
        matmulForward(out: &fast, inp: inp, weight: weight, bias: nil, rows: rows, inDim: inDim, outDim: outDim)
        matmulForwardNaive(out: &slow, inp: inp, weight: weight, bias: nil, rows: rows, inDim: inDim, outDim: outDim)
        #expect(maxError(fast, slow) < tolerance)
    }

    @Test(arguments: [(1, 48, 301), (1, 77, 5003), (5, 33, 17), (9, 64, 512)])
    func tiedHeadMatchesNaive(rows: Int, C: Int, vocab: Int) {
        var rng = TestRNG(seed: UInt64(vocab))
        let inp = rng.floats(rows * C), table = rng.floats(vocab * C)
        var fast = [Float](repeating: .nan, count: rows * vocab)
        var slow = fast
        matmulTransposedForward(out: &fast, inp: inp, table: table, rows: rows, C: C, vocab: vocab)
        matmulTransposedForwardNaive(out: &slow, inp: inp, table: table, rows: rows, C: C, vocab: vocab)
        #expect(maxError(fast, slow) < 1e-5)
    }

    @Test func dotAndAxpyHandleEveryTailLength() {
        var rng = TestRNG(seed: 7)
        for n in 0..<70 {
            let a = rng.floats(n), b = rng.floats(n)
            let expected = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            #expect(abs(Double(dot(a, b, n)) - expected) < 1e-5)
            var y = b
            axpy(0.5, a, &y, n)
            #expect(maxError(y, zip(a, b).map { 0.5 * $0 + $1 }) < 1e-6)
        }
    }
}
