import CBLAS
import Glibc

// Glossary: T = queries computed now, p0 = positions already in the KV cache, S = keys a query
// may see at most, H = heads, hs = head size, C = H·hs. Head h of a row lives at offset h·hs.

/// Which keys each query may see: the mask of scaled dot-product attention, as a parameter.
///
/// A masked key gets score −∞, so its softmax weight is exactly 0; the kernels simply never
/// compute it, and leave its entry of the weight row unwritten (the GEMM forms write 0 there).
public enum AttentionMask: Sendable, Equatable {
    /// A decoder's self-attention: query t, at position p0 + t, sees keys 0...p0+t and never
    /// looks ahead.
    case causal
    /// No mask but padding: every query sees keys 0..<keys, and keys at or past `keys` (padding)
    /// are hidden. An encoder's self-attention, and cross-attention, where the keys and values
    /// come from another sequence.
    case bidirectional(keys: Int)

    /// How many keys (from key 0) query `t` of a chunk that starts at position `p0` sees.
    @inlinable
    public func visibleKeys(query t: Int, pastLength p0: Int) -> Int {
        switch self {
        case .causal: p0 + t + 1
        case .bidirectional(let keys): keys
        }
    }

    /// The longest weight row any of `T` queries after `p0` cached positions writes.
    @inlinable
    public func widestRow(queries T: Int, pastLength p0: Int) -> Int {
        switch self {
        case .causal: p0 + T
        case .bidirectional(let keys): keys
        }
    }
}

/// Multi-head scaled dot-product attention, softmax(q·kᵀ/√hs + mask)·v, for `T` queries at
/// positions p0..<p0+T against the keys and values in `k` and `v`.
///
/// - Parameters:
///   - out: (T, C), overwritten: head h of query t at columns h·hs..<(h+1)·hs (the heads merged).
///   - att: (H, T, attStride), receives the attention weights: row (h, t) gets
///     `mask.visibleKeys(query: t, pastLength: p0)` entries; entries past that are not written.
///   - q: (T, qStride); qStride is 3C when q is read in place from the fused QKV buffer.
///   - k, v: (S, kvStride): the KV cache, or another sequence's keys and values (cross-attention).
///   - kvHeads: heads of `k` and `v` (grouped-query attention: query head h reads key/value
///     head h / (H / kvHeads)); nil means H, one key/value head per query head.
///   - mask: `.causal` (decoders, the default) or `.bidirectional(keys:)`.
///
/// Each (head, query) pair is independent, so they are spread over threads.
public func attentionForward(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, attStride: Int,
    q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    kvStride: Int, T: Int, pastLength p0: Int, heads H: Int, kvHeads: Int? = nil, headSize hs: Int, mask: AttentionMask = .causal
) {
    precondition(attStride >= mask.widestRow(queries: T, pastLength: p0), "attention row too short for the context")
    let group = H / (kvHeads ?? H)
    precondition(group >= 1 && H % group == 0, "query heads must split evenly over the key/value heads")
    let C = H * hs
    let scale = 1 / Float(hs).squareRoot()
    nonisolated(unsafe) let (out, att) = (out, att)  // each (h, t) writes its own row of both
    parallelFor(H * T, minimumPerThread: max(1, 32_768 / max(1, mask.widestRow(queries: T, pastLength: p0) * hs))) { range in
        for item in range {
            let h = item / T
            let t = item % T
            let kvOffset = (h / group) * hs
            let query = q + t * qStride + h * hs
            let row = att + (h * T + t) * attStride
            let visible = mask.visibleKeys(query: t, pastLength: p0)
            for j in 0..<visible { row[j] = dot(query, k + j * kvStride + kvOffset, hs) * scale }
            softmaxInPlace(row, count: visible)
            let o = out + t * C + h * hs
            o.update(repeating: 0, count: hs)
            for j in 0..<visible { axpy(row[j], v + j * kvStride + kvOffset, o, hs) }
        }
    }
}

