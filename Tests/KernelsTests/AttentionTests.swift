import Foundation
import Testing
@testable import Kernels

@Suite struct AttentionTests {
    /// (queries T, cached p0, heads H, head size hs): decode (T = 1), prefill, and continuation.
    @Test(arguments: [(1, 0, 1, 4), (1, 9, 3, 16), (7, 0, 3, 16), (5, 11, 4, 17), (33, 0, 2, 64)])
    func attentionMatchesNaive(T: Int, p0: Int, H: Int, hs: Int) {
        let C = H * hs, S = p0 + T, stride = S + 3
        var rng = TestRNG(seed: UInt64(T * 31 + p0 * 7 + H))
        let qkv = rng.floats(T * 3 * C, scale: 2)  // q read in place from a fused buffer
        let k = rng.floats(S * C, scale: 2), v = rng.floats(S * C)
        var fastOut = [Float](repeating: .nan, count: T * C), slowOut = fastOut
        var fastAtt = [Float](repeating: -1, count: H * T * stride), slowAtt = fastAtt
        attentionForward(out: &fastOut, att: &fastAtt, attStride: stride, q: qkv, qStride: 3 * C, k: k, v: v, kvStride: C, T: T, pastLength: p0, heads: H, headSize: hs)
        attentionForwardNaive(out: &slowOut, att: &slowAtt, attStride: stride, q: qkv, qStride: 3 * C, k: k, v: v, kvStride: C, T: T, pastLength: p0, heads: H, headSize: hs)
        #expect(maxError(fastOut, slowOut) < 1e-5)
        #expect(maxError(fastAtt, slowAtt) < 1e-6)
        // The causal mask: nothing is written past a query's own position.
        for h in 0..<H {
            for t in 0..<T {
                let row = fastAtt[((h * T + t) * stride)..<((h * T + t) * stride + stride)]
                #expect(row.dropFirst(p0 + t + 1).allSatisfy { $0 == -1 })
                #expect(abs(row.prefix(p0 + t + 1).reduce(0, +) - 1) < 1e-5)
            }
        }
    }

    @Test(arguments: [(1, 1, 4), (9, 3, 16), (40, 2, 7)])
    func gemmAttentionMatchesTheLoops(T: Int, H: Int, hs: Int) {
        var rng = TestRNG(seed: UInt64(T + H + hs))
        let C = H * hs
        let qkv = rng.floats(T * 3 * C, scale: 2)
        var loopOut = [Float](repeating: 0, count: T * C), gemmOut = loopOut
        var loopAtt = [Float](repeating: 0, count: H * T * T), gemmAtt = [Float](repeating: .nan, count: H * T * T)
        attentionForward(out: &loopOut, att: &loopAtt, attStride: T, q: qkv, qStride: 3 * C, k: Array(qkv[C...]), v: Array(qkv[(2 * C)...]), kvStride: 3 * C, T: T, pastLength: 0, heads: H, headSize: hs)
        attentionForwardGEMM(out: &gemmOut, att: &gemmAtt, q: qkv, qStride: 3 * C, k: Array(qkv[C...]), v: Array(qkv[(2 * C)...]), kvStride: 3 * C, T: T, heads: H, headSize: hs)
        #expect(maxError(gemmOut, loopOut) < 1e-5)
        #expect(maxError(gemmAtt, loopAtt) < 1e-6)  // including the zeros above the diagonal
    }

    @Test func firstTokenAttendsOnlyToItself() {
        var out = [Float](repeating: 0, count: 4), att: [Float] = [0, 0]
        attentionForward(out: &out, att: &att, attStride: 2, q: [1, 2, 3, 4], qStride: 4, k: [5, 6, 7, 8], v: [9, 8, 7, 6], kvStride: 4, T: 1, pastLength: 0, heads: 1, headSize: 4)
        #expect(att[0] == 1)
        #expect(out == [9, 8, 7, 6])
    }
}

@Suite struct PositionTests {
    @Test func rotaryMatchesNaive() {
        var rng = TestRNG(seed: 5)
        let (T, p0, H, hs, stride) = (6, 3, 3, 16, 60)
        var fast = rng.floats(T * stride), slow = fast
        let (cos, sin) = rotaryTables(positions: 16, headSize: hs, theta: 10_000)
        rotaryForward(x: &fast, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, cos: cos, sin: sin)
        rotaryForwardNaive(x: &slow, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, theta: 10_000)
        #expect(maxError(fast, slow) < 1e-5)
    }

    /// Rotary is relative: q·k depends only on the distance between the two positions.
    @Test func rotaryScoresDependOnlyOnDistance() {
        var rng = TestRNG(seed: 11)
        let hs = 8
        let q = rng.floats(hs), k = rng.floats(hs)
        let (cos, sin) = rotaryTables(positions: 64, headSize: hs, theta: 10_000)
        func score(_ qPos: Int, _ kPos: Int) -> Float {
            var qr = q, kr = k
            rotaryForward(x: &qr, stride: hs, T: 1, pastLength: qPos, heads: 1, headSize: hs, cos: cos, sin: sin)
            rotaryForward(x: &kr, stride: hs, T: 1, pastLength: kPos, heads: 1, headSize: hs, cos: cos, sin: sin)
            return dot(qr, kr, hs)
        }
        #expect(abs(score(10, 7) - score(40, 37)) < 1e-4)
        #expect(abs(score(10, 7) - score(10, 2)) > 1e-3)
    }

    @Test func sinusoidalTableFollowsThePaper() {
        let table = sinusoidalTable(positions: 10, width: 6)
        #expect(table[0..<6] == [0, 1, 0, 1, 0, 1])
        let pos = 7, i = 2
        #expect(abs(table[pos * 6 + i] - Float(sin(Double(pos) / pow(10_000, Double(i) / 6)))) < 1e-6)
        #expect(abs(table[pos * 6 + i + 1] - Float(cos(Double(pos) / pow(10_000, Double(i) / 6)))) < 1e-6)
    }
}
