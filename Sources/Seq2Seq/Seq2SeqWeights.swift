import Glibc
import GPT
import Sampling

/// Every parameter of an encoder–decoder model in one allocation, addressed through named
/// views (as `GPTWeights`). Matrices are stored (in, out), the layout `Linear` reads.
///
/// Names (N = layer index; C = width, M = MLP width, V = vocabulary, maxT = contextLength):
///
/// | name | shape | what |
/// |---|---|---|
/// | `embed.weight` | (V, C) | the shared token embedding, scaled by √C on input; also the output projection |
/// | `encoder.wpe.weight`, `decoder.wpe.weight` | (maxT, C) | learned positions only |
/// | `encoder.N.ln_1.*` | (C) | the norm of the self-attention sub-layer |
/// | `encoder.N.attn.c_attn.*` | (C, 3C), (3C) | fused q \| k \| v |
/// | `encoder.N.attn.c_proj.*` | (C, C), (C) | attention output |
/// | `encoder.N.ln_2.*` | (C) | the norm of the MLP sub-layer |
/// | `encoder.N.mlp.c_fc.*`, `encoder.N.mlp.c_proj.*` | (C, M), (M); (M, C), (C) | MLP |
/// | `encoder.ln_f.*` | (C) | pre-norm only: the encoder's final norm |
/// | `decoder.N.ln_1.*`, `decoder.N.attn.*` | | causal self-attention, as the encoder's |
/// | `decoder.N.ln_2.*` | (C) | the norm of the cross-attention sub-layer |
/// | `decoder.N.cross.c_q.*` | (C, C), (C) | queries, from the decoder stream |
/// | `decoder.N.cross.c_kv.*` | (C, 2C), (2C) | k \| v, from the encoder's output |
/// | `decoder.N.cross.c_proj.*` | (C, C), (C) | cross-attention output |
/// | `decoder.N.ln_3.*`, `decoder.N.mlp.*` | | the MLP sub-layer |
/// | `decoder.ln_f.*` | (C) | pre-norm only: the decoder's final norm |
///
/// Each norm has `.weight` and `.bias`, each projection `.weight` and `.bias`. Post-norm models
/// have no `ln_f`: their last sub-layer already ends in a LayerNorm.
public final class Seq2SeqWeights: @unchecked Sendable {
    /// One parameter tensor: where it starts in the storage, its shape and name.
    public struct Tensor: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    /// A LayerNorm's weight and bias, (C) each.
    public struct NormOffsets: Sendable {
        public let weight: Int
        public let bias: Int
    }

    /// A projection's weight (in, out) and bias (out).
    public struct LinearOffsets: Sendable {
        public let weight: Int
        public let bias: Int
    }

    public struct EncoderLayer: Sendable {
        public let ln1: NormOffsets
        public let qkv: LinearOffsets  // (C, 3C)
        public let attnProj: LinearOffsets  // (C, C)
        public let ln2: NormOffsets
        public let fc: LinearOffsets  // (C, M)
        public let fcProj: LinearOffsets  // (M, C)
    }

    public struct DecoderLayer: Sendable {
        public let ln1: NormOffsets
        public let qkv: LinearOffsets  // (C, 3C)
        public let attnProj: LinearOffsets  // (C, C)
        public let ln2: NormOffsets
        public let crossQuery: LinearOffsets  // (C, C)
        public let crossKeyValue: LinearOffsets  // (C, 2C)
        public let crossProj: LinearOffsets  // (C, C)
        public let ln3: NormOffsets
        public let fc: LinearOffsets  // (C, M)
        public let fcProj: LinearOffsets  // (M, C)
    }

    /// Where every tensor of a config lives, computed without allocating.
    public struct Layout: Sendable {
        public let tensors: [Tensor]
        public let tokenEmbedding: Int
        public let encoderPositions: Int?
        public let decoderPositions: Int?
        public let encoder: [EncoderLayer]
        public let encoderFinalNorm: NormOffsets?
        public let decoder: [DecoderLayer]
        public let decoderFinalNorm: NormOffsets?
        public let count: Int

