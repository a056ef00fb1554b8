import FileIO
import FoundationEssentials
import Glibc
import JSON
import Kernels
import Safetensors

// Where a model comes from:
// - an attnchat `.safetensors` file: GPT-2 tensor names, the config as JSON in `__metadata__`;
// - a Hugging Face directory: `config.json` + `model.safetensors` (GPT-2, DistilGPT2, DialoGPT),
//   names optionally prefixed `transformer.`, `lm_head.weight` tied or absent, and the old
//   checkpoints' causal-mask buffers `h.N.attn.bias` / `h.N.attn.masked_bias`, which are ignored.

/// What `GPTModel.load` found, for `attnchat info` and the UI's status bar.
public struct ModelSource: Sendable {
    /// The weights file.
    public let path: String
    /// Stored dtypes of the loaded tensors, e.g. ["F32"].
    public let dtypes: [String]
    /// Bytes of tensor data in the file.
    public let fileBytes: Int
    /// For a Hugging Face directory: its model type, end-of-turn ids and generation settings.
    public let huggingFace: HuggingFaceModelInfo?
    /// How an attnchat file's matrices are quantized, if they are.
    public let quantization: Quantization?

    public init(path: String, dtypes: [String], fileBytes: Int, huggingFace: HuggingFaceModelInfo? = nil, quantization: Quantization? = nil) {
        self.path = path
        self.dtypes = dtypes
        self.fileBytes = fileBytes
        self.huggingFace = huggingFace
        self.quantization = quantization
    }
}

extension GPTModel {
    /// The `__metadata__` keys of attnchat's own files.
    public static let formatKey = "format", formatName = "attnchat-gpt"
    public static let versionKey = "format_version", currentVersion = 1
    public static let configKey = "config"