/// The reference for `attentionForward`: the same definition written as plainly as possible
/// (every score computed, masked ones set to −∞), accumulating in Double.
public func attentionForwardNaive(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, attStride: Int,
    q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    kvStride: Int, T: Int, pastLength p0: Int, heads H: Int, kvHeads: Int? = nil, headSize hs: Int, mask: AttentionMask = .causal
) {
    let C = H * hs
    let S = mask.widestRow(queries: T, pastLength: p0)
    let queriesPerKey = H / (kvHeads ?? H)
    for h in 0..<H {
        let kh = h / queriesPerKey  // the key/value head this query head shares
        for t in 0..<T {
            let visible = mask.visibleKeys(query: t, pastLength: p0)
            var scores = [Double](repeating: -.infinity, count: S)
            for j in 0..<S where j < visible {
                var s = 0.0
                for d in 0..<hs { s += Double(q[t * qStride + h * hs + d]) * Double(k[j * kvStride + kh * hs + d]) }
                scores[j] = s / Double(hs).squareRoot()
            }
            let m = scores.max() ?? 0
            let e = scores.map { exp($0 - m) }
            let z = e.reduce(0, +)
            for j in 0..<visible { att[(h * T + t) * attStride + j] = Float(e[j] / z) }
            for d in 0..<hs {
                var acc = 0.0
                for j in 0..<visible { acc += e[j] / z * Double(v[j * kvStride + kh * hs + d]) }
                out[t * C + h * hs + d] = Float(acc)
            }
        }
    }
}

/// `attentionForward` for a chunk of `T` queries through OpenBLAS: per head, scores =
/// q·kᵀ/√hs as one GEMM over all `S` keys, a masked softmax per row, and out = weights·v as a
/// second GEMM. A prefill chunk against a long KV cache then runs at GEMM speed instead of one
/// dot product per (query, key) — several times faster at thousands of cached positions; the
/// masked scores of the chunk's own triangle are computed too, which costs little once p0 ≫ T.
///
/// Same parameters and result as `attentionForward`, except that the entries of each weight row
/// past the keys its query sees are written as 0 (up to the widest row).
public func attentionForwardBlocked(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, attStride: Int,
    q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    kvStride: Int, T: Int, pastLength p0: Int, heads H: Int, kvHeads: Int? = nil, headSize hs: Int, mask: AttentionMask = .causal
) {
    let S = mask.widestRow(queries: T, pastLength: p0)
    precondition(attStride >= S, "attention row too short for the context")
    let group = H / (kvHeads ?? H)
    precondition(group >= 1 && H % group == 0, "query heads must split evenly over the key/value heads")
    Threads.configure()
    let C = H * hs
    let scale = 1 / Float(hs).squareRoot()
    let (t32, s32, hs32, c32, q32, kv32, a32) = (Int32(T), Int32(S), Int32(hs), Int32(C), Int32(qStride), Int32(kvStride), Int32(attStride))
    for h in 0..<H {
        let a = att + h * T * attStride
        let kvOffset = (h / group) * hs
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t32, s32, hs32, scale, q + h * hs, q32, k + kvOffset, kv32, 0, a, a32)
        nonisolated(unsafe) let rows = a  // each thread owns whole rows
        parallelFor(T, minimumPerThread: 16) { range in
            for t in range {
                let row = rows + t * attStride
                let visible = mask.visibleKeys(query: t, pastLength: p0)
                softmaxInPlace(row, count: visible)
                (row + visible).update(repeating: 0, count: S - visible)
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t32, hs32, s32, 1, a, a32, v + kvOffset, kv32, 0, out + h * hs, c32)
    }
}

/// `attentionForward` for one whole sequence (p0 = 0, as training runs it): the two products of
/// each head go through OpenBLAS. That computes the masked scores too — up to twice the
/// arithmetic of the loops — but at GEMM speed, which is several times faster at T = 256.
///
/// - Parameters:
///   - out: (T, C), overwritten.
///   - att: (H, T, T), receives the weights, with zeros where the mask hides a key (which the
///     backward needs).
///   - q: (T, qStride); k, v: (T, kvStride): in training all three are views of the fused
///     (T, 3C) QKV rows.
///   - mask: `.causal`, or `.bidirectional(keys:)` with keys ≤ T.
public func attentionForwardGEMM(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, qStride: Int,
    k: UnsafePointer<Float>, v: UnsafePointer<Float>, kvStride: Int, T: Int, heads H: Int, headSize hs: Int,
    mask: AttentionMask = .causal
) {
    let keys = mask.widestRow(queries: T, pastLength: 0)
    precondition(keys <= T, "padding mask wider than the sequence")
    // The chunk form with nothing cached: rows of T, zero past each query's visible keys.
    attentionForwardBlocked(
        out: out, att: att, attStride: T, q: q, qStride: qStride, k: k, v: v, kvStride: kvStride, T: T, pastLength: 0,
        heads: H, headSize: hs, mask: mask)
    guard keys < T else { return }
    // Padding columns past the widest row: the backward reads whole (T, T) rows.
    for row in 0..<(H * T) { (att + row * T + keys).update(repeating: 0, count: T - keys) }
}

