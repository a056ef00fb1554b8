import Kernels

// Glossary: B = sequences, T = positions per sequence, N = B·T, C = width, V = vocabulary,
// L = layers, p0 = position of the first token.

/// The language-model head: logits = x · tableᵀ. GPT-2 ties the table to the token embedding
/// (read backwards, so a token's score is how well the final stream matches its embedding);
/// an untied head (`lm_head.weight`) is its own (V, C) table.
public struct LMHead {
    /// (V, C), F32 or packed.
    public let table: MatrixWeight
    public let vocabSize: Int
    public let width: Int

    /// logits (N, V) = inp (N, C) · tableᵀ.
    public func forward(logits: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows N: Int) {
        switch table {
        case .float(let t): matmulTransposedForward(out: logits, inp: inp, table: t, rows: N, C: width, vocab: vocabSize)
        case .packed(let m): packedMatmul(out: logits, inp: inp, matrix: m, bias: nil, rows: N)
        }
    }

    /// Backward of `forward`, accumulating dinp (N, C) and `grad`'s table. dlogits: (N, V).
    public func backward(dinp: UnsafeMutablePointer<Float>, dlogits: UnsafePointer<Float>, inp: UnsafePointer<Float>, rows N: Int, into grad: LMHead) {
        matmulTransposedBackward(
            dinp: dinp, dtable: grad.table.trainable, dout: dlogits, inp: inp, table: table.trainable, rows: N, C: width, vocab: vocabSize)
    }
}

/// Where one forward keeps its intermediates. The inference state (`GPTState`) reuses one set of
/// buffers for every layer and updates the stream in place; the training pass keeps one set per
/// layer for the backward. Both run the same `Transformer.forward`.
public protocol TransformerWorkspace {
    /// The residual stream entering block `layer`, (N, C); `layer == L` is the stream after the
    /// last block. The embeddings are written to `stream(entering: 0)`.
    func stream(entering layer: Int) -> UnsafeMutablePointer<Float>
    func activations(layer: Int) -> TransformerBlock.Activations
    func context(layer: Int) -> AttentionContext
    /// Dropout on the embeddings (training only).
    func embeddingDropout(_ x: UnsafeMutablePointer<Float>)
    /// Dropout on the block's sub-layers (training only).
    func dropout(layer: Int) -> TransformerBlock.Dropout?
    /// Called after block `layer` ran, while its activations are still in the buffers (the
    /// inference state copies the attention weights the UI shows).
    func blockDidRun(layer: Int)
}

extension TransformerWorkspace {
    public func embeddingDropout(_ x: UnsafeMutablePointer<Float>) {}
    public func dropout(layer: Int) -> TransformerBlock.Dropout? { nil }
    public func blockDidRun(layer: Int) {}
}

/// The whole decoder: token + position embeddings, L transformer blocks, the final norm and the
/// LM head. Built over a model's weights — or, with `gradients:`, over a gradient buffer of the
/// same shape, which gives the backward the same names for where to accumulate.
///
/// The parts point into the weights and the position tables; the struct keeps both alive.
/// Only this module builds one (the parts' pointers are writable, and weights are written only
/// by the trainer, through `@_spi(Training)`).
public struct Transformer {
    public let embeddings: Embeddings
    public let blocks: [TransformerBlock]
    public let finalNorm: Norm
    public let head: LMHead
    /// What the pointers point into.
    private let model: GPTModel
    private let parameters: GPTWeights

    /// The parts of `model`, reading its weights.
    init(model: GPTModel) { self.init(model: model, parameters: model.weights) }

    /// The same parts over `gradients` (a `GPTWeights` of the model's config).
    init(model: GPTModel, gradients: GPTWeights) {
        precondition(gradients.config == model.config, "gradients of another shape")
        self.init(model: model, parameters: gradients)
    }

