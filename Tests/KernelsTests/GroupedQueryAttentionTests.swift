import Foundation
import Testing
@testable import Kernels

@Suite struct GroupedQueryAttentionTests {
    /// (queries T, cached p0, query heads H, key/value heads, head size hs).
    @Test(arguments: [(1, 5, 6, 2, 8), (7, 0, 4, 1, 12), (3, 4, 9, 3, 6), (5, 2, 4, 4, 16)])
    func groupedAttentionMatchesNaive(T: Int, p0: Int, H: Int, kvHeads: Int, hs: Int) {
        let (A, K, S) = (H * hs, kvHeads * hs, p0 + T)
        var rng = TestRNG(seed: UInt64(T * 13 + H * 5 + kvHeads))
        let q = rng.floats(T * A, scale: 2), k = rng.floats(S * K, scale: 2), v = rng.floats(S * K)
        var fastOut = [Float](repeating: .nan, count: T * A), slowOut = fastOut
        var fastAtt = [Float](repeating: -1, count: H * T * S), slowAtt = fastAtt
        attentionForward(out: &fastOut, att: &fastAtt, attStride: S, q: q, qStride: A, k: k, v: v, kvStride: K, T: T, pastLength: p0, heads: H, kvHeads: kvHeads, headSize: hs)
        attentionForwardNaive(out: &slowOut, att: &slowAtt, attStride: S, q: q, qStride: A, k: k, v: v, kvStride: K, T: T, pastLength: p0, heads: H, kvHeads: kvHeads, headSize: hs)
        #expect(maxError(fastOut, slowOut) < 1e-5)
        #expect(maxError(fastAtt, slowAtt) < 1e-6)
    }

    /// The GEMM form of a prefill chunk against cached keys equals the naive definition, with the
    /// entries past each query's visible keys written as 0. (queries T, cached p0, H, kvHeads, hs)
    @Test(arguments: [(16, 0, 4, 4, 8), (20, 37, 6, 2, 8), (17, 5, 9, 3, 12), (33, 100, 4, 1, 16)])
    func blockedAttentionMatchesNaive(T: Int, p0: Int, H: Int, kvHeads: Int, hs: Int) {
        let (A, K, S) = (H * hs, kvHeads * hs, p0 + T)
        let stride = S + 5
        var rng = TestRNG(seed: UInt64(T * 7 + p0 + H))
        let q = rng.floats(T * A, scale: 2), k = rng.floats(S * K, scale: 2), v = rng.floats(S * K)
        var fastOut = [Float](repeating: .nan, count: T * A), slowOut = fastOut
        var fastAtt = [Float](repeating: -1, count: H * T * stride), slowAtt = fastAtt
        attentionForwardBlocked(out: &fastOut, att: &fastAtt, attStride: stride, q: q, qStride: A, k: k, v: v, kvStride: K, T: T, pastLength: p0, heads: H, kvHeads: kvHeads, headSize: hs)
        attentionForwardNaive(out: &slowOut, att: &slowAtt, attStride: stride, q: q, qStride: A, k: k, v: v, kvStride: K, T: T, pastLength: p0, heads: H, kvHeads: kvHeads, headSize: hs)
        #expect(maxError(fastOut, slowOut) < 1e-5)
        for h in 0..<H {
            for t in 0..<T {
                let row = (h * T + t) * stride
                let visible = p0 + t + 1
                #expect(maxError(Array(fastAtt[row..<(row + visible)]), Array(slowAtt[row..<(row + visible)])) < 1e-6)
                #expect(fastAtt[(row + visible)..<(row + S)].allSatisfy { $0 == 0 })
                #expect(fastAtt[(row + S)..<(row + stride)].allSatisfy { $0 == -1 })
            }
        }
    }

    @Test func blockedAttentionHonoursAPaddingMask() {
        let (T, H, hs, keys) = (18, 2, 8, 11)
        let C = H * hs
        var rng = TestRNG(seed: 5)
        let q = rng.floats(T * C, scale: 2), k = rng.floats(keys * C, scale: 2), v = rng.floats(keys * C)
        var fastOut = [Float](repeating: 0, count: T * C), slowOut = fastOut
        var fastAtt = [Float](repeating: 0, count: H * T * keys), slowAtt = fastAtt
        attentionForwardBlocked(out: &fastOut, att: &fastAtt, attStride: keys, q: q, qStride: C, k: k, v: v, kvStride: C, T: T, pastLength: 0, heads: H, headSize: hs, mask: .bidirectional(keys: keys))
        attentionForwardNaive(out: &slowOut, att: &slowAtt, attStride: keys, q: q, qStride: C, k: k, v: v, kvStride: C, T: T, pastLength: 0, heads: H, headSize: hs, mask: .bidirectional(keys: keys))
        #expect(maxError(fastOut, slowOut) < 1e-5)
        #expect(maxError(fastAtt, slowAtt) < 1e-6)
    }

