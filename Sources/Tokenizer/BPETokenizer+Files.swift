import FileIO
import FoundationEssentials
import JSON

/// Reading and writing the Hugging Face ByteLevel BPE files: `vocab.json` + `merges.txt`
/// (`#version: 0.2`) and `tokenizer.json`, byte for byte as `tokenizers` writes them.
extension BPETokenizer {
    /// Loads `tokenizer.json` from `directory` when present, otherwise `vocab.json` + `merges.txt`
    /// (then the tokens of `specialTokens` that the vocabulary has are special).
    public convenience init(directory: String, specialTokens: [String] = BPETokenizer.defaultSpecialTokens) throws(TokenizerError) {
        guard !directory.isEmpty else { throw .file(.emptyPath) }  // "" + "/vocab.json" would read the root's
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw .noSuchDirectory(path: directory)
        }
        guard isDirectory else { throw .notADirectory(path: directory) }
        let json = Path.join(directory, "tokenizer.json")
        if FileManager.default.fileExists(atPath: json) {
            try self.init(tokenizerJSON: try readFile(json), path: json)
            return
        }
        let vocabPath = Path.join(directory, "vocab.json")
        let mergesPath = Path.join(directory, "merges.txt")
        try self.init(vocabJSON: try readFile(vocabPath), merges: try readFile(mergesPath),
                      specialTokens: specialTokens, paths: (vocabPath, mergesPath))
    }

    /// Loads `vocab.json` + `merges.txt` from memory (e.g. files embedded in the binary).
    /// Those of `specialTokens` present in the vocabulary become special tokens; others are ignored,
    /// so GPT-2's own files load with the default list (only `<|endoftext|>` is there).
    public convenience init(
        vocabJSON: Data, merges: Data, specialTokens: [String] = BPETokenizer.defaultSpecialTokens,
        paths: (vocab: String, merges: String) = ("vocab.json", "merges.txt")
    ) throws(TokenizerError) {
        let vocabulary = try Self.parseVocabulary(vocabJSON, path: paths.vocab)
        let (pairs, lines) = try Self.parseMerges(merges, path: paths.merges)
        try self.init(vocabulary: vocabulary, merges: pairs,
                      specialTokens: specialTokens.filter { vocabulary[$0] != nil },
                      source: paths, mergeLines: lines, vocabData: vocabJSON)
    }

    /// `vocab.json`: one object of token -> id.
    static func parseVocabulary(_ data: Data, path: String) throws(TokenizerError) -> [String: Int] {
        guard let object = try parseJSON(data, path: path).objectValue else {
            throw .badVocabulary(path: path, line: nil, reason: "not a JSON object of token -> id")
        }
        return try vocabulary(from: object, path: path, data: data)
    }

    /// Token -> id; an id must be an integer literal (not a boolean, fraction or string) and not negative.
    static func vocabulary(from object: JSONObject, path: String, data: Data) throws(TokenizerError) -> [String: Int] {
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(object.count)
        for (token, value) in object.entries {
            guard let id = value.intValue, id >= 0 else {
                throw .badVocabulary(path: path, line: lineNumber(ofKey: token, in: data),
                                     reason: "id of \"\(token)\" is \(value.serialized()), expected a non-negative integer")
            }
            vocabulary[token] = id
        }
        return vocabulary
    }

    /// `merges.txt`: an optional `#version` line, then one `left right` pair per line, by rank.
    /// Returns the pairs and their 1-based line numbers.
    static func parseMerges(_ data: Data, path: String) throws(TokenizerError) -> ([(String, String)], [Int]) {
        let text = String(decoding: data, as: UTF8.self)
        var pairs: [(String, String)] = []
        var lines: [Int] = []
        var lineNumber = 0
        var rawLines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if rawLines.last == "" { rawLines.removeLast() }  // the final newline ends the last line
        for var line in rawLines {
            lineNumber += 1
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.hasPrefix("#version") { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .badMerge(path: path, line: lineNumber,
                                reason: "merge \"\(line)\" has \(line.split(separator: " ").count) fields, expected 2")
            }
            pairs.append((String(parts[0]), String(parts[1])))
            lines.append(lineNumber)
        }
        return (pairs, lines)
    }

    // MARK: Writing

    /// `vocab.json` as `tokenizers` writes it: one line, entries in id order, no final newline.
    public func vocabJSON() -> Data {
        var out = "{"
        var first = true
        for token in tokens {
            guard let token, let id = ids[token] else { continue }
            if !first { out += "," }
            first = false
            out += JSONText.quoted(token) + ":" + String(id)
        }
        out += "}"
        return Data(out.utf8)
    }

    /// `merges.txt` as `tokenizers` writes it: `#version: 0.2`, then one `left right` line per rule.
    public func mergesText() -> Data {
        var out = "#version: 0.2\n"
        for (left, right) in mergePairs() { out += left + " " + right + "\n" }
        return Data(out.utf8)
    }

    /// The merge rules as token strings, by rank.
    public func mergePairs() -> [(String, String)] {
        merges.orderedRules().map { rule in (tokens[Int(rule.left)] ?? "", tokens[Int(rule.right)] ?? "") }
    }

    /// `tokenizer.json` exactly as `tokenizers` 0.23 writes a ByteLevel BPE (`save(path)`, pretty).
    public func tokenizerJSON() -> Data {
        var out = "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
        let added = specialTokenTexts.compactMap { text in specialTokens[text].map { (text, $0) } }
        if added.isEmpty {
            out += "  \"added_tokens\": [],\n"
        } else {
            out += "  \"added_tokens\": [\n"
            out += added.map { text, id in
                "    {\n      \"id\": \(id),\n      \"content\": \(JSONText.quoted(text)),\n"
                    + "      \"single_word\": false,\n      \"lstrip\": false,\n      \"rstrip\": false,\n"
                    + "      \"normalized\": false,\n      \"special\": true\n    }"
            }.joined(separator: ",\n")
            out += "\n  ],\n"
        }
        func byteLevel(_ key: String, prefix: Bool, trim: Bool) -> String {
            "  \"\(key)\": {\n    \"type\": \"ByteLevel\",\n    \"add_prefix_space\": \(prefix),\n"
                + "    \"trim_offsets\": \(trim),\n    \"use_regex\": true\n  },\n"
        }
        out += "  \"normalizer\": null,\n"
        out += byteLevel("pre_tokenizer", prefix: false, trim: true)
        out += byteLevel("post_processor", prefix: true, trim: false)
        out += byteLevel("decoder", prefix: true, trim: true)
        out += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
        out += "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n"
        out += "    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n"
        out += "    \"vocab\": {\n"
        out += tokens.compactMap { token in
            guard let token, let id = ids[token] else { return nil }
            return "      " + JSONText.quoted(token) + ": " + String(id)
        }.joined(separator: ",\n")
        out += "\n    },\n"
        let pairs = mergePairs()
        if pairs.isEmpty {
            out += "    \"merges\": []\n"
        } else {
            out += "    \"merges\": [\n"
            out += pairs.map { left, right in
                "      [\n        " + JSONText.quoted(left) + ",\n        " + JSONText.quoted(right) + "\n      ]"
            }.joined(separator: ",\n")
            out += "\n    ]\n"
        }
        out += "  }\n}"
        return Data(out.utf8)
    }

    /// The files `save(to:existing:)` writes, in its order.
    public static let fileNames = ["vocab.json", "merges.txt", "tokenizer.json"]

    /// Writes `vocab.json`, `merges.txt` and `tokenizer.json` into `directory` (created if needed).
    /// - Parameter existing: whether those files, if there, may be replaced; all three are
    ///   checked before any is written, so a refusal leaves the directory as it was.
    public func save(to directory: String, existing: AtomicFile.Existing) throws(TokenizerError) {
        do { try AtomicFile.makeDirectory(directory) } catch { throw .output(path: directory, error) }
        let paths = Self.fileNames.map { Path.join(directory, $0) }
        for path in paths {
            do { _ = try AtomicFile.destination(path, existing: existing) } catch { throw .output(path: path, error) }
        }
        for (path, data) in zip(paths, [vocabJSON(), mergesText(), tokenizerJSON()]) {
            try writeFile(data, to: path, existing: existing)
        }
    }
}
