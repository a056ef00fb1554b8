import Kernels

// Glossary: C = width, M = MLP width, H = heads, hs = head size, V = vocabulary,
// maxT = context length, T = tokens in the current chunk, p0 = tokens already cached.

/// One conversation's running state (llama2.c's `RunState`): activation buffers sized once, the
/// KV cache, and the attention weights of the latest token. Nothing is allocated per token.
///
/// Not thread-safe: a state belongs to one generation loop.
public final class GPTState {
    public let model: GPTModel
    /// Tokens in the KV cache; the next token goes to this position.
    public private(set) var length = 0
    /// The most positions one forward call processes at once; longer prompts go in chunks so the
    /// buffers stay (chunk, ·) rather than (maxT, ·).
    public let chunkSize: Int

    private let x: UnsafeMutablePointer<Float>  // (chunk, C) residual stream
    private let normed: UnsafeMutablePointer<Float>  // (chunk, C)
    private let qkv: UnsafeMutablePointer<Float>  // (chunk, 3C)
    private let attnOut: UnsafeMutablePointer<Float>  // (chunk, C)
    private let projected: UnsafeMutablePointer<Float>  // (chunk, C)
    private let hidden: UnsafeMutablePointer<Float>  // (chunk, M)
    private let scores: UnsafeMutablePointer<Float>  // (H, chunk, maxT) attention weights of a chunk
    private let keys: UnsafeMutablePointer<Float>  // (L, maxT, C)
    private let values: UnsafeMutablePointer<Float>  // (L, maxT, C)
    private let latestAttention: UnsafeMutablePointer<Float>  // (L, H, maxT), the last token's rows
    private let logitsBuffer: UnsafeMutablePointer<Float>  // (V)
    private var allocations: [UnsafeMutablePointer<Float>] = []

