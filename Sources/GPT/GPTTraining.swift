import Kernels

// Glossary: B = sequences per batch, T = positions per sequence, N = B·T, C = width,
// M = MLP width, H = heads, hs = head size, V = vocabulary, L = layers.

/// The training forward and backward passes over a (B, T) batch (llm.c's `gpt2_forward` and
/// `gpt2_backward`): every activation the backward needs is kept, in buffers sized once.
///
/// The forward is `Transformer.forward` — the same parts inference runs — over a workspace
/// that keeps one set of activations per layer. `backward` walks it in reverse, part by part;
/// every gradient is accumulated (+=) into a `GPTWeights` of the same config, which the caller
/// zeroes between steps.
public final class GPTTrainingPass {
    public let model: GPTModel
    public let B: Int, T: Int
    var N: Int { B * T }

    /// One allocation for every activation; the views below index into it.
    private let arena: UnsafeMutablePointer<Float>
    private let arenaCount: Int

    private let transformer: Transformer
    private let residuals: [UnsafeMutablePointer<Float>]  // L+1 of (N, C): the stream entering each block, then the output
    private let layers: [TransformerBlock.Activations]
    private let lnf, logits, losses: UnsafeMutablePointer<Float>
    private let lnfStatistics: Norm.Statistics
    /// Backward scratch, reused by every layer.
    private let dResidual, dLnf: UnsafeMutablePointer<Float>
    private let scratch: TransformerBlock.GradientScratch
    private var inputs: [Int32] = []
    private var targets: [Int32] = []
    private var preparedBackward = false
    /// The model's parts over the last gradient buffer `backward` was given, built once per buffer.
    private var gradientParts: (weights: GPTWeights, parts: Transformer)?
    /// Dropout masks, 2L + 1 of (N, C): the embeddings, then per block the attention and MLP
    /// outputs before they join the residual stream. Allocated on first use.
    private var dropoutMasks: UnsafeMutablePointer<Float>?
    /// The dropout of the last forward (its backward must then apply the same masks).
    private var lastDropout = Dropout.off

    public init(model: GPTModel, B: Int, T: Int) {
        precondition(B > 0 && T > 0 && T <= model.config.contextLength, "batch shape does not fit the model")
        self.model = model
        self.B = B
        self.T = T
        let c = model.config
        let (N, C, M, H, V, L) = (B * T, c.width, c.mlpWidth, c.heads, c.vocabSize, c.layers)
        let (Q, A) = (c.qkvWidth, c.attentionWidth)
        guard let total = Self.arenaFloats(config: c, B: B, T: T) else { preconditionFailure("batch shape overflows Int") }
        arenaCount = total
        arena = .allocate(capacity: total)
        arena.initialize(repeating: 0, count: total)  // attention stays 0 above the diagonal
        var cursor = arena
        func take(_ n: Int) -> UnsafeMutablePointer<Float> {
            defer { cursor += n }
            return cursor
        }
        residuals = (0...L).map { _ in take(N * C) }
        let sublayer = take(N * C)  // shared: a sub-layer's output lives only until it joins the stream
        layers = (0..<L).map { _ in
            TransformerBlock.Activations(
                normed1: take(N * C), statistics1: Norm.Statistics(mean: take(N), rstd: take(N)),
                attention: SelfAttention.Activations(qkv: take(N * Q), weights: take(B * H * T * T), merged: take(N * A)),
                afterAttention: take(N * C), normed2: take(N * C), statistics2: Norm.Statistics(mean: take(N), rstd: take(N)),
                mlp: MLP.Activations(hidden: take(N * M), activated: take(N * M), gated: c.activation == .swiglu ? take(N * M) : nil),
                sublayer: sublayer)
        }
        lnf = take(N * C)
        lnfStatistics = Norm.Statistics(mean: take(N), rstd: take(N))
        logits = take(N * V)
        losses = take(N)
        dResidual = take(N * C)
        dLnf = take(N * C)
        scratch = TransformerBlock.GradientScratch(
            dnormed: take(N * C), dsublayer: take(N * C), dmerged: take(N * A), dqkv: take(N * Q),
            dactivated: take(N * M), dhidden: take(N * M), square: take(T * T))
        precondition(cursor == arena + total)
        transformer = Transformer(model: model)
    }

