import Kernels

// Glossary: T = queries, S = keys, p0 = positions before the first query, H = heads,
// hs = head size.

/// Scaled dot-product attention, per head: weights = softmax(q·kᵀ/√hs + mask), out = weights·v.
///
/// Each query scores every key it may see (the dot product measures how well they match), the
/// scores are scaled by 1/√hs so their spread does not grow with the head size, the mask
/// removes the keys the query must not see, softmax turns the scores into weights that sum to 1,
/// and the output is the weighted sum of the values. The mask is a parameter: `.causal` for a
/// decoder, `.bidirectional(keys:)` for an encoder (padding hidden) and for cross-attention,
/// where `k` and `v` view another sequence than `q`.
public enum ScaledDotProductAttention {
    /// The general form, one (head, query) at a time: `T` queries at positions p0..<p0+T.
    /// `k` and `v` may have fewer heads than `q` (grouped-query attention: query head h reads
    /// key/value head h / (H / kvHeads)).
    ///
    /// - Parameters:
    ///   - out: the merged output view, (T, C); overwritten.
    ///   - weights: (H, T, weightStride), receives each query's weights over the keys it sees
    ///     (`mask.visibleKeys`); the rest of a row is left as it was, or (from `blockedQueries`
    ///     queries on) zero up to the widest row.
    ///   - q: (T) rows of H heads; k, v: (S) rows of H heads (a KV cache, or another sequence).
    public static func forward(
        out: HeadView, weights: UnsafeMutablePointer<Float>, weightStride: Int, q: HeadView, k: HeadView, v: HeadView,
        queries T: Int, pastLength p0: Int, mask: AttentionMask
    ) {
        precondition(out.rowStride == out.heads * out.headSize, "the output rows are the merged heads")
        precondition(k.rowStride == v.rowStride, "keys and values share a row layout")
        precondition(sameHeads(out, q) && sameHeads(k, v) && q.headSize == k.headSize, "q and the output, k and v must have the same heads")
        precondition(q.heads % k.heads == 0, "query heads must split evenly over the key/value heads")
        // A chunk of queries (prefill) is two GEMMs per head; a single query (decode) or a few
        // are the per-query loops, which read each key once and skip the masked ones.
        let kernel = T >= blockedQueries ? attentionForwardBlocked : attentionForward
        kernel(
            out.base, weights, weightStride, q.base, q.rowStride, k.base, v.base, k.rowStride, T, p0, q.heads, k.heads, q.headSize, mask)
    }

    /// From this many queries on, `forward` takes the GEMM form (`attentionForwardBlocked`).
    public static let blockedQueries = 16

    /// The same for one whole sequence (p0 = 0, keys = the queries' own positions), as training
    /// runs it: each head's two products go through BLAS. weights: (H, T, T), with zeros where
    /// the mask hides a key (the backward relies on them).
    public static func forwardWholeSequence(
        out: HeadView, weights: UnsafeMutablePointer<Float>, q: HeadView, k: HeadView, v: HeadView, length T: Int, mask: AttentionMask
    ) {
        precondition(out.rowStride == out.heads * out.headSize, "the output rows are the merged heads")
        precondition(k.rowStride == v.rowStride, "keys and values share a row layout")
        precondition(sameHeads(out, q, k, v), "q, k, v and the output must have the same heads")
        attentionForwardGEMM(
            out: out.base, att: weights, q: q.base, qStride: q.rowStride, k: k.base, v: v.base, kvStride: k.rowStride,
            T: T, heads: q.heads, headSize: q.headSize, mask: mask)
    }

    private static func sameHeads(_ views: HeadView...) -> Bool {
        views.allSatisfy { $0.heads == views[0].heads && $0.headSize == views[0].headSize }
    }

    /// Backward of `forwardWholeSequence` for q, k, v read in place from fused (T, 3C) rows:
    /// accumulates into `dqkv` (T, 3C). dout: (T, C); weights: the forward's; scratch: (T, T).
    public static func backwardWholeSequence(
        dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>, weights: UnsafePointer<Float>,
        scratch: UnsafeMutablePointer<Float>, length T: Int, heads H: Int, headSize hs: Int, mask: AttentionMask
    ) {
        attentionBackward(dqkv: dqkv, dout: dout, qkv: qkv, att: weights, scratch: scratch, T: T, heads: H, headSize: hs, mask: mask)
    }
}
