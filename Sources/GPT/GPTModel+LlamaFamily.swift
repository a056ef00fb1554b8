import FileIO
import FoundationEssentials
import JSON
import Kernels
import Safetensors

// Llama, Qwen2 and Mistral checkpoints in Hugging Face's layout: `config.json` and either
// `model.safetensors` or shards listed in `model.safetensors.index.json`. They are
// configurations of the same parts as GPT-2 (RMSNorm, SwiGLU, grouped-query attention,
// half-split rotary positions), so loading them is a mapping of tensor names onto attnchat's
// layout: each q/k/v/o/gate/up/down matrix, stored (out, in) by `nn.Linear`, is transposed to
// attnchat's (in, out), and q, k and v become columns of the one fused projection.

/// What a Hugging Face directory says about generation beyond the weights: the end-of-turn ids
/// and the sampling settings its authors chose (`generation_config.json`).
public struct HuggingFaceModelInfo: Sendable, Equatable {
    /// `model_type` from `config.json`: "gpt2", "llama", "qwen2" or "mistral".
    public let modelType: String
    /// Every id that ends a reply: `eos_token_id` of `config.json` and of
    /// `generation_config.json` (either may be a list), in that order, without repeats.
    public let endOfTurnIDs: [Int]
    /// `bos_token_id`, if any.
    public let beginningOfTextID: Int?
    /// The `generation_config.json` sampling fields that were present.
    public let temperature: Double?
    public let topP: Double?
    public let topK: Int?
    public let repetitionPenalty: Double?
    /// `do_sample: false` asks for greedy decoding.
    public let doSample: Bool?
    /// `max_position_embeddings` (or `n_positions`): the context the model was trained for,
    /// which may be more than attnchat allocates (`GPTConfig.contextLength`).
    public let trainedContext: Int
}

extension GPTModel {
    /// The longest context attnchat allocates for a Hugging Face model unless asked otherwise:
    /// the KV cache and the captured attention grow with it (a Qwen2.5's 32,768 positions would
    /// cost about a gigabyte before the first token).
    public static let defaultContextLimit = 4096

    /// The Hugging Face model types attnchat runs.
    public static let supportedModelTypes = ["gpt2", "llama", "qwen2", "mistral"]

