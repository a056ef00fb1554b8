/// The shape of a GPT-2-style decoder. Field names follow Hugging Face's `GPT2Config` where one
/// exists, so a config reads the same in both worlds.
public struct GPTConfig: Codable, Sendable, Equatable {
    /// How a token learns where it is.
    public enum Positional: String, Codable, Sendable, CaseIterable {
        /// A trained (contextLength, C) table added to the token embedding (GPT-2).
        case learned
        /// The fixed sin/cos table of "Attention Is All You Need", added likewise.
        case sinusoidal
        /// Rotary embedding of queries and keys inside attention (relative; no table in the weights).
        case rope
    }

    /// Number of token ids (rows of the embedding).
    public var vocabSize: Int
    /// Longest sequence the model attends over (GPT-2's `n_positions`).
    public var contextLength: Int
    /// Number of transformer blocks.
    public var layers: Int
    /// Attention heads per block.
    public var heads: Int
    /// Residual stream width C (`n_embd`).
    public var width: Int
    /// Hidden width of the MLP (`n_inner`), 4·C in GPT-2.
    public var mlpWidth: Int
    /// ε added to the variance in every LayerNorm.
    public var layerNormEpsilon: Float
    /// The position encoding.
    public var positional: Positional
    /// θ of the rotary encoding (only used with `.rope`).
    public var ropeTheta: Float

    public init(
        vocabSize: Int, contextLength: Int, layers: Int, heads: Int, width: Int, mlpWidth: Int? = nil,
        layerNormEpsilon: Float = 1e-5, positional: Positional = .learned, ropeTheta: Float = 10_000
    ) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.layers = layers
        self.heads = heads
        self.width = width
        // A hostile width must reach `validate()` (which names it) instead of trapping here.
        let (fourWidths, overflow) = width.multipliedReportingOverflow(by: 4)
        self.mlpWidth = mlpWidth ?? (overflow ? Int.max : fourWidths)
        self.layerNormEpsilon = layerNormEpsilon
        self.positional = positional
        self.ropeTheta = ropeTheta
    }

    /// Width of one head, C / heads.
    public var headSize: Int { width / heads }

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case contextLength = "n_positions"
        case layers = "n_layer"
        case heads = "n_head"
        case width = "n_embd"
        case mlpWidth = "n_inner"
        case layerNormEpsilon = "layer_norm_epsilon"
        case positional
        case ropeTheta = "rope_theta"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let width = try c.decode(Int.self, forKey: .width)
        self.init(
            vocabSize: try c.decode(Int.self, forKey: .vocabSize),
            contextLength: try c.decode(Int.self, forKey: .contextLength),
            layers: try c.decode(Int.self, forKey: .layers),
            heads: try c.decode(Int.self, forKey: .heads),
            width: width,
            mlpWidth: try c.decodeIfPresent(Int.self, forKey: .mlpWidth),
            layerNormEpsilon: try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5,
            positional: try c.decodeIfPresent(Positional.self, forKey: .positional) ?? .learned,
            ropeTheta: try c.decodeIfPresent(Float.self, forKey: .ropeTheta) ?? 10_000)
    }

    /// Upper bounds that keep a hostile config from asking for absurd allocations.
    public static let limits = (
        vocabSize: 1 << 20, contextLength: 1 << 16, layers: 256, heads: 256, width: 1 << 15,
        mlpWidth: 1 << 17, parameters: 1 << 34
    )

    /// Checks that the shape makes sense before anything is allocated from it.
    /// - Throws: `GPTError.invalidConfig` naming the field and value.
    public func validate() throws(GPTError) {
        func check(_ ok: Bool, _ field: String, _ value: Any, _ why: String) throws(GPTError) {
            if !ok { throw GPTError.invalidConfig(field: field, value: "\(value)", reason: why) }
        }
        let l = Self.limits
        try check(vocabSize > 0 && vocabSize <= l.vocabSize, "vocab_size", vocabSize, "must be in 1...\(l.vocabSize)")
        try check(contextLength > 0 && contextLength <= l.contextLength, "n_positions", contextLength, "must be in 1...\(l.contextLength)")
        try check(layers > 0 && layers <= l.layers, "n_layer", layers, "must be in 1...\(l.layers)")
        try check(heads > 0 && heads <= l.heads, "n_head", heads, "must be in 1...\(l.heads)")
        try check(width > 0 && width <= l.width, "n_embd", width, "must be in 1...\(l.width)")
        try check(width % heads == 0, "n_embd", width, "must be divisible by n_head (\(heads))")
        try check(mlpWidth > 0 && mlpWidth <= l.mlpWidth, "n_inner", mlpWidth, "must be in 1...\(l.mlpWidth)")
        try check(layerNormEpsilon.isFinite && layerNormEpsilon > 0, "layer_norm_epsilon", layerNormEpsilon, "must be positive")
        if positional == .rope {
            try check(headSize % 2 == 0, "n_embd", width, "rotary positions need an even head size (got \(headSize))")
            try check(ropeTheta.isFinite && ropeTheta > 1, "rope_theta", ropeTheta, "must be > 1")
        }
        try check(parameterCount <= l.parameters, "n_embd", width, "gives \(parameterCount) parameters, above \(l.parameters)")
    }

    /// Parameters per block: two LayerNorms, fused QKV, attention projection, and the MLP.
    public var parametersPerLayer: Int {
        let C = width, M = mlpWidth
        return 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * M + M) + (M * C + C)
    }

    /// Every parameter, positions included (the tied LM head is counted once).
    public var parameterCount: Int {
        vocabSize * width + (positional == .learned ? contextLength * width : 0) + layers * parametersPerLayer + 2 * width
    }
}
