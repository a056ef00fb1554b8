import Foundation
import Testing
@testable import Kernels

/// The mask as a parameter of attention, RMSNorm and the SwiGLU activation, each against its
/// naive twin.
@Suite struct AttentionMaskTests {
    /// Bidirectional attention with padding: every query sees exactly the first `keys` keys,
    /// which may come from another sequence (cross-attention: S keys for T queries).
    @Test(arguments: [(1, 5, 5, 1, 4), (4, 9, 6, 3, 8), (7, 3, 3, 2, 16)])
    func bidirectionalMatchesNaive(T: Int, S: Int, keys: Int, H: Int, hs: Int) {
        let C = H * hs
        var rng = TestRNG(seed: UInt64(T * 13 + S + keys))
        let q = rng.floats(T * C, scale: 2), k = rng.floats(S * C, scale: 2), v = rng.floats(S * C)
        var fastOut = [Float](repeating: .nan, count: T * C), slowOut = fastOut
        var fastAtt = [Float](repeating: -1, count: H * T * S), slowAtt = fastAtt
        attentionForward(out: &fastOut, att: &fastAtt, attStride: S, q: q, qStride: C, k: k, v: v, kvStride: C, T: T, pastLength: 0, heads: H, headSize: hs, mask: .bidirectional(keys: keys))
        attentionForwardNaive(out: &slowOut, att: &slowAtt, attStride: S, q: q, qStride: C, k: k, v: v, kvStride: C, T: T, pastLength: 0, heads: H, headSize: hs, mask: .bidirectional(keys: keys))
        #expect(maxError(fastOut, slowOut) < 1e-5)
        #expect(maxError(fastAtt, slowAtt) < 1e-6)
        for row in 0..<(H * T) {
            let weights = fastAtt[(row * S)..<(row * S + S)]
            #expect(abs(weights.prefix(keys).reduce(0, +) - 1) < 1e-5)
            #expect(weights.dropFirst(keys).allSatisfy { $0 == -1 }, "padding keys get no weight")
        }
    }

    /// Padding keys change nothing: the output over `keys` real keys plus garbage padding equals
    /// the output over the real keys alone.
    @Test func paddingKeysAreIgnored() {
        let (T, H, hs, keys) = (3, 2, 4, 4)
        let C = H * hs
        var rng = TestRNG(seed: 77)
        let q = rng.floats(T * C), k = rng.floats(keys * C), v = rng.floats(keys * C)
        let padded = (k + rng.floats(3 * C, scale: 50), v + rng.floats(3 * C, scale: 50))
        var a = [Float](repeating: 0, count: T * C), b = a
        var att = [Float](repeating: 0, count: H * T * (keys + 3))
        attentionForward(out: &a, att: &att, attStride: keys + 3, q: q, qStride: C, k: k, v: v, kvStride: C, T: T, pastLength: 0, heads: H, headSize: hs, mask: .bidirectional(keys: keys))
        attentionForward(out: &b, att: &att, attStride: keys + 3, q: q, qStride: C, k: padded.0, v: padded.1, kvStride: C, T: T, pastLength: 0, heads: H, headSize: hs, mask: .bidirectional(keys: keys))
        #expect(a == b)
    }

    @Test(arguments: [AttentionMask.causal, .bidirectional(keys: 6), .bidirectional(keys: 9)])
    func gemmFormMatchesTheLoopsUnderEveryMask(mask: AttentionMask) {
        let (T, H, hs) = (9, 2, 8)
        let C = H * hs
        var rng = TestRNG(seed: 91)
        let qkv = rng.floats(T * 3 * C, scale: 2)
        var loopOut = [Float](repeating: 0, count: T * C), gemmOut = loopOut
        var loopAtt = [Float](repeating: 0, count: H * T * T), gemmAtt = [Float](repeating: .nan, count: H * T * T)
        attentionForward(out: &loopOut, att: &loopAtt, attStride: T, q: qkv, qStride: 3 * C, k: Array(qkv[C...]), v: Array(qkv[(2 * C)...]), kvStride: 3 * C, T: T, pastLength: 0, heads: H, headSize: hs, mask: mask)
        attentionForwardGEMM(out: &gemmOut, att: &gemmAtt, q: qkv, qStride: 3 * C, k: Array(qkv[C...]), v: Array(qkv[(2 * C)...]), kvStride: 3 * C, T: T, heads: H, headSize: hs, mask: mask)
        #expect(maxError(gemmOut, loopOut) < 1e-5)
        #expect(maxError(gemmAtt, loopAtt) < 1e-6)  // masked entries are 0 in both
    }