/// Backward of `attentionForwardGEMM` for one sequence (p0 = 0), as in training. Accumulates
/// into dq, dk, dv, which sit in the fused QKV gradient like q, k, v in `qkv`.
///
/// With P = q·kᵀ/√hs (masked) and A = softmax(P), out = A·v:
/// dA = dout·vᵀ, dv += Aᵀ·dout, dP = A ⊙ (dA − rowsum(A ⊙ dA)), dq += dP·k/√hs, dk += dPᵀ·q/√hs.
/// The four products go through OpenBLAS, one head at a time.
///
/// - Parameters:
///   - dqkv: (T, 3C), gradient of the fused QKV activations (accumulated).
///   - dout: (T, C), gradient of the attention output.
///   - qkv: (T, 3C), the forward's fused QKV.
///   - att: (H, T, T), the forward's attention weights, zero where the mask hid a key.
///   - scratch: (T, T), overwritten.
///   - mask: the forward's mask.
public func attentionBackward(
    dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
    att: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, T: Int, heads H: Int, headSize hs: Int,
    mask: AttentionMask = .causal
) {
    Threads.configure()
    let C = H * hs, C3 = 3 * C
    let scale = 1 / Float(hs).squareRoot()
    let (t32, hs32, c32, c332) = (Int32(T), Int32(hs), Int32(C), Int32(C3))
    for h in 0..<H {
        let a = att + h * T * T
        let q = qkv + h * hs, k = qkv + C + h * hs, v = qkv + 2 * C + h * hs
        let dq = dqkv + h * hs, dk = dqkv + C + h * hs, dv = dqkv + 2 * C + h * hs
        let dy = dout + h * hs
        // dA = dout · vᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t32, t32, hs32, 1, dy, c32, v, c332, 0, scratch, t32)
        // dv += Aᵀ · dout
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t32, hs32, t32, 1, a, t32, dy, c32, 1, dv, c332)
        // dP (scaled), in place over dA; zero where the mask hid a key.
        nonisolated(unsafe) let s = scratch
        parallelFor(T, minimumPerThread: 16) { rows in
            for t in rows {
                let ar = a + t * T, dr = s + t * T
                let visible = mask.visibleKeys(query: t, pastLength: 0)
                var dot: Float = 0
                for j in 0..<visible { dot += ar[j] * dr[j] }
                for j in 0..<visible { dr[j] = ar[j] * (dr[j] - dot) * scale }
                for j in visible..<T { dr[j] = 0 }
            }
        }
        // dq += dP · k ; dk += dPᵀ · q
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t32, hs32, t32, 1, scratch, t32, k, c332, 1, dq, c332)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t32, hs32, t32, 1, scratch, t32, q, c332, 1, dk, c332)
    }
}

/// The reference for `attentionBackward`: the same derivative as loops, in Double.
public func attentionBackwardNaive(
    dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
    att: UnsafePointer<Float>, T: Int, heads H: Int, headSize hs: Int, mask: AttentionMask = .causal
) {
    let C = H * hs, C3 = 3 * C
    let scale = 1 / Double(hs).squareRoot()
    for h in 0..<H {
        for t in 0..<T {
            let visible = mask.visibleKeys(query: t, pastLength: 0)
            let a = { (j: Int) in Double(att[(h * T + t) * T + j]) }
            var dA = [Double](repeating: 0, count: visible)
            for j in 0..<visible {
                for d in 0..<hs {
                    let g = Double(dout[t * C + h * hs + d])
                    dA[j] += g * Double(qkv[j * C3 + 2 * C + h * hs + d])
                    dqkv[j * C3 + 2 * C + h * hs + d] += Float(a(j) * g)
                }
            }
            var dot = 0.0
            for j in 0..<visible { dot += a(j) * dA[j] }
            for j in 0..<visible {
                let dP = a(j) * (dA[j] - dot) * scale
                for d in 0..<hs {
                    dqkv[t * C3 + h * hs + d] += Float(dP * Double(qkv[j * C3 + C + h * hs + d]))
                    dqkv[j * C3 + C + h * hs + d] += Float(dP * Double(qkv[t * C3 + h * hs + d]))
                }
            }
        }
    }
}
