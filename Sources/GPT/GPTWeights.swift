import Kernels

/// Memory for packed matrices, freed with the weights that point into it.
final class PackedMemory: @unchecked Sendable {
    private var blocks: [UnsafeMutableRawPointer] = []

    /// A new uninitialised block of `bytes`, 64-byte aligned.
    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        let block = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
        blocks.append(block)
        return block
    }

    deinit { for block in blocks { block.deallocate() } }
}

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

    /// The views into `storage` one block needs; a nil offset is a tensor the config leaves out
    /// (biases of a Llama, LayerNorm biases under RMSNorm, the gate of a GELU MLP).
    /// Q = qkvWidth, A = attentionWidth (C unless the config sets `headDimension`).
    public struct Layer: Sendable {
        public let ln1Weight: Int  // (C)
        public let ln1Bias: Int?  // (C), LayerNorm only
        public let qkvWeight: Int  // (C, Q)
        public let qkvBias: Int?  // (Q)
        public let attnProjWeight: Int  // (A, C)
        public let attnProjBias: Int?  // (C)
        public let ln2Weight: Int  // (C)
        public let ln2Bias: Int?  // (C)
        public let fcWeight: Int  // (C, M), the up projection
        public let fcBias: Int?  // (M)
        public let gateWeight: Int?  // (C, M), SwiGLU only
        public let gateBias: Int?  // (M)
        public let fcProjWeight: Int  // (M, C), the down projection
        public let fcProjBias: Int?  // (C)
    }

    public let config: GPTConfig
    /// All tensors in storage order.
    public let tensors: [Tensor]
    public let tokenEmbedding: Int  // (V, C), also the LM head when tied
    public let positionEmbedding: Int?  // (maxT, C), learned positions only
    public let layers: [Layer]
    public let lnFinalWeight: Int  // (C)
    public let lnFinalBias: Int?  // (C), LayerNorm only
    public let lmHead: Int?  // (V, C), untied heads only
    /// Number of floats in `storage`.
    public let count: Int
    @usableFromInline let storage: UnsafeMutablePointer<Float>
    /// Matrices kept in the dtype they were stored in (F16, BF16, Q8), by tensor name, laid out
    /// (out, in) — `nn.Linear`'s order, whatever the file's. They are not in `tensors` or
    /// `storage`: such a model runs but does not train. Empty for an F32 model.
    public let packed: [String: PackedMatrix]
    /// Owns the memory `packed` points into.
    private let packedMemory: PackedMemory?

    /// Where every tensor of a config lives in `storage`: computed without allocating, so a
    /// loader can check a file's names and shapes before committing memory to the parameters.
    /// Names are GPT-2's (`h.N.attn.c_attn.weight`, matrices (in, out)) whatever the family; a
    /// Llama-family checkpoint is mapped onto them by its loader. Additions: `h.N.mlp.c_gate.*`
    /// (SwiGLU) and `lm_head.weight` (untied head).
    public struct Layout: Sendable {
        public let tensors: [Tensor]
        public let tokenEmbedding: Int
        public let positionEmbedding: Int?
        public let layers: [Layer]
        public let lnFinalWeight: Int
        public let lnFinalBias: Int?
        public let lmHead: Int?
        public let count: Int

        /// The names of the matrices a model may keep packed: every projection, the token
        /// embedding (also the tied head) and an untied head — not norms, biases or `wpe`.
        public static func isPackable(_ name: String) -> Bool {
            name == "wte.weight" || name == "lm_head.weight"
                || (name.hasSuffix(".weight") && (name.contains(".attn.") || name.contains(".mlp.")))
        }

        /// The (V, C) tables — the token embedding and an untied head — whose rows are outputs
        /// in every layout; a projection is (in, out) in F32 and (out, in) when packed.
        public static func isTable(_ name: String) -> Bool { name == "wte.weight" || name == "lm_head.weight" }

        /// - Parameter packed: names (see `isPackable`) kept outside `storage`: they get no
        ///   `tensors` entry and an offset of -1, which nothing reads.
        public init(config: GPTConfig, packed: Set<String> = []) {
            let C = config.width, M = config.mlpWidth, Q = config.qkvWidth, A = config.attentionWidth
            let layerNorm = config.norm == .layerNorm
            var tensors: [Tensor] = []
            var offset = 0
            func add(_ name: String, _ shape: [Int]) -> Int {
                if packed.contains(name) { return -1 }
                tensors.append(Tensor(name: name, shape: shape, offset: offset))
                defer { offset += shape.reduce(1, *) }
                return offset
            }
            func add(_ name: String, _ shape: [Int], if present: Bool) -> Int? { present ? add(name, shape) : nil }
            tokenEmbedding = add("wte.weight", [config.vocabSize, C])
            positionEmbedding = add("wpe.weight", [config.contextLength, C], if: config.positional == .learned)
            var layers: [Layer] = []
            for l in 0..<config.layers {
                let p = "h.\(l)."
                let swiglu = config.activation == .swiglu
                layers.append(
                    Layer(
                        ln1Weight: add(p + "ln_1.weight", [C]), ln1Bias: add(p + "ln_1.bias", [C], if: layerNorm),
                        qkvWeight: add(p + "attn.c_attn.weight", [C, Q]), qkvBias: add(p + "attn.c_attn.bias", [Q], if: config.qkvBias),
                        attnProjWeight: add(p + "attn.c_proj.weight", [A, C]),
                        attnProjBias: add(p + "attn.c_proj.bias", [C], if: config.attentionOutputBias),
                        ln2Weight: add(p + "ln_2.weight", [C]), ln2Bias: add(p + "ln_2.bias", [C], if: layerNorm),
                        fcWeight: add(p + "mlp.c_fc.weight", [C, M]), fcBias: add(p + "mlp.c_fc.bias", [M], if: config.mlpBias),
                        gateWeight: add(p + "mlp.c_gate.weight", [C, M], if: swiglu),
                        gateBias: add(p + "mlp.c_gate.bias", [M], if: swiglu && config.mlpBias),
                        fcProjWeight: add(p + "mlp.c_proj.weight", [M, C]), fcProjBias: add(p + "mlp.c_proj.bias", [C], if: config.mlpBias)))
            }
            self.layers = layers
            lnFinalWeight = add("ln_f.weight", [C])
            lnFinalBias = add("ln_f.bias", [C], if: layerNorm)
            lmHead = add("lm_head.weight", [config.vocabSize, C], if: !config.tiedEmbeddings)
            self.tensors = tensors
            count = offset
            precondition(!packed.isEmpty || count == config.parameterCount, "tensor table and parameterCount disagree")
        }
    }

    /// Allocates zeroed parameters for `config`, which must already be validated.
    public convenience init(config: GPTConfig) { self.init(config: config, packed: [:], memory: nil) }

    /// Zeroed F32 parameters for every tensor of `config` except `packed`, which `memory` owns.
    init(config: GPTConfig, packed: [String: PackedMatrix], memory: PackedMemory?) {
        self.config = config
        self.packed = packed
        packedMemory = memory
        let layout = Layout(config: config, packed: Set(packed.keys))
        tensors = layout.tensors
        tokenEmbedding = layout.tokenEmbedding
        positionEmbedding = layout.positionEmbedding
        layers = layout.layers
        lnFinalWeight = layout.lnFinalWeight
        lnFinalBias = layout.lnFinalBias
        lmHead = layout.lmHead
        count = layout.count
        storage = .allocate(capacity: count)
        storage.initialize(repeating: 0, count: count)
    }

    deinit { storage.deallocate() }

    /// Bytes the parameters occupy in memory: F32 storage plus the packed matrices.
    public var residentBytes: Int {
        count * MemoryLayout<Float>.size + packed.values.reduce(0) { $0 + $1.byteCount }
    }

    /// The dtypes the weights are held in, e.g. ["F16", "F32"]: what `info` and `bench` report.
    public var heldDTypes: [String] {
        var names = Set(packed.values.map { $0.format.rawValue.uppercased() })
        if count > 0 { names.insert("F32") }
        return names.sorted()
    }

    /// Any tensor's values as F32 in attnchat's layout (matrices (in, out), the embedding and
    /// head (V, C)), packed or not: for writing a model in another dtype.
    public func floatValues(name: String, shape: [Int]) -> [Float] {
        if let t = tensor(named: name) { return withTensor(t) { Array($0) } }
        guard let matrix = packed[name] else { preconditionFailure("no tensor \(name)") }
        var rows = [Float](repeating: 0, count: matrix.rows * matrix.columns)
        rows.withUnsafeMutableBufferPointer { out in
            for r in 0..<matrix.rows { dequantizeRow(matrix, row: r, into: out.baseAddress! + r * matrix.columns) }
        }
        if Layout.isTable(name) { return rows }
        // A projection: stored (out, in), attnchat's files hold it (in, out).
        var values = [Float](repeating: 0, count: rows.count)
        for o in 0..<matrix.rows {
            for i in 0..<matrix.columns { values[i * matrix.rows + o] = rows[o * matrix.columns + i] }
        }
        return values
    }

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
            let isLayerNormWeight = t.name.contains("ln_") && t.name.hasSuffix(".weight")  // RMSNorm's too
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

import Glibc
