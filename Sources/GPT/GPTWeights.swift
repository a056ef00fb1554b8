/// Every parameter of a model in one allocation (llm.c's `ParameterTensors`), addressed through
/// named views. Layout and names follow Hugging Face's GPT-2: matrices are stored (in, out) as
/// its `Conv1D` does, so a checkpoint is copied in without transposing.
///
/// Immutable once shared. Only two kinds of code write to `storage`: the loaders and initialisers
/// in this module, before the value is shared, and the trainer, which owns the weights while it
/// trains (no other thread runs the model then). The trainer's writes go through the
/// `@_spi(Training)` methods, so every file that mutates weights says so with
/// `@_spi(Training) import GPT`; that is what makes `@unchecked Sendable` hold.
public final class GPTWeights: @unchecked Sendable {
    /// One parameter tensor: where it starts in `storage`, its shape, and its Hugging Face name
    /// (without the optional `transformer.` prefix).
    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    /// The views into `storage` one block needs.
    public struct Layer: Sendable {
        public let ln1Weight, ln1Bias: Int  // (C)
        public let qkvWeight, qkvBias: Int  // (C, 3C), (3C)
        public let attnProjWeight, attnProjBias: Int  // (C, C), (C)
        public let ln2Weight, ln2Bias: Int  // (C)
        public let fcWeight, fcBias: Int  // (C, M), (M)
        public let fcProjWeight, fcProjBias: Int  // (M, C), (C)
    }

    public let config: GPTConfig
    /// All tensors in storage order.
    public let tensors: [Tensor]
    public let tokenEmbedding: Int  // (V, C), also the LM head
    public let positionEmbedding: Int?  // (maxT, C), learned positions only
    public let layers: [Layer]
    public let lnFinalWeight, lnFinalBias: Int  // (C)
    /// Number of floats in `storage`.
    public let count: Int
    @usableFromInline let storage: UnsafeMutablePointer<Float>

    /// Where every tensor of a config lives in `storage`: computed without allocating, so a
    /// loader can check a file's names and shapes before committing memory to the parameters.
    public struct Layout: Sendable {
        public let tensors: [Tensor]
        public let tokenEmbedding: Int
        public let positionEmbedding: Int?
        public let layers: [Layer]
        public let lnFinalWeight, lnFinalBias: Int
        public let count: Int

        public init(config: GPTConfig) {
            let C = config.width, M = config.mlpWidth
            var tensors: [Tensor] = []
            var offset = 0
            func add(_ name: String, _ shape: [Int]) -> Int {
                tensors.append(Tensor(name: name, shape: shape, offset: offset))
                defer { offset += shape.reduce(1, *) }
                return offset
            }
            tokenEmbedding = add("wte.weight", [config.vocabSize, C])
            positionEmbedding = config.positional == .learned ? add("wpe.weight", [config.contextLength, C]) : nil
            var layers: [Layer] = []
            for l in 0..<config.layers {
                let p = "h.\(l)."
                layers.append(
                    Layer(
                        ln1Weight: add(p + "ln_1.weight", [C]), ln1Bias: add(p + "ln_1.bias", [C]),
                        qkvWeight: add(p + "attn.c_attn.weight", [C, 3 * C]), qkvBias: add(p + "attn.c_attn.bias", [3 * C]),
                        attnProjWeight: add(p + "attn.c_proj.weight", [C, C]), attnProjBias: add(p + "attn.c_proj.bias", [C]),
                        ln2Weight: add(p + "ln_2.weight", [C]), ln2Bias: add(p + "ln_2.bias", [C]),
                        fcWeight: add(p + "mlp.c_fc.weight", [C, M]), fcBias: add(p + "mlp.c_fc.bias", [M]),
                        fcProjWeight: add(p + "mlp.c_proj.weight", [M, C]), fcProjBias: add(p + "mlp.c_proj.bias", [C])))
            }
            self.layers = layers
            lnFinalWeight = add("ln_f.weight", [C])
            lnFinalBias = add("ln_f.bias", [C])
            self.tensors = tensors
            count = offset
            precondition(count == config.parameterCount, "tensor table and parameterCount disagree")
        }
    }

    /// Allocates zeroed parameters for `config`, which must already be validated.
    public init(config: GPTConfig) {
        self.config = config
        let layout = Layout(config: config)
        tensors = layout.tensors
        tokenEmbedding = layout.tokenEmbedding
        positionEmbedding = layout.positionEmbedding
        layers = layout.layers
        lnFinalWeight = layout.lnFinalWeight
        lnFinalBias = layout.lnFinalBias
        count = layout.count
        storage = .allocate(capacity: count)
        storage.initialize(repeating: 0, count: count)
    }

    deinit { storage.deallocate() }

    /// The tensor called `name` (Hugging Face naming, no `transformer.` prefix), if the model has it.
    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }

    /// Read access to one tensor's values.
    public func withTensor<R>(_ tensor: Tensor, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage + tensor.offset, count: tensor.count))
    }

    /// Write access to one tensor's values; for the trainer and tests, before sharing.
    @_spi(Training) public func withMutableTensor<R>(_ tensor: Tensor, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage + tensor.offset, count: tensor.count))
    }

    /// The storage of one tensor, for loaders in this module before the weights are shared.
    func mutableBuffer(_ tensor: Tensor) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: storage + tensor.offset, count: tensor.count)
    }

    /// Every parameter as one flat buffer, in `tensors` order, for optimisers and gradient
    /// buffers. Only while no other thread runs the model.
    @_spi(Training) public func withMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage, count: count))
    }

    /// Read access to every parameter as one flat buffer, in `tensors` order.
    public func withStorage<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage, count: count))
    }

    /// A mutable pointer to the parameter at `offset` (gradient buffers).
    @inlinable func mutablePointer(_ offset: Int) -> UnsafeMutablePointer<Float> { storage + offset }

    /// A pointer to the parameter at `offset`.
    @inlinable func pointer(_ offset: Int) -> UnsafePointer<Float> { UnsafePointer(storage + offset) }

    /// New parameters for `config` (already validated) with GPT-2's initialisation, seeded:
    /// weights N(0, std), the residual projections scaled by 1/√(2·layers), biases 0, LayerNorm
    /// weights 1. For new models, tests and benchmarks.
    public convenience init(config: GPTConfig, seed: UInt64, std: Float = 0.02) {
        self.init(config: config)
        initialiseRandomly(seed: seed, std: std)
    }

    /// Redraws every parameter as `init(config:seed:std:)` does.
    @_spi(Training) public func initialiseRandomly(seed: UInt64, std: Float = 0.02) {
        var rng = SplitMix64(seed: seed)
        for t in tensors {
            let isBias = t.name.hasSuffix(".bias")
            let isLayerNormWeight = t.name.contains("ln_") && t.name.hasSuffix(".weight")
            let scale = t.name.hasSuffix("c_proj.weight") ? std / Float(2 * config.layers).squareRoot() : std
            withMutableTensor(t) { values in
                for i in values.indices {
                    values[i] = isBias ? 0 : isLayerNormWeight ? 1 : scale * rng.nextGaussian()
                }
            }
        }
    }
}

/// A small, fast, seedable generator (Steele et al., SplitMix64) for weight initialisation.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    mutating func nextUnit() -> Double { (Double(next() >> 11) + 1) * 0x1p-53 }
    /// Standard normal by Box–Muller.
    mutating func nextGaussian() -> Float {
        Float((-2 * log(nextUnit())).squareRoot() * cos(2 * Double.pi * nextUnit()))
    }
}

import Foundation
