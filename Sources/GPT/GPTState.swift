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
    private let qkv: UnsafeMutablePointer<Float>  // (chunk, Q) fused q | k | v
    private let attnOut: UnsafeMutablePointer<Float>  // (chunk, A) merged heads
    private let projected: UnsafeMutablePointer<Float>  // (chunk, C)
    private let hidden: UnsafeMutablePointer<Float>  // (chunk, M)
    private let gated: UnsafeMutablePointer<Float>?  // (chunk, M), SwiGLU's gate
    private let scores: UnsafeMutablePointer<Float>  // (H, chunk, maxT) attention weights of a chunk
    let keys: UnsafeMutablePointer<Float>  // (L, maxT, kvHeads·hs), after rotary positions
    let values: UnsafeMutablePointer<Float>  // (L, maxT, kvHeads·hs)
    private let latestAttention: UnsafeMutablePointer<Float>  // (L, H, maxT), the last token's rows
    private let logitsBuffer: UnsafeMutablePointer<Float>  // (V)
    private let ids: UnsafeMutablePointer<Int32>  // (chunk) the chunk's token ids
    private var allocations: [UnsafeMutablePointer<Float>] = []
    /// The model's parts over its weights, built once.
    private let transformer: Transformer
    /// Set while `explainAttention` runs a forward: copies one position's q and head outputs.
    var probe: AttentionProbe?
    /// The last `explainAttention` prefill, valid while no other forward has run since.
    var inspection: (tokens: [Int], probe: AttentionProbe, forwards: Int)?
    /// Forward calls so far: a changed count means the cache no longer holds `inspection`.
    private(set) var forwardCount = 0

    public init(model: GPTModel, chunkSize: Int = 128) {
        self.model = model
        let c = model.config
        let C = c.width, maxT = c.contextLength
        self.chunkSize = max(1, min(chunkSize, maxT))
        let T = self.chunkSize
        var allocations: [UnsafeMutablePointer<Float>] = []
        var capacities = 0
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            capacities += count
            let p = UnsafeMutablePointer<Float>.allocate(capacity: count)
            p.initialize(repeating: 0, count: count)
            allocations.append(p)
            return p
        }
        x = buffer(T * C)
        normed = buffer(T * C)
        qkv = buffer(T * c.qkvWidth)
        attnOut = buffer(T * c.attentionWidth)
        projected = buffer(T * C)
        hidden = buffer(T * c.mlpWidth)
        gated = c.activation == .swiglu ? buffer(T * c.mlpWidth) : nil
        scores = buffer(c.heads * T * maxT)
        keys = buffer(c.layers * maxT * c.kvWidth)
        values = buffer(c.layers * maxT * c.kvWidth)
        latestAttention = buffer(c.layers * c.heads * maxT)
        logitsBuffer = buffer(c.vocabSize)
        ids = .allocate(capacity: T)
        ids.initialize(repeating: 0, count: T)
        self.allocations = allocations
        let sizes = Self.bufferFloats(config: c, chunkSize: T)
        precondition(capacities == sizes.kvCache + sizes.other, "bufferFloats and init disagree")
        transformer = Transformer(model: model)
    }

    /// Floats a state of `config` allocates with chunks of `chunkSize` (≤ the context): the KV
    /// cache, and everything else (chunk buffers, the captured attention, the logits).
    public static func bufferFloats(config c: GPTConfig, chunkSize: Int) -> (kvCache: Int, other: Int) {
        let (T, C, maxT) = (chunkSize, c.width, c.contextLength)
        let chunk = T * (3 * C + c.qkvWidth + c.attentionWidth + (c.activation == .swiglu ? 2 : 1) * c.mlpWidth)
        let attention = c.heads * T * maxT + c.layers * c.heads * maxT
        return (2 * c.layers * maxT * c.kvWidth, chunk + attention + c.vocabSize)
    }

    deinit {
        for p in allocations { p.deallocate() }
        ids.deallocate()
    }

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
        return AttentionSnapshot(layers: c.layers, heads: c.heads, kvHeads: c.kvHeads, length: length, weights: weights)
    }

    /// One chunk of ≤ chunkSize tokens through the model's parts (`Transformer.forward`), with
    /// the stream updated in place and one set of scratch buffers shared by every layer.
    private func forward(
        _ tokens: UnsafeBufferPointer<Int>, allLogits: UnsafeMutablePointer<Float>?,
        fullAttention: (pointer: UnsafeMutablePointer<Float>, total: Int)?
    ) {
        let V = model.config.vocabSize
        let T = tokens.count
        for t in 0..<T { ids[t] = Int32(tokens[t]) }
        let workspace = Workspace(state: self, T: T, fullAttention: fullAttention)
        // Final norm and head only on the rows someone reads.
        let rows = allLogits == nil ? (T - 1)..<T : 0..<T
        transformer.forward(
            tokens: ids, sequences: 1, length: T, startPosition: length, workspace: workspace, headRows: rows,
            normed: normed, statistics: nil, logits: allLogits ?? logitsBuffer)
        if let allLogits { logitsBuffer.update(from: allLogits + (T - 1) * V, count: V) }
        length += T
        forwardCount += 1
    }

    /// The inference workspace: the stream `x` updated in place, the KV cache per layer, and the
    /// attention weights of a single token written straight into the capture buffer (so capture
    /// is free for decode); a chunk's weights go to `scores` and its last rows are copied.
    private struct Workspace: TransformerWorkspace {
        // The state outlives its workspace (one forward call), so no reference counting.
        unowned(unsafe) let state: GPTState
        let T: Int
        let fullAttention: (pointer: UnsafeMutablePointer<Float>, total: Int)?

        func stream(entering layer: Int) -> UnsafeMutablePointer<Float> { state.x }

        func weights(layer l: Int) -> UnsafeMutablePointer<Float> {
            let c = state.model.config
            return T == 1 ? state.latestAttention + l * c.heads * c.contextLength : state.scores
        }

        func activations(layer l: Int) -> TransformerBlock.Activations {
            let s = state
            return TransformerBlock.Activations(
                normed1: s.normed, statistics1: nil,
                attention: SelfAttention.Activations(qkv: s.qkv, weights: weights(layer: l), merged: s.attnOut),
                afterAttention: s.x, normed2: s.normed, statistics2: nil,
                mlp: MLP.Activations(hidden: s.hidden, activated: s.hidden, gated: s.gated), sublayer: s.projected)
        }

        func context(layer l: Int) -> AttentionContext {
            let c = state.model.config
            let offset = l * c.contextLength * c.kvWidth
            return .cache(keys: state.keys + offset, values: state.values + offset, pastLength: state.length, length: T, weightStride: c.contextLength)
        }

        func blockDidRun(layer l: Int) {
            let c = state.model.config
            let (H, maxT, p0) = (c.heads, c.contextLength, state.length)
            let att = weights(layer: l)
            if T > 1 {
                let latest = state.latestAttention + l * H * maxT
                for h in 0..<H { (latest + h * maxT).update(from: att + (h * T + T - 1) * maxT, count: p0 + T) }
            }
            if let (full, total) = fullAttention {
                for h in 0..<H {
                    for t in 0..<T {
                        let dst = full + ((l * H + h) * total + p0 + t) * total
                        dst.update(from: att + (h * T + t) * maxT, count: p0 + t + 1)
                    }
                }
            }
            state.probe?.capture(layer: l, chunkStart: p0, rows: T, qkv: state.qkv, merged: state.attnOut, config: c)
        }
    }
}
