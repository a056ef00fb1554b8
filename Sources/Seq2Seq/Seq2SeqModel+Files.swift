import FileIO
import GPT
import JSON
import Kernels
import Safetensors

// attnchat's encoder–decoder files: one safetensors file, the tensors under the names of
// `Seq2SeqWeights` (stored F32 or F16), and in `__metadata__`:
//   format         "attnchat-seq2seq" (a GPT file says "attnchat-gpt": `format` tells the kinds apart)
//   format_version "1"
//   config         the config as JSON (`Seq2SeqConfig.jsonObject`), every field required, no others
//   quantization   only in a quantized file: a `Quantization` scheme, as in a GPT file. The
//                  token embedding (a (V, C) table, rows as they are) and every projection
//                  (stored (out, in), like `nn.Linear`, so a block of 32 runs along one output's
//                  inputs) whose inputs are a multiple of 32 are quantized, each with its
//                  `<name>_scale`; norms, biases and learned positions stay F32. Loading widens
//                  them back to F32: the decoder's kernels are F32 (a quantized file is how the
//                  binary carries its default model in a third of the bytes).
// Extra metadata keys (a training checkpoint's step, a tokenizer hash) are the caller's.

extension Seq2SeqConfig {
    /// The config as stored in `__metadata__` (snake_case field names).
    public var jsonObject: JSONObject {
        // Floats go through their shortest decimal text so 1e-5 is stored as 1e-05, not 9.99999974e-06.
        func number(_ x: Float) -> JSONValue { .number(Double("\(x)") ?? Double(x)) }
        return [
            "vocab_size": .integer(Int64(vocabSize)), "context_length": .integer(Int64(contextLength)),
            "width": .integer(Int64(width)), "heads": .integer(Int64(heads)),
            "encoder_layers": .integer(Int64(encoderLayers)), "decoder_layers": .integer(Int64(decoderLayers)),
            "mlp_width": .integer(Int64(mlpWidth)), "norm": .string(normPlacement.rawValue), "positional": .string(positional.rawValue),
            "epsilon": number(epsilon), "rope_theta": number(ropeTheta),
            "padding_id": .integer(Int64(paddingID)), "begin_id": .integer(Int64(beginID)), "end_id": .integer(Int64(endID)),
        ]
    }

    /// The fields `jsonObject` writes; a stored config must have exactly these.
    public static let jsonFields = [
        "vocab_size", "context_length", "width", "heads", "encoder_layers", "decoder_layers", "mlp_width", "norm", "positional",
        "epsilon", "rope_theta", "padding_id", "begin_id", "end_id",
    ]

