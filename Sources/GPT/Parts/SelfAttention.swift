import Kernels

// Glossary: B = sequences, T = positions per sequence (or new tokens), N = rows processed,
// C = width, H = heads, hs = head size, p0 = tokens already in the KV cache.

/// Where a self-attention sub-layer finds its keys and values, and where its weights go.
public enum AttentionContext {
    /// Training: `count` independent sequences of `length` positions, each from position 0,
    /// each attending only within itself. N = count·length; weights (count, H, length, length).
    case sequences(count: Int, length: Int)
    /// Inference: `length` new positions of one sequence after `pastLength` cached ones. Their
    /// keys and values are appended to this layer's cache — `keys` and `values`, (maxT, C) —
    /// and every query reads the cache. N = length; weights (H, length, weightStride).
    case cache(keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>, pastLength: Int, length: Int, weightStride: Int)
}

/// The attention sub-layer: the Q/K/V projection, the head split, scaled dot-product attention
/// in every head, the merge, and the output projection back to the residual width.
///
/// out = merge(attention_h(q_h, k_h, v_h) for each head h) · W_o + b_o.
public struct SelfAttention {
    public let projection: QKVProjection
    /// (C, C), GPT-2's `attn.c_proj`.
    public let output: Linear
    /// `.causal` in a decoder.
    public let mask: AttentionMask
    public var heads: Int { projection.heads }
    public var headSize: Int { projection.headSize }
    public var width: Int { projection.heads * projection.headSize }

    public init(projection: QKVProjection, output: Linear, mask: AttentionMask) {
        self.projection = projection
        self.output = output
        self.mask = mask
    }

    /// Buffers of one forward; in training they are kept for the backward.
    public struct Activations {
        /// (N, 3C): q | k | v, after rotary positions.
        public let qkv: UnsafeMutablePointer<Float>
        /// The attention weights; their shape is the context's.
        public let weights: UnsafeMutablePointer<Float>
        /// (N, C): the heads' outputs merged, before the output projection.
        public let merged: UnsafeMutablePointer<Float>
        public init(qkv: UnsafeMutablePointer<Float>, weights: UnsafeMutablePointer<Float>, merged: UnsafeMutablePointer<Float>) {
            self.qkv = qkv
            self.weights = weights
            self.merged = merged
        }
    }

    /// out (N, C) = the sub-layer applied to inp (N, C), the normalised stream.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, activations a: Activations, context: AttentionContext) {
        let (C, H) = (width, heads)
        let N: Int
        switch context {
        case .sequences(let B, let T):
            N = B * T
            projection.forward(qkv: a.qkv, inp: inp, sequences: B, length: T, startPosition: 0)
            for b in 0..<B {
                let (q, k, v) = splitHeads(qkv: a.qkv + b * T * 3 * C, width: C, heads: H)
                ScaledDotProductAttention.forwardWholeSequence(
                    out: mergedHeads(out: a.merged + b * T * C, width: C, heads: H), weights: a.weights + b * H * T * T,
                    q: q, k: k, v: v, length: T, mask: mask)
            }
        case .cache(let keys, let values, let p0, let T, let weightStride):
            N = T
            projection.forward(qkv: a.qkv, inp: inp, sequences: 1, length: T, startPosition: p0)
            let (q, k, v) = splitHeads(qkv: a.qkv, width: C, heads: H)
            for t in 0..<T {
                (keys + (p0 + t) * C).update(from: k[row: t, head: 0], count: C)
                (values + (p0 + t) * C).update(from: v[row: t, head: 0], count: C)
            }
            ScaledDotProductAttention.forward(
                out: mergedHeads(out: a.merged, width: C, heads: H), weights: a.weights, weightStride: weightStride, q: q,
                k: HeadView(base: keys, rowStride: C, heads: H, headSize: headSize),
                v: HeadView(base: values, rowStride: C, heads: H, headSize: headSize),
                queries: T, pastLength: p0, mask: mask)
        }
        output.forward(out: out, inp: a.merged, rows: N)
    }

    /// Backward of `forward` over `.sequences(count: B, length: T)`, accumulating dinp (N, C) and
    /// `grad`'s parameters. dout: (N, C). The scratch is overwritten: dqkv (N, 3C), dmerged
    /// (N, C), square (T, T).
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, activations a: Activations,
        sequences B: Int, length T: Int, scratch: (dqkv: UnsafeMutablePointer<Float>, dmerged: UnsafeMutablePointer<Float>, square: UnsafeMutablePointer<Float>),
        into grad: SelfAttention
    ) {
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
