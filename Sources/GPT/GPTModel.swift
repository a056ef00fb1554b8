import Kernels

/// A loaded model: config, weights and the fixed tables its position encoding needs.
/// Immutable and shareable; each conversation runs it through its own `GPTState`.
public final class GPTModel: Sendable {
    public let config: GPTConfig
    public let weights: GPTWeights
    /// (maxT, C) sinusoidal table, for `.sinusoidal` only.
    let sinusoids: [Float]?
    /// (maxT, hs/2) rotary cos and sin tables, for `.rope` only.
    let rotary: (cos: [Float], sin: [Float])?

    public init(weights: GPTWeights) {
        let config = weights.config
        self.config = config
        self.weights = weights
        sinusoids = config.positional == .sinusoidal ? sinusoidalTable(positions: config.contextLength, width: config.width) : nil
        rotary = config.positional == .rope ? rotaryTables(positions: config.contextLength, headSize: config.headSize, theta: config.ropeTheta) : nil
        Threads.configure()
    }
}

/// The attention weights of every layer and head for one query token, over the keys it could
/// see: the side pane's picture of "where this token looked".
///
/// A value the UI can hold on another thread while generation goes on.
public struct AttentionSnapshot: Sendable, Equatable {
    public let layers: Int
    public let heads: Int
    /// Number of keys attended to: the query's position + 1.
    public let length: Int
    /// (layers, heads, length) row-major; each (layer, head) row sums to 1.
    public let weights: [Float]

    public init(layers: Int, heads: Int, length: Int, weights: [Float]) {
        precondition(weights.count == layers * heads * length)
        self.layers = layers
        self.heads = heads
        self.length = length
        self.weights = weights
    }

    /// The weights of one head over positions 0..<length.
    public func row(layer: Int, head: Int) -> ArraySlice<Float> {
        let start = (layer * heads + head) * length
        return weights[start..<start + length]
    }
}