    /// Loads a model from an attnchat `.safetensors` file or a Hugging Face directory (GPT-2,
    /// Llama, Qwen2, Mistral).
    /// - Parameter contextLimit: the most positions to allocate for a Hugging Face model whose
    ///   `max_position_embeddings` is larger.
    /// - Throws: `GPTError` naming the file, field or tensor; never traps on a bad file.
    public static func load(path: String, contextLimit: Int = defaultContextLimit) throws(GPTError) -> (model: GPTModel, source: ModelSource) {
        // A directory is a Hugging Face layout; everything else (missing, a link loop, a FIFO,
        // unreadable, "") is opened as a file, which classifies what is wrong (`InputFile`).
        var status = stat()
        if !path.isEmpty, stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            let configPath = Path.join(path, "config.json")
            let weightsPath = Path.join(path, "model.safetensors")
            guard FileManager.default.fileExists(atPath: configPath) else {
                throw .missingModel(path: path, reason: "directory has no config.json (expected a Hugging Face model directory)")
            }
            let object = try configObject(path: configPath)
            let type = object["model_type"]?.stringValue ?? "gpt2"
            guard supportedModelTypes.contains(type) else {
                throw .badConfig(path: configPath, reason: "model_type \"\(type)\" is not supported (expected one of \(supportedModelTypes.joined(separator: ", ")))")
            }
            if type != "gpt2" {
                return try loadLlamaFamily(directory: path, config: object, configPath: configPath, contextLimit: contextLimit)
            }
            guard FileManager.default.fileExists(atPath: weightsPath) else {
                throw .missingModel(path: path, reason: "directory has no model.safetensors")
            }
            let config = try huggingFaceConfig(object, path: configPath)
            let loaded = try load(file: try open(weightsPath), config: config)
            // DialoGPT's end-of-text ids and settings come from the same fields as a Llama's.
            let info = try huggingFaceInfo(
                modelType: type, config: object, path: configPath, directory: path, vocabSize: config.vocabSize, trained: config.contextLength)
            let source = ModelSource(path: loaded.source.path, dtypes: loaded.source.dtypes, fileBytes: loaded.source.fileBytes, huggingFace: info)
            return (loaded.model, source)
        }
        let file = try open(path)
        return try load(file: file, config: try attnchatConfig(metadata: file.metadata, path: path))
    }

    /// Loads an attnchat safetensors file held in memory (the embedded default model).
    public static func load(bytes: some Collection<UInt8>, name: String) throws(GPTError) -> (model: GPTModel, source: ModelSource) {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(bytes: bytes, name: name) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
        return try load(file: file, config: try attnchatConfig(metadata: file.metadata, path: name))
    }

    private static func open(_ path: String) throws(GPTError) -> SafetensorsFile {
        do { return try SafetensorsFile(path: path) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
    }

    /// Loads the model part of an attnchat file whose `metadata` holds the config, leaving the
    /// tensors named in `ignoring` (e.g. a checkpoint's optimizer state) to the caller. Every
    /// weight becomes F32: this is the trainer's entry point.
    public static func load(file: SafetensorsFile, metadata: [String: String], ignoring: Set<String>) throws(GPTError) -> GPTModel {
        try load(file: file, config: try attnchatConfig(metadata: metadata, path: file.path), ignoring: ignoring, keepStored: false).model
    }

    /// Copies the tensors of `file` into fresh weights for `config`, checking names and shapes.
    /// - Parameter keepStored: keep F16, BF16 and 8-bit matrices as stored (inference) rather
    ///   than converting them to F32 (training; an 8-bit file is refused there).
    static func load(
        file: SafetensorsFile, config: GPTConfig, ignoring: Set<String> = [], keepStored: Bool = true
    ) throws(GPTError) -> (model: GPTModel, source: ModelSource) {
        try config.validate()
        let path = file.path
        var byName: [String: TensorInfo] = [:]
        var unexpected: [String] = []
        var lmHead: TensorInfo?
        var scales: [String: TensorInfo] = [:]
        var quantization: Quantization?
        if let name = file.metadata[quantizationKey] {
            guard let scheme = Quantization(rawValue: name) else {
                let known = Quantization.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                throw .badConfig(path: path, reason: "__metadata__ \(quantizationKey) \"\(name)\" is not supported (expected \(known))")
            }
            quantization = scheme
        }
        for info in file.tensors where !ignoring.contains(info.name) {
            if info.dtype == .I8 || info.dtype == .U8, info.dtype != quantization?.elementDType {
                let schemes = Quantization.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                throw .badConfig(path: path, reason: "tensor \"\(info.name)\" is \(info.dtype.rawValue), which only the matrices of a file with __metadata__ \(quantizationKey) \(schemes) may be")
            }
            let name = info.name.hasPrefix("transformer.") ? String(info.name.dropFirst("transformer.".count)) : info.name
            if quantization != nil, name.hasSuffix("_scale") {
                scales[String(name.dropLast("_scale".count))] = info
                continue
            }
            if name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") {
                continue  // the causal mask as a buffer: attention applies it by construction
            }
            if name == "lm_head.weight" {
                lmHead = info
                continue
            }
            if byName.updateValue(info, forKey: name) != nil { unexpected.append(info.name) }
        }
        // Every name and shape is checked against the file before the parameters are allocated:
        // the config alone could ask for tens of gigabytes that the file does not hold.
        let layout = GPTWeights.Layout(config: config)
        let known = Set(layout.tensors.map(\.name))
        unexpected += byName.keys.filter { !known.contains($0) }.sorted()
        unexpected += scales.keys.filter { byName[$0]?.dtype != quantization?.elementDType }.sorted().map(scaleName)
        if !unexpected.isEmpty { throw .unexpectedTensors(path: path, names: unexpected) }
        // By attnchat's name (a Hugging Face file may prefix `transformer.`).
        var packed: [(name: String, info: TensorInfo, rows: Int, columns: Int)] = []
        for tensor in layout.tensors {
            guard let info = byName[tensor.name] else {
                throw .missingTensor(path: path, name: tensor.name, expectedShape: tensor.shape)
            }
            // A projection is (in, out) in F32 and half-width files, (out, in) once quantized.
            let isTable = GPTWeights.Layout.isTable(tensor.name)
            let (rows, columns) = isTable ? (tensor.shape[0], tensor.shape[1]) : (tensor.shape.last!, tensor.shape[0])
            if let scheme = quantization, info.dtype == scheme.elementDType {
                let expected = scheme.elementShape(rows: rows, columns: columns)
                guard GPTWeights.Layout.isPackable(tensor.name), columns % PackedMatrix.blockSize == 0 else {
                    throw .badConfig(path: path, reason: "tensor \"\(info.name)\" is \(info.dtype.rawValue), but only matrices whose rows split into blocks of \(PackedMatrix.blockSize) may be quantized")
                }
                guard info.shape == expected else {
                    throw .shapeMismatch(path: path, name: info.name, expected: expected, actual: info.shape)
                }
                guard keepStored else {
                    throw .badConfig(path: path, reason: "a quantized model does not train; train from its F32 or F16 original")
                }
                let scaleShape = [rows, columns / PackedMatrix.blockSize]
                guard let scale = scales[tensor.name] else {
                    throw .missingTensor(path: path, name: scaleName(tensor.name), expectedShape: scaleShape)
                }
                guard scale.shape == scaleShape, scale.dtype.isFloatConvertible else {
                    throw .shapeMismatch(path: path, name: scale.name, expected: scaleShape, actual: scale.shape)
                }
                packed.append((tensor.name, info, rows, columns))
                continue
            }
            guard info.shape == tensor.shape else {
                throw .shapeMismatch(path: path, name: info.name, expected: tensor.shape, actual: info.shape)
            }
            if keepStored, GPTWeights.Layout.isPackable(tensor.name), info.dtype == .F16 || info.dtype == .BF16 {
                packed.append((tensor.name, info, rows, columns))
            }
        }
        var builder = PackedBuilder()
        for (name, info, rows, columns) in packed {
            if let scheme = quantization, info.dtype == scheme.elementDType {
                try builder.packQuantized(name: name, scheme: scheme, rows: rows, columns: columns, file: file, elements: info, scales: scales[name]!)
            } else {
                let source = PackedBuilder.Source(file: file, info: info, columnsAreRows: !GPTWeights.Layout.isTable(name))
                try builder.packHalf(name: name, rows: rows, columns: columns, sources: [source])
            }
        }
        let weights = GPTWeights(config: config, packed: builder.matrices, memory: builder.memory)
        var dtypes = Set(packed.map(\.info.dtype.rawValue))
        var bytes = packed.reduce(0) { $0 + $1.info.byteCount } + scales.values.reduce(0) { $0 + $1.byteCount }
        for tensor in weights.tensors {
            let info = byName[tensor.name]!  // checked above
            do {
                try file.copyFloats(info.name, into: weights.mutableBuffer(tensor))
            } catch {
                throw .weights(message: error.description, exitCode: error.exitCode)
            }
            dtypes.insert(info.dtype.rawValue)
            bytes += info.byteCount
        }
        if let lmHead {
            // attnchat ties the LM head to the token embedding; an untied head would be silently wrong.
            let wte = layout.tensors[0]
            guard lmHead.shape == wte.shape else {
                throw .shapeMismatch(path: path, name: lmHead.name, expected: wte.shape, actual: lmHead.shape)
            }
            let head: [Float], embedding: [Float]
            do {
                head = try file.floats(lmHead.name)
                embedding = try file.floats(byName[wte.name]!.name)
            } catch {
                throw .weights(message: error.description, exitCode: error.exitCode)
            }
            if head != embedding { throw .badConfig(path: path, reason: "tensor \"\(lmHead.name)\" differs from the token embedding; only a tied LM head is supported") }
        }
        let source = ModelSource(path: path, dtypes: dtypes.sorted(), fileBytes: bytes, quantization: quantization)
        return (GPTModel(weights: weights), source)
    }

    /// The error for an encoder–decoder's file (`format`) given where a GPT is wanted.
    public static func notAChatModel(path: String, format: String) -> GPTError {
        .badConfig(path: path, reason: "is an encoder–decoder translation model (format \(format)), not a chat model: use attnchat translate or eval")
    }

    /// Reads the config attnchat stores in `__metadata__`.
    static func attnchatConfig(metadata: [String: String], path: String) throws(GPTError) -> GPTConfig {
        if let format = metadata[formatKey], format.hasPrefix("attnchat-seq2seq") { throw notAChatModel(path: path, format: format) }
        guard metadata[formatKey] == formatName, let versionText = metadata[versionKey], let configText = metadata[configKey] else {
            throw .badConfig(path: path, reason: "no attnchat config in __metadata__ (a Hugging Face checkpoint is loaded from its directory, with config.json)")
        }
        guard Int(versionText) == currentVersion else {
            throw .badConfig(path: path, reason: "unsupported version \(versionText) (expected \(currentVersion))")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(configText) } catch { throw .badConfig(path: path, reason: "__metadata__ config: \(error)") }
        guard let object = json.objectValue else { throw .badConfig(path: path, reason: "__metadata__ config is not a JSON object") }
        let allowed: Set<String> = ["vocab_size", "n_positions", "n_layer", "n_head", "n_embd", "n_inner", "layer_norm_epsilon", "positional", "rope_theta"]
        if let unknown = object.keys.first(where: { !allowed.contains($0) }) {
            throw .badConfig(path: path, reason: "__metadata__ config: unknown field \"\(unknown)\"")
        }
        return try config(from: object, path: path)
    }

    /// A `config.json` as a JSON object.
    static func configObject(path: String) throws(GPTError) -> JSONObject {
        let data: Data
        do { data = try InputFile.read(path) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch { throw .badConfig(path: path, reason: "\(error)") }
        guard let object = json.objectValue else { throw .badConfig(path: path, reason: "not a JSON object") }
        return object
    }

    /// Reads a Hugging Face GPT-2 `config.json`; fields it has that attnchat does not use are ignored.
    static func huggingFaceConfig(_ object: JSONObject, path: String) throws(GPTError) -> GPTConfig {
        if let activation = object["activation_function"]?.stringValue, !["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].contains(activation) {
            throw .badConfig(path: path, reason: "activation_function \"\(activation)\" is not supported (expected \"gelu_new\")")
        }
        // Variants of GPT-2 attention that attnchat does not compute: refuse rather than be wrong.
        if object["scale_attn_by_inverse_layer_idx"]?.boolValue == true {
            throw .badConfig(path: path, reason: "scale_attn_by_inverse_layer_idx = true is not supported")
        }
        if object["scale_attn_weights"]?.boolValue == false {
            throw .badConfig(path: path, reason: "scale_attn_weights = false is not supported")
        }
        return try config(from: object, path: path)
    }

    private static func config(from object: JSONObject, path: String) throws(GPTError) -> GPTConfig {
        func integer(_ key: String, _ alternative: String? = nil) throws(GPTError) -> Int {
            guard let value = object[key] ?? alternative.flatMap({ object[$0] }) else { throw .badConfig(path: path, reason: "missing field \"\(key)\"") }
            guard let n = value.intValue else { throw .badConfig(path: path, reason: "field \"\(key)\" is not an integer") }
            return n
        }
        var mlpWidth: Int?
        if let inner = object["n_inner"], !inner.isNull {
            guard let n = inner.intValue else { throw .badConfig(path: path, reason: "field \"n_inner\" is not an integer") }
            mlpWidth = n
        }
        var positional = GPTConfig.Positional.learned
        if let p = object["positional"] {
            guard let text = p.stringValue, let value = GPTConfig.Positional(rawValue: text) else {
                throw .badConfig(path: path, reason: "field \"positional\" must be one of learned, sinusoidal, rope")
            }
            positional = value
        }
        // Absent means the default; present must be a number (a string is not "absent").
        func number(_ key: String, default value: Double) throws(GPTError) -> Double {
            guard let field = object[key], !field.isNull else { return value }
            guard let n = field.doubleValue else { throw .badConfig(path: path, reason: "field \"\(key)\" is not a number") }
            return n
        }
        let epsilon = try number("layer_norm_epsilon", default: 1e-5)
        let theta = try number("rope_theta", default: 10_000)
        let config = GPTConfig(
            vocabSize: try integer("vocab_size"), contextLength: try integer("n_positions", "n_ctx"),
            layers: try integer("n_layer"), heads: try integer("n_head"), width: try integer("n_embd"),
            mlpWidth: mlpWidth, layerNormEpsilon: Float(epsilon), positional: positional, ropeTheta: Float(theta))
        try config.validate()
        return config
    }
}