    public init(model: GPTModel, chunkSize: Int = 128) {
        self.model = model
        let c = model.config
        let C = c.width, maxT = c.contextLength
        self.chunkSize = max(1, min(chunkSize, maxT))
        let T = self.chunkSize
        var allocations: [UnsafeMutablePointer<Float>] = []
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            allocations.append(p)
            return p
        }
        x = buffer(T * C)
        normed = buffer(T * C)
        qkv = buffer(T * 3 * C)
        attnOut = buffer(T * C)
        projected = buffer(T * C)
        hidden = buffer(T * c.mlpWidth)
        scores = buffer(c.heads * T * maxT)
        keys = buffer(c.layers * maxT * C)
        values = buffer(c.layers * maxT * C)
        latestAttention = buffer(c.layers * c.heads * maxT)
        logitsBuffer = buffer(c.vocabSize)
        self.allocations = allocations
    }

    deinit { for p in allocations { p.deallocate() } }

    /// Forgets the context; the buffers are kept.
    public func reset() { length = 0 }

    /// Keeps only the first `count` cached positions (e.g. to regenerate a reply).
    public func truncate(to count: Int) {
        precondition(count >= 0 && count <= length)
        length = count
    }

    /// The logits of the latest token, (V). The buffer belongs to this state: it is valid while the
    /// state lives and until the next forward call; copy it (`Array(...)`) to keep it.
    public var logits: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: logitsBuffer, count: model.config.vocabSize) }

    /// Appends `tokens` to the context (GEMM path) and returns the logits after the last one.
    ///
    /// - Parameters:
    ///   - allLogits: if given, (tokens.count, V): receives the logits of every new position.
    ///   - fullAttention: if given, (L, H, tokens.count, tokens.count) on an empty cache: receives
    ///     every attention weight (row t holds t+1 values, the rest is left as it was).
    /// - Throws: `GPTError.tokenOutOfRange` or `.contextFull`; the state is unchanged then.
    @discardableResult
    public func prefill(
        _ tokens: [Int], allLogits: UnsafeMutableBufferPointer<Float>? = nil,
        fullAttention: UnsafeMutableBufferPointer<Float>? = nil
    ) throws(GPTError) -> UnsafeBufferPointer<Float> {
        let c = model.config
        for t in tokens where t < 0 || t >= c.vocabSize { throw .tokenOutOfRange(id: t, vocabSize: c.vocabSize) }
        guard length + tokens.count <= c.contextLength else { throw .contextFull(length: c.contextLength) }
        precondition(allLogits == nil || allLogits!.count == tokens.count * c.vocabSize)
        precondition(fullAttention == nil || (length == 0 && fullAttention!.count == c.layers * c.heads * tokens.count * tokens.count))
        var start = 0
        while start < tokens.count {
            let end = min(tokens.count, start + chunkSize)
            tokens.withUnsafeBufferPointer { all in
                forward(
                    UnsafeBufferPointer(rebasing: all[start..<end]),
                    allLogits: allLogits.map { $0.baseAddress! + start * c.vocabSize },
                    fullAttention: fullAttention.map { ($0.baseAddress!, tokens.count) })
            }
            start = end
        }
        return logits
    }

    /// Appends one token (GEMV path, reading each weight once) and returns the next logits, (V).
    public func decode(_ token: Int) throws(GPTError) -> UnsafeBufferPointer<Float> {
        let c = model.config
        guard token >= 0 && token < c.vocabSize else { throw .tokenOutOfRange(id: token, vocabSize: c.vocabSize) }
        guard length < c.contextLength else { throw .contextFull(length: c.contextLength) }
        var token = token
        withUnsafePointer(to: &token) { forward(UnsafeBufferPointer(start: $0, count: 1), allLogits: nil, fullAttention: nil) }
        return logits
    }

    /// The attention of the latest token, every layer and head. Copies (L·H·length) floats.
    public func attentionSnapshot() -> AttentionSnapshot {
        let c = model.config
        let maxT = c.contextLength
        var weights = [Float](repeating: 0, count: c.layers * c.heads * length)
        weights.withUnsafeMutableBufferPointer { w in
            for row in 0..<(c.layers * c.heads) {
                (w.baseAddress! + row * length).update(from: latestAttention + row * maxT, count: length)
            }
        }
        return AttentionSnapshot(layers: c.layers, heads: c.heads, length: length, weights: weights)
    }

    /// One chunk of ≤ chunkSize tokens through every block.
    private func forward(
        _ tokens: UnsafeBufferPointer<Int>, allLogits: UnsafeMutablePointer<Float>?,
        fullAttention: (pointer: UnsafeMutablePointer<Float>, total: Int)?
    ) {
        let c = model.config
        let w = model.weights
        let (C, M, H, hs, V, maxT) = (c.width, c.mlpWidth, c.heads, c.headSize, c.vocabSize, c.contextLength)
        let T = tokens.count
        let p0 = length

        // Embedding: x[t] = wte[token] + position(p0 + t).
        let wte = w.pointer(w.tokenEmbedding)
        for t in 0..<T {
            let row = x + t * C
            row.update(from: wte + tokens[t] * C, count: C)
            if let wpe = w.positionEmbedding {
                residualForward(out: row, a: row, b: w.pointer(wpe) + (p0 + t) * C, count: C)
            } else if let table = model.sinusoids {
                table.withUnsafeBufferPointer { residualForward(out: row, a: row, b: $0.baseAddress! + (p0 + t) * C, count: C) }
            }
        }

        for (l, layer) in w.layers.enumerated() {
            // Attention sub-block: x += proj(attention(ln_1(x))).
            layerNormForward(out: normed, inp: x, weight: w.pointer(layer.ln1Weight), bias: w.pointer(layer.ln1Bias), rows: T, C: C, eps: c.layerNormEpsilon)
            matmulForward(out: qkv, inp: normed, weight: w.pointer(layer.qkvWeight), bias: w.pointer(layer.qkvBias), rows: T, inDim: C, outDim: 3 * C)
            if let rotary = model.rotary {
                rotary.cos.withUnsafeBufferPointer { cos in
                    rotary.sin.withUnsafeBufferPointer { sin in
                        for part in 0..<2 {  // queries, then keys
                            rotaryForward(x: qkv + part * C, stride: 3 * C, T: T, pastLength: p0, heads: H, headSize: hs, cos: cos.baseAddress!, sin: sin.baseAddress!)
                        }
                    }
                }
            }
            let layerKeys = keys + l * maxT * C
            let layerValues = values + l * maxT * C
            for t in 0..<T {
                (layerKeys + (p0 + t) * C).update(from: qkv + t * 3 * C + C, count: C)
                (layerValues + (p0 + t) * C).update(from: qkv + t * 3 * C + 2 * C, count: C)
            }
            let latest = latestAttention + l * H * maxT
            // A single token writes its weights straight into the capture buffer: capture is free.
            let att = T == 1 ? latest : scores
            attentionForward(
                out: attnOut, att: att, attStride: maxT, q: qkv, qStride: 3 * C, k: layerKeys, v: layerValues,
                kvStride: C, T: T, pastLength: p0, heads: H, headSize: hs)
            if T > 1 {
                for h in 0..<H {
                    (latest + h * maxT).update(from: scores + (h * T + T - 1) * maxT, count: p0 + T)
                }
            }
            if let (full, total) = fullAttention {
                for h in 0..<H {
                    for t in 0..<T {
                        let dst = full + ((l * H + h) * total + p0 + t) * total
                        dst.update(from: att + (h * T + t) * maxT, count: p0 + t + 1)
                    }
                }
            }
            matmulForward(out: projected, inp: attnOut, weight: w.pointer(layer.attnProjWeight), bias: w.pointer(layer.attnProjBias), rows: T, inDim: C, outDim: C)
            residualForward(out: x, a: x, b: projected, count: T * C)

            // MLP sub-block: x += c_proj(gelu(c_fc(ln_2(x)))).
            layerNormForward(out: normed, inp: x, weight: w.pointer(layer.ln2Weight), bias: w.pointer(layer.ln2Bias), rows: T, C: C, eps: c.layerNormEpsilon)
            matmulForward(out: hidden, inp: normed, weight: w.pointer(layer.fcWeight), bias: w.pointer(layer.fcBias), rows: T, inDim: C, outDim: M)
            geluForward(out: hidden, inp: hidden, count: T * M)
            matmulForward(out: projected, inp: hidden, weight: w.pointer(layer.fcProjWeight), bias: w.pointer(layer.fcProjBias), rows: T, inDim: M, outDim: C)
            residualForward(out: x, a: x, b: projected, count: T * C)
        }

        // Final LayerNorm and the tied LM head: only the rows someone reads.
        let firstRow = allLogits == nil ? T - 1 : 0
        let rows = T - firstRow
        layerNormForward(out: normed, inp: x + firstRow * C, weight: w.pointer(w.lnFinalWeight), bias: w.pointer(w.lnFinalBias), rows: rows, C: C, eps: c.layerNormEpsilon)
        if let allLogits {
            matmulTransposedForward(out: allLogits, inp: normed, table: wte, rows: T, C: C, vocab: V)
            logitsBuffer.update(from: allLogits + (T - 1) * V, count: V)
        } else {
            matmulTransposedForward(out: logitsBuffer, inp: normed, table: wte, rows: 1, C: C, vocab: V)
        }
        length = p0 + T
    }
}