    /// The floats one pass allocates for a (B, T) batch of `config`'s model (its arena), or nil
    /// if the count overflows `Int`. Callers check a user's batch and shape against memory with
    /// this before creating the pass; `init` allocates exactly this many.
    public static func arenaFloats(config c: GPTConfig, B: Int, T: Int) -> Int? {
        // Per layer: normed1, qkv, weights, merged, afterAttention, normed2, hidden, activated (and
        // gated, SwiGLU) and the two norms' statistics. Then the streams, the shared sub-layer
        // output, the final norm, logits, losses, and the backward's scratch.
        let (C, M, H, V, L) = (c.width, c.mlpWidth, c.heads, c.vocabSize, c.layers)
        let (Q, A) = (c.qkvWidth, c.attentionWidth)
        let mlpBuffers = c.activation == .swiglu ? 3 : 2
        return Checked.sum(
            Checked.product(L + 1, B, T, C), Checked.product(L, Checked.sum(
                Checked.product(3, B, T, C), Checked.product(B, T, Q), Checked.product(B, T, A), Checked.product(4, B, T),
                Checked.product(B, H, T, T), Checked.product(mlpBuffers, B, T, M))),
            Checked.product(B, T, C), Checked.sum(Checked.product(B, T, C), Checked.product(2, B, T)), Checked.product(B, T, V),
            Checked.product(B, T), Checked.product(2, B, T, C),
            Checked.sum(Checked.product(2, B, T, C), Checked.product(B, T, A), Checked.product(B, T, Q), Checked.product(2, B, T, M), Checked.product(T, T)))
    }

    deinit {
        arena.deallocate()
        dropoutMasks?.deallocate()
    }

    /// Dropout for one training forward: `probability` on the embeddings and on each block's
    /// attention and MLP outputs (GPT-2's embd_pdrop and resid_pdrop; the attention weights
    /// themselves are not dropped). `seed` picks the masks; give every micro-batch its own.
    public struct Dropout: Sendable, Equatable {
        public var probability: Float
        public var seed: UInt64
        public init(probability: Float, seed: UInt64) {
            self.probability = probability
            self.seed = seed
        }
        public static let off = Dropout(probability: 0, seed: 0)
    }

    /// The mask of dropout site `site` (0: embeddings, 1 + 2l and 2 + 2l: block l's sub-layers).
    private func mask(_ site: Int) -> UnsafeMutablePointer<Float> {
        let size = N * model.config.width
        if dropoutMasks == nil { dropoutMasks = .allocate(capacity: (2 * model.config.layers + 1) * size) }
        return dropoutMasks! + site * size
    }