    /// Parses a stored config strictly: every field present with the right type, no unknown
    /// field, then `validate()`.
    /// - Throws: `Seq2SeqError.badFile` naming `path` and the field.
    public init(json: JSONValue, path: String) throws(Seq2SeqError) {
        guard let object = json.objectValue else { throw .badFile(path: path, reason: "__metadata__ config is \(json.kindName), not an object") }
        if let unknown = object.keys.first(where: { !Self.jsonFields.contains($0) }) {
            throw .badFile(path: path, reason: "__metadata__ config: unknown field \"\(unknown)\"")
        }
        func int(_ key: String) throws(Seq2SeqError) -> Int {
            guard let value = object[key] else { throw .badFile(path: path, reason: "__metadata__ config: missing field \"\(key)\"") }
            guard let n = value.intValue else { throw .badFile(path: path, reason: "__metadata__ config: \"\(key)\" is not an integer") }
            return n
        }
        func float(_ key: String) throws(Seq2SeqError) -> Float {
            guard let value = object[key] else { throw .badFile(path: path, reason: "__metadata__ config: missing field \"\(key)\"") }
            guard let x = value.doubleValue else { throw .badFile(path: path, reason: "__metadata__ config: \"\(key)\" is not a number") }
            return Float(x)
        }
        func string(_ key: String) throws(Seq2SeqError) -> String {
            guard let value = object[key] else { throw .badFile(path: path, reason: "__metadata__ config: missing field \"\(key)\"") }
            guard let s = value.stringValue else { throw .badFile(path: path, reason: "__metadata__ config: \"\(key)\" is not a string") }
            return s
        }
        func id(_ key: String) throws(Seq2SeqError) -> Int32 {
            let n = try int(key)
            guard let id = Int32(exactly: n) else { throw .badFile(path: path, reason: "__metadata__ config: \"\(key)\" \(n) is not a token id") }
            return id
        }
        let normText = try string("norm"), positionalText = try string("positional")
        guard let norm = NormPlacement(rawValue: normText) else {
            throw .badFile(path: path, reason: "__metadata__ config: norm \"\(normText)\" is not pre or post")
        }
        guard let positional = GPTConfig.Positional(rawValue: positionalText) else {
            throw .badFile(path: path, reason: "__metadata__ config: positional \"\(positionalText)\" is not learned, sinusoidal or rope")
        }
        self.init(
            vocabSize: try int("vocab_size"), contextLength: try int("context_length"), width: try int("width"), heads: try int("heads"),
            encoderLayers: try int("encoder_layers"), decoderLayers: try int("decoder_layers"), mlpWidth: try int("mlp_width"),
            normPlacement: norm, positional: positional, epsilon: try float("epsilon"), ropeTheta: try float("rope_theta"),
            paddingID: try id("padding_id"), beginID: try id("begin_id"), endID: try id("end_id"))
        do { try validate() } catch { throw .badFile(path: path, reason: error.description) }
    }
}

extension Seq2SeqModel {
    public static let formatKey = "format", formatName = "attnchat-seq2seq"
    public static let versionKey = "format_version", currentVersion = 1
    public static let configKey = "config"

    /// The `__metadata__` of this model's file, plus `extra` (which may not replace these keys).
    public func fileMetadata(extra: [String: String] = [:]) -> [String: String] {
        var metadata = extra
        metadata[Self.formatKey] = Self.formatName
        metadata[Self.versionKey] = String(Self.currentVersion)
        metadata[Self.configKey] = JSONValue.object(config.jsonObject).serialized()
        return metadata
    }

    /// The weights as safetensors tensors (for `save` and for checkpoints that add their own).
    public func fileTensors(dtype: DType = .F32) -> [SafetensorsWriter.Tensor] {
        weights.tensors.map { t in
            SafetensorsWriter.Tensor(name: t.name, shape: t.shape, floats: weights.withTensor(t) { Array($0) }, storedAs: dtype)
        }
    }

    /// Writes the model as one attnchat-seq2seq file, atomically (`AtomicFile` through
    /// `SafetensorsWriter`): a reader sees the old file or the new one, never half of one.
    /// - Parameters:
    ///   - dtype: `.F32` or `.F16` (rounded to nearest even).
    ///   - metadata: extra `__metadata__` entries (e.g. the tokenizer's hash).
    ///   - existing: whether a file at `path` may be replaced (else exit 73).
    /// - Throws: `Seq2SeqError.file` with the writer's message and exit code (73 refused, 74 failed).
    public func save(to path: String, dtype: DType = .F32, metadata: [String: String] = [:], existing: AtomicFile.Existing) throws(Seq2SeqError) {
        guard dtype == .F32 || dtype == .F16 else { throw .badFile(path: path, reason: "dtype \(dtype.rawValue): attnchat-seq2seq files are F32 or F16") }
        do {
            try SafetensorsWriter.write(to: path, tensors: fileTensors(dtype: dtype), metadata: fileMetadata(extra: metadata), existing: existing)
        } catch {
            throw .file(message: error.description, exitCode: error.exitCode)
        }
    }

