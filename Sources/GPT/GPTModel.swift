import Kernels

/// A loaded model: config, weights and the fixed tables its position encoding needs.
/// Immutable and shareable; each conversation runs it through its own `GPTState`.
public final class GPTModel: Sendable {
    public let config: GPTConfig
    public let weights: GPTWeights
    /// The sinusoidal or rotary tables, if the config uses them.
    let tables: PositionTables

    public init(weights: GPTWeights) {
        let config = weights.config
        self.config = config
        self.weights = weights
        tables = PositionTables(config: config)
        Threads.configure()
    }
}

/// The position tables that are not weights, in one allocation the model's parts can point into:
/// (maxT, C) sinusoids for `.sinusoidal`; (maxT, hs/2) cos and sin for `.rope`.
///
/// `@unchecked Sendable`: written once in `init`, only read afterwards.
final class PositionTables: @unchecked Sendable {
    private let storage: UnsafeMutablePointer<Float>?
    let sinusoids: UnsafePointer<Float>?
    let rotary: (cos: UnsafePointer<Float>, sin: UnsafePointer<Float>)?

    init(config c: GPTConfig) {
        switch c.positional {
        case .learned:
            storage = nil
            sinusoids = nil
            rotary = nil
        case .sinusoidal:
            let table = sinusoidalTable(positions: c.contextLength, width: c.width)
            let p = UnsafeMutablePointer<Float>.allocate(capacity: table.count)
            p.initialize(from: table, count: table.count)
            storage = p
            sinusoids = UnsafePointer(p)
            rotary = nil
        case .rope:
            let (cos, sin) = rotaryTables(positions: c.contextLength, headSize: c.headSize, theta: c.ropeTheta)
            let p = UnsafeMutablePointer<Float>.allocate(capacity: cos.count + sin.count)
            p.initialize(from: cos, count: cos.count)
            (p + cos.count).initialize(from: sin, count: sin.count)
            storage = p
            sinusoids = nil
            rotary = (UnsafePointer(p), UnsafePointer(p + cos.count))
        }
    }

    deinit { storage?.deallocate() }
}
