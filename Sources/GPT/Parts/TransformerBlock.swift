import Kernels

// Glossary: N = rows processed together, C = width, M = MLP width.

/// One transformer block, pre-norm (GPT-2, Llama):
///
///     h   = x + Attention(Norm₁(x))
///     out = h + MLP(Norm₂(h))
///
/// Prefill, KV-cached decode and the training forward all run this code; what differs is only
/// the `AttentionContext` and where the activations live (one reused set in inference, one set
/// per layer, kept for the backward, in training).
public struct TransformerBlock {
    public let norm1: Norm
    public let attention: SelfAttention
    public let norm2: Norm
    public let mlp: MLP

    public init(norm1: Norm, attention: SelfAttention, norm2: Norm, mlp: MLP) {
        self.norm1 = norm1
        self.attention = attention
        self.norm2 = norm2
        self.mlp = mlp
    }

    /// Every intermediate of one forward. Inference points the (N, C) buffers at shared scratch
    /// (`afterAttention` may even be the stream itself); training gives each layer its own.
    public struct Activations {
        /// Norm₁(x), (N, C), and its statistics when a backward follows.
        public let normed1: UnsafeMutablePointer<Float>
        public let statistics1: Norm.Statistics?
        public let attention: SelfAttention.Activations
        /// h = x + attention, (N, C).
        public let afterAttention: UnsafeMutablePointer<Float>
        /// Norm₂(h), (N, C), and its statistics.
        public let normed2: UnsafeMutablePointer<Float>
        public let statistics2: Norm.Statistics?
        public let mlp: MLP.Activations
        /// (N, C) scratch: a sub-layer's output before it joins the stream.
        public let sublayer: UnsafeMutablePointer<Float>

        public init(
            normed1: UnsafeMutablePointer<Float>, statistics1: Norm.Statistics?, attention: SelfAttention.Activations,
            afterAttention: UnsafeMutablePointer<Float>, normed2: UnsafeMutablePointer<Float>, statistics2: Norm.Statistics?,
            mlp: MLP.Activations, sublayer: UnsafeMutablePointer<Float>
        ) {
            self.normed1 = normed1
            self.statistics1 = statistics1
            self.attention = attention
            self.afterAttention = afterAttention
            self.normed2 = normed2
            self.statistics2 = statistics2
            self.mlp = mlp
            self.sublayer = sublayer
        }
    }

    /// Training-time dropout on each sub-layer's output before it joins the stream (GPT-2's
    /// resid_pdrop). The masks, (N, C) each, are kept for the backward.
    public struct Dropout {
        public let probability: Float
        public let attentionMask: UnsafeMutablePointer<Float>
        public let attentionSeed: UInt64
        public let mlpMask: UnsafeMutablePointer<Float>
        public let mlpSeed: UInt64
        public init(probability: Float, attentionMask: UnsafeMutablePointer<Float>, attentionSeed: UInt64, mlpMask: UnsafeMutablePointer<Float>, mlpSeed: UInt64) {
            self.probability = probability
            self.attentionMask = attentionMask
            self.attentionSeed = attentionSeed
            self.mlpMask = mlpMask
            self.mlpSeed = mlpSeed
        }
    }

    /// output (N, C) = the block applied to input (N, C). `output` may be `input` (inference
    /// updates the stream in place). N follows from `context`.
    public func forward(output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, activations a: Activations, context: AttentionContext, dropout: Dropout? = nil) {
        let N = Self.rows(context)
        let C = norm1.width
        norm1.forward(out: a.normed1, inp: input, rows: N, statistics: a.statistics1)
        attention.forward(out: a.sublayer, inp: a.normed1, activations: a.attention, context: context)
        if let dropout {
            dropoutForward(a.sublayer, mask: dropout.attentionMask, count: N * C, probability: dropout.probability, seed: dropout.attentionSeed)
        }
        residualAdd(out: a.afterAttention, stream: input, sublayer: a.sublayer, count: N * C)
        norm2.forward(out: a.normed2, inp: a.afterAttention, rows: N, statistics: a.statistics2)
        mlp.forward(out: a.sublayer, inp: a.normed2, activations: a.mlp, rows: N)
        if let dropout {
            dropoutForward(a.sublayer, mask: dropout.mlpMask, count: N * C, probability: dropout.probability, seed: dropout.mlpSeed)
        }
        residualAdd(out: output, stream: a.afterAttention, sublayer: a.sublayer, count: N * C)
    }

