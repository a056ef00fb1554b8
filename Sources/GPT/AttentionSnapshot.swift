/// The attention weights of every layer and head for one query token, over the keys it could
/// see: the side pane's picture of "where this token looked".
///
/// A value the UI can hold on another thread while generation goes on.
public struct AttentionSnapshot: Sendable, Equatable {
    public let layers: Int
    public let heads: Int
    /// Key/value heads: `heads`, or fewer under grouped-query attention, where query head h
    /// reads key/value head `keyValueHead(of: h)`.
    public let kvHeads: Int
    /// Number of keys attended to: the query's position + 1.
    public let length: Int
    /// (layers, heads, length) row-major; each (layer, head) row sums to 1.
    public let weights: [Float]

    public init(layers: Int, heads: Int, kvHeads: Int? = nil, length: Int, weights: [Float]) {
        precondition(weights.count == layers * heads * length)
        self.layers = layers
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.length = length
        self.weights = weights
    }

    /// The key/value head that query head `head` shares with its group.
    public func keyValueHead(of head: Int) -> Int { head / max(1, heads / max(1, kvHeads)) }

    /// The weights of one head over positions 0..<length.
    public func row(layer: Int, head: Int) -> ArraySlice<Float> {
        let start = (layer * heads + head) * length
        return weights[start..<start + length]
    }
}