    /// Writes the model with its matrices quantized under `scheme` (see the file comment), atomically.
    /// - Throws: `Seq2SeqError.file` with the writer's message and exit code (73 refused, 74 failed).
    public func saveQuantized(to path: String, scheme: Quantization, metadata: [String: String] = [:], existing: AtomicFile.Existing) throws(Seq2SeqError) {
        var meta = fileMetadata(extra: metadata)
        meta[GPTModel.quantizationKey] = scheme.rawValue
        var tensors: [SafetensorsWriter.Tensor] = []
        for t in weights.tensors {
            var values = weights.withTensor(t) { Array($0) }
            guard let matrix = Self.quantizedMatrix(t) else {
                tensors.append(SafetensorsWriter.Tensor(name: t.name, shape: t.shape, floats: values))
                continue
            }
            let (rows, columns) = (matrix.rows, matrix.columns)
            if matrix.transposed {
                let source = values
                for i in 0..<columns { for o in 0..<rows { values[o * columns + i] = source[i * rows + o] } }
            }
            tensors += scheme.tensors(name: t.name, values: values, rows: rows, columns: columns)
        }
        do {
            try SafetensorsWriter.write(to: path, tensors: tensors, metadata: meta, existing: existing)
        } catch {
            throw .file(message: error.description, exitCode: error.exitCode)
        }
    }

    /// How a quantized file stores tensor `t`: as a (rows, columns) matrix, `transposed` from
    /// the weights' (in, out); nil for a tensor kept F32.
    static func quantizedMatrix(_ t: Seq2SeqWeights.Tensor) -> (rows: Int, columns: Int, transposed: Bool)? {
        guard t.shape.count == 2, !t.name.hasSuffix("wpe.weight") else { return nil }
        let isTable = t.name == "embed.weight"
        let (rows, columns) = isTable ? (t.shape[0], t.shape[1]) : (t.shape[1], t.shape[0])
        guard columns % PackedMatrix.blockSize == 0 else { return nil }
        return (rows, columns, !isTable)
    }

    /// Whether `metadata` is an attnchat-seq2seq file's (as opposed to a GPT's).
    public static func isSeq2Seq(metadata: [String: String]) -> Bool { metadata[formatKey] == formatName }

