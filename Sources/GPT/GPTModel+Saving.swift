import FileIO
import FoundationEssentials
import JSON
import Kernels
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
    /// attnchat's files hold GPT-2's architecture: a Llama-family model (RMSNorm, SwiGLU, ...)
    /// written there would load as a different model.
    private func requireGPT2Architecture(path: String) throws(GPTError) {
        guard config.isGPT2Architecture else {
            throw .badConfig(path: path, reason: "attnchat writes GPT-2's architecture only; this model (RMSNorm, SwiGLU, grouped-query attention or an untied head) is kept in its Hugging Face directory")
        }
    }

    /// Writes the weights as one attnchat `.safetensors` file (GPT-2 tensor names, config in
    /// `__metadata__`), atomically, under `AtomicFile`'s destination policy.
    /// - Parameters:
    ///   - dtype: F32, F16 or BF16 (rounded to nearest even).
    ///   - existing: whether a file already at `path` may be replaced (else exit 73).
    public func save(to path: String, dtype: DType = .F32, existing: AtomicFile.Existing) throws(GPTError) {
        try requireGPT2Architecture(path: path)
        let metadata = [
            Self.formatKey: Self.formatName, Self.versionKey: String(Self.currentVersion),
            Self.configKey: JSONValue.object(config.jsonObject).serialized(),
        ]
        try writeTensors(to: path, dtype: dtype, metadata: metadata, existing: existing)
    }

    /// Writes a Hugging Face GPT-2 directory (`config.json` + `model.safetensors`) that
    /// `transformers.GPT2LMHeadModel.from_pretrained` loads. Only learned positions exist there.
    /// - Parameters:
    ///   - endOfTextID: the tokenizer's `<|endoftext|>` id, written as `bos_token_id` and
    ///   `eos_token_id` (transformers' defaults of 50256 are wrong for other vocabularies).
    ///   - existing: whether `config.json` and `model.safetensors` already in `directory` may be
    ///     replaced (else exit 73, before anything is written).
    public func saveHuggingFace(directory: String, dtype: DType = .F32, endOfTextID: Int? = nil, existing: AtomicFile.Existing) throws(GPTError) {
        try requireGPT2Architecture(path: directory)
        guard config.positional == .learned else {
            throw .badConfig(path: directory, reason: "Hugging Face GPT-2 has learned positions only (this model uses \(config.positional.rawValue))")
        }
        do { try AtomicFile.makeDirectory(directory) } catch { throw GPTError(path: directory, error) }
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
        let configPath = Path.join(directory, "config.json")
        let modelPath = Path.join(directory, "model.safetensors")
        // Both are checked before either is written, so a refusal leaves the directory as it was.
        for path in [configPath, modelPath] {
            do { _ = try AtomicFile.destination(path, existing: existing) } catch { throw GPTError(path: path, error) }
        }
        do {
            try AtomicFile.write(JSONValue.object(hf).serializedBytes(sortedKeys: true), to: configPath, existing: existing)
        } catch {
            throw GPTError(path: configPath, error)
        }
        try writeTensors(to: modelPath, dtype: dtype, metadata: ["format": "pt"], existing: existing)
    }

    /// Writes the weights as an attnchat file with every matrix whose rows split into blocks of 32
    /// quantized under `scheme` (see `Quantization`: (out, in), one F32 scale per 32 values in
    /// `<name>_scale`); norms, biases, learned positions and any other matrix stay F32.
    public func saveQuantized(to path: String, scheme: Quantization, existing: AtomicFile.Existing) throws(GPTError) {
        try requireGPT2Architecture(path: path)
        let metadata = [
            Self.formatKey: Self.formatName, Self.versionKey: String(Self.currentVersion),
            Self.configKey: JSONValue.object(config.jsonObject).serialized(), Self.quantizationKey: scheme.rawValue,
        ]
        var tensors: [SafetensorsWriter.Tensor] = []
        for t in GPTWeights.Layout(config: config).tensors {
            var values = weights.floatValues(name: t.name, shape: t.shape)
            let isTable = GPTWeights.Layout.isTable(t.name)
            let (rows, columns) = isTable ? (t.shape[0], t.shape[1]) : (t.shape.last!, t.shape[0])
            guard GPTWeights.Layout.isPackable(t.name), columns % PackedMatrix.blockSize == 0 else {
                tensors.append(SafetensorsWriter.Tensor(name: t.name, shape: t.shape, floats: values))
                continue
            }
            if !isTable {
                // (in, out) → (out, in): a block of 32 runs along one output's inputs.
                var transposed = values
                for i in 0..<columns { for o in 0..<rows { transposed[o * columns + i] = values[i * rows + o] } }
                values = transposed
            }
            tensors += scheme.tensors(name: t.name, values: values, rows: rows, columns: columns)
        }
        do {
            try SafetensorsWriter.write(to: path, tensors: tensors, metadata: metadata, existing: existing)
        } catch {
            throw .weights(message: error.description, exitCode: error.exitCode)
        }
    }

    private func writeTensors(to path: String, dtype: DType, metadata: [String: String], existing: AtomicFile.Existing) throws(GPTError) {
        // Packed matrices are written from their F32 values, in attnchat's layout.
        let tensors = GPTWeights.Layout(config: config).tensors.map { t in
            SafetensorsWriter.Tensor(name: t.name, shape: t.shape, floats: weights.floatValues(name: t.name, shape: t.shape), storedAs: dtype)
        }
        do {
            try SafetensorsWriter.write(to: path, tensors: tensors, metadata: metadata, existing: existing)
        } catch {
            throw .weights(message: error.description, exitCode: error.exitCode)
        }
    }
}

extension GPTError {
    /// A failed or refused write of `path` (exit 73 refused, 74 failed).
    init(path: String, _ failure: AtomicFile.Failure) {
        if case .system = failure {
            self = .weights(message: "\(path): cannot write: \(failure)", exitCode: failure.exitCode)
        } else {
            self = .weights(message: failure.description, exitCode: failure.exitCode)
        }
    }
}