        public init(config c: Seq2SeqConfig) {
            let (C, M) = (c.width, c.mlpWidth)
            var tensors: [Tensor] = []
            var offset = 0
            func add(_ name: String, _ shape: [Int]) -> Int {
                tensors.append(Tensor(name: name, shape: shape, offset: offset))
                defer { offset += shape.reduce(1, *) }
                return offset
            }
            func norm(_ name: String) -> NormOffsets { NormOffsets(weight: add(name + ".weight", [C]), bias: add(name + ".bias", [C])) }
            func linear(_ name: String, _ inDim: Int, _ outDim: Int) -> LinearOffsets {
                LinearOffsets(weight: add(name + ".weight", [inDim, outDim]), bias: add(name + ".bias", [outDim]))
            }
            tokenEmbedding = add("embed.weight", [c.vocabSize, C])
            let learned = c.positional == .learned
            encoderPositions = learned ? add("encoder.wpe.weight", [c.contextLength, C]) : nil
            decoderPositions = learned ? add("decoder.wpe.weight", [c.contextLength, C]) : nil
            encoder = (0..<c.encoderLayers).map { l in
                let p = "encoder.\(l)."
                return EncoderLayer(
                    ln1: norm(p + "ln_1"), qkv: linear(p + "attn.c_attn", C, 3 * C), attnProj: linear(p + "attn.c_proj", C, C),
                    ln2: norm(p + "ln_2"), fc: linear(p + "mlp.c_fc", C, M), fcProj: linear(p + "mlp.c_proj", M, C))
            }
            encoderFinalNorm = c.normPlacement == .pre ? norm("encoder.ln_f") : nil
            decoder = (0..<c.decoderLayers).map { l in
                let p = "decoder.\(l)."
                return DecoderLayer(
                    ln1: norm(p + "ln_1"), qkv: linear(p + "attn.c_attn", C, 3 * C), attnProj: linear(p + "attn.c_proj", C, C),
                    ln2: norm(p + "ln_2"), crossQuery: linear(p + "cross.c_q", C, C), crossKeyValue: linear(p + "cross.c_kv", C, 2 * C),
                    crossProj: linear(p + "cross.c_proj", C, C),
                    ln3: norm(p + "ln_3"), fc: linear(p + "mlp.c_fc", C, M), fcProj: linear(p + "mlp.c_proj", M, C))
            }
            decoderFinalNorm = c.normPlacement == .pre ? norm("decoder.ln_f") : nil
            self.tensors = tensors
            count = offset
        }
    }

    public let config: Seq2SeqConfig
    public let layout: Layout
    public var tensors: [Tensor] { layout.tensors }
    /// Number of floats in the storage.
    public var count: Int { layout.count }
    private let storage: UnsafeMutablePointer<Float>

    /// Zeroed parameters for `config`, which must already be validated (also a gradient buffer).
    public init(config: Seq2SeqConfig) {
        self.config = config
        layout = Layout(config: config)
        storage = .allocate(capacity: max(layout.count, 1))
        storage.initialize(repeating: 0, count: layout.count)
    }

    /// Seeded parameters: the embedding N(0, 1/√C) (so that, scaled by √C, a token's vector
    /// has unit variance, as fairseq's Transformer), every projection Xavier-normal
    /// N(0, √(2/(in + out))) (nn.Transformer's Xavier, normal instead of uniform), biases 0,
    /// LayerNorm weights 1; learned positions N(0, 0.02).
    public convenience init(config: Seq2SeqConfig, seed: UInt64) {
        self.init(config: config)
        var rng = SeededGenerator(seed: seed)
        func gaussian() -> Float {
            // Box–Muller; 1 − u keeps the logarithm's argument in (0, 1].
            Float((-2 * log(1 - rng.nextUnit())).squareRoot() * cos(2 * Double.pi * rng.nextUnit()))
        }
        for t in tensors {
            let std: Float
            if t.name.hasSuffix(".bias") || t.name.contains(".ln_") {
                withMutableTensor(t) { $0.update(repeating: t.name.hasSuffix(".weight") ? 1 : 0) }
                continue
            } else if t.name == "embed.weight" {
                std = 1 / Float(config.width).squareRoot()
            } else if t.name.hasSuffix("wpe.weight") {
                std = 0.02
            } else {
                std = (2 / Float(t.shape[0] + t.shape[1])).squareRoot()
            }
            withMutableTensor(t) { values in for i in values.indices { values[i] = std * gaussian() } }
        }
    }

    deinit { storage.deallocate() }

    /// The tensor called `name`, if the model has it.
    public func tensor(named name: String) -> Tensor? { tensors.first { $0.name == name } }

    public func withTensor<R>(_ tensor: Tensor, _ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage + tensor.offset, count: tensor.count))
    }

    /// Write access to one tensor: for loaders, the trainer and tests, before the weights are shared.
    public func withMutableTensor<R>(_ tensor: Tensor, _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage + tensor.offset, count: tensor.count))
    }

    /// Every parameter as one flat buffer in `tensors` order (optimisers, gradient buffers).
    public func withMutableStorage<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeMutableBufferPointer(start: storage, count: count))
    }

    public func withStorage<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage, count: count))
    }

    /// Sets every parameter to zero (a gradient buffer before the next backward).
    public func zero() { storage.update(repeating: 0, count: count) }

    /// A pointer to the parameter at `offset`, for the parts.
    func pointer(_ offset: Int) -> UnsafeMutablePointer<Float> { storage + offset }
}
