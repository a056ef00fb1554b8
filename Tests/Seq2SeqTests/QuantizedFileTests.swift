import FileIO
import Foundation
import GPT
import Safetensors
import Testing
@testable import Seq2Seq

/// Quantized attnchat-seq2seq files (`saveQuantized`): the matrices come back within half a
/// step of their block's grid, in the right layout; a damaged one is one clear error.
@Suite struct QuantizedFileTests {
    /// Width 32 and MLP 64: every projection and the embedding table are quantized.
    static let config = Seq2SeqConfig(vocabSize: 23, contextLength: 12, width: 32, heads: 2, encoderLayers: 1, decoderLayers: 1, mlpWidth: 64)

    static func saved(_ scheme: Quantization, config: Seq2SeqConfig = config) throws -> (model: Seq2SeqModel, path: String) {
        let model = try Seq2SeqModel(config: config, seed: 5)
        let path = try FileTests.temporaryPath()
        try model.saveQuantized(to: path, scheme: scheme, metadata: ["tokenizer": "abc"], existing: .refuse(hint: ""))
        return (model, path)
    }

    @Test(arguments: Quantization.allCases)
    func everyWeightComesBackWithinHalfAStepOfItsBlock(scheme: Quantization) throws {
        let (model, path) = try Self.saved(scheme)
        let file = try SafetensorsFile(path: path)
        #expect(file.metadata[GPTModel.quantizationKey] == scheme.rawValue && file.metadata["tokenizer"] == "abc")
        #expect(file["embed.weight"]?.dtype == scheme.elementDType)
        #expect(file["decoder.0.cross.c_kv.weight"]?.shape == scheme.elementShape(rows: 64, columns: 32), "stored (out, in)")
        #expect(file["decoder.0.cross.c_kv.bias"]?.dtype == .F32 && file["encoder.ln_f.weight"]?.dtype == .F32)
        let loaded = try Seq2SeqModel.load(path: path)
        // A block's step is its largest magnitude over 127 (q8) or 8 (q4). Rounding costs half a
        // step; q4's grid reaches only 7 steps on the side opposite the largest value, so a value
        // there may be clamped by up to a whole step.
        let levels: Float = scheme == .q8 ? 127 : 8
        let bound: Float = scheme == .q8 ? 0.5 : 1
        for t in model.weights.tensors {
            let original = model.weights.withTensor(t) { Array($0) }
            let back = loaded.weights.withTensor(loaded.weights.tensor(named: t.name)!) { Array($0) }
            guard let matrix = Seq2SeqModel.quantizedMatrix(t) else {
                #expect(back == original, "\(t.name) is kept F32")
                continue
            }
            for o in 0..<matrix.rows {
                for block in 0..<(matrix.columns / 32) {
                    let indices = (block * 32..<(block + 1) * 32).map { i in matrix.transposed ? i * matrix.rows + o : o * matrix.columns + i }
                    let step = indices.map { abs(original[$0]) }.max()! / levels
                    for k in indices { #expect(abs(back[k] - original[k]) <= step * bound * 1.0001 + 1e-7, "\(t.name)[\(k)]") }
                }
            }
        }
    }

    /// Widened q8 weights sit on their grid: quantizing them again stores the same bytes.
    @Test func q8WeightsSavedAgainAreTheSameFile() throws {
        let (_, path) = try Self.saved(.q8)
        let again = try FileTests.temporaryPath()
        try Seq2SeqModel.load(path: path).saveQuantized(to: again, scheme: .q8, metadata: ["tokenizer": "abc"], existing: .refuse(hint: ""))
        #expect(try Data(contentsOf: URL(fileURLWithPath: again)) == Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A width that is not a multiple of 32 keeps its matrices F32; the file still loads exactly.
    @Test func matricesWithoutWholeBlocksStayF32() throws {
        let (model, path) = try Self.saved(.q4, config: FileTests.config)
        #expect(try SafetensorsFile(path: path)["embed.weight"]?.dtype == .F32)
        #expect(FileTests.values(try Seq2SeqModel.load(path: path)) == FileTests.values(model))
    }

    static func rewritten(_ path: String, _ edit: (inout [SafetensorsWriter.Tensor], inout [String: String]) throws -> Void) throws -> String {
        let file = try SafetensorsFile(path: path)
        var metadata = file.metadata
        var tensors = try file.tensors.map { info in
            SafetensorsWriter.Tensor(name: info.name, dtype: info.dtype, shape: info.shape, bytes: try file.withRawBytes(of: info.name) { Array($0) })
        }
        try edit(&tensors, &metadata)
        let out = try FileTests.temporaryPath()
        try SafetensorsWriter.write(to: out, tensors: tensors, metadata: metadata, existing: .replace)
        return out
    }

    @Test func anUnknownSchemeAWrongElementDTypeAndANaNScaleExit65NamingThem() throws {
        let (_, path) = try Self.saved(.q8)
        let unknown = try Self.rewritten(path) { _, m in m[GPTModel.quantizationKey] = "q3_k" }
        FileTests.expectRefused(unknown, mentioning: ["quantization", "q3_k"])
        let wrongType = try Self.rewritten(path) { tensors, _ in
            let i = tensors.firstIndex { $0.name == "encoder.0.mlp.c_fc.weight" }!
            let t = tensors[i]
            tensors[i] = SafetensorsWriter.Tensor(name: t.name, dtype: .U8, shape: t.shape, bytes: [UInt8](repeating: 0, count: 64 * 32))
        }
        FileTests.expectRefused(wrongType, mentioning: ["encoder.0.mlp.c_fc.weight", "U8", "I8"])
        let nanScale = try Self.rewritten(path) { tensors, _ in
            let name = GPTModel.scaleName("decoder.0.attn.c_proj.weight")
            let i = tensors.firstIndex { $0.name == name }!
            var scales = [Float](repeating: 0.01, count: 32)
            scales[3] = .nan
            // The writer refuses a NaN: the bytes are written as they are.
            let bytes = scales.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
            tensors[i] = SafetensorsWriter.Tensor(name: name, dtype: .F32, shape: [32, 1], bytes: bytes)
        }
        FileTests.expectRefused(nanScale, mentioning: ["decoder.0.attn.c_proj.weight_scale"])
        let missingScale = try Self.rewritten(path) { tensors, _ in tensors.removeAll { $0.name == "embed.weight_scale" } }
        FileTests.expectRefused(missingScale, mentioning: ["embed.weight_scale"])
    }
}
