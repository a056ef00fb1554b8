import Foundation
import Testing
@testable import Kernels

/// Every backward against central finite differences of its forward on tiny shapes, and the
/// BLAS-based ones against their naive twins.
@Suite struct BackwardTests {
    /// ∂/∂x[i] of Σ w·f(x) by central differences, with f evaluated by `forward`.
    static func numericGradient(_ x: [Float], weights w: [Float], eps: Float = 1e-2, _ forward: ([Float]) -> [Float]) -> [Float] {
        var grad = [Float](repeating: 0, count: x.count)
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += eps
            minus[i] -= eps
            let fp = forward(plus), fm = forward(minus)
            var diff = 0.0
            for j in w.indices { diff += Double(w[j]) * (Double(fp[j]) - Double(fm[j])) }
            grad[i] = Float(diff / Double(2 * eps))
        }
        return grad
    }

    @Test func matmulBackwardMatchesNaive() {
        var rng = TestRNG(seed: 21)
        let (rows, inDim, outDim) = (5, 19, 23)
        let inp = rng.floats(rows * inDim), weight = rng.floats(inDim * outDim), dout = rng.floats(rows * outDim)
        var (dinp, dweight, dbias) = (rng.floats(rows * inDim), rng.floats(inDim * outDim), rng.floats(outDim))
        var (ninp, nweight, nbias) = (dinp, dweight, dbias)  // both accumulate onto the same start
        matmulBackward(dinp: &dinp, dweight: &dweight, dbias: &dbias, dout: dout, inp: inp, weight: weight, rows: rows, inDim: inDim, outDim: outDim)
        matmulBackwardNaive(dinp: &ninp, dweight: &nweight, dbias: &nbias, dout: dout, inp: inp, weight: weight, rows: rows, inDim: inDim, outDim: outDim)
        #expect(maxError(dinp, ninp) < 1e-5)
        #expect(maxError(dweight, nweight) < 1e-5)
        #expect(maxError(dbias, nbias) < 1e-5)
    }

    @Test func matmulNaiveBackwardIsTheDerivative() {
        var rng = TestRNG(seed: 22)
        let (rows, inDim, outDim) = (3, 4, 5)
        let inp = rng.floats(rows * inDim), weight = rng.floats(inDim * outDim), w = rng.floats(rows * outDim)
        var dinp = [Float](repeating: 0, count: rows * inDim), dweight = [Float](repeating: 0, count: inDim * outDim)
        matmulBackwardNaive(dinp: &dinp, dweight: &dweight, dbias: nil, dout: w, inp: inp, weight: weight, rows: rows, inDim: inDim, outDim: outDim)
        let numeric = Self.numericGradient(inp, weights: w) { x in
            var out = [Float](repeating: 0, count: rows * outDim)
            matmulForwardNaive(out: &out, inp: x, weight: weight, bias: nil, rows: rows, inDim: inDim, outDim: outDim)
            return out
        }
        #expect(maxError(dinp, numeric) < 2e-3)
    }

    @Test func tiedHeadBackwardIsTheDerivative() {
        var rng = TestRNG(seed: 23)
        let (rows, C, V) = (3, 6, 7)
        let inp = rng.floats(rows * C), table = rng.floats(V * C), w = rng.floats(rows * V)
        var dinp = [Float](repeating: 0, count: rows * C), dtable = [Float](repeating: 0, count: V * C)
        matmulTransposedBackward(dinp: &dinp, dtable: &dtable, dout: w, inp: inp, table: table, rows: rows, C: C, vocab: V)
        let numericInput = Self.numericGradient(inp, weights: w) { x in
            var out = [Float](repeating: 0, count: rows * V)
            matmulTransposedForwardNaive(out: &out, inp: x, table: table, rows: rows, C: C, vocab: V)
            return out
        }
        let numericTable = Self.numericGradient(table, weights: w) { t in
            var out = [Float](repeating: 0, count: rows * V)
            matmulTransposedForwardNaive(out: &out, inp: inp, table: t, rows: rows, C: C, vocab: V)
            return out
        }
        #expect(maxError(dinp, numericInput) < 2e-3)
        #expect(maxError(dtable, numericTable) < 2e-3)
    }

    @Test(arguments: [(2, 5), (3, 17), (4, 40)])
    func layerNormBackwardIsTheDerivative(rows: Int, C: Int) {
        var rng = TestRNG(seed: UInt64(rows * C))
        let inp = rng.floats(rows * C, scale: 2), weight = rng.floats(C), bias = rng.floats(C), w = rng.floats(rows * C)
        var out = [Float](repeating: 0, count: rows * C), mean = [Float](repeating: 0, count: rows), rstd = mean
        layerNormForward(out: &out, mean: &mean, rstd: &rstd, inp: inp, weight: weight, bias: bias, rows: rows, C: C, eps: 1e-5)
        var dinp = [Float](repeating: 0, count: rows * C), dweight = [Float](repeating: 0, count: C), dbias = dweight
        layerNormBackward(dinp: &dinp, dweight: &dweight, dbias: &dbias, dout: w, inp: inp, weight: weight, mean: mean, rstd: rstd, rows: rows, C: C)
        func forward(_ x: [Float], _ wt: [Float], _ b: [Float]) -> [Float] {
            var o = [Float](repeating: 0, count: rows * C)
            layerNormForwardNaive(out: &o, inp: x, weight: wt, bias: b, rows: rows, C: C, eps: 1e-5)
            return o
        }
        #expect(maxError(dinp, Self.numericGradient(inp, weights: w, eps: 1e-3) { forward($0, weight, bias) }) < 5e-3)
        #expect(maxError(dweight, Self.numericGradient(weight, weights: w) { forward(inp, $0, bias) }) < 2e-3)
        #expect(maxError(dbias, Self.numericGradient(bias, weights: w) { forward(inp, weight, $0) }) < 2e-3)
    }

    @Test func geluBackwardIsTheDerivative() {
        var rng = TestRNG(seed: 31)
        let n = 37  // a SIMD body and a tail
        let inp = rng.floats(n, scale: 4), w = rng.floats(n)
        var dinp = [Float](repeating: 0, count: n)
        geluBackward(dinp: &dinp, inp: inp, dout: w, count: n)
        let numeric = Self.numericGradient(inp, weights: w, eps: 1e-3) { x in
            var o = [Float](repeating: 0, count: n)
            geluForwardNaive(out: &o, inp: x, count: n)
            return o
        }
        #expect(maxError(dinp, numeric) < 2e-3)
    }

    @Test(arguments: [(4, 1, 8), (9, 3, 16), (17, 2, 5)])
    func attentionBackwardMatchesNaiveAndTheDerivative(T: Int, H: Int, hs: Int) {
        var rng = TestRNG(seed: UInt64(T * H * hs))
        let C = H * hs
        let qkv = rng.floats(T * 3 * C), dout = rng.floats(T * C)
        func forward(_ x: [Float]) -> (out: [Float], att: [Float]) {
            var out = [Float](repeating: 0, count: T * C), att = [Float](repeating: 0, count: H * T * T)
            attentionForwardNaive(out: &out, att: &att, attStride: T, q: x, qStride: 3 * C, k: Array(x[C...]), v: Array(x[(2 * C)...]), kvStride: 3 * C, T: T, pastLength: 0, heads: H, headSize: hs)
            return (out, att)
        }
        let att = forward(qkv).att
        var fast = [Float](repeating: 0.25, count: T * 3 * C), slow = fast
        var scratch = [Float](repeating: .nan, count: T * T)
        attentionBackward(dqkv: &fast, dout: dout, qkv: qkv, att: att, scratch: &scratch, T: T, heads: H, headSize: hs)
        attentionBackwardNaive(dqkv: &slow, dout: dout, qkv: qkv, att: att, T: T, heads: H, headSize: hs)
        #expect(maxError(fast, slow) < 1e-5)
        let numeric = Self.numericGradient(qkv, weights: dout, eps: 1e-3) { forward($0).out }
        #expect(maxError(slow.map { $0 - 0.25 }, numeric) < 3e-3)
    }

    @Test func crossEntropyGradientIsTheDerivative() {
        var rng = TestRNG(seed: 41)
        let (rows, V) = (3, 11)
        let logits = rng.floats(rows * V, scale: 3)
        let targets: [Int32] = [4, 0, 10]
        func meanLoss(_ l: [Float]) -> [Float] {
            var copy = l, losses = [Float](repeating: 0, count: rows)
            crossEntropyForwardBackward(logits: &copy, losses: &losses, targets: targets, rows: rows, V: V, scale: 0, writeGradient: false)
            return [losses.reduce(0, +) / Float(rows)]
        }
        var grad = logits, losses = [Float](repeating: 0, count: rows)
        crossEntropyForwardBackward(logits: &grad, losses: &losses, targets: targets, rows: rows, V: V, scale: 1 / Float(rows), writeGradient: true)
        #expect(maxError(grad, Self.numericGradient(logits, weights: [1], eps: 1e-3, meanLoss)) < 1e-3)
        // A known answer: uniform logits give log V.
        var flat = [Float](repeating: 0, count: V), one: [Float] = [0]
        crossEntropyForwardBackward(logits: &flat, losses: &one, targets: [3], rows: 1, V: V, scale: 1, writeGradient: false)
        #expect(abs(one[0] - log(Float(V))) < 1e-6)
    }

    @Test func rotaryBackwardUndoesTheRotation() {
        var rng = TestRNG(seed: 51)
        let (T, H, hs) = (5, 2, 8)
        let x = rng.floats(T * H * hs)
        let (cos, sin) = rotaryTables(positions: 8, headSize: hs, theta: 10_000)
        var y = x
        rotaryForward(x: &y, stride: H * hs, T: T, pastLength: 2, heads: H, headSize: hs, cos: cos, sin: sin)
        rotaryBackward(dx: &y, stride: H * hs, T: T, pastLength: 2, heads: H, headSize: hs, cos: cos, sin: sin)
        #expect(maxError(y, x) < 1e-6)
    }

    @Test func embeddingBackwardAccumulatesRepeatedTokens() {
        let (B, T, C) = (1, 3, 2)
        var dwte = [Float](repeating: 0, count: 4 * C), dwpe = [Float](repeating: 0, count: T * C)
        embeddingBackward(dwte: &dwte, dwpe: &dwpe, dout: [1, 2, 3, 4, 5, 6], tokens: [2, 0, 2], B: B, T: T, C: C)
        #expect(dwte == [3, 4, 0, 0, 6, 8, 0, 0])
        #expect(dwpe == [1, 2, 3, 4, 5, 6])
    }
}