    /// Loads a Llama, Qwen2 or Mistral directory whose `config.json` is `configPath`.
    static func loadLlamaFamily(
        directory: String, config object: JSONObject, configPath: String, contextLimit: Int
    ) throws(GPTError) -> (model: GPTModel, source: ModelSource) {
        let (config, info) = try llamaFamilyConfig(object, path: configPath, directory: directory, contextLimit: contextLimit)
        let shards = try CheckpointShards(directory: directory)
        let layout = GPTWeights.Layout(config: config)
        let recipes = try llamaFamilyRecipes(config: config, layout: layout, shards: shards, configPath: configPath)
        var dtypes = Set<String>()
        var bytes = 0
        // F16 and BF16 matrices stay as stored: their rows are (out, in) in the file, and q, k, v
        // stacked are the fused projection's rows.
        var builder = PackedBuilder()
        var floatRecipes: [String: [CheckpointShards.Piece]] = [:]
        for (tensor, recipe) in zip(layout.tensors, recipes) {
            let dtype = recipe[0].info.dtype
            guard GPTWeights.Layout.isPackable(tensor.name), dtype == .F16 || dtype == .BF16, recipe.allSatisfy({ $0.info.dtype == dtype }) else {
                floatRecipes[tensor.name] = recipe
                continue
            }
            let sources = recipe.map { PackedBuilder.Source(file: $0.file, info: $0.info, columnsAreRows: false) }
            let rows = recipe.reduce(0) { $0 + $1.info.shape[0] }
            try builder.packHalf(name: tensor.name, rows: rows, columns: recipe[0].info.shape[1], sources: sources)
            dtypes.insert(dtype.rawValue)
            bytes += recipe.reduce(0) { $0 + $1.info.byteCount }
        }
        let weights = GPTWeights(config: config, packed: builder.matrices, memory: builder.memory)
        for tensor in weights.tensors {
            let recipe = floatRecipes[tensor.name]!
            let destination = weights.mutableBuffer(tensor)
            var column = 0
            for piece in recipe {
                let values: [Float]
                do { values = try piece.file.floats(piece.info.name) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
                dtypes.insert(piece.info.dtype.rawValue)
                bytes += piece.info.byteCount
                if piece.transposed {
                    // (out, in) pieces side by side as the columns of an (in, Σout) matrix.
                    let (outDim, inDim) = (piece.info.shape[0], piece.info.shape[1])
                    let columns = tensor.shape[1]
                    values.withUnsafeBufferPointer { source in
                        for o in 0..<outDim {
                            let row = source.baseAddress! + o * inDim
                            for i in 0..<inDim { destination[i * columns + column + o] = row[i] }
                        }
                    }
                    column += outDim
                } else {
                    // Same layout: 1-D pieces one after another (fused biases), or a whole table.
                    (destination.baseAddress! + column).update(from: values, count: values.count)
                    column += values.count
                }
            }
        }
        if config.tiedEmbeddings, let head = shards.info(named: "lm_head.weight") {
            // A tied model that still stores its head: it must be the embedding, or the file is not what its config says.
            let stored: [Float]
            do { stored = try head.file.floats(head.info.name) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
            let embedding: [Float]
            let table = shards.info(named: "model.embed_tokens.weight")!  // a recipe of wte.weight
            do { embedding = try table.file.floats(table.info.name) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
            let tied = embedding == stored
            if !tied {
                throw .badConfig(path: configPath, reason: "tie_word_embeddings is true but \"lm_head.weight\" differs from \"model.embed_tokens.weight\"")
            }
        }
        let source = ModelSource(path: directory, dtypes: dtypes.sorted(), fileBytes: bytes, huggingFace: info)
        return (GPTModel(weights: weights), source)
    }

    /// Reads `config.json` of a Llama-family model, refusing every feature attnchat does not compute.
    static func llamaFamilyConfig(
        _ object: JSONObject, path: String, directory: String, contextLimit: Int
    ) throws(GPTError) -> (GPTConfig, HuggingFaceModelInfo) {
        let type = object["model_type"]?.stringValue ?? "?"
        func bad(_ reason: String) -> GPTError { .badConfig(path: path, reason: reason) }
        func integer(_ key: String) throws(GPTError) -> Int? {
            guard let value = object[key], !value.isNull else { return nil }
            guard let n = value.intValue else { throw bad("field \"\(key)\" is not an integer") }
            return n
        }
        func required(_ key: String) throws(GPTError) -> Int {
            guard let n = try integer(key) else { throw bad("missing field \"\(key)\"") }
            return n
        }
        func number(_ key: String, in o: JSONObject? = nil) throws(GPTError) -> Double? {
            guard let value = (o ?? object)[key], !value.isNull else { return nil }
            guard let n = value.doubleValue else { throw bad("field \"\(key)\" is not a number") }
            return n
        }
        func flag(_ key: String) throws(GPTError) -> Bool? {
            guard let value = object[key], !value.isNull else { return nil }
            guard let b = value.boolValue else { throw bad("field \"\(key)\" is not true or false") }
            return b
        }

        if let act = object["hidden_act"]?.stringValue, act != "silu" {
            throw bad("hidden_act \"\(act)\" is not supported (expected \"silu\")")
        }
        // transformers 4 writes rope_theta and rope_scaling; 5 writes rope_parameters.
        var theta = try number("rope_theta") ?? 10_000
        for key in ["rope_scaling", "rope_parameters"] {
            guard let field = object[key], !field.isNull else { continue }
            guard let rope = field.objectValue else { throw bad("field \"\(key)\" is not an object") }
            let ropeType = rope["rope_type"]?.stringValue ?? rope["type"]?.stringValue ?? "default"
            guard ropeType == "default" else { throw bad("\(key).rope_type \"\(ropeType)\" is not supported (only \"default\" rotary positions)") }
            if let t = try number("rope_theta", in: rope) { theta = t }
        }
        if try flag("use_sliding_window") == true || type == "mistral", let window = try integer("sliding_window") {
            let used = min(try required("max_position_embeddings"), contextLimit)
            guard window >= used else {
                throw bad("sliding_window \(window) is below the \(used)-token context attnchat would use; sliding-window attention is not supported")
            }
        }
        let heads = try required("num_attention_heads")
        let trained = try required("max_position_embeddings")
        var config = GPTConfig(
            vocabSize: try required("vocab_size"), contextLength: min(trained, contextLimit), layers: try required("num_hidden_layers"),
            heads: heads, width: try required("hidden_size"), mlpWidth: try required("intermediate_size"),
            layerNormEpsilon: Float(try number("rms_norm_eps") ?? 1e-6), positional: .rope, ropeTheta: Float(theta))
        config.rotaryLayout = .halfSplit
        config.norm = .rmsNorm
        config.activation = .swiglu
        config.kvHeads = try integer("num_key_value_heads") ?? heads
        config.headDimension = try integer("head_dim")
        // Which projections have biases is the family's, not the file's: refuse what would be ignored.
        let attentionBias = try flag("attention_bias") ?? false
        let mlpBias = try flag("mlp_bias") ?? false
        switch type {
        case "llama":
            config.qkvBias = attentionBias
            config.attentionOutputBias = attentionBias
            config.mlpBias = mlpBias
        case "qwen2":
            config.qkvBias = true
            config.attentionOutputBias = false
            config.mlpBias = false
        default:  // mistral
            if attentionBias || mlpBias { throw bad("attention_bias / mlp_bias are not part of Mistral") }
            config.qkvBias = false
            config.attentionOutputBias = false
            config.mlpBias = false
        }
        config.tiedEmbeddings = try flag("tie_word_embeddings") ?? false
        do { try config.validate() } catch { throw bad(Self.huggingFaceWording(error)) }

        let info = try huggingFaceInfo(
            modelType: type, config: object, path: path, directory: directory, vocabSize: config.vocabSize, trained: trained)
        return (config, info)
    }

    /// GPT-2's `validate()` names GPT-2's fields; a Llama's config.json calls them otherwise.
    static func huggingFaceWording(_ error: GPTError) -> String {
        guard case .invalidConfig(let field, let value, let reason) = error else { return error.description }
        let names = [
            "n_embd": "hidden_size", "n_head": "num_attention_heads", "n_layer": "num_hidden_layers", "n_inner": "intermediate_size",
            "n_positions": "max_position_embeddings", "layer_norm_epsilon": "rms_norm_eps",
        ]
        return "field \"\(names[field] ?? field)\" = \(value): \(reason)"
    }

    /// `generation_config.json` as an object, or nil when the directory has none.
    static func generationConfig(directory: String) throws(GPTError) -> JSONObject? {
        let path = Path.join(directory, "generation_config.json")
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try configObject(path: path)
    }

    /// The end-of-turn ids (`eos_token_id` of `config.json`, then of `generation_config.json`;
    /// either may be a list), `bos_token_id` and the sampling settings of a model directory.
    static func huggingFaceInfo(
        modelType: String, config object: JSONObject, path: String, directory: String, vocabSize: Int, trained: Int
    ) throws(GPTError) -> HuggingFaceModelInfo {
        let generationPath = Path.join(directory, "generation_config.json")
        let generation = try generationConfig(directory: directory)
        var endOfTurn: [Int] = []
        for (value, file) in [(object["eos_token_id"], path), (generation?["eos_token_id"], generationPath)] {
            guard let value, !value.isNull else { continue }
            for id in value.arrayValue ?? [value] {
                guard let n = id.intValue, n >= 0, n < vocabSize else {
                    throw .badConfig(path: file, reason: "eos_token_id \(id.serialized()) is not a token id below vocab_size \(vocabSize)")
                }
                if !endOfTurn.contains(n) { endOfTurn.append(n) }
            }
        }
        var bos: Int?
        if let value = object["bos_token_id"], !value.isNull {
            guard let n = value.intValue, n >= 0, n < vocabSize else {
                throw .badConfig(path: path, reason: "bos_token_id \(value.serialized()) is not a token id below vocab_size \(vocabSize)")
            }
            bos = n
        }
        func number(_ key: String) throws(GPTError) -> Double? {
            guard let value = generation?[key], !value.isNull else { return nil }
            guard let n = value.doubleValue, n.isFinite else { throw .badConfig(path: generationPath, reason: "field \"\(key)\" is not a number") }
            return n
        }
        let topK = try number("top_k")
        if let topK, topK < 0 || topK != topK.rounded() { throw .badConfig(path: generationPath, reason: "field \"top_k\" = \(topK) is not a count") }
        var doSample: Bool?
        if let value = generation?["do_sample"], !value.isNull {
            guard let b = value.boolValue else { throw .badConfig(path: generationPath, reason: "field \"do_sample\" is not true or false") }
            doSample = b
        }
        return HuggingFaceModelInfo(
            modelType: modelType, endOfTurnIDs: endOfTurn, beginningOfTextID: bos, temperature: try number("temperature"),
            topP: try number("top_p"), topK: topK.map { Int(min($0, 1e9)) }, repetitionPenalty: try number("repetition_penalty"),
            doSample: doSample, trainedContext: trained)
    }

    /// For each tensor of `layout`, the checkpoint tensors it is made of, in column order.
    /// Every name and shape is checked here, before the parameters are allocated.
    private static func llamaFamilyRecipes(
        config c: GPTConfig, layout: GPTWeights.Layout, shards: CheckpointShards, configPath: String
    ) throws(GPTError) -> [[CheckpointShards.Piece]] {
        let (C, M, A, K, V) = (c.width, c.mlpWidth, c.attentionWidth, c.kvWidth, c.vocabSize)
        var used = Set<String>()
        func piece(_ name: String, _ shape: [Int], transposed: Bool = false) throws(GPTError) -> CheckpointShards.Piece {
            guard let found = shards.info(named: name) else {
                let why = name == "lm_head.weight" ? " (tie_word_embeddings is false)" : ""
                throw .missingTensor(path: shards.description, name: name + why, expectedShape: shape)
            }
            guard found.info.shape == shape else {
                throw .shapeMismatch(path: found.file.path, name: name, expected: shape, actual: found.info.shape)
            }
            used.insert(name)
            return CheckpointShards.Piece(file: found.file, info: found.info, transposed: transposed)
        }
        var recipes: [[CheckpointShards.Piece]] = []
        for tensor in layout.tensors {
            let parts = tensor.name.split(separator: ".").map(String.init)
            var recipe: [CheckpointShards.Piece] = []
            if tensor.name == "wte.weight" {
                recipe = [try piece("model.embed_tokens.weight", [V, C])]
            } else if tensor.name == "ln_f.weight" {
                recipe = [try piece("model.norm.weight", [C])]
            } else if tensor.name == "lm_head.weight" {
                recipe = [try piece("lm_head.weight", [V, C])]
            } else if parts.count >= 4, parts[0] == "h" {
                let p = "model.layers.\(parts[1])."
                switch parts[2...].joined(separator: ".") {
                case "ln_1.weight": recipe = [try piece(p + "input_layernorm.weight", [C])]
                case "ln_2.weight": recipe = [try piece(p + "post_attention_layernorm.weight", [C])]
                case "attn.c_attn.weight":
                    recipe = [
                        try piece(p + "self_attn.q_proj.weight", [A, C], transposed: true),
                        try piece(p + "self_attn.k_proj.weight", [K, C], transposed: true),
                        try piece(p + "self_attn.v_proj.weight", [K, C], transposed: true),
                    ]
                case "attn.c_attn.bias":
                    recipe = [try piece(p + "self_attn.q_proj.bias", [A]), try piece(p + "self_attn.k_proj.bias", [K]), try piece(p + "self_attn.v_proj.bias", [K])]
                case "attn.c_proj.weight": recipe = [try piece(p + "self_attn.o_proj.weight", [C, A], transposed: true)]
                case "attn.c_proj.bias": recipe = [try piece(p + "self_attn.o_proj.bias", [C])]
                case "mlp.c_fc.weight": recipe = [try piece(p + "mlp.up_proj.weight", [M, C], transposed: true)]
                case "mlp.c_fc.bias": recipe = [try piece(p + "mlp.up_proj.bias", [M])]
                case "mlp.c_gate.weight": recipe = [try piece(p + "mlp.gate_proj.weight", [M, C], transposed: true)]
                case "mlp.c_gate.bias": recipe = [try piece(p + "mlp.gate_proj.bias", [M])]
                case "mlp.c_proj.weight": recipe = [try piece(p + "mlp.down_proj.weight", [C, M], transposed: true)]
                case "mlp.c_proj.bias": recipe = [try piece(p + "mlp.down_proj.bias", [C])]
                default: break
                }
            }
            precondition(!recipe.isEmpty, "no checkpoint tensor for \(tensor.name)")
            recipes.append(recipe)
        }
        // Anything else in the files is a feature attnchat would silently drop: refuse it.
        // (Old checkpoints keep the rotary frequencies as a buffer; a tied head may be stored.)
        let ignorable = { (name: String) in name.hasSuffix("rotary_emb.inv_freq") || (c.tiedEmbeddings && name == "lm_head.weight") }
        let unexpected = shards.names.filter { !used.contains($0) && !ignorable($0) }.sorted()
        if !unexpected.isEmpty { throw .unexpectedTensors(path: shards.description, names: unexpected) }
        return recipes
    }
}

/// The safetensors files of one checkpoint: `model.safetensors`, or the shards that
/// `model.safetensors.index.json` maps each tensor name to.
struct CheckpointShards {
    struct Piece {
        let file: SafetensorsFile
        let info: TensorInfo
        /// Stored (out, in), to be written as columns.
        let transposed: Bool
    }

    private var byName: [String: (file: SafetensorsFile, info: TensorInfo)] = [:]
    /// The file (or index) named in messages about the checkpoint as a whole.
    let description: String
    var names: [String] { Array(byName.keys) }

    init(directory: String) throws(GPTError) {
        let single = Path.join(directory, "model.safetensors")
        let indexPath = Path.join(directory, "model.safetensors.index.json")
        func open(_ path: String) throws(GPTError) -> SafetensorsFile {
            do { return try SafetensorsFile(path: path) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
        }
        if FileManager.default.fileExists(atPath: single) {
            description = single
            let file = try open(single)
            for info in file.tensors { byName[info.name] = (file, info) }
            return
        }
        guard FileManager.default.fileExists(atPath: indexPath) else {
            throw .missingModel(path: directory, reason: "directory has neither model.safetensors nor model.safetensors.index.json")
        }
        description = indexPath
        let data: Data
        do { data = try InputFile.read(indexPath) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
        let json: JSONValue
        do { json = try JSONValue.parse(data) } catch { throw .badConfig(path: indexPath, reason: "\(error)") }
        guard let map = json.objectValue?["weight_map"]?.objectValue else {
            throw .badConfig(path: indexPath, reason: "missing \"weight_map\" object")
        }
        var files: [String: SafetensorsFile] = [:]
        for (name, value) in map.entries {
            guard let shard = value.stringValue, !shard.isEmpty, !shard.contains("/") else {
                throw .badConfig(path: indexPath, reason: "weight_map[\"\(name)\"] is not a file name in the directory")
            }
            let file: SafetensorsFile
            if let opened = files[shard] {
                file = opened
            } else {
                file = try open(Path.join(directory, shard))
                files[shard] = file
            }
            guard let info = file[name] else {
                throw .badConfig(path: indexPath, reason: "weight_map puts \"\(name)\" in \(shard), which does not hold it")
            }
            byName[name] = (file, info)
        }
        // A shard's tensors the index does not list would be silently ignored: they count as unexpected.
        for file in files.values {
            for info in file.tensors where byName[info.name] == nil { byName[info.name] = (file, info) }
        }
    }

    func info(named name: String) -> (file: SafetensorsFile, info: TensorInfo)? { byName[name] }
}
