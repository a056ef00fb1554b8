import Foundation
import JSON
import Testing
@testable import GPT

/// A Hugging Face directory whose config attnchat does not compute exactly is refused with exit
/// 65 naming the file and the field, never loaded as a silently different model.
@Suite struct LlamaFamilyLoadingTests {
    /// A private copy of fixture `name` with `edit` applied to the JSON object in `file`.
    static func copy(_ name: String, editing file: String = "config.json", _ edit: (inout JSONObject) -> Void = { _ in }) throws -> String {
        let directory = NSTemporaryDirectory() + "attnchat-llama-\(name)-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: Fixtures.path(name), toPath: directory)
        let path = directory + "/" + file
        var object = FileManager.default.fileExists(atPath: path) ? try #require(try JSONValue.parse(Data(contentsOf: URL(fileURLWithPath: path))).objectValue) : [:]
        edit(&object)
        try Data(JSONValue.object(object).serializedBytes(sortedKeys: true)).write(to: URL(fileURLWithPath: path))
        return directory
    }

    static func refusal(_ directory: String) -> GPTError? {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try GPTModel.load(path: directory)
            return nil
        } catch {
            return error
        }
    }

    static let refusedConfigs: [(fixture: String, field: String, value: JSONValue?, mentions: String)] = [
        ("llama-gqa", "rope_parameters", .object(["rope_type": .string("llama3"), "rope_theta": .number(500_000)]), "rope_type \"llama3\""),
        ("llama-gqa", "rope_scaling", .object(["type": .string("linear"), "factor": .number(2)]), "rope_scaling.rope_type \"linear\""),
        ("llama-gqa", "hidden_act", .string("gelu"), "hidden_act \"gelu\""),
        ("llama-gqa", "model_type", .string("phi3"), "model_type \"phi3\""),
        ("llama-gqa", "num_key_value_heads", .integer(4), "\"num_key_value_heads\" = 4"),
        ("llama-gqa", "head_dim", .integer(9), "rotary positions need an even head size"),
        ("mistral-mqa", "sliding_window", .integer(16), "sliding_window 16"),
        ("qwen2-sharded", "use_sliding_window", .bool(true), ""),  // window 4096 ≥ 64: allowed, see below
        ("llama-gqa", "tie_word_embeddings", .bool(true), "\"lm_head.weight\" differs"),
        ("llama-headdim-bias", "tie_word_embeddings", .bool(false), "lm_head.weight (tie_word_embeddings is false)"),
        ("llama-headdim-bias", "attention_bias", .bool(false), "unexpected tensors \"model.layers.0.self_attn.k_proj.bias\""),
        ("llama-gqa", "mlp_bias", .bool(true), "missing tensor \"model.layers.0.mlp.up_proj.bias\""),
        ("llama-gqa", "eos_token_id", .array([.integer(2), .integer(999)]), "eos_token_id 999 is not a token id"),
        ("llama-gqa", "intermediate_size", .string("88"), "field \"intermediate_size\" is not an integer"),
    ]

    @Test(arguments: refusedConfigs)
    func configFeatureAttnchatDoesNotComputeIsRefusedNamingTheField(fixture: String, field: String, value: JSONValue?, mentions: String) throws {
        let directory = try Self.copy(fixture) { $0[field] = value }
        let error = Self.refusal(directory)
        if mentions.isEmpty {
            #expect(error == nil, "\(error.map(String.init(describing:)) ?? "")")
            return
        }
        let refused = try #require(error, "\(fixture) with \(field) = \(String(describing: value)) loaded")
        #expect(refused.exitCode == 65)
        #expect(refused.description.contains(mentions), "\(refused.description)")
        #expect(refused.description.contains(directory), "the message names the file: \(refused.description)")
    }

    @Test func shardIndexPointingOutsideTheDirectoryIsRefused() throws {
        let directory = try Self.copy("qwen2-sharded", editing: "model.safetensors.index.json") { index in
            var map = index["weight_map"]?.objectValue ?? [:]
            map["model.norm.weight"] = .string("../model.safetensors")
            index["weight_map"] = .object(map)
        }
        let error = try #require(Self.refusal(directory))
        #expect(error.exitCode == 65)
        #expect(error.description.contains("weight_map[\"model.norm.weight\"]"), "\(error.description)")
    }

    @Test func shardIndexNamingATensorItsShardLacksIsRefused() throws {
        let directory = try Self.copy("qwen2-sharded", editing: "model.safetensors.index.json") { index in
            var map = index["weight_map"]?.objectValue ?? [:]
            map["model.norm.weight"] = .string(map["model.layers.0.input_layernorm.weight"]?.stringValue == "model-00001-of-00002.safetensors" ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors")
            index["weight_map"] = .object(map)
        }
        let error = try #require(Self.refusal(directory))
        #expect(error.exitCode == 65)
        #expect(error.description.contains("\"model.norm.weight\""), "\(error.description)")
    }

    @Test func endOfTurnIDsAndSamplingSettingsComeFromBothConfigFiles() throws {
        let directory = try Self.copy("llama-gqa", editing: "generation_config.json") { generation in
            generation["eos_token_id"] = .array([.integer(2), .integer(7)])
            generation["temperature"] = .number(0.6)
            generation["top_p"] = .number(0.9)
            generation["top_k"] = .integer(20)
            generation["repetition_penalty"] = .number(1.1)
            generation["do_sample"] = .bool(true)
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (_, source) = try GPTModel.load(path: directory)
        let info = try #require(source.huggingFace)
        #expect(info.modelType == "llama")
        #expect(info.endOfTurnIDs == [2, 7])
        #expect(info.beginningOfTextID == 1)
        #expect(info.temperature == 0.6 && info.topP == 0.9 && info.topK == 20 && info.repetitionPenalty == 1.1 && info.doSample == true)
    }

    @Test func contextIsCappedAtTheLimitAndTheTrainedLengthIsKept() throws {
        let (model, source) = try GPTModel.load(path: Fixtures.path("llama-gqa"), contextLimit: 16)
        #expect(model.config.contextLength == 16)
        #expect(source.huggingFace?.trainedContext == 64)
        let state = GPTState(model: model)
        #expect(throws: GPTError.contextFull(length: 16)) { try state.prefill(Array(repeating: 3, count: 17)) }
    }

    @Test func llamaFamilyModelsAreNotWrittenAsAttnchatFiles() throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path("llama-gqa"))
        let path = NSTemporaryDirectory() + "attnchat-llama-save-\(UUID().uuidString).safetensors"
        #expect(throws: GPTError.self) { try model.save(to: path, existing: .replace) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
