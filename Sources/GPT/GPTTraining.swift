import Kernels

// Glossary: B = sequences per batch, T = positions per sequence, N = B·T, C = width,
// M = MLP width, H = heads, hs = head size, V = vocabulary, L = layers.

/// The training forward and backward passes over a (B, T) batch (llm.c's `gpt2_forward` and
/// `gpt2_backward`): every activation the backward needs is kept, in buffers sized once.
///
/// `backward` walks `forward` in reverse; every gradient is accumulated (+=) into a
/// `GPTWeights` of the same config, which the caller zeroes between steps.
public final class GPTTrainingPass {
    public let model: GPTModel
    public let B: Int, T: Int
    var N: Int { B * T }

    /// One allocation for every activation; the views below index into it.
    private let arena: UnsafeMutablePointer<Float>
    private let arenaCount: Int

    private struct LayerActivations {
        var ln1, ln1Mean, ln1Rstd, qkv, att, attOut, residual2, ln2, ln2Mean, ln2Rstd, fc, fcGelu: UnsafeMutablePointer<Float>
    }
    private let residuals: [UnsafeMutablePointer<Float>]  // L+1 of (N, C): the stream entering each block, then the output
    private let layers: [LayerActivations]
    private let lnf, lnfMean, lnfRstd, logits, losses: UnsafeMutablePointer<Float>
    // Backward scratch, reused by every layer.
    private let dResidual, dC, dQKV, dM1, dM2, dScratchC, attScratch: UnsafeMutablePointer<Float>
    private var inputs: [Int32] = []
    private var targets: [Int32] = []
    private var preparedBackward = false
    /// Dropout masks, 2L + 1 of (N, C): the embeddings, then per block the attention and MLP
    /// outputs before they join the residual stream. Allocated on first use.
    private var dropoutMasks: UnsafeMutablePointer<Float>?
    /// Whether the last forward applied dropout (its backward must then apply the masks).
    private var droppedOut = false

