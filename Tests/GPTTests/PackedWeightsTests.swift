import FileIO
import Foundation
import Kernels
import Safetensors
import Testing
@_spi(Training) @testable import GPT

/// F16, BF16 and 8-bit matrices stay as stored in memory, and the model they make computes what
/// the same weights upcast to F32 compute.
@Suite struct PackedWeightsTests {
    /// Width 64 and MLP 256, so every matrix splits into blocks of 32 (8-bit needs that).
    static func model(seed: UInt64 = 5) -> GPTModel {
        let config = GPTConfig(vocabSize: 96, contextLength: 32, layers: 2, heads: 4, width: 64)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: seed, std: 0.1)
        return GPTModel(weights: weights)
    }

    static let prompt = [3, 70, 11, 95, 0, 42, 42, 7]

    /// Logits of every prompt position (prefill, the GEMM path) and of three decoded tokens (the GEMV path).
    static func logits(_ model: GPTModel) throws -> [Float] {
        let state = GPTState(model: model)
        var all = [Float](repeating: 0, count: prompt.count * model.config.vocabSize)
        try all.withUnsafeMutableBufferPointer { _ = try state.prefill(prompt, allLogits: $0) }
        for token in [9, 1, 64] { all += Array(try state.decode(token)) }
        return all
    }

    static func worst(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    /// The file of `dtype` loaded twice: as inference keeps it, and upcast as the trainer loads it.
    static func loadBothWays(dtype: DType) throws -> (packed: GPTModel, upcast: GPTModel, source: ModelSource) {
        let path = SaveLoadTests.temporaryPath("m.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model().save(to: path, dtype: dtype, existing: .replace)
        let (packed, source) = try GPTModel.load(path: path)
        let file = try SafetensorsFile(path: path)
        let upcast = try GPTModel.load(file: file, metadata: file.metadata, ignoring: [])
        return (packed, upcast, source)
    }

    @Test(arguments: [DType.F16, .BF16])
    func halfPrecisionMatricesStayHalfSizeAndMatchTheirF32Upcast(dtype: DType) throws {
        let (packed, upcast, source) = try Self.loadBothWays(dtype: dtype)
        #expect(source.dtypes == [dtype.rawValue])
        // Every projection and the embedding are packed; norms, biases and wpe are F32.
        let c = packed.config
        #expect(packed.weights.packed.count == 4 * c.layers + 1)
        #expect(packed.weights.packed.values.allSatisfy { $0.format == (dtype == .F16 ? .f16 : .bf16) })
        #expect(upcast.weights.packed.isEmpty)
        let matrices = packed.weights.packed.values.reduce(0) { $0 + $1.rows * $1.columns }
        #expect(upcast.weights.residentBytes - packed.weights.residentBytes == matrices * 2)
        #expect(Self.worst(try Self.logits(packed), try Self.logits(upcast)) < 1e-4)
    }

    /// Hugging Face GPT-2 files prefix their names with `transformer.`; the packed matrices are
    /// found under attnchat's names, which the parts look up.
    @Test(arguments: ["tiny-odd-f16", "tiny-odd-bf16"])
    func prefixedHuggingFaceNamesArePackedUnderAttnchatNames(fixture: String) throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path(fixture))
        let layoutNames = Set(GPTWeights.Layout(config: model.config).tensors.map(\.name).filter(GPTWeights.Layout.isPackable))
        #expect(Set(model.weights.packed.keys) == layoutNames)
        #expect(model.weights.packed["wte.weight"]?.rows == model.config.vocabSize)
    }

    @Test(arguments: Quantization.allCases)
    func quantizedExportKeepsIntegersAndScalesAndStaysCloseToF32(scheme: Quantization) throws {
        let model = Self.model()
        let path = SaveLoadTests.temporaryPath("q.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try model.saveQuantized(to: path, scheme: scheme, existing: .replace)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata[GPTModel.quantizationKey] == scheme.rawValue)
        // Projections are (out, in) once quantized, with one scale per 32 inputs.
        let perByte = scheme == .q8 ? 1 : 2
        #expect(file["h.0.attn.c_attn.weight"]?.dtype == (scheme == .q8 ? .I8 : .U8))
        #expect(file["h.0.attn.c_attn.weight"]?.shape == [192, 64 / perByte])
        #expect(file["h.0.attn.c_attn.weight_scale"]?.shape == [192, 2])
        #expect(file["wte.weight"]?.shape == [96, 64 / perByte])
        #expect(file["h.0.ln_1.weight"]?.dtype == .F32)
        let (loaded, source) = try GPTModel.load(path: path)
        #expect(source.quantization == scheme)
        #expect(source.dtypes == ["F32", scheme == .q8 ? "I8" : "U8"])
        #expect(loaded.weights.packed.values.allSatisfy { $0.format.rawValue == (scheme == .q8 ? "q8" : "q4") })
        #expect(loaded.weights.residentBytes < model.weights.residentBytes / (scheme == .q8 ? 3 : 5))
        // Each weight is off by at most half a step of its block (a 4-bit block's far end, which
        // clamps from 8 to 7, by a whole step); a step is the block's largest magnitude / 127 or / 8.
        for t in model.weights.tensors where loaded.weights.packed[t.name] != nil {
            let original = model.weights.withTensor(t) { Array($0) }
            let largest = original.map(abs).max()!
            let error = Self.worst(loaded.weights.floatValues(name: t.name, shape: t.shape), original)
            #expect(error > 0 && error <= largest / (scheme == .q8 ? 254 : 8) * 1.0001, "\(t.name)")
        }
        let difference = Self.worst(try Self.logits(loaded), try Self.logits(model))
        #expect(difference > 0 && difference < (scheme == .q8 ? 0.05 : 2), "\(difference)")
        // Writing the quantized model again gives the same integers and scales.
        let again = SaveLoadTests.temporaryPath("q-again.safetensors")
        defer { try? FileManager.default.removeItem(atPath: again) }
        try loaded.saveQuantized(to: again, scheme: scheme, existing: .replace)
        let second = try SafetensorsFile(path: again)
        for info in file.tensors {
            let a = try file.withRawBytes(of: info.name) { Array($0) }
            let b = try second.withRawBytes(of: info.name) { Array($0) }
            #expect(a == b, "\(info.name)")
        }
    }

    /// A quantized model written as F32 is the dequantized weights, in attnchat's own layout.
    @Test(arguments: Quantization.allCases)
    func quantizedModelWritesBackAsF32(scheme: Quantization) throws {
        let q = SaveLoadTests.temporaryPath("q.safetensors"), f32 = SaveLoadTests.temporaryPath("f32.safetensors")
        defer { for p in [q, f32] { try? FileManager.default.removeItem(atPath: p) } }
        try Self.model().saveQuantized(to: q, scheme: scheme, existing: .replace)
        let (quantized, _) = try GPTModel.load(path: q)
        try quantized.save(to: f32, existing: .replace)
        let (plain, source) = try GPTModel.load(path: f32)
        #expect(source.dtypes == ["F32"] && plain.weights.packed.isEmpty)
        #expect(Self.worst(try Self.logits(plain), try Self.logits(quantized)) < 1e-4)
    }

    @Test func theTrainerRefusesAQuantizedFile() throws {
        let path = SaveLoadTests.temporaryPath("q8.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Self.model().saveQuantized(to: path, scheme: .q8, existing: .replace)
        let file = try SafetensorsFile(path: path)
        #expect(throws: GPTError.badConfig(path: path, reason: "a quantized model does not train; train from its F32 or F16 original")) {
            _ = try GPTModel.load(file: file, metadata: file.metadata, ignoring: [])
        }
    }

    /// Packing in memory (what `bench --dtype` does) gives the model a file of that dtype loads as.
    @Test(arguments: [PackedMatrix.Format.f16, .bf16, .q8, .q4])
    func packingInMemoryEqualsLoadingThatDType(format: PackedMatrix.Format) throws {
        let model = Self.model()
        let path = SaveLoadTests.temporaryPath("m.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        switch format {
        case .f16: try model.save(to: path, dtype: .F16, existing: .replace)
        case .bf16: try model.save(to: path, dtype: .BF16, existing: .replace)
        case .q8: try model.saveQuantized(to: path, scheme: .q8, existing: .replace)
        default: try model.saveQuantized(to: path, scheme: .q4, existing: .replace)
        }
        let fromFile = try GPTModel.load(path: path).model
        let inMemory = model.packed(as: format)
        #expect(inMemory.weights.packed.keys.sorted() == fromFile.weights.packed.keys.sorted())
        #expect(inMemory.weights.residentBytes == fromFile.weights.residentBytes)
        for (name, matrix) in inMemory.weights.packed {
            let stored = fromFile.weights.packed[name]!
            #expect(memcmp(matrix.elements, stored.elements, matrix.byteCount - (matrix.scales == nil ? 0 : matrix.rows * matrix.columns / 8)) == 0, "\(name)")
        }
        // A half-width file rounds norms and biases too; a quantized one keeps them F32, as memory does.
        if format == .q8 || format == .q4 { #expect(try Self.logits(inMemory) == (try Self.logits(fromFile))) }
    }

    /// Rewrites one tensor's bytes (or the metadata) of a saved file.
    static func edited(
        _ dtype: DType, quantized: Bool = false, metadata edit: (inout [String: String]) -> Void = { _ in },
        tensor name: String? = nil, _ change: (inout [UInt8]) -> Void = { _ in }
    ) throws -> String {
        let source = SaveLoadTests.temporaryPath("source.safetensors")
        defer { try? FileManager.default.removeItem(atPath: source) }
        if quantized { try model().saveQuantized(to: source, scheme: .q8, existing: .replace) } else { try model().save(to: source, dtype: dtype, existing: .replace) }
        let file = try SafetensorsFile(path: source)
        var metadata = file.metadata
        edit(&metadata)
        let tensors = try file.tensors.map { info in
            var bytes = try file.withRawBytes(of: info.name) { Array($0) }
            if info.name == name { change(&bytes) }
            return SafetensorsWriter.Tensor(name: info.name, dtype: info.dtype, shape: info.shape, bytes: bytes)
        }
        let path = SaveLoadTests.temporaryPath("edited.safetensors")
        try SafetensorsWriter.write(to: path, tensors: tensors, metadata: metadata, existing: .replace)
        return path
    }

    static func failure(_ path: String) -> String? {
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GPTModel.load(path: path)
            return nil
        } catch {
            return error.description
        }
    }

    /// A non-finite half in a matrix is named by its index in the file, as for F32 weights.
    @Test(arguments: [(DType.F16, [UInt8]([0x00, 0x7C])), (.BF16, [0x80, 0x7F])])
    func aNonFiniteHalfIsRefusedWithTheFilesIndex(dtype: DType, infinity: [UInt8]) throws {
        // Element 70 of c_fc (in 64, out 256): (in 0, out 70) — the loader transposes it to (70, 0).
        let path = try Self.edited(dtype, tensor: "h.1.mlp.c_fc.weight") { $0.replaceSubrange(140..<142, with: infinity) }
        #expect(Self.failure(path) == "\(path): tensor \"h.1.mlp.c_fc.weight\": element 70 is inf, weights must be finite")
    }

    @Test func quantizedTensorsNeedTheirSchemeInTheMetadata() throws {
        let path = try Self.edited(.F32, quantized: true, metadata: { $0[GPTModel.quantizationKey] = nil })
        let message = try #require(Self.failure(path))
        #expect(message.hasSuffix("is I8, which only the matrices of a file with __metadata__ quantization \"q8_0-block32\" or \"q4_0-block32\" may be"), "\(message)")
        let other = try Self.edited(.F32, quantized: true, metadata: { $0[GPTModel.quantizationKey] = "q4_k" })
        #expect(Self.failure(other)?.hasSuffix("__metadata__ quantization \"q4_k\" is not supported (expected \"q8_0-block32\" or \"q4_0-block32\")") == true)
        // I8 elements under the 4-bit scheme are not what the file says it holds.
        let mixed = try Self.edited(.F32, quantized: true, metadata: { $0[GPTModel.quantizationKey] = Quantization.q4.rawValue })
        #expect(Self.failure(mixed)?.contains("is I8, which only") == true)
    }

    @Test func aMissingScaleIsNamed() throws {
        let source = SaveLoadTests.temporaryPath("source.safetensors")
        defer { try? FileManager.default.removeItem(atPath: source) }
        try Self.model().saveQuantized(to: source, scheme: .q8, existing: .replace)
        let file = try SafetensorsFile(path: source)
        let tensors = try file.tensors.filter { $0.name != "h.1.mlp.c_proj.weight_scale" }.map { info in
            SafetensorsWriter.Tensor(name: info.name, dtype: info.dtype, shape: info.shape, bytes: try file.withRawBytes(of: info.name) { Array($0) })
        }
        let path = SaveLoadTests.temporaryPath("no-scale.safetensors")
        try SafetensorsWriter.write(to: path, tensors: tensors, metadata: file.metadata, existing: .replace)
        #expect(Self.failure(path)?.contains("h.1.mlp.c_proj.weight_scale") == true)
    }
}