    /// Scratch for `backward`, overwritten.
    public struct GradientScratch {
        /// (N, C) each.
        public let dnormed, dsublayer, dmerged: UnsafeMutablePointer<Float>
        /// (N, 3C).
        public let dqkv: UnsafeMutablePointer<Float>
        /// (N, M) each.
        public let dactivated, dhidden: UnsafeMutablePointer<Float>
        /// (T, T).
        public let square: UnsafeMutablePointer<Float>
        public init(dnormed: UnsafeMutablePointer<Float>, dsublayer: UnsafeMutablePointer<Float>, dmerged: UnsafeMutablePointer<Float>, dqkv: UnsafeMutablePointer<Float>, dactivated: UnsafeMutablePointer<Float>, dhidden: UnsafeMutablePointer<Float>, square: UnsafeMutablePointer<Float>) {
            self.dnormed = dnormed
            self.dsublayer = dsublayer
            self.dmerged = dmerged
            self.dqkv = dqkv
            self.dactivated = dactivated
            self.dhidden = dhidden
            self.square = square
        }
    }

    /// Backward of `forward` over `.sequences(count: B, length: T)`, walking it in reverse.
    ///
    /// - Parameters:
    ///   - dstream: (N, C): on entry ∂loss/∂output, on return ∂loss/∂input (the residual passes
    ///     the gradient through unchanged; each sub-layer adds its share).
    ///   - input: the forward's input, (N, C).
    ///   - grad: this block over the gradient buffer, accumulated into.
    public func backward(
        dstream: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, activations a: Activations, sequences B: Int, length T: Int,
        dropout: Dropout?, scratch s: GradientScratch, into grad: TransformerBlock
    ) {
        let N = B * T, C = norm1.width
        guard let statistics1 = a.statistics1, let statistics2 = a.statistics2 else { preconditionFailure("backward needs a forward that kept the norm statistics") }
        // out = h + MLP(Norm₂(h)): ∂out reaches h directly and through the MLP.
        let dmlpOut = throughDropout(dstream, mask: dropout?.mlpMask, into: s.dsublayer, count: N * C)
        s.dnormed.update(repeating: 0, count: N * C)
        mlp.backward(dinp: s.dnormed, dout: dmlpOut, inp: a.normed2, activations: a.mlp, rows: N, scratch: (s.dactivated, s.dhidden), into: grad.mlp)
        norm2.backward(dinp: dstream, dout: s.dnormed, inp: a.afterAttention, rows: N, statistics: statistics2, into: grad.norm2)
        // h = x + Attention(Norm₁(x)).
        let dattentionOut = throughDropout(dstream, mask: dropout?.attentionMask, into: s.dsublayer, count: N * C)
        s.dnormed.update(repeating: 0, count: N * C)
        attention.backward(
            dinp: s.dnormed, dout: dattentionOut, inp: a.normed1, activations: a.attention, sequences: B, length: T,
            scratch: (s.dqkv, s.dmerged, s.square), into: grad.attention)
        norm1.backward(dinp: dstream, dout: s.dnormed, inp: input, rows: N, statistics: statistics1, into: grad.norm1)
    }

    /// The gradient reaching a sub-layer's output: `d` itself, or `d` through its dropout mask.
    private func throughDropout(_ d: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>?, into scratch: UnsafeMutablePointer<Float>, count: Int) -> UnsafePointer<Float> {
        guard let mask else { return UnsafePointer(d) }
        dropoutBackward(dinp: scratch, dout: d, mask: mask, count: count)
        return UnsafePointer(scratch)
    }

    static func rows(_ context: AttentionContext) -> Int {
        switch context {
        case .sequences(let B, let T): B * T
        case .cache(_, _, _, let T, _): T
        }
    }
}
