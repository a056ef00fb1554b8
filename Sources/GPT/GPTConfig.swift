import Kernels

/// The shape of a decoder-only transformer. The defaults are GPT-2's (LayerNorm, GELU MLP,
/// biases everywhere, one key/value head per query head, LM head tied to the embedding);
/// the other fields make the same parts a Llama, Qwen2 or Mistral (RMSNorm, SwiGLU,
/// grouped-query attention, half-split rotary positions, no or some biases, an untied head).
/// Coded field names follow Hugging Face's `GPT2Config`, so attnchat's own files read the same
/// in both worlds; the Llama-family fields are read from their `config.json` by the loader.
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
    /// Which coordinates rotary positions pair up (only used with `.rope`).
    public var rotaryLayout: RotaryLayout = .interleaved
    /// LayerNorm (GPT-2) or RMSNorm (Llama) before each sub-layer and after the last block.
    public var norm: Norm.Kind = .layerNorm
    /// GELU (GPT-2) or the gated SwiGLU (Llama) in the MLP.
    public var activation: MLP.Activation = .gelu
    /// Key/value heads: `heads` for multi-head attention, fewer for grouped-query attention
    /// (each serves heads / kvHeads query heads).
    public var kvHeads: Int
    /// Width of one head when it is not width / heads (Llama's `head_dim`), else nil.
    public var headDimension: Int?
    /// Whether the Q/K/V projection, the attention output projection and the MLP's
    /// projections have biases (GPT-2: all; Llama: none; Qwen2: Q/K/V only).
    public var qkvBias = true, attentionOutputBias = true, mlpBias = true
    /// Whether the LM head is the token embedding read backwards (GPT-2) or its own (V, C)
    /// matrix (`lm_head.weight`, most larger Llama-family models).
    public var tiedEmbeddings = true

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
        kvHeads = heads
    }

    /// Width of one head: `headDimension` when given, else C / heads.
    public var headSize: Int { headDimension ?? width / heads }
    /// Width of the queries and of the merged heads, heads · hs (C, unless `headDimension` says otherwise).
    public var attentionWidth: Int { heads * headSize }
    /// Width of the keys (and of the values), kvHeads · hs: a KV cache row.
    public var kvWidth: Int { kvHeads * headSize }
    /// Width of the fused Q/K/V rows, (heads + 2·kvHeads) · hs.
    public var qkvWidth: Int { attentionWidth + 2 * kvWidth }
    /// Whether this is GPT-2's architecture (what attnchat trains and writes in its own files).
    public var isGPT2Architecture: Bool {
        norm == .layerNorm && activation == .gelu && kvHeads == heads && headDimension == nil && qkvBias && attentionOutputBias
            && mlpBias && tiedEmbeddings && rotaryLayout == .interleaved
    }

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
        if headDimension == nil {
            try check(width % heads == 0, "n_embd", width, "must be divisible by n_head (\(heads))")
        } else {
            try check(headSize > 0 && headSize <= l.width, "head_dim", headSize, "must be in 1...\(l.width)")
        }
        try check(kvHeads > 0 && heads % kvHeads == 0, "num_key_value_heads", kvHeads, "must divide n_head (\(heads))")
        try check(mlpWidth > 0 && mlpWidth <= l.mlpWidth, "n_inner", mlpWidth, "must be in 1...\(l.mlpWidth)")
        try check(layerNormEpsilon.isFinite && layerNormEpsilon > 0, "layer_norm_epsilon", layerNormEpsilon, "must be positive")
        if positional == .rope {
            try check(headSize % 2 == 0, "n_embd", width, "rotary positions need an even head size (got \(headSize))")
            try check(ropeTheta.isFinite && ropeTheta > 1, "rope_theta", ropeTheta, "must be > 1")
        }
        try check(parameterCount <= l.parameters, "n_embd", width, "gives \(parameterCount) parameters, above \(l.parameters)")
    }

    /// Parameters of one norm: weight, and bias for LayerNorm.
    var normParameters: Int { norm == .layerNorm ? 2 * width : width }

    /// Parameters per block: two norms, fused QKV, attention projection, and the MLP.
    public var parametersPerLayer: Int {
        let C = width, M = mlpWidth, A = attentionWidth, Q = qkvWidth
        let qkv = C * Q + (qkvBias ? Q : 0)
        let projection = A * C + (attentionOutputBias ? C : 0)
        let mlp = (activation == .swiglu ? 2 : 1) * (C * M + (mlpBias ? M : 0)) + M * C + (mlpBias ? C : 0)
        return 2 * normParameters + qkv + projection + mlp
    }

    /// Every parameter, positions included (a tied LM head is counted once).
    public var parameterCount: Int {
        vocabSize * width * (tiedEmbeddings ? 1 : 2) + (positional == .learned ? contextLength * width : 0)
            + layers * parametersPerLayer + normParameters
    }
}

extension GPTConfig {
    /// The architecture in a few words, e.g. "RMSNorm, SwiGLU, 9 query heads over 3 key/value
    /// heads, rotary (half-split, θ 100000), tied head" — what `info` prints.
    public var architectureSummary: String {
        var parts = [norm == .layerNorm ? "LayerNorm" : "RMSNorm", activation == .gelu ? "GELU" : "SwiGLU"]
        parts.append(kvHeads == heads ? "\(heads) heads" : "\(heads) query heads over \(kvHeads) key/value heads")
        switch positional {
        case .learned: parts.append("learned positions")
        case .sinusoidal: parts.append("sinusoidal positions")
        case .rope: parts.append("rotary (\(rotaryLayout == .halfSplit ? "half-split" : "interleaved"), θ \(ropeTheta.formatted))")
        }
        let biases = [qkvBias ? "q/k/v" : nil, attentionOutputBias ? "output" : nil, mlpBias ? "MLP" : nil].compactMap { $0 }
        parts.append(biases.isEmpty ? "no biases" : biases.count == 3 ? "biases" : "biases on " + biases.joined(separator: ", "))
        parts.append(tiedEmbeddings ? "tied head" : "untied head")
        return parts.joined(separator: ", ")
    }

    /// Bytes a `GPTModel` and one `GPTState` of this config hold: the weights (as F32: attnchat
    /// upcasts F16/BF16 files when it loads them), the KV cache for the whole context, and the
    /// chunk and attention-capture buffers (`GPTState.bufferFloats`).
    public func inferenceMemory(chunkSize: Int = 128) -> (weights: Int, kvCache: Int, buffers: Int) {
        let floats = MemoryLayout<Float>.size
        let state = GPTState.bufferFloats(config: self, chunkSize: max(1, min(chunkSize, contextLength)))
        return (parameterCount * floats, state.kvCache * floats, state.other * floats)
    }
}

extension Float {
    /// 100000 rather than 100000.0; 0.5 as 0.5.
    fileprivate var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int64(self)) : "\(self)" }
}