    @Test func bidirectionalBackwardMatchesNaiveAndTheDerivative() {
        let (T, H, hs, keys) = (7, 2, 4, 5)
        let C = H * hs
        var rng = TestRNG(seed: 93)
        let qkv = rng.floats(T * 3 * C), dout = rng.floats(T * C)
        let mask = AttentionMask.bidirectional(keys: keys)
        func forward(_ x: [Float]) -> (out: [Float], att: [Float]) {
            var out = [Float](repeating: 0, count: T * C), att = [Float](repeating: 0, count: H * T * T)
            attentionForwardNaive(out: &out, att: &att, attStride: T, q: x, qStride: 3 * C, k: Array(x[C...]), v: Array(x[(2 * C)...]), kvStride: 3 * C, T: T, pastLength: 0, heads: H, headSize: hs, mask: mask)
            return (out, att)
        }
        let att = forward(qkv).att
        var fast = [Float](repeating: 0, count: T * 3 * C), slow = fast
        var scratch = [Float](repeating: .nan, count: T * T)
        attentionBackward(dqkv: &fast, dout: dout, qkv: qkv, att: att, scratch: &scratch, T: T, heads: H, headSize: hs, mask: mask)
        attentionBackwardNaive(dqkv: &slow, dout: dout, qkv: qkv, att: att, T: T, heads: H, headSize: hs, mask: mask)
        #expect(maxError(fast, slow) < 1e-5)
        let numeric = BackwardTests.numericGradient(qkv, weights: dout, eps: 1e-3) { forward($0).out }
        #expect(maxError(slow, numeric) < 3e-3)
    }
}

@Suite struct RMSNormAndSwiGLUTests {
    @Test(arguments: [(1, 7), (5, 64), (3, 100)])
    func rmsNormMatchesNaive(rows: Int, C: Int) {
        var rng = TestRNG(seed: UInt64(rows * C))
        let x = rng.floats(rows * C, scale: 3), w = rng.floats(C)
        var fast = [Float](repeating: 0, count: rows * C), slow = fast
        var rstd = [Float](repeating: 0, count: rows)
        rmsNormForward(out: &fast, rstd: &rstd, inp: x, weight: w, rows: rows, C: C, eps: 1e-6)
        rmsNormForwardNaive(out: &slow, inp: x, weight: w, rows: rows, C: C, eps: 1e-6)
        #expect(maxError(fast, slow) < 1e-5)
        // A known answer: x = (3, 4), w = 1: rms = √12.5.
        var out: [Float] = [0, 0]
        rmsNormForward(out: &out, inp: [3, 4], weight: [1, 1], rows: 1, C: 2, eps: 0)
        let r = Float(12.5).squareRoot()
        #expect(abs(out[0] - 3 / r) < 1e-6 && abs(out[1] - 4 / r) < 1e-6)
    }

    @Test func rmsNormBackwardIsTheDerivative() {
        let (rows, C) = (3, 10)
        var rng = TestRNG(seed: 17)
        let x = rng.floats(rows * C, scale: 2), w = rng.floats(C), dout = rng.floats(rows * C)
        var y = [Float](repeating: 0, count: rows * C), rstd = [Float](repeating: 0, count: rows)
        rmsNormForward(out: &y, rstd: &rstd, inp: x, weight: w, rows: rows, C: C, eps: 1e-5)
        var dx = [Float](repeating: 0, count: rows * C), dw = [Float](repeating: 0, count: C)
        rmsNormBackward(dinp: &dx, dweight: &dw, dout: dout, inp: x, weight: w, rstd: rstd, rows: rows, C: C)
        let numericX = BackwardTests.numericGradient(x, weights: dout, eps: 1e-3) { input in
            var o = [Float](repeating: 0, count: rows * C)
            rmsNormForwardNaive(out: &o, inp: input, weight: w, rows: rows, C: C, eps: 1e-5)
            return o
        }
        let numericW = BackwardTests.numericGradient(w, weights: dout, eps: 1e-3) { weight in
            var o = [Float](repeating: 0, count: rows * C)
            rmsNormForwardNaive(out: &o, inp: x, weight: weight, rows: rows, C: C, eps: 1e-5)
            return o
        }
        #expect(maxError(dx, numericX) < 2e-3)
        #expect(maxError(dw, numericW) < 2e-3)
    }

    @Test func swigluMatchesNaive() {
        var rng = TestRNG(seed: 23)
        let n = 37
        let gate = rng.floats(n, scale: 8), up = rng.floats(n, scale: 2)
        var fast = [Float](repeating: 0, count: n), slow = fast
        swigluForward(out: &fast, gate: gate, up: up, count: n)
        swigluForwardNaive(out: &slow, gate: gate, up: up, count: n)
        #expect(maxError(fast, slow) < 1e-5)
        var zero: [Float] = [0]
        swigluForward(out: &zero, gate: [0], up: [5], count: 1)
        #expect(zero == [0])  // silu(0) = 0
    }
}
