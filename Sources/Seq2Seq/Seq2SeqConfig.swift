import GPT

/// What can be wrong with a sequence-to-sequence config or batch: one line naming the field and
/// the value; exit code 64 (a usage error), as `GPTError.invalidConfig`.
public enum Seq2SeqError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(field: String, value: String, reason: String)
    case invalidBatch(reason: String)
    /// A model file whose metadata, config or tensors are wrong (exit 65).
    case badFile(path: String, reason: String)
    /// A file that cannot be read or written, in the words and with the exit code of the layer
    /// that found it (Safetensors, AtomicFile: 65 malformed, 66 missing, 73 refused, 74 I/O).
    case file(message: String, exitCode: Int32)

    public var description: String {
        switch self {
        case .invalidConfig(let field, let value, let reason): "invalid seq2seq config: \(field) = \(value): \(reason)"
        case .invalidBatch(let reason): "invalid seq2seq batch: \(reason)"
        case .badFile(let path, let reason): "\(path): \(reason)"
        case .file(let message, _): message
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .invalidConfig, .invalidBatch: 64
        case .badFile: 65
        case .file(_, let code): code
        }
    }
}

/// The shape of the encoder–decoder Transformer of "Attention Is All You Need": an encoder of
/// bidirectional self-attention blocks and a decoder of causal self-attention, cross-attention
/// and MLP blocks, over one shared vocabulary whose embedding is also the output projection
/// (read backwards, as GPT-2's tied head). The defaults are the reference recipe
/// (pre-norm, sinusoidal positions; d 256, 4 heads, 3 + 3 layers, MLP 1024 make `.reference`).
public struct Seq2SeqConfig: Sendable, Equatable {
    /// Where each sub-layer's LayerNorm sits.
    public enum NormPlacement: String, Sendable, CaseIterable {
        /// x + F(LN(x)), and a final LayerNorm on the encoder's and the decoder's output
        /// (nn.Transformer with norm_first=True): trains without warmup tricks.
        case pre
        /// LN(x + F(x)): the paper's "residual + LayerNorm", no final norm.
        case post
    }

    /// Number of token ids, shared by source and target.
    public var vocabSize: Int
    /// Longest source and longest decoder input (BOS + target), in tokens: the rows of the position tables.
    public var contextLength: Int
    /// d_model, the residual stream width C.
    public var width: Int
    public var heads: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    /// Hidden width M of every MLP (GELU, tanh form, as the GPT's `MLP`).
    public var mlpWidth: Int
    public var normPlacement: NormPlacement
    /// `.sinusoidal` (the paper), `.learned` (one table for the encoder, one for the decoder) or
    /// `.rope` (rotary on the queries and keys of both self-attentions; cross-attention has no
    /// positions of its own, since its queries and keys belong to different sequences).
    public var positional: GPTConfig.Positional
    /// ε of every LayerNorm.
    public var epsilon: Float
    public var ropeTheta: Float
    /// The padding id: padded source keys are masked, padded target positions leave the loss.
    public var paddingID: Int32
    /// The decoder's first input (begin of sentence).
    public var beginID: Int32
    /// The end of sentence: the last label of every target, where decoding stops.
    public var endID: Int32

    public init(
        vocabSize: Int, contextLength: Int, width: Int = 256, heads: Int = 4, encoderLayers: Int = 3, decoderLayers: Int = 3,
        mlpWidth: Int? = nil, normPlacement: NormPlacement = .pre, positional: GPTConfig.Positional = .sinusoidal,
        epsilon: Float = 1e-5, ropeTheta: Float = 10_000, paddingID: Int32 = 0, beginID: Int32 = 1, endID: Int32 = 2
    ) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.width = width
        self.heads = heads
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        self.mlpWidth = mlpWidth ?? 4 * width
        self.normPlacement = normPlacement
        self.positional = positional
        self.epsilon = epsilon
        self.ropeTheta = ropeTheta
        self.paddingID = paddingID
        self.beginID = beginID
        self.endID = endID
    }

    /// The reference recipe: d 256, 4 heads, 3 + 3 layers, MLP 1024, pre-norm, sinusoidal.
    public static func reference(vocabSize: Int, contextLength: Int) -> Seq2SeqConfig {
        Seq2SeqConfig(vocabSize: vocabSize, contextLength: contextLength, width: 256, heads: 4, encoderLayers: 3, decoderLayers: 3, mlpWidth: 1024)
    }

    /// hs = C / H.
    public var headSize: Int { width / heads }

    /// Upper bounds that keep a hostile config from asking for absurd allocations (GPTConfig's).
    public static let limits = GPTConfig.limits

    /// Checks the shape before anything is allocated from it.
    /// - Throws: `Seq2SeqError.invalidConfig` naming the field and value.
    public func validate() throws(Seq2SeqError) {
        func check(_ ok: Bool, _ field: String, _ value: Any, _ why: String) throws(Seq2SeqError) {
            if !ok { throw Seq2SeqError.invalidConfig(field: field, value: "\(value)", reason: why) }
        }
        let l = Self.limits
        try check(vocabSize > 0 && vocabSize <= l.vocabSize, "vocabSize", vocabSize, "must be in 1...\(l.vocabSize)")
        try check(contextLength >= 2 && contextLength <= l.contextLength, "contextLength", contextLength, "must be in 2...\(l.contextLength)")
        try check(width > 0 && width <= l.width, "width", width, "must be in 1...\(l.width)")
        try check(heads > 0 && heads <= l.heads, "heads", heads, "must be in 1...\(l.heads)")
        try check(width % heads == 0, "heads", heads, "must divide width \(width)")
        try check(encoderLayers > 0 && encoderLayers <= l.layers, "encoderLayers", encoderLayers, "must be in 1...\(l.layers)")
        try check(decoderLayers > 0 && decoderLayers <= l.layers, "decoderLayers", decoderLayers, "must be in 1...\(l.layers)")
        try check(mlpWidth > 0 && mlpWidth <= l.mlpWidth, "mlpWidth", mlpWidth, "must be in 1...\(l.mlpWidth)")
        try check(epsilon > 0 && epsilon.isFinite, "epsilon", epsilon, "must be positive")
        if positional == .rope {
            try check(headSize % 2 == 0, "heads", heads, "rotary positions need an even head size, not \(headSize)")
            try check(ropeTheta > 1 && ropeTheta.isFinite, "ropeTheta", ropeTheta, "must be above 1")
        }
        for (field, id) in [("paddingID", paddingID), ("beginID", beginID), ("endID", endID)] {
            try check(id >= 0 && Int(id) < vocabSize, field, id, "must be a token id below vocabSize \(vocabSize)")
        }
        try check(Set([paddingID, beginID, endID]).count == 3, "paddingID", paddingID, "padding, begin and end must be three different ids")
        let parameters = Seq2SeqWeights.Layout(config: self).count
        try check(parameters <= l.parameters, "width", width, "\(parameters) parameters is more than \(l.parameters)")
    }
}
