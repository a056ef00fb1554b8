import GPT
import Kernels

/// An encoder–decoder Transformer: its config, its weights and the fixed position tables, and
/// the named parts over them (`Seq2SeqParts`). Training runs through `Seq2SeqTrainingPass`,
/// decoding through `encode`, `greedy` and `beamSearch` (`Seq2SeqModel+Decoding.swift`).
public final class Seq2SeqModel: @unchecked Sendable {
    public let config: Seq2SeqConfig
    public let weights: Seq2SeqWeights
    /// (maxT, C) sin/cos table, sinusoidal positions only.
    let sinusoids: UnsafeMutablePointer<Float>?
    /// cos | sin, (maxT, hs/2) each, rotary positions only.
    let rotary: (cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>)?

    /// A model over `weights` (its config must already be validated).
    public init(weights: Seq2SeqWeights) {
        config = weights.config
        self.weights = weights
        let c = config
        func copy(_ values: [Float]) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
            p.initialize(from: values, count: values.count)
            return p
        }
        sinusoids = c.positional == .sinusoidal ? copy(sinusoidalTable(positions: c.contextLength, width: c.width)) : nil
        if c.positional == .rope {
            let tables = rotaryTables(positions: c.contextLength, headSize: c.headSize, theta: c.ropeTheta)
            rotary = (copy(tables.cos), copy(tables.sin))
        } else {
            rotary = nil
        }
    }

    /// A new model with seeded weights (`Seq2SeqWeights(config:seed:)`).
    public convenience init(config: Seq2SeqConfig, seed: UInt64) throws(Seq2SeqError) {
        try config.validate()
        self.init(weights: Seq2SeqWeights(config: config, seed: seed))
    }

    deinit {
        sinusoids?.deallocate()
        rotary?.cos.deallocate()
        rotary?.sin.deallocate()
    }

    /// The parts reading the weights.
    public var parts: Seq2SeqParts { Seq2SeqParts(model: self, parameters: weights) }

    /// The same parts over `gradients` (a `Seq2SeqWeights` of the same config), naming where
    /// each backward accumulates.
    public func parts(gradients: Seq2SeqWeights) -> Seq2SeqParts {
        precondition(gradients.config == config, "gradients of another shape")
        return Seq2SeqParts(model: self, parameters: gradients)
    }
}

/// The whole model as named parts: the two (scaled) embeddings over the one shared table, the
/// encoder blocks and final norm, the decoder blocks and final norm, and the output projection
/// (the shared table read backwards: logits = x · embedᵀ, unscaled).
public struct Seq2SeqParts {
    public let encoderEmbeddings: ScaledEmbeddings
    public let decoderEmbeddings: ScaledEmbeddings
    public let encoder: [EncoderBlock]
    /// Pre-norm only.
    public let encoderNorm: Norm?
    public let decoder: [DecoderBlock]
    /// Pre-norm only.
    public let decoderNorm: Norm?
    /// (V, C), the output projection (the token table).
    public let head: UnsafeMutablePointer<Float>
    /// What the pointers point into.
    private let model: Seq2SeqModel
    private let parameters: Seq2SeqWeights

