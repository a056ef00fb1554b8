import FoundationEssentials
import JSON

/// Reading a Hugging Face `tokenizer.json` into a `Pipeline`. Every component is checked: an
/// unknown type, a missing or mistyped field, a pattern the regex engine does not implement is
/// `TokenizerError.unsupported` (exit 65) naming the file and the field, never a different tokenizer.
extension BPETokenizer {
    /// Loads a Hugging Face `tokenizer.json` with a BPE model: GPT-2, SmolLM2, Llama-3, Qwen2
    /// (byte-level) and Llama-2, TinyLlama, Mistral (SentencePiece-style, byte fallback) files.
    /// Merges may be `"a b"` strings or `["a", "b"]` pairs. The `added_tokens` marked `special`
    /// become `specialTokens`; the others are ordinary vocabulary that `encode` still matches.
    public convenience init(tokenizerJSON data: Data, path: String = "tokenizer.json") throws(TokenizerError) {
        let reader = HFReader(path: path)
        guard let root = try parseJSON(data, path: path).objectValue else { throw reader.fail("not a JSON object") }
        guard let model = root["model"]?.objectValue else { throw reader.fail("missing \"model\" object") }
        let type = model["type"]?.stringValue ?? "BPE"
        guard type == "BPE" else { throw reader.fail("model type \"\(type)\" (expected \"BPE\")") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[key]?.stringValue, !value.isEmpty { throw reader.fail("model.\(key) \"\(value)\"") }
        }
        if let dropout = model["dropout"], !dropout.isNull, dropout.doubleValue != 0 {
            throw reader.fail("model.dropout \(dropout.serialized()) (BPE dropout is random; only null is supported)")
        }
        guard let vocabObject = model["vocab"]?.objectValue else { throw reader.fail("missing \"model.vocab\" object") }
        let modelVocabulary = try Self.vocabulary(from: vocabObject, path: path, data: data)
        var vocabulary = modelVocabulary
        guard let mergeList = model["merges"]?.arrayValue else { throw reader.fail("missing \"model.merges\" array") }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(mergeList.count)
        for (index, entry) in mergeList.enumerated() {
            if let line = entry.stringValue {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else {
                    throw .badMerge(path: path, line: nil, reason: "merge \(index) \"\(line)\" has \(parts.count) fields, expected 2")
                }
                pairs.append((String(parts[0]), String(parts[1])))
            } else if let pair = entry.arrayValue, pair.count == 2, let left = pair[0].stringValue, let right = pair[1].stringValue {
                pairs.append((left, right))
            } else {
                throw .badMerge(path: path, line: nil, reason: "merge \(index) is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }

        // Ids become UInt32 with `truncatingIfNeeded`: one out of range is refused by the
        // designated initializer (limit 2^24) before any table is used, never a trap here.
        var pipeline = Pipeline()
        pipeline.ignoreMerges = try reader.bool(model, "ignore_merges", at: "model", default: false)
        pipeline.fuseUnknown = try reader.bool(model, "fuse_unk", at: "model", default: false)
        if let unk = model["unk_token"], !unk.isNull {
            guard let text = unk.stringValue else { throw reader.fail("model.unk_token is \(unk.kindName), expected a string") }
            guard let id = modelVocabulary[text] else { throw reader.fail("model.unk_token \"\(text)\" is not in the vocabulary") }
            pipeline.unknownID = UInt32(truncatingIfNeeded: id)
        }
        if try reader.bool(model, "byte_fallback", at: "model", default: false) {
            pipeline.byteFallbackIDs = (0..<256).map { byte in
                // "<0x0A>": the byte as two uppercase hex digits
                let hex = (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                return modelVocabulary["<0x\(hex)>"].map { UInt32(truncatingIfNeeded: $0) } ?? UInt32.max
            }
        }

        // Added tokens.
        var specials: [String] = []
        var added: [Pipeline.AddedToken] = []
        let addedList: [JSONValue]
        switch root["added_tokens"] {
        case nil, .null?: addedList = []
        case .array(let list)?: addedList = list
        case let other?: throw reader.fail("added_tokens is \(other.kindName), expected an array")
        }
        for (index, token) in addedList.enumerated() {
            let at = "added_tokens[\(index)]"
            guard let object = token.objectValue else { throw reader.fail("\(at) is not an object") }
            guard let content = object["content"]?.stringValue, !content.isEmpty, let id = object["id"]?.intValue, id >= 0 else {
                throw .badVocabulary(path: path, line: nil, reason: "\(at) lacks an integer \"id\" or a \"content\" string")
            }
            if let existing = vocabulary[content], existing != id {
                throw .badVocabulary(path: path, line: nil, reason: "added token \"\(content)\" has id \(id) but the vocabulary says \(existing)")
            }
            let special = try reader.bool(object, "special", at: at, default: false)
            let entry = Pipeline.AddedToken(
                content: Array(content.unicodeScalars), id: id, special: special,
                normalized: try reader.bool(object, "normalized", at: at, default: !special),
                lstrip: try reader.bool(object, "lstrip", at: at, default: false),
                rstrip: try reader.bool(object, "rstrip", at: at, default: false),
                singleWord: try reader.bool(object, "single_word", at: at, default: false))
            vocabulary[content] = id
            added.append(entry)
            if special { specials.append(content) }
        }
        pipeline.addedTokens = added

        pipeline.normalizer = try reader.optional(root, "normalizer") { value, at throws(TokenizerError) in
            try reader.normalizer(value, at: at)
        }
        pipeline.preTokenizer = try reader.optional(root, "pre_tokenizer") { value, at throws(TokenizerError) in
            try reader.preTokenizer(value, at: at)
        }
        pipeline.decoder = try reader.optional(root, "decoder") { value, at throws(TokenizerError) in
            try reader.decoder(value, at: at)
        } ?? .none
        let (prefix, suffix) = try reader.optional(root, "post_processor") { value, at throws(TokenizerError) in
            try reader.postProcessor(value, at: at)
        } ?? ([], [])
        pipeline.byteLevel = pipeline.preTokenizer.map(Self.containsByteLevel) ?? false

        for token in added where !token.normalized { pipeline.rawCandidates.append((token.content, token)) }
        for token in added where token.normalized {
            let content = pipeline.normalize(token.content)
            if !content.isEmpty { pipeline.normalizedCandidates.append((content, token)) }
            if content != token.content { pipeline.decoderTokens[token.id] = String(String.UnicodeScalarView(content)) }
        }
        if !pipeline.byteLevel {
            for (token, id) in modelVocabulary {
                let scalars = token.unicodeScalars
                if scalars.count == 1, let scalar = scalars.first { pipeline.scalarIDs[scalar.value] = UInt32(truncatingIfNeeded: id) }
            }
        }
        if pipeline.ignoreMerges {
            for (token, id) in modelVocabulary {
                let bytes = pipeline.byteLevel ? ByteLevel.decode(token) : Array(token.utf8)
                if let bytes { pipeline.wholeTokenIDs[bytes] = UInt32(truncatingIfNeeded: id) }
            }
        }

        // GPT-2's own layout (attnchat writes it too) keeps the hand-written fast path.
        let isGPT2 = pipeline.normalizer == nil && prefix.isEmpty && suffix.isEmpty && !pipeline.ignoreMerges
            && pipeline.byteFallbackIDs == nil && pipeline.unknownID == nil && pipeline.decodesBytes
            && added.allSatisfy { $0.special && !$0.normalized && !$0.lstrip && !$0.rstrip && !$0.singleWord }
            && { if case .byteLevel(false, true)? = pipeline.preTokenizer { true } else { false } }()
        try self.init(vocabulary: vocabulary, merges: pairs, specialTokens: specials, source: (path, path),
                      mergeLines: nil, vocabData: data, pipeline: isGPT2 ? nil : pipeline,
                      prefixIDs: prefix, suffixIDs: suffix)
    }

    static func containsByteLevel(_ step: Pipeline.PreTokenizerStep) -> Bool {
        switch step {
        case .byteLevel: true
        case .sequence(let steps): steps.contains(where: containsByteLevel)
        default: false
        }
    }
}

/// Field-by-field reading of the pipeline components, with errors that name the field.
struct HFReader {
    let path: String

    func fail(_ what: String) -> TokenizerError { .unsupported(path: path, what: what) }

    func bool(_ object: JSONObject, _ key: String, at: String, default value: Bool) throws(TokenizerError) -> Bool {
        guard let field = object[key], !field.isNull else { return value }
        guard let bool = field.boolValue else { throw fail("\(at).\(key) is \(field.kindName), expected true or false") }
        return bool
    }

    func string(_ object: JSONObject, _ key: String, at: String) throws(TokenizerError) -> String {
        guard let field = object[key] else { throw fail("\(at) lacks \"\(key)\"") }
        guard let string = field.stringValue else { throw fail("\(at).\(key) is \(field.kindName), expected a string") }
        return string
    }

    func character(_ object: JSONObject, _ key: String, at: String) throws(TokenizerError) -> Unicode.Scalar {
        let text = try string(object, key, at: at)
        guard text.unicodeScalars.count == 1, let scalar = text.unicodeScalars.first else {
            throw fail("\(at).\(key) \(JSONText.quoted(text)) is not one character")
        }
        return scalar
    }

    func array(_ object: JSONObject, _ key: String, at: String) throws(TokenizerError) -> [JSONValue] {
        guard let field = object[key] else { throw fail("\(at) lacks \"\(key)\"") }
        guard let list = field.arrayValue else { throw fail("\(at).\(key) is \(field.kindName), expected an array") }
        return list
    }

    /// `root[key]` parsed by `body`, nil when missing or null.
    func optional<T>(_ root: JSONObject, _ key: String,
                     _ body: (JSONValue, String) throws(TokenizerError) -> T) throws(TokenizerError) -> T? {
        guard let value = root[key], !value.isNull else { return nil }
        return try body(value, key)
    }

    func typed(_ value: JSONValue, at: String) throws(TokenizerError) -> (JSONObject, String) {
        guard let object = value.objectValue else { throw fail("\(at) is \(value.kindName), expected an object") }
        guard let type = object["type"]?.stringValue else { throw fail("\(at) lacks a \"type\" string") }
        return (object, type)
    }

    /// `{"String": s}` as its scalars; a `{"Regex": …}` pattern is refused where only strings work.
    func stringPattern(_ object: JSONObject, at: String) throws(TokenizerError) -> [Unicode.Scalar] {
        guard let pattern = object["pattern"]?.objectValue else { throw fail("\(at) lacks a \"pattern\" object") }
        if let text = pattern["String"]?.stringValue { return Array(text.unicodeScalars) }
        if pattern["Regex"] != nil { throw fail("\(at).pattern Regex (only String patterns are supported here)") }
        throw fail("\(at).pattern is neither {\"String\": …} nor {\"Regex\": …}")
    }

    func normalizer(_ value: JSONValue, at: String) throws(TokenizerError) -> Pipeline.Normalizer {
        let (object, type) = try typed(value, at: at)
        switch type {
        case "NFC":
            return .nfc
        case "Prepend":
            return .prepend(Array(try string(object, "prepend", at: at).unicodeScalars))
        case "Replace":
            let pattern = try stringPattern(object, at: at)
            guard !pattern.isEmpty else { throw fail("\(at).pattern is empty") }
            return .replace(pattern: pattern, content: Array(try string(object, "content", at: at).unicodeScalars))
        case "Sequence":
            var steps: [Pipeline.Normalizer] = []
            for (index, step) in try array(object, "normalizers", at: at).enumerated() {
                steps.append(try normalizer(step, at: "\(at).normalizers[\(index)]"))
            }
            return .sequence(steps)
        default:
            throw fail("normalizer \"\(type)\" at \(at) (supported: NFC, Prepend, Replace, Sequence)")
        }
    }

    func preTokenizer(_ value: JSONValue, at: String) throws(TokenizerError) -> Pipeline.PreTokenizerStep {
        let (object, type) = try typed(value, at: at)
        switch type {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try bool(object, "add_prefix_space", at: at, default: true),
                              useRegex: try bool(object, "use_regex", at: at, default: true))
        case "Split":
            guard let pattern = object["pattern"]?.objectValue else { throw fail("\(at) lacks a \"pattern\" object") }
            let source: String
            if let regex = pattern["Regex"]?.stringValue {
                source = regex
            } else if let literal = pattern["String"]?.stringValue {
                source = literal.unicodeScalars.map { "\\x{\(String($0.value, radix: 16))}" }.joined()
            } else {
                throw fail("\(at).pattern is neither {\"String\": …} nor {\"Regex\": …}")
            }
            let behavior = try string(object, "behavior", at: at)
            guard behavior == "Isolated" else { throw fail("\(at).behavior \"\(behavior)\" (only Isolated is supported)") }
            if try bool(object, "invert", at: at, default: false) { throw fail("\(at).invert true") }
            do {
                return .split(try SplitRegex(source))
            } catch {
                throw fail("\(at).pattern \(JSONText.quoted(source)): \(error.reason)")
            }
        case "Digits":
            return .digits(individual: try bool(object, "individual_digits", at: at, default: false))
        case "Metaspace":
            let replacement = try character(object, "replacement", at: at)
            return .metaspace(replacement: replacement, prepend: try prependScheme(object, at: at),
                              split: try bool(object, "split", at: at, default: true))
        case "Sequence":
            var steps: [Pipeline.PreTokenizerStep] = []
            let list = try array(object, "pretokenizers", at: at)
            for (index, step) in list.enumerated() {
                let parsed = try preTokenizer(step, at: "\(at).pretokenizers[\(index)]")
                if case .byteLevel = parsed, index != list.count - 1 {
                    throw fail("\(at).pretokenizers[\(index)]: ByteLevel before other pre-tokenizers")
                }
                steps.append(parsed)
            }
            return .sequence(steps)
        default:
            throw fail("pre_tokenizer \"\(type)\" at \(at) (supported: ByteLevel, Split, Digits, Metaspace, Sequence)")
        }
    }

    /// `prepend_scheme` ("first", "always", "never"), or the older `add_prefix_space` boolean.
    func prependScheme(_ object: JSONObject, at: String) throws(TokenizerError) -> Pipeline.PrependScheme {
        if let scheme = object["prepend_scheme"], !scheme.isNull {
            switch scheme.stringValue {
            case "first": return .first
            case "always": return .always
            case "never": return .never
            default: throw fail("\(at).prepend_scheme \(scheme.serialized()) (expected \"first\", \"always\" or \"never\")")
            }
        }
        return try bool(object, "add_prefix_space", at: at, default: true) ? .always : .never
    }

    func decoder(_ value: JSONValue, at: String) throws(TokenizerError) -> Pipeline.Decoder {
        let (object, type) = try typed(value, at: at)
        switch type {
        case "ByteLevel":
            return .byteLevel
        case "Metaspace":
            return .metaspace(replacement: try character(object, "replacement", at: at),
                              dropInFirst: try prependScheme(object, at: at) != .never)
        case "Sequence":
            let steps = try array(object, "decoders", at: at)
            if steps.count == 1, let only = steps.first, case .byteLevel = try decoder(only, at: "\(at).decoders[0]") {
                return .byteLevel
            }
            return try sentencePiece(steps, at: at)
        case "Replace", "ByteFallback", "Fuse", "Strip":
            return try sentencePiece([value], at: at)
        default:
            throw fail("decoder \"\(type)\" at \(at) (supported: ByteLevel, Metaspace, and Sequence of Replace, ByteFallback, Fuse, Strip)")
        }
    }

    /// [Replace…, ByteFallback?, Fuse?, Strip?] in that order.
    func sentencePiece(_ steps: [JSONValue], at: String) throws(TokenizerError) -> Pipeline.Decoder {
        var replacements: [([Unicode.Scalar], [Unicode.Scalar])] = []
        var byteFallback = false, fuse = false
        var strip: (content: Unicode.Scalar, count: Int)?
        var stage = 0  // 0 replace, 1 byte fallback, 2 fuse, 3 strip
        for (index, step) in steps.enumerated() {
            let stepAt = steps.count == 1 ? at : "\(at).decoders[\(index)]"
            let (object, type) = try typed(step, at: stepAt)
            let order = ["Replace": 0, "ByteFallback": 1, "Fuse": 2, "Strip": 3][type]
            guard let order else { throw fail("decoder \"\(type)\" at \(stepAt) in a Sequence") }
            guard order >= stage else { throw fail("\(stepAt): \(type) out of the order Replace, ByteFallback, Fuse, Strip") }
            stage = order == 0 ? 0 : order + 1
            switch type {
            case "Replace":
                let pattern = try stringPattern(object, at: stepAt)
                guard !pattern.isEmpty else { throw fail("\(stepAt).pattern is empty") }
                replacements.append((pattern, Array(try string(object, "content", at: stepAt).unicodeScalars)))
            case "ByteFallback": byteFallback = true
            case "Fuse": fuse = true
            default:
                let content = try character(object, "content", at: stepAt)
                guard let start = object["start"]?.intValue, start >= 0, start <= 1000 else {
                    throw fail("\(stepAt).start is not an integer from 0 to 1000")
                }
                guard object["stop"]?.intValue == 0 else { throw fail("\(stepAt).stop is not 0 (stripping the end is not supported)") }
                strip = (content, start)
            }
        }
        return .sentencePiece(replacements: replacements, byteFallback: byteFallback, fuse: fuse, strip: strip)
    }

    /// The ids a post-processor adds around one sequence: (before, after).
    func postProcessor(_ value: JSONValue, at: String) throws(TokenizerError) -> ([Int], [Int]) {
        let (object, type) = try typed(value, at: at)
        switch type {
        case "ByteLevel":
            return ([], [])
        case "Sequence":
            var prefix: [Int] = [], suffix: [Int] = []
            for (index, step) in try array(object, "processors", at: at).enumerated() {
                let (before, after) = try postProcessor(step, at: "\(at).processors[\(index)]")
                prefix = before + prefix
                suffix += after
            }
            return (prefix, suffix)
        case "TemplateProcessing":
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            let specialTokens = object["special_tokens"]?.objectValue ?? JSONObject()
            for (index, item) in try array(object, "single", at: at).enumerated() {
                let itemAt = "\(at).single[\(index)]"
                if let sequence = item["Sequence"]?.objectValue {
                    guard sequence["id"]?.stringValue == "A", !seenSequence else { throw fail("\(itemAt): only one Sequence \"A\" is supported") }
                    seenSequence = true
                } else if let special = item["SpecialToken"]?.objectValue, let name = special["id"]?.stringValue {
                    guard let entry = specialTokens[name]?.objectValue, let ids = entry["ids"]?.arrayValue else {
                        throw fail("\(itemAt): special token \(JSONText.quoted(name)) is not in \(at).special_tokens")
                    }
                    for id in ids {
                        guard let id = id.intValue, id >= 0 else { throw fail("\(at).special_tokens.\(name).ids holds a non-id") }
                        if seenSequence { suffix.append(id) } else { prefix.append(id) }
                    }
                } else {
                    throw fail("\(itemAt) is neither {\"Sequence\": …} nor {\"SpecialToken\": …}")
                }
            }
            guard seenSequence else { throw fail("\(at).single has no Sequence \"A\"") }
            return (prefix, suffix)
        default:
            throw fail("post_processor \"\(type)\" at \(at) (supported: ByteLevel, TemplateProcessing, Sequence)")
        }
    }
}