    private init(model: GPTModel, parameters w: GPTWeights) {
        self.model = model
        parameters = w
        let c = model.config
        let (C, M, H, hs) = (c.width, c.mlpWidth, c.heads, c.headSize)
        let p = { (offset: Int) in w.mutablePointer(offset) }
        let optional = { (offset: Int?) in offset.map { w.mutablePointer($0) } }
        // A matrix kept as stored is found by name; the others are offsets into the F32 storage.
        let matrix = { (name: String, offset: Int) -> MatrixWeight in w.packed[name].map { .packed($0) } ?? .float(p(offset)) }
        let positions: Embeddings.Positions
        switch c.positional {
        case .learned: positions = .learned(p(w.positionEmbedding!))
        case .sinusoidal: positions = .sinusoidal(model.tables.sinusoids!)
        case .rope: positions = .none
        }
        embeddings = Embeddings(tokens: matrix("wte.weight", w.tokenEmbedding), positions: positions, width: C)
        let rotary = model.tables.rotary.map { QKVProjection.Rotary(cos: $0.cos, sin: $0.sin, layout: c.rotaryLayout) }
        let eps = c.layerNormEpsilon
        blocks = w.layers.enumerated().map { (index, l) in
            let name = { (tensor: String) in "h.\(index).\(tensor).weight" }
            return TransformerBlock(
                norm1: Norm(kind: c.norm, weight: p(l.ln1Weight), bias: optional(l.ln1Bias), width: C, epsilon: eps),
                attention: SelfAttention(
                    projection: QKVProjection(
                        linear: Linear(weight: matrix(name("attn.c_attn"), l.qkvWeight), bias: optional(l.qkvBias), inDim: C, outDim: c.qkvWidth),
                        rotary: rotary, heads: H, kvHeads: c.kvHeads, headSize: hs),
                    output: Linear(weight: matrix(name("attn.c_proj"), l.attnProjWeight), bias: optional(l.attnProjBias), inDim: c.attentionWidth, outDim: C),
                    mask: .causal),
                norm2: Norm(kind: c.norm, weight: p(l.ln2Weight), bias: optional(l.ln2Bias), width: C, epsilon: eps),
                mlp: MLP(
                    up: Linear(weight: matrix(name("mlp.c_fc"), l.fcWeight), bias: optional(l.fcBias), inDim: C, outDim: M),
                    gate: l.gateWeight.map { Linear(weight: matrix(name("mlp.c_gate"), $0), bias: optional(l.gateBias), inDim: C, outDim: M) },
                    down: Linear(weight: matrix(name("mlp.c_proj"), l.fcProjWeight), bias: optional(l.fcProjBias), inDim: M, outDim: C), activation: c.activation))
        }
        finalNorm = Norm(kind: c.norm, weight: p(w.lnFinalWeight), bias: optional(w.lnFinalBias), width: C, epsilon: eps)
        let headTable = w.lmHead.map { matrix("lm_head.weight", $0) } ?? matrix("wte.weight", w.tokenEmbedding)
        head = LMHead(table: headTable, vocabSize: c.vocabSize, width: C)
    }

    /// Runs `B` sequences of `T` tokens (the first at position `p0`) through every part, then
    /// the final norm and the head for the rows `headRows` of the flattened (N) positions.
    ///
    /// - Parameters:
    ///   - tokens: (N) ids, already checked to be in range.
    ///   - normed: (headRows.count, C), receives the final norm's output.
    ///   - statistics: where the final norm keeps its statistics (training), or nil.
    ///   - logits: (headRows.count, V), overwritten.
    public func forward<W: TransformerWorkspace>(
        tokens: UnsafePointer<Int32>, sequences B: Int, length T: Int, startPosition p0: Int, workspace: W,
        headRows: Range<Int>, normed: UnsafeMutablePointer<Float>, statistics: Norm.Statistics?, logits: UnsafeMutablePointer<Float>
    ) {
        let C = embeddings.width
        let x0 = workspace.stream(entering: 0)
        embeddings.forward(out: x0, tokens: tokens, sequences: B, length: T, startPosition: p0)
        workspace.embeddingDropout(x0)
        for (l, block) in blocks.enumerated() {
            block.forward(
                output: workspace.stream(entering: l + 1), input: workspace.stream(entering: l),
                activations: workspace.activations(layer: l), context: workspace.context(layer: l), dropout: workspace.dropout(layer: l))
            workspace.blockDidRun(layer: l)
        }
        let last = workspace.stream(entering: blocks.count) + headRows.lowerBound * C
        finalNorm.forward(out: normed, inp: last, rows: headRows.count, statistics: statistics)
        head.forward(logits: logits, inp: normed, rows: headRows.count)
    }
}