    init(model: Seq2SeqModel, parameters w: Seq2SeqWeights) {
        self.model = model
        parameters = w
        let c = model.config
        let (C, M, H, hs) = (c.width, c.mlpWidth, c.heads, c.headSize)
        let isGradient = w !== model.weights
        let l = w.layout
        let p = { (offset: Int) in w.pointer(offset) }
        func norm(_ o: Seq2SeqWeights.NormOffsets) -> Norm { Norm(kind: .layerNorm, weight: p(o.weight), bias: p(o.bias), width: C, epsilon: c.epsilon) }
        func linear(_ o: Seq2SeqWeights.LinearOffsets, _ inDim: Int, _ outDim: Int) -> Linear {
            Linear(weight: p(o.weight), bias: p(o.bias), inDim: inDim, outDim: outDim)
        }
        func unit(_ o: Seq2SeqWeights.NormOffsets) -> NormedResidual { NormedResidual(norm: norm(o), placement: c.normPlacement) }
        func mlp(_ fc: Seq2SeqWeights.LinearOffsets, _ proj: Seq2SeqWeights.LinearOffsets) -> MLP {
            MLP(up: linear(fc, C, M), gate: nil, down: linear(proj, M, C), activation: .gelu)
        }
        let rotary = model.rotary.map { QKVProjection.Rotary(cos: $0.cos, sin: $0.sin) }
        func selfAttention(_ qkv: Seq2SeqWeights.LinearOffsets, _ proj: Seq2SeqWeights.LinearOffsets, mask: AttentionMask) -> SelfAttention {
            SelfAttention(projection: QKVProjection(linear: linear(qkv, C, 3 * C), rotary: rotary, heads: H, headSize: hs), output: linear(proj, C, C), mask: mask)
        }
        // Fixed sinusoids have no gradient: the gradient's parts have no position table.
        let fixed = isGradient ? nil : model.sinusoids
        encoderEmbeddings = ScaledEmbeddings(table: p(l.tokenEmbedding), positions: l.encoderPositions.map(p) ?? fixed, width: C)
        decoderEmbeddings = ScaledEmbeddings(table: p(l.tokenEmbedding), positions: l.decoderPositions.map(p) ?? fixed, width: C)
        encoder = l.encoder.map { e in
            EncoderBlock(
                attentionUnit: unit(e.ln1), attention: PaddedSelfAttention(attention: selfAttention(e.qkv, e.attnProj, mask: .bidirectional(keys: c.contextLength))),
                mlpUnit: unit(e.ln2), mlp: mlp(e.fc, e.fcProj))
        }
        encoderNorm = l.encoderFinalNorm.map(norm)
        decoder = l.decoder.map { d in
            DecoderBlock(
                attentionUnit: unit(d.ln1), attention: selfAttention(d.qkv, d.attnProj, mask: .causal),
                crossUnit: unit(d.ln2), cross: CrossAttention(query: linear(d.crossQuery, C, C), keyValue: linear(d.crossKeyValue, C, 2 * C), output: linear(d.crossProj, C, C), heads: H),
                mlpUnit: unit(d.ln3), mlp: mlp(d.fc, d.fcProj))
        }
        decoderNorm = l.decoderFinalNorm.map(norm)
        head = p(l.tokenEmbedding)
    }
}

extension Seq2SeqParts {
    /// The encoder: B sources (padded to S, lengths given) → memory (B·S, C), the output every
    /// decoder layer's cross-attention reads (after the final norm under pre-norm).
    ///
    /// - Parameters:
    ///   - streams: L + 1 buffers of (B·S, C): the embeddings go to the first, block l reads
    ///     streams[l] and writes streams[l + 1]. Decoding passes one buffer L + 1 times.
    ///   - activations: one set per layer (training), or the same set L times.
    ///   - statistics: the final norm's, kept for the backward, or nil.
    /// - Parameter dropout: training only: the embeddings' (sites[0]), then each block's two.
    func encode(
        sources: [Int32], lengths: [Int], sourceLength S: Int, streams: [UnsafeMutablePointer<Float>], activations: [EncoderBlock.Activations],
        memory: UnsafeMutablePointer<Float>, statistics: Norm.Statistics?, dropout: [NormedResidual.Dropout]? = nil
    ) {
        let N = lengths.count * S
        sources.withUnsafeBufferPointer { encoderEmbeddings.forward(out: streams[0], tokens: $0.baseAddress!, rows: N, length: S, startPosition: 0) }
        if let d = dropout?[0] { dropoutForward(streams[0], mask: d.mask, count: N * encoderEmbeddings.width, probability: d.probability, seed: d.seed) }
        for (l, block) in encoder.enumerated() {
            block.forward(
                output: streams[l + 1], input: streams[l], activations: activations[l], lengths: lengths, length: S,
                dropout: dropout.map { Array($0[(1 + 2 * l)...(2 + 2 * l)]) })
        }
        if let encoderNorm {
            encoderNorm.forward(out: memory, inp: streams[encoder.count], rows: N, statistics: statistics)
        } else {
            memory.update(from: streams[encoder.count], count: N * encoderEmbeddings.width)
        }
    }
}
