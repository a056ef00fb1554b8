import Foundation
import JSON
import Safetensors

extension GPTConfig {
    /// The config as attnchat stores it in `__metadata__` (Hugging Face field names).
    public var jsonObject: JSONObject {
        var object: JSONObject = [
            "vocab_size": .integer(Int64(vocabSize)), "n_positions": .integer(Int64(contextLength)),
            "n_layer": .integer(Int64(layers)), "n_head": .integer(Int64(heads)), "n_embd": .integer(Int64(width)),
            "n_inner": .integer(Int64(mlpWidth)), "layer_norm_epsilon": .number(Double("\(layerNormEpsilon)") ?? Double(layerNormEpsilon)),
            "positional": .string(positional.rawValue),
        ]
        if positional == .rope { object["rope_theta"] = .number(Double("\(ropeTheta)") ?? Double(ropeTheta)) }
        return object
    }
}

extension GPTModel {
    /// Writes the weights as one attnchat `.safetensors` file (GPT-2 tensor names, config in
    /// `__metadata__`), atomically.
    /// - Parameter dtype: F32, F16 or BF16 (rounded to nearest even).
    public func save(to path: String, dtype: DType = .F32) throws(GPTError) {
        let metadata = [
            Self.formatKey: Self.formatName, Self.versionKey: String(Self.currentVersion),
            Self.configKey: JSONValue.object(config.jsonObject).serialized(),
        ]
        try writeTensors(to: path, dtype: dtype, metadata: metadata)
    }

    /// Writes a Hugging Face GPT-2 directory (`config.json` + `model.safetensors`) that
    /// `transformers.GPT2LMHeadModel.from_pretrained` loads. Only learned positions exist there.
    /// - Parameter endOfTextID: the tokenizer's `<|endoftext|>` id, written as `bos_token_id` and
    ///   `eos_token_id` (transformers' defaults of 50256 are wrong for other vocabularies).
    public func saveHuggingFace(directory: String, dtype: DType = .F32, endOfTextID: Int? = nil) throws(GPTError) {
        guard config.positional == .learned else {
            throw .badConfig(path: directory, reason: "Hugging Face GPT-2 has learned positions only (this model uses \(config.positional.rawValue))")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .weights(message: "\(directory): cannot create directory: \(error.localizedDescription)", exitCode: 74)
        }
        var hf = config.jsonObject
        hf["positional"] = nil
        hf["n_ctx"] = .integer(Int64(config.contextLength))
        hf["model_type"] = .string("gpt2")
        hf["architectures"] = .array([.string("GPT2LMHeadModel")])
        hf["activation_function"] = .string("gelu_new")
        hf["tie_word_embeddings"] = .bool(true)
        if let id = endOfTextID {
            hf["bos_token_id"] = .integer(Int64(id))
            hf["eos_token_id"] = .integer(Int64(id))
        }
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        do {
            try Data(JSONValue.object(hf).serializedBytes(sortedKeys: true)).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        } catch {
            throw .weights(message: "\(configPath): cannot write: \(error.localizedDescription)", exitCode: 74)
        }
        try writeTensors(to: (directory as NSString).appendingPathComponent("model.safetensors"), dtype: dtype, metadata: ["format": "pt"])
    }

    private func writeTensors(to path: String, dtype: DType, metadata: [String: String]) throws(GPTError) {
        let tensors = weights.tensors.map { t in
            SafetensorsWriter.Tensor(name: t.name, shape: t.shape, floats: weights.withTensor(t) { Array($0) }, storedAs: dtype)
        }
        do {
            try SafetensorsWriter.write(to: path, tensors: tensors, metadata: metadata)
        } catch {
            throw .weights(message: error.description, exitCode: error.exitCode)
        }
    }
}
