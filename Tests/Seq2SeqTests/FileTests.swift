import FileIO
import Foundation
import GPT
import JSON
import Safetensors
import Testing
@testable import Seq2Seq

/// attnchat-seq2seq files: what is saved loads back exactly; a damaged file is one clear error.
@Suite struct FileTests {
    static let config = Seq2SeqConfig(vocabSize: 23, contextLength: 12, width: 16, heads: 2, encoderLayers: 2, decoderLayers: 1, mlpWidth: 24)

    static func temporaryPath(_ name: String = "model.safetensors") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnchat-s2s-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    static func values(_ model: Seq2SeqModel) -> [Float] { model.weights.withStorage { Array($0) } }

    @Test(arguments: ["pre sinusoidal", "post learned", "pre rope"])
    func f32RoundTripIsExact(variant: String) throws {
        let words = variant.split(separator: " ").map(String.init)
        var config = Self.config
        config.normPlacement = .init(rawValue: words[0])!
        config.positional = GPTConfig.Positional(rawValue: words[1])!
        let model = try Seq2SeqModel(config: config, seed: 11)
        let path = try Self.temporaryPath()
        try model.save(to: path, metadata: ["tokenizer": "abc"], existing: .refuse(hint: ""))
        let loaded = try Seq2SeqModel.load(path: path)
        #expect(loaded.config == config)
        #expect(Self.values(loaded) == Self.values(model))
        #expect(try SafetensorsFile(path: path).metadata["tokenizer"] == "abc")
    }

    @Test func f16RoundTripRoundsEachWeightOnce() throws {
        let model = try Seq2SeqModel(config: Self.config, seed: 4)
        let path = try Self.temporaryPath()
        try model.save(to: path, dtype: .F16, existing: .refuse(hint: ""))
        let loaded = try Seq2SeqModel.load(path: path)
        for (a, b) in zip(Self.values(model), Self.values(loaded)) { #expect(abs(a - b) <= abs(a) / 1024 + 1e-7) }
        // Saving the F16 values again changes nothing: they are representable.
        let again = try Self.temporaryPath()
        try loaded.save(to: again, dtype: .F16, existing: .refuse(hint: ""))
        #expect(Self.values(try Seq2SeqModel.load(path: again)) == Self.values(loaded))
    }

    /// Writes the model's file with `edit` applied to its tensors and metadata.
    static func damaged(
        _ edit: (inout [SafetensorsWriter.Tensor], inout [String: String]) -> Void
    ) throws -> String {
        let model = try Seq2SeqModel(config: config, seed: 2)
        var tensors = model.fileTensors(), metadata = model.fileMetadata()
        edit(&tensors, &metadata)
        let path = try temporaryPath()
        try SafetensorsWriter.write(to: path, tensors: tensors, metadata: metadata, existing: .replace)
        return path
    }

    static func expectRefused(_ path: String, mentioning words: [String]) {
        do {
            _ = try Seq2SeqModel.load(path: path)
            Issue.record("\(path) loaded")
        } catch {
            #expect(error.exitCode == 65, "\(error)")
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains(path))
            for word in words { #expect(error.description.contains(word), "\(error.description)") }
        }
    }

    @Test func missingTensorExits65NamingIt() throws {
        let path = try Self.damaged { tensors, _ in tensors.removeAll { $0.name == "decoder.0.cross.c_q.weight" } }
        Self.expectRefused(path, mentioning: ["decoder.0.cross.c_q.weight"])
    }

    @Test func wrongShapeExits65NamingTheTensor() throws {
        let path = try Self.damaged { tensors, _ in
            let i = tensors.firstIndex { $0.name == "encoder.1.mlp.c_fc.bias" }!
            tensors[i] = SafetensorsWriter.Tensor(name: "encoder.1.mlp.c_fc.bias", shape: [25], floats: [Float](repeating: 0, count: 25))
        }
        Self.expectRefused(path, mentioning: ["encoder.1.mlp.c_fc.bias"])
    }

    @Test func extraTensorExits65NamingIt() throws {
        let path = try Self.damaged { tensors, _ in tensors.append(SafetensorsWriter.Tensor(name: "stray", shape: [1], floats: [0])) }
        Self.expectRefused(path, mentioning: ["stray"])
    }

    @Test func badMetadataExits65NamingTheField() throws {
        let cases: [(String, (inout [String: String]) -> Void)] = [
            ("format", { $0["format"] = "attnchat-gpt" }),
            ("format_version", { $0["format_version"] = "9" }),
            ("unknown field \"dropout\"", { m in
                var object = JSONValue.parseOrNil(m["config"]!)!.objectValue!
                object["dropout"] = .number(0.1)
                m["config"] = JSONValue.object(object).serialized()
            }),
            ("missing field \"heads\"", { m in
                var object = JSONValue.parseOrNil(m["config"]!)!.objectValue!
                object["heads"] = nil
                m["config"] = JSONValue.object(object).serialized()
            }),
            ("norm \"middle\"", { m in
                var object = JSONValue.parseOrNil(m["config"]!)!.objectValue!
                object["norm"] = .string("middle")
                m["config"] = JSONValue.object(object).serialized()
            }),
            ("config", { $0["config"] = "{not json" }),
        ]
        for (words, edit) in cases {
            let path = try Self.damaged { _, metadata in edit(&metadata) }
            Self.expectRefused(path, mentioning: [words])
        }
    }

    @Test func hugeConfigIsRefusedBeforeAllocating() throws {
        let path = try Self.damaged { _, m in
            var object = JSONValue.parseOrNil(m["config"]!)!.objectValue!
            object["width"] = .integer(1 << 40)
            m["config"] = JSONValue.object(object).serialized()
        }
        Self.expectRefused(path, mentioning: ["width"])
    }
}

extension JSONValue {
    static func parseOrNil(_ text: String) -> JSONValue? { try? JSONValue.parse(text) }
}