    /// Loads an attnchat-seq2seq file.
    /// - Throws: `Seq2SeqError` with one line naming the file and what is wrong; exit 65 for a
    ///   malformed file, 66 for a missing one, 74 for a failed read.
    public static func load(path: String) throws(Seq2SeqError) -> Seq2SeqModel {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw .file(message: error.description, exitCode: error.exitCode) }
        return try load(file: file)
    }

    /// Loads the model part of an opened file; tensors named in `ignoring` (a checkpoint's
    /// optimizer state) are the caller's. Every name and shape is checked against the config's
    /// layout before the parameters are allocated: a config alone could ask for gigabytes.
    /// - Parameter format: the `format` the file must say (a checkpoint has its own).
    public static func load(file: SafetensorsFile, format: String = formatName, ignoring: Set<String> = []) throws(Seq2SeqError) -> Seq2SeqModel {
        let path = file.path
        let meta = file.metadata
        guard meta[formatKey] == format else {
            throw .badFile(path: path, reason: "__metadata__ format is \(meta[formatKey].map { "\"\($0)\"" } ?? "missing"), expected \"\(format)\"")
        }
        // A checkpoint's version is its own format's; the model part is this version's layout.
        guard let version = format == formatName ? meta[versionKey] : String(currentVersion) else { throw .badFile(path: path, reason: "__metadata__ has no \(versionKey)") }
        guard version == String(currentVersion) else {
            throw .badFile(path: path, reason: "__metadata__ \(versionKey) \(version) is not supported (expected \(currentVersion))")
        }
        let json: JSONValue
        do {
            guard let value = try file.metadataJSON(configKey) else { throw Seq2SeqError.badFile(path: path, reason: "__metadata__ has no \(configKey)") }
            json = value
        } catch let error as Seq2SeqError {
            throw error
        } catch let error as SafetensorsError {
            throw .file(message: error.description, exitCode: error.exitCode)
        } catch {
            throw .badFile(path: path, reason: "\(error)")
        }
        let config = try Seq2SeqConfig(json: json, path: path)
        var scheme: Quantization?
        if let name = meta[GPTModel.quantizationKey] {
            guard let known = Quantization(rawValue: name) else {
                let names = Quantization.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")
                throw .badFile(path: path, reason: "__metadata__ \(GPTModel.quantizationKey) \"\(name)\" is not known (expected \(names))")
            }
            scheme = known
        }
        let layout = Seq2SeqWeights.Layout(config: config)
        var expected: [String: [Int]] = [:]
        var quantized: [String: (rows: Int, columns: Int, transposed: Bool)] = [:]
        for t in layout.tensors {
            if let scheme, let matrix = quantizedMatrix(t) {
                quantized[t.name] = matrix
                expected[t.name] = scheme.elementShape(rows: matrix.rows, columns: matrix.columns)
                expected[GPTModel.scaleName(t.name)] = [matrix.rows, matrix.columns / PackedMatrix.blockSize]
            } else {
                expected[t.name] = t.shape
            }
        }
        do throws(SafetensorsError) {
            try file.checkTensors(expected, allowExtra: { ignoring.contains($0) })
            for name in expected.keys.sorted() where quantized[name] == nil && !file[name]!.dtype.isFloatConvertible {
                throw SafetensorsError.notConvertibleToFloat(path: path, tensor: name, dtype: file[name]!.dtype)
            }
        } catch {
            throw .file(message: error.description, exitCode: error.exitCode)
        }
        let weights = Seq2SeqWeights(config: config)
        for t in weights.tensors {
            let buffer = weights.withMutableTensor(t) { $0 }
            if let scheme, let matrix = quantized[t.name] {
                try widen(file: file, tensor: t.name, scheme: scheme, matrix: matrix, into: buffer)
                continue
            }
            do throws(SafetensorsError) {
                try file.copyFloats(t.name, into: buffer)
            } catch {
                throw .file(message: error.description, exitCode: error.exitCode)
            }
        }
        return Seq2SeqModel(weights: weights)
    }

    /// Widens the quantized matrix `name` of `file` into `buffer`, in the weights' layout.
    private static func widen(
        file: SafetensorsFile, tensor name: String, scheme: Quantization, matrix: (rows: Int, columns: Int, transposed: Bool),
        into buffer: UnsafeMutableBufferPointer<Float>
    ) throws(Seq2SeqError) {
        let (rows, columns) = (matrix.rows, matrix.columns)
        let info = file[name]!
        guard info.dtype == scheme.elementDType else {
            throw .badFile(path: file.path, reason: "tensor \(name) is \(info.dtype.rawValue); a \(scheme.rawValue) file stores \(scheme.elementDType.rawValue)")
        }
        let scales: [Float]
        // `floats` refuses a non-finite scale, naming it: the widened weights are finite.
        do { scales = try file.floats(GPTModel.scaleName(name)) } catch { throw .file(message: error.description, exitCode: error.exitCode) }
        var row = [Float](repeating: 0, count: columns)
        do {
            try file.withRawBytes(of: name) { raw in
                scales.withUnsafeBufferPointer { s in
                    let packed = PackedMatrix(format: scheme.format, rows: rows, columns: columns, elements: raw.baseAddress!, scales: s.baseAddress!)
                    row.withUnsafeMutableBufferPointer { r in
                        for o in 0..<rows {
                            dequantizeRow(packed, row: o, into: r.baseAddress!)
                            if matrix.transposed {
                                for i in 0..<columns { buffer[i * rows + o] = r[i] }
                            } else {
                                for i in 0..<columns { buffer[o * columns + i] = r[i] }
                            }
                        }
                    }
                }
            }
        } catch let error as SafetensorsError {
            throw .file(message: error.description, exitCode: error.exitCode)
        } catch {
            throw .badFile(path: file.path, reason: "\(name): \(error)")
        }
    }
}
