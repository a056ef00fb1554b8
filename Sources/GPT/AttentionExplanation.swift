import Glibc

/// One head's self-attention for one query position, step by step, on the numbers generation
/// computed: what `attnchat explain` prints. Positions are 0-based here.
public struct AttentionExplanation: Sendable, Equatable {
    public let layer: Int
    public let head: Int
    /// The key/value head `head` reads: `head` itself, or its group's under grouped-query attention.
    public let keyValueHead: Int
    /// The query's position.
    public let position: Int
    /// Tokens the keys come from (the prompt); positions `keys.count..<tokenCount` are the ones
    /// the causal mask removes (none for an encoder's or a cross-attention's query).
    public let tokenCount: Int
    /// (hs): the head's query at `position`, after rotary positions if the model uses them.
    public let query: [Float]
    /// (visible, hs): the head's key and value of every visible position — position + 1 of them
    /// under a causal mask, every one for an encoder's or a cross-attention's query.
    public let keys: [[Float]]
    public let values: [[Float]]
    /// (visible): q·k for every visible key.
    public let scores: [Float]
    /// 1/√hs.
    public let scale: Float
    /// (visible): scores · scale.
    public let scaled: [Float]
    /// The positions the causal mask removes (score −∞, weight exactly 0): every later one.
    public var maskedPositions: Range<Int> { keys.count..<tokenCount }
    /// (visible): softmax of `scaled`, computed here step by step.
    public let weights: [Float]
    /// (hs): the head's output as the model computed it during the forward — the weighted sum
    /// of `values` by the model's own attention weights.
    public let output: [Float]

    public init(
        layer: Int, head: Int, position: Int, tokenCount: Int, query: [Float], keys: [[Float]], values: [[Float]],
        scores: [Float], scale: Float, scaled: [Float], weights: [Float], output: [Float], keyValueHead: Int? = nil
    ) {
        self.layer = layer
        self.head = head
        self.keyValueHead = keyValueHead ?? head
        self.position = position
        self.tokenCount = tokenCount
        self.query = query
        self.keys = keys
        self.values = values
        self.scores = scores
        self.scale = scale
        self.scaled = scaled
        self.weights = weights
        self.output = output
    }

    /// The explanation of a query against its visible `keys`: scores, scaling and softmax
    /// recomputed here step by step (in Double), `output` as the forward computed it.
    public init(
        layer: Int, head: Int, position: Int, tokenCount: Int, query: [Float], keys: [[Float]], values: [[Float]], output: [Float],
        keyValueHead: Int? = nil
    ) {
        let scale = 1 / Float(query.count).squareRoot()
        let scores = keys.map { k in Float(zip(query, k).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }) }
        let scaled = scores.map { $0 * scale }
        let top = Double(scaled.max()!)
        let exps = scaled.map { exp(Double($0) - top) }
        let total = exps.reduce(0, +)
        self.init(
            layer: layer, head: head, position: position, tokenCount: tokenCount, query: query, keys: keys, values: values,
            scores: scores, scale: scale, scaled: scaled, weights: exps.map { Float($0 / total) }, output: output, keyValueHead: keyValueHead)
    }
}

/// Copies, during one forward, the fused Q/K/V row and the merged head outputs of one position
/// in every layer: with the KV cache that forward fills, all that any layer's and head's
/// explanation needs.
final class AttentionProbe {
    let position: Int
    /// Per layer: (Q) fused q | k | v and (A) merged heads, empty until the forward reaches the position.
    private(set) var qkvRows: [[Float]]
    private(set) var mergedRows: [[Float]]

    init(position: Int, layers: Int) {
        self.position = position
        qkvRows = Array(repeating: [], count: layers)
        mergedRows = Array(repeating: [], count: layers)
    }

    func capture(layer l: Int, chunkStart p0: Int, rows T: Int, qkv: UnsafePointer<Float>, merged: UnsafePointer<Float>, config c: GPTConfig) {
        guard (p0..<(p0 + T)).contains(position) else { return }
        let r = position - p0
        let (Q, A) = (c.qkvWidth, c.attentionWidth)
        qkvRows[l] = Array(UnsafeBufferPointer(start: qkv + r * Q, count: Q))
        mergedRows[l] = Array(UnsafeBufferPointer(start: merged + r * A, count: A))
    }
}

extension GPTState {
    /// Runs `tokens` through the model (the ordinary prefill: same parts, same KV cache) and
    /// takes apart the attention of `head` in `layer` for the query at `position`.
    ///
    /// One prefill serves every layer and head: asked again for the same tokens and position
    /// while the state still holds them, this reads the cache instead of running the model.
    /// The state is reset first and holds the prompt afterwards.
    /// - Parameters: layer, head, position: 0-based, within the model and the prompt.
    /// - Throws: `GPTError` for ids out of range or a prompt longer than the context.
    public func explainAttention(tokens: [Int], layer: Int, head: Int, position: Int) throws(GPTError) -> AttentionExplanation {
        let c = model.config
        precondition((0..<c.layers).contains(layer) && (0..<c.heads).contains(head) && (0..<tokens.count).contains(position))
        let (K, hs, maxT) = (c.kvWidth, c.headSize, c.contextLength)
        let kvHead = head / (c.heads / c.kvHeads)
        let probe: AttentionProbe
        if let last = inspection, last.tokens == tokens, last.probe.position == position, last.forwards == forwardCount, length == tokens.count {
            probe = last.probe
        } else {
            inspection = nil
            reset()
            probe = AttentionProbe(position: position, layers: c.layers)
            self.probe = probe
            defer { self.probe = nil }
            try prefill(tokens)
            inspection = (tokens, probe, forwardCount)
        }

        let query = Array(probe.qkvRows[layer][(head * hs)..<((head + 1) * hs)])
        let layerKeys = keys + layer * maxT * K, layerValues = values + layer * maxT * K
        let visible = 0...position
        let keyRows = visible.map { j in Array(UnsafeBufferPointer(start: layerKeys + j * K + kvHead * hs, count: hs)) }
        let valueRows = visible.map { j in Array(UnsafeBufferPointer(start: layerValues + j * K + kvHead * hs, count: hs)) }
        return AttentionExplanation(
            layer: layer, head: head, position: position, tokenCount: tokens.count, query: query, keys: keyRows, values: valueRows,
            output: Array(probe.mergedRows[layer][(head * hs)..<((head + 1) * hs)]), keyValueHead: kvHead)
    }
}