    public init(model: GPTModel, B: Int, T: Int) {
        precondition(B > 0 && T > 0 && T <= model.config.contextLength, "batch shape does not fit the model")
        self.model = model
        self.B = B
        self.T = T
        let c = model.config
        let (N, C, M, H, V, L) = (B * T, c.width, c.mlpWidth, c.heads, c.vocabSize, c.layers)
        let perLayer = 2 * N * C + 2 * N + 3 * N * C + B * H * T * T + 2 * N * C + 2 * N + 2 * N * M
        let total = (L + 1) * N * C + L * perLayer + N * C + 2 * N + N * V + N
            + N * C + N * C + 3 * N * C + 2 * N * M + N * C + T * T
        arenaCount = total
        arena = .allocate(capacity: total)
        arena.initialize(repeating: 0, count: total)  // attention stays 0 above the diagonal
        var cursor = arena
        func take(_ n: Int) -> UnsafeMutablePointer<Float> {
            defer { cursor += n }
            return cursor
        }
        residuals = (0...L).map { _ in take(N * C) }
        layers = (0..<L).map { _ in
            LayerActivations(
                ln1: take(N * C), ln1Mean: take(N), ln1Rstd: take(N), qkv: take(3 * N * C), att: take(B * H * T * T),
                attOut: take(N * C), residual2: take(N * C), ln2: take(N * C), ln2Mean: take(N), ln2Rstd: take(N),
                fc: take(N * M), fcGelu: take(N * M))
        }
        lnf = take(N * C)
        lnfMean = take(N)
        lnfRstd = take(N)
        logits = take(N * V)
        losses = take(N)
        dResidual = take(N * C)
        dC = take(N * C)
        dQKV = take(3 * N * C)
        dM1 = take(N * M)
        dM2 = take(N * M)
        dScratchC = take(N * C)
        attScratch = take(T * T)
        precondition(cursor == arena + total)
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

    private func mask(_ site: Int) -> UnsafeMutablePointer<Float> {
        let size = N * model.config.width
        if dropoutMasks == nil { dropoutMasks = .allocate(capacity: (2 * model.config.layers + 1) * size) }
        return dropoutMasks! + site * size
    }

    private func dropout(_ x: UnsafeMutablePointer<Float>, site: Int, _ d: Dropout) {
        guard d.probability > 0 else { return }
        dropoutForward(x, mask: mask(site), count: N * model.config.width, probability: d.probability,
                       seed: dropoutSeed(d.seed, site))
    }

    /// The per-position losses of the last forward, (B·T), in nats.
    public var positionLosses: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: losses, count: N) }

    /// The logits of the last forward run without `prepareBackward`, (B·T, V).
    public var lastLogits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logits, count: N * model.config.vocabSize) }

    /// Runs the model over `inputs` and returns the mean cross-entropy against `targets`.
    ///
    /// - Parameters:
    ///   - inputs, targets: (B·T) token ids, row-major by sequence; ids must be in range.
    ///   - prepareBackward: also compute ∂loss/∂logits (over the logits, in place) for `backward`.
    ///   - dropout: training-time dropout; `.off` (the default) for evaluation.
    /// - Returns: the mean loss in nats per token.
    public func forward(inputs: [Int32], targets: [Int32], prepareBackward: Bool, dropout d: Dropout = .off) -> Float {
        let c = model.config
        let w = model.weights
        let (N, C, M, H, hs, V) = (self.N, c.width, c.mlpWidth, c.heads, c.headSize, c.vocabSize)
        precondition(inputs.count == N && targets.count == N, "inputs and targets must be (B·T)")
        precondition(inputs.allSatisfy { $0 >= 0 && Int($0) < V } && targets.allSatisfy { $0 >= 0 && Int($0) < V }, "token id out of range")
        self.inputs = inputs
        self.targets = targets
        preparedBackward = prepareBackward
        droppedOut = d.probability > 0

        inputs.withUnsafeBufferPointer { tokens in
            if let wpe = w.positionEmbedding {
                embeddingForward(out: residuals[0], tokens: tokens.baseAddress!, wte: w.pointer(w.tokenEmbedding), positions: w.pointer(wpe), B: B, T: T, C: C)
            } else if let table = model.sinusoids {
                table.withUnsafeBufferPointer { embeddingForward(out: residuals[0], tokens: tokens.baseAddress!, wte: w.pointer(w.tokenEmbedding), positions: $0.baseAddress!, B: B, T: T, C: C) }
            } else {
                embeddingForward(out: residuals[0], tokens: tokens.baseAddress!, wte: w.pointer(w.tokenEmbedding), positions: nil, B: B, T: T, C: C)
            }
        }
        dropout(residuals[0], site: 0, d)
        for (l, p) in w.layers.enumerated() {
            let a = layers[l]
            let input = residuals[l]
            layerNormForward(out: a.ln1, mean: a.ln1Mean, rstd: a.ln1Rstd, inp: input, weight: w.pointer(p.ln1Weight), bias: w.pointer(p.ln1Bias), rows: N, C: C, eps: c.layerNormEpsilon)
            matmulForward(out: a.qkv, inp: a.ln1, weight: w.pointer(p.qkvWeight), bias: w.pointer(p.qkvBias), rows: N, inDim: C, outDim: 3 * C)
            for b in 0..<B {
                let qkv = a.qkv + b * T * 3 * C
                rotate(qkv, backward: false)
                attentionForwardGEMM(out: a.attOut + b * T * C, att: a.att + b * H * T * T, qkv: qkv, T: T, heads: H, headSize: hs)
            }
            matmulForward(out: dScratchC, inp: a.attOut, weight: w.pointer(p.attnProjWeight), bias: w.pointer(p.attnProjBias), rows: N, inDim: C, outDim: C)
            dropout(dScratchC, site: 1 + 2 * l, d)
            residualForward(out: a.residual2, a: input, b: dScratchC, count: N * C)
            layerNormForward(out: a.ln2, mean: a.ln2Mean, rstd: a.ln2Rstd, inp: a.residual2, weight: w.pointer(p.ln2Weight), bias: w.pointer(p.ln2Bias), rows: N, C: C, eps: c.layerNormEpsilon)
            matmulForward(out: a.fc, inp: a.ln2, weight: w.pointer(p.fcWeight), bias: w.pointer(p.fcBias), rows: N, inDim: C, outDim: M)
            geluForward(out: a.fcGelu, inp: a.fc, count: N * M)
            matmulForward(out: dScratchC, inp: a.fcGelu, weight: w.pointer(p.fcProjWeight), bias: w.pointer(p.fcProjBias), rows: N, inDim: M, outDim: C)
            dropout(dScratchC, site: 2 + 2 * l, d)
            residualForward(out: residuals[l + 1], a: a.residual2, b: dScratchC, count: N * C)
        }
        layerNormForward(out: lnf, mean: lnfMean, rstd: lnfRstd, inp: residuals[c.layers], weight: w.pointer(w.lnFinalWeight), bias: w.pointer(w.lnFinalBias), rows: N, C: C, eps: c.layerNormEpsilon)
        matmulTransposedForward(out: logits, inp: lnf, table: w.pointer(w.tokenEmbedding), rows: N, C: C, vocab: V)
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
        precondition(grads.config == model.config, "gradients of another shape")
        preparedBackward = false
        let c = model.config
        let w = model.weights
        let (N, C, M, H, hs, V) = (self.N, c.width, c.mlpWidth, c.heads, c.headSize, c.vocabSize)
        let g = { (offset: Int) in grads.mutablePointer(offset) }
        // The gradient reaching a dropped-out output: dResidual through that site's mask.
        let throughMask = { (site: Int) -> UnsafePointer<Float> in
            guard self.droppedOut else { return UnsafePointer(self.dResidual) }
            dropoutBackward(dinp: self.dScratchC, dout: self.dResidual, mask: self.mask(site), count: N * C)
            return UnsafePointer(self.dScratchC)
        }

        // logits = lnf · wteᵀ; the loss gradient sits in `logits`.
        dC.update(repeating: 0, count: N * C)
        matmulTransposedBackward(dinp: dC, dtable: g(w.tokenEmbedding), dout: logits, inp: lnf, table: w.pointer(w.tokenEmbedding), rows: N, C: C, vocab: V)
        dResidual.update(repeating: 0, count: N * C)
        layerNormBackward(dinp: dResidual, dweight: g(w.lnFinalWeight), dbias: g(w.lnFinalBias), dout: dC, inp: residuals[c.layers], weight: w.pointer(w.lnFinalWeight), mean: lnfMean, rstd: lnfRstd, rows: N, C: C)

        for l in stride(from: c.layers - 1, through: 0, by: -1) {
            let p = w.layers[l]
            let a = layers[l]
            // residual[l+1] = residual2 + c_proj(gelu(c_fc(ln_2(residual2)))): dResidual flows to both.
            dM1.update(repeating: 0, count: N * M)
            matmulBackward(dinp: dM1, dweight: g(p.fcProjWeight), dbias: g(p.fcProjBias), dout: throughMask(2 + 2 * l), inp: a.fcGelu, weight: w.pointer(p.fcProjWeight), rows: N, inDim: M, outDim: C)
            dM2.update(repeating: 0, count: N * M)
            geluBackward(dinp: dM2, inp: a.fc, dout: dM1, count: N * M)
            dC.update(repeating: 0, count: N * C)
            matmulBackward(dinp: dC, dweight: g(p.fcWeight), dbias: g(p.fcBias), dout: dM2, inp: a.ln2, weight: w.pointer(p.fcWeight), rows: N, inDim: C, outDim: M)
            layerNormBackward(dinp: dResidual, dweight: g(p.ln2Weight), dbias: g(p.ln2Bias), dout: dC, inp: a.residual2, weight: w.pointer(p.ln2Weight), mean: a.ln2Mean, rstd: a.ln2Rstd, rows: N, C: C)
            // residual2 = residual[l] + c_proj(attention(c_attn(ln_1(residual[l])))).
            dC.update(repeating: 0, count: N * C)
            matmulBackward(dinp: dC, dweight: g(p.attnProjWeight), dbias: g(p.attnProjBias), dout: throughMask(1 + 2 * l), inp: a.attOut, weight: w.pointer(p.attnProjWeight), rows: N, inDim: C, outDim: C)
            dQKV.update(repeating: 0, count: N * 3 * C)
            for b in 0..<B {
                attentionBackward(dqkv: dQKV + b * T * 3 * C, dout: dC + b * T * C, qkv: a.qkv + b * T * 3 * C, att: a.att + b * H * T * T, scratch: attScratch, T: T, heads: H, headSize: hs)
                rotate(dQKV + b * T * 3 * C, backward: true)
            }
            dC.update(repeating: 0, count: N * C)
            matmulBackward(dinp: dC, dweight: g(p.qkvWeight), dbias: g(p.qkvBias), dout: dQKV, inp: a.ln1, weight: w.pointer(p.qkvWeight), rows: N, inDim: C, outDim: 3 * C)
            layerNormBackward(dinp: dResidual, dweight: g(p.ln1Weight), dbias: g(p.ln1Bias), dout: dC, inp: residuals[l], weight: w.pointer(p.ln1Weight), mean: a.ln1Mean, rstd: a.ln1Rstd, rows: N, C: C)
        }
        if droppedOut { dropoutBackward(dinp: dResidual, dout: dResidual, mask: mask(0), count: N * C) }
        inputs.withUnsafeBufferPointer { tokens in
            embeddingBackward(dwte: g(w.tokenEmbedding), dwpe: w.positionEmbedding.map(g), dout: dResidual, tokens: tokens.baseAddress!, B: B, T: T, C: C)
        }
    }

    /// Rotary positions on the queries and keys of one sequence's fused QKV rows (T, 3C), or the
    /// inverse rotation on their gradients. Nothing for other position encodings.
    private func rotate(_ qkv: UnsafeMutablePointer<Float>, backward: Bool) {
        guard let rotary = model.rotary else { return }
        let c = model.config
        rotary.cos.withUnsafeBufferPointer { cos in
            rotary.sin.withUnsafeBufferPointer { sin in
                for part in 0..<2 {
                    if backward {
                        rotaryBackward(dx: qkv + part * c.width, stride: 3 * c.width, T: T, pastLength: 0, heads: c.heads, headSize: c.headSize, cos: cos.baseAddress!, sin: sin.baseAddress!)
                    } else {
                        rotaryForward(x: qkv + part * c.width, stride: 3 * c.width, T: T, pastLength: 0, heads: c.heads, headSize: c.headSize, cos: cos.baseAddress!, sin: sin.baseAddress!)
                    }
                }
            }
        }
    }
}