    /// The per-position losses of the last forward, (B·T), in nats.
    public var positionLosses: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: losses, count: N) }

    /// The logits of the last forward run without `prepareBackward`, (B·T, V).
    public var lastLogits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logits, count: N * model.config.vocabSize) }

    /// The training workspace: one stream buffer per layer boundary, one activation set per layer.
    private struct Workspace: TransformerWorkspace {
        // The pass outlives its workspace (one forward call), so no reference counting.
        unowned(unsafe) let pass: GPTTrainingPass
        let dropout: Dropout

        func stream(entering layer: Int) -> UnsafeMutablePointer<Float> { pass.residuals[layer] }
        func activations(layer: Int) -> TransformerBlock.Activations { pass.layers[layer] }
        func context(layer: Int) -> AttentionContext { .sequences(count: pass.B, length: pass.T) }
        func embeddingDropout(_ x: UnsafeMutablePointer<Float>) {
            guard dropout.probability > 0 else { return }
            dropoutForward(x, mask: pass.mask(0), count: pass.N * pass.model.config.width, probability: dropout.probability, seed: dropoutSeed(dropout.seed, 0))
        }
        func dropout(layer l: Int) -> TransformerBlock.Dropout? { pass.blockDropout(dropout, layer: l) }
    }

    private func blockDropout(_ d: Dropout, layer l: Int) -> TransformerBlock.Dropout? {
        guard d.probability > 0 else { return nil }
        return TransformerBlock.Dropout(
            probability: d.probability, attentionMask: mask(1 + 2 * l), attentionSeed: dropoutSeed(d.seed, 1 + 2 * l),
            mlpMask: mask(2 + 2 * l), mlpSeed: dropoutSeed(d.seed, 2 + 2 * l))
    }

    /// Runs the model over `inputs` and returns the mean cross-entropy against `targets`.
    ///
    /// - Parameters:
    ///   - inputs, targets: (B·T) token ids, row-major by sequence; ids must be in range.
    ///   - prepareBackward: also compute ∂loss/∂logits (over the logits, in place) for `backward`.
    ///   - dropout: training-time dropout; `.off` (the default) for evaluation.
    /// - Returns: the mean loss in nats per token.
    public func forward(inputs: [Int32], targets: [Int32], prepareBackward: Bool, dropout d: Dropout = .off) -> Float {
        let V = model.config.vocabSize
        precondition(inputs.count == N && targets.count == N, "inputs and targets must be (B·T)")
        precondition(inputs.allSatisfy { $0 >= 0 && Int($0) < V } && targets.allSatisfy { $0 >= 0 && Int($0) < V }, "token id out of range")
        self.inputs = inputs
        self.targets = targets
        preparedBackward = prepareBackward
        lastDropout = d

        inputs.withUnsafeBufferPointer { tokens in
            transformer.forward(
                tokens: tokens.baseAddress!, sequences: B, length: T, startPosition: 0, workspace: Workspace(pass: self, dropout: d),
                headRows: 0..<N, normed: lnf, statistics: lnfStatistics, logits: logits)
        }
        targets.withUnsafeBufferPointer {
            crossEntropyForwardBackward(logits: logits, losses: losses, targets: $0.baseAddress!, rows: N, V: V, scale: 1 / Float(N), writeGradient: prepareBackward)
        }
        var sum = 0.0
        for i in 0..<N { sum += Double(losses[i]) }
        return Float(sum / Double(N))
    }

    /// Accumulates ∂(mean loss)/∂parameters into `grads` (same config as the model), walking the
    /// forward in reverse. Needs a `forward(..., prepareBackward: true)` just before.
    public func backward(into grads: GPTWeights) {
        precondition(preparedBackward, "backward needs forward(prepareBackward: true) first")
        precondition(model.config.activation == .gelu && model.config.kvHeads == model.config.heads, "training SwiGLU or grouped-query attention is not implemented")
        preparedBackward = false
        if gradientParts?.weights !== grads {
            gradientParts = (grads, Transformer(model: model, gradients: grads))
        }
        let g = gradientParts!.parts
        let (N, C, L) = (self.N, model.config.width, model.config.layers)
        let d = lastDropout

        // logits = head(finalNorm(residual[L])); the loss gradient sits in `logits`.
        dLnf.update(repeating: 0, count: N * C)
        transformer.head.backward(dinp: dLnf, dlogits: logits, inp: lnf, rows: N, into: g.head)
        dResidual.update(repeating: 0, count: N * C)
        transformer.finalNorm.backward(dinp: dResidual, dout: dLnf, inp: residuals[L], rows: N, statistics: lnfStatistics, into: g.finalNorm)
        for l in stride(from: L - 1, through: 0, by: -1) {
            transformer.blocks[l].backward(
                dstream: dResidual, input: residuals[l], activations: layers[l], sequences: B, length: T,
                dropout: blockDropout(d, layer: l), scratch: scratch, into: g.blocks[l])
        }
        if d.probability > 0 { dropoutBackward(dinp: dResidual, dout: dResidual, mask: mask(0), count: N * C) }
        inputs.withUnsafeBufferPointer { tokens in
            transformer.embeddings.backward(dout: dResidual, tokens: tokens.baseAddress!, sequences: B, length: T, into: g.embeddings)
        }
    }
}

/// Sums and products of sizes that report overflow as nil instead of trapping: a user's batch or
/// shape can ask for more than `Int` holds.
private enum Checked {
    static func product(_ factors: Int?...) -> Int? {
        var result = 1
        for factor in factors {
            guard let factor else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = value
        }
        return result
    }

    static func sum(_ terms: Int?...) -> Int? {
        var result = 0
        for term in terms {
            guard let term else { return nil }
            let (value, overflow) = result.addingReportingOverflow(term)
            if overflow { return nil }
            result = value
        }
        return result
    }
}