    /// Grouped-query attention is multi-head attention whose key/value heads are repeated:
    /// the definition transformers implements with `repeat_kv`.
    @Test func groupedAttentionEqualsRepeatedKeyValueHeads() {
        let (T, H, kvHeads, hs) = (4, 6, 2, 5)
        let (A, K, group) = (H * hs, kvHeads * hs, H / kvHeads)
        var rng = TestRNG(seed: 77)
        let q = rng.floats(T * A, scale: 2), k = rng.floats(T * K, scale: 2), v = rng.floats(T * K)
        func repeated(_ x: [Float]) -> [Float] {
            var out: [Float] = []
            for t in 0..<T {
                for h in 0..<H {
                    let start = t * K + (h / group) * hs
                    out += x[start..<(start + hs)]
                }
            }
            return out
        }
        var grouped = [Float](repeating: 0, count: T * A), full = grouped
        var att1 = [Float](repeating: 0, count: H * T * T), att2 = att1
        attentionForward(out: &grouped, att: &att1, attStride: T, q: q, qStride: A, k: k, v: v, kvStride: K, T: T, pastLength: 0, heads: H, kvHeads: kvHeads, headSize: hs)
        attentionForwardNaive(out: &full, att: &att2, attStride: T, q: q, qStride: A, k: repeated(k), v: repeated(v), kvStride: A, T: T, pastLength: 0, heads: H, headSize: hs)
        #expect(maxError(grouped, full) < 1e-5)
        #expect(maxError(att1, att2) < 1e-6)
    }
}

@Suite struct RotaryLayoutTests {
    @Test func halfSplitRotaryMatchesNaive() {
        var rng = TestRNG(seed: 9)
        let (T, p0, H, hs, stride) = (5, 4, 3, 12, 40)
        var fast = rng.floats(T * stride), slow = fast
        let (cos, sin) = rotaryTables(positions: 16, headSize: hs, theta: 500)
        rotaryForward(x: &fast, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, cos: cos, sin: sin, layout: .halfSplit)
        rotaryForwardNaive(x: &slow, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, theta: 500, layout: .halfSplit)
        #expect(maxError(fast, slow) < 1e-5)
    }

    /// The two layouts are the same rotation with a head's coordinates listed in another order:
    /// half-split on x equals interleaved on x permuted (i ↦ 2i, i + hs/2 ↦ 2i + 1).
    @Test func halfSplitIsInterleavedOnPermutedCoordinates() {
        var rng = TestRNG(seed: 10)
        let (hs, half, position) = (10, 5, 7)
        let x = rng.floats(hs)
        let (cos, sin) = rotaryTables(positions: 8, headSize: hs, theta: 10_000)
        var split = x
        rotaryForward(x: &split, stride: hs, T: 1, pastLength: position, heads: 1, headSize: hs, cos: cos, sin: sin, layout: .halfSplit)
        var interleaved = (0..<hs).map { j in x[j % 2 == 0 ? j / 2 : j / 2 + half] }
        rotaryForward(x: &interleaved, stride: hs, T: 1, pastLength: position, heads: 1, headSize: hs, cos: cos, sin: sin)
        for i in 0..<half {
            #expect(abs(split[i] - interleaved[2 * i]) < 1e-6)
            #expect(abs(split[i + half] - interleaved[2 * i + 1]) < 1e-6)
        }
    }

    @Test func halfSplitBackwardUndoesForward() {
        var rng = TestRNG(seed: 11)
        let (T, H, hs) = (3, 2, 8)
        let x = rng.floats(T * H * hs)
        var y = x
        let (cos, sin) = rotaryTables(positions: 8, headSize: hs, theta: 10_000)
        rotaryForward(x: &y, stride: H * hs, T: T, pastLength: 2, heads: H, headSize: hs, cos: cos, sin: sin, layout: .halfSplit)
        #expect(maxError(x, y) > 1e-3)
        rotaryBackward(dx: &y, stride: H * hs, T: T, pastLength: 2, heads: H, headSize: hs, cos: cos, sin: sin, layout: .halfSplit)
        #expect(maxError(x, y) < 1e-5)
    }
}
