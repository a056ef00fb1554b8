import Kernels

// Glossary: B = sequences, T = positions per sequence (or new tokens), N = rows processed,
// C = width, H = heads, hs = head size, p0 = tokens already in the KV cache.

/// Where a self-attention sub-layer finds its keys and values, and where its weights go.
public enum AttentionContext {
    /// Training: `count` independent sequences of `length` positions, each from position 0,
    /// each attending only within itself. N = count·length; weights (count, H, length, length).
    case sequences(count: Int, length: Int)
    /// Inference: `length` new positions of one sequence after `pastLength` cached ones. Their
    /// keys and values are appended to this layer's cache — `keys` and `values`, (maxT, kvHeads·hs) —
    /// and every query reads the cache. N = length; weights (H, length, weightStride).
    case cache(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, pastLength: Int, length: Int, weightStride: Int)
}

/// The attention sub-layer: the Q/K/V projection, the head split, scaled dot-product attention
/// in every head, the merge, and the output projection back to the residual width.
///
/// out = merge(attention_h(q_h, k_g(h), v_g(h)) for each head h) · W_o + b_o, where g(h) = h
/// for multi-head attention and h / (H / kvHeads) when query heads share key/value heads.
public struct SelfAttention {
    public let projection: QKVProjection
    /// (A, C), GPT-2's `attn.c_proj`.
    public let output: Linear
    /// `.causal` in a decoder.
    public let mask: AttentionMask
    public var heads: Int { projection.heads }
    public var kvHeads: Int { projection.kvHeads }
    public var headSize: Int { projection.headSize }
    /// A = H·hs: the queries' and the merged heads' width (C, unless the head size is set apart).
    public var width: Int { projection.queryWidth }
    /// kvHeads·hs: one row of the KV cache.
    public var kvWidth: Int { projection.kvWidth }

    public init(projection: QKVProjection, output: Linear, mask: AttentionMask) {
        precondition(output.inDim == projection.queryWidth, "the output projection reads the merged heads")
        self.projection = projection
        self.output = output
        self.mask = mask
    }

    /// Buffers of one forward; in training they are kept for the backward.
    public struct Activations {
        /// (N, Q): q | k | v, after rotary positions.
        public let qkv: UnsafeMutablePointer<Float>
        /// The attention weights; their shape is the context's.
        public let weights: UnsafeMutablePointer<Float>
        /// (N, A): the heads' outputs merged, before the output projection.
        public let merged: UnsafeMutablePointer<Float>
        public init(qkv: UnsafeMutablePointer<Float>, weights: UnsafeMutablePointer<Float>, merged: UnsafeMutablePointer<Float>) {
            self.qkv = qkv
            self.weights = weights
            self.merged = merged
        }
    }

    /// out (N, C) = the sub-layer applied to inp (N, C), the normalised stream.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, activations a: Activations, context: AttentionContext) {
        let (A, K, H, hs) = (width, kvWidth, heads, headSize)
        let Q = projection.rowWidth
        let N: Int
        switch context {
        case .sequences(let B, let T):
            N = B * T
            projection.forward(qkv: a.qkv, inp: inp, sequences: B, length: T, startPosition: 0)
            for b in 0..<B {
                let (q, k, v) = splitHeads(qkv: a.qkv + b * T * Q, heads: H, kvHeads: kvHeads, headSize: hs)
                let out = HeadView(base: a.merged + b * T * A, rowStride: A, heads: H, headSize: hs)
                let weights = a.weights + b * H * T * T
                if kvHeads == H {
                    ScaledDotProductAttention.forwardWholeSequence(out: out, weights: weights, q: q, k: k, v: v, length: T, mask: mask)
                } else {
                    // Grouped-query attention is evaluated, not trained: the per-query form serves.
                    ScaledDotProductAttention.forward(out: out, weights: weights, weightStride: T, q: q, k: k, v: v, queries: T, pastLength: 0, mask: mask)
                }
            }
        case .cache(let keys, let values, let p0, let T, let weightStride):
            N = T
            projection.forward(qkv: a.qkv, inp: inp, sequences: 1, length: T, startPosition: p0)
            let (q, k, v) = splitHeads(qkv: a.qkv, heads: H, kvHeads: kvHeads, headSize: hs)
            for t in 0..<T {
                (keys + (p0 + t) * K).update(from: k[row: t, head: 0], count: K)
                (values + (p0 + t) * K).update(from: v[row: t, head: 0], count: K)
            }
            ScaledDotProductAttention.forward(
                out: HeadView(base: a.merged, rowStride: A, heads: H, headSize: hs), weights: a.weights, weightStride: weightStride, q: q,
                k: HeadView(base: keys, rowStride: K, heads: kvHeads, headSize: hs),
                v: HeadView(base: values, rowStride: K, heads: kvHeads, headSize: hs),
                queries: T, pastLength: p0, mask: mask)
        }
        output.forward(out: out, inp: a.merged, rows: N)
    }

    /// Backward of `forward` over `.sequences(count: B, length: T)`, accumulating dinp (N, C) and
    /// `grad`'s parameters. dout: (N, C). The scratch is overwritten: dqkv (N, 3C), dmerged
    /// (N, C), square (T, T). Multi-head attention only (attnchat trains GPT-2's architecture).
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, activations a: Activations,
        sequences B: Int, length T: Int, scratch: (dqkv: UnsafeMutablePointer<Float>, dmerged: UnsafeMutablePointer<Float>, square: UnsafeMutablePointer<Float>),
        into grad: SelfAttention
    ) {
        precondition(kvHeads == heads, "training grouped-query attention is not implemented")
        let (C, H, N) = (width, heads, B * T)
        scratch.dmerged.update(repeating: 0, count: N * C)
        output.backward(dinp: scratch.dmerged, dout: dout, inp: a.merged, rows: N, into: grad.output)
        scratch.dqkv.update(repeating: 0, count: N * 3 * C)
        for b in 0..<B {
            ScaledDotProductAttention.backwardWholeSequence(
                dqkv: scratch.dqkv + b * T * 3 * C, dout: scratch.dmerged + b * T * C, qkv: a.qkv + b * T * 3 * C,
                weights: a.weights + b * H * T * T, scratch: scratch.square, length: T, heads: H, headSize: headSize, mask: mask)
        }
        projection.backward(dinp: dinp, dqkv: scratch.dqkv, inp: inp, sequences: B, length: T, into: grad.projection)
    }
}
