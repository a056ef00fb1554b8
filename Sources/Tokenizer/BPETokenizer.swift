import FoundationEssentials
import Glibc
import Synchronization

/// A byte-level BPE tokenizer as GPT-2 defines it, compatible with Hugging Face `tokenizers`.
///
/// Encoding: the text is split by `PreTokenizer`, each piece's UTF-8 bytes become one token each
/// (through `ByteLevel`), and the merge rules are applied within the piece by rank (`MergeTable`).
/// Results are cached per piece, since chat text repeats the same words over and over.
///
/// Special tokens (`<|endoftext|>`, `<|user|>`, `<|bot|>`) are never produced by `encode(_:)`:
/// user text that contains `<|endoftext|>` encodes as the ordinary characters `<`, `|`, … . The
/// chat template inserts their ids itself (`specialTokenID(_:)`), or calls
/// `encode(_:allowingSpecialTokens: true)` on text it rendered.
///
///     let tokenizer = try BPETokenizer(directory: "Vocab")
///     let ids = tokenizer.encode("Hello world")   // e.g. [1234, 567]
///     try tokenizer.decode(ids)                  // "Hello world"
///
/// ## Hugging Face `tokenizer.json` files
///
/// `init(directory:)` / `init(tokenizerJSON:path:)` load the BPE tokenizers these families ship,
/// with ids and decodes identical to `tokenizers` (checked by `HuggingFaceFamilyTests` against
/// fixtures from Scripts/make-hf-tokenizer-fixtures.py):
///
/// | Family                        | Normalizer              | Pre-tokenizer                                   | Decoder |
/// |-------------------------------|-------------------------|-------------------------------------------------|---------|
/// | GPT-2, DialoGPT               | –                       | ByteLevel (GPT-2 regex; the hand-written fast path) | ByteLevel |
/// | SmolLM2                       | –                       | Sequence[Digits(individual), ByteLevel]         | ByteLevel |
/// | Llama-3                       | –                       | Sequence[Split(regex, Isolated), ByteLevel(use_regex false)], `ignore_merges` | ByteLevel |
/// | Qwen2 / Qwen2.5               | NFC                     | Sequence[Split(regex, Isolated), ByteLevel(use_regex false)] | ByteLevel |
/// | Llama-2, TinyLlama, Mistral   | Sequence[Prepend "▁", Replace " "→"▁"] | –                                | Sequence[Replace, ByteFallback, Fuse, Strip] |
/// | newer SentencePiece layouts   | –                       | Metaspace(prepend_scheme first/always/never, split) | that Sequence, or Metaspace |
///
/// The model is BPE with merges as `"a b"` or `["a", "b"]`, `ignore_merges`, and for files without
/// a ByteLevel pre-tokenizer char-level symbols with `byte_fallback` (`<0xNN>`), `unk_token` and
/// `fuse_unk`. `added_tokens` (special or not, with `normalized`, `lstrip`, `rstrip`,
/// `single_word`) are matched before normalization as `tokenizers`' AddedVocabulary does.
/// Post-processors ByteLevel, TemplateProcessing and their Sequence give `prefixIDs`/`suffixIDs`.
/// Anything else (another model, normalizer, pre-tokenizer, decoder or post-processor, a regex
/// feature `SplitRegex` lacks, dropout, a subword prefix) is `TokenizerError.unsupported` (65)
/// naming the file and the field.
///
/// For a chat model: `encode(prompt, allowingSpecialTokens: true)` is what `apply_chat_template`
/// tokenizes (`add_special_tokens=False`); `encode(text)` never yields a special token;
/// `specialTokenID("<|im_end|>")` gives end-of-turn ids; `StreamingDecoder` prints a reply.
public final class BPETokenizer: Sendable {
    /// The special tokens of attnchat's default model, in id order.
    public static let defaultSpecialTokens = ["<|endoftext|>", "<|user|>", "<|bot|>"]

    /// `tokens[id]` is the token as written in `vocab.json` (byte-level characters), nil for an
    /// id the vocabulary skips.
    public let tokens: [String?]
    /// Inverse of `tokens`.
    public let ids: [String: Int]
    /// Special tokens by text, e.g. `["<|endoftext|>": 0]`.
    public let specialTokens: [String: Int]
    /// Special token texts in id order.
    public let specialTokenTexts: [String]

    /// What a Hugging Face `tokenizer.json` puts around the BPE model (added tokens, normalizer,
    /// pre-tokenizer, char-level model options, decoder); nil for GPT-2's byte-level BPE, which
    /// takes the hand-written fast path (`PreTokenizer`).
    let pipeline: Pipeline?
    /// Ids the file's post-processor puts before one sequence (Llama's `<s>`, Llama-3's
    /// `<|begin_of_text|>`), as `tokenizers` does with `add_special_tokens=True`; empty for
    /// GPT-2-style files (their `ByteLevel` post-processor adds nothing) and attnchat's own.
    public let prefixIDs: [Int]
    /// Ids the post-processor puts after one sequence (e.g. a `</s>`); usually empty.
    public let suffixIDs: [Int]

    let merges: MergeTable
    /// Raw bytes of each id (the literal UTF-8 text for special tokens).
    let bytesByID: [[UInt8]?]
    /// Id of the single-byte token for each byte value, `UInt32.max` when the vocabulary lacks it.
    let byteIDs: [UInt32]
    let cache = PieceCache()

    /// Number of ids, i.e. one more than the largest id (the embedding's row count).
    public var vocabularySize: Int { tokens.count }
    /// Number of merge rules.
    public var mergeCount: Int { merges.count }

    /// Builds a tokenizer from its parts. `merges` are `(left, right)` token strings in rank
    /// order; both sides and their concatenation must be in `vocabulary`.
    /// `specialTokens` must be in `vocabulary`. `source` names the files in error messages.
    public convenience init(
        vocabulary: [String: Int], merges: [(String, String)], specialTokens: [String],
        source: (vocab: String, merges: String) = ("vocab.json", "merges.txt"),
        mergeLines: [Int]? = nil, vocabData: Data? = nil
    ) throws(TokenizerError) {
        try self.init(vocabulary: vocabulary, merges: merges, specialTokens: specialTokens, source: source,
                      mergeLines: mergeLines, vocabData: vocabData, pipeline: nil, prefixIDs: [], suffixIDs: [])
    }

    convenience init(
        vocabulary: [String: Int], merges: [(String, String)], specialTokens: [String],
        source: (vocab: String, merges: String), mergeLines: [Int]?, vocabData: Data?,
        pipeline: Pipeline?, prefixIDs: [Int], suffixIDs: [Int]
    ) throws(TokenizerError) {
        var table = MergeTable()
        for (rank, (left, right)) in merges.enumerated() {
            let line = mergeLines?[rank] ?? rank + 1
            func id(_ token: String) throws(TokenizerError) -> UInt32 {
                guard let id = vocabulary[token] else {
                    throw .badMerge(path: source.merges, line: line,
                        reason: "merge \"\(left) \(right)\" names unknown token \"\(token)\"")
                }
                // Not `UInt32(id)`, which traps: an id that is negative or above the limit is
                // reported by the designated initializer below, before the table is used.
                return UInt32(truncatingIfNeeded: id)
            }
            let leftID = try id(left), rightID = try id(right), mergedID = try id(left + right)
            table.add(left: leftID, right: rightID, merged: mergedID, rank: UInt32(rank))
        }
        for special in specialTokens where vocabulary[special] == nil {
            throw .badVocabulary(path: source.vocab, line: nil, reason: "special token \"\(special)\" is not in the vocabulary")
        }
        try self.init(vocabulary: vocabulary, table: table, specialTokens: specialTokens, vocabPath: source.vocab,
            vocabData: vocabData, pipeline: pipeline, prefixIDs: prefixIDs, suffixIDs: suffixIDs)
    }

    init(vocabulary: [String: Int], table: MergeTable, specialTokens: [String], vocabPath: String, vocabData: Data?,
         pipeline: Pipeline? = nil, prefixIDs: [Int] = [], suffixIDs: [Int] = []) throws(TokenizerError) {
        // Checked before adding 1: an id read from JSON may be as large as Int64.max.
        let largest = vocabulary.values.max() ?? -1
        guard largest < 1 << 24 else {
            throw .badVocabulary(path: vocabPath, line: nil, reason: "largest id \(largest) is above the limit of \(1 << 24)")
        }
        let size = largest + 1
        var tokens = [String?](repeating: nil, count: size)
        for (token, id) in vocabulary {
            guard id >= 0 else { throw .badVocabulary(path: vocabPath, line: nil, reason: "negative id \(id) for \"\(token)\"") }
            if let other = tokens[id] {
                let (first, second) = other < token ? (other, token) : (token, other)
                throw .badVocabulary(path: vocabPath,
                    line: lineNumber(ofKey: second, in: vocabData),
                    reason: "duplicate id \(id) for \"\(first)\" and \"\(second)\"")
            }
            tokens[id] = token
        }
        let specials = Set(specialTokens)
        var bytesByID = [[UInt8]?](repeating: nil, count: size)
        var byteIDs = [UInt32](repeating: UInt32.max, count: 256)
        for (id, token) in tokens.enumerated() {
            guard let token else { continue }
            // A token outside the byte-level alphabet (only added tokens are) decodes to its UTF-8.
            let bytes = if let pipeline {
                pipeline.bytes(ofToken: pipeline.decoderTokens[id] ?? token)
            } else {
                specials.contains(token) ? Array(token.utf8) : ByteLevel.decode(token) ?? Array(token.utf8)
            }
            bytesByID[id] = bytes
            if bytes.count == 1, !specials.contains(token), byteIDs[Int(bytes[0])] == UInt32.max {
                byteIDs[Int(bytes[0])] = UInt32(id)
            }
        }
        self.tokens = tokens
        self.ids = vocabulary
        self.merges = table
        self.bytesByID = bytesByID
        self.byteIDs = byteIDs
        var specialIDs: [String: Int] = [:]
        for special in specialTokens { specialIDs[special] = vocabulary[special] }
        self.specialTokens = specialIDs
        self.specialTokenTexts = specialTokens.sorted { (specialIDs[$0] ?? 0) < (specialIDs[$1] ?? 0) }
        self.pipeline = pipeline
        for id in prefixIDs + suffixIDs where id < 0 || id >= size || tokens[id] == nil {
            throw .badVocabulary(path: vocabPath, line: nil, reason: "post_processor adds id \(id), which the vocabulary lacks")
        }
        self.prefixIDs = prefixIDs
        self.suffixIDs = suffixIDs
    }

    /// The id of a special token, e.g. `specialTokenID("<|endoftext|>")`, or nil if it has none.
    public func specialTokenID(_ text: String) -> Int? { specialTokens[text] }

    /// Whether `id` is a special token (the chat session stops on these instead of printing them).
    public func isSpecial(_ id: Int) -> Bool {
        guard id >= 0, id < tokens.count, let token = tokens[id] else { return false }
        return specialTokens[token] == id
    }

    // MARK: Encoding

    /// Token ids of `text`; special token texts inside it are encoded as ordinary text.
    /// - Complexity: O(n log n) in the length of the longest piece, O(n) overall with the cache.
    ///
    /// With a Hugging Face `tokenizer.json`, the file's non-special added tokens (e.g. Qwen2's
    /// `<tool_call>`) are still matched, as `tokenizers` matches them; special ones never are.
    public func encode(_ text: String) -> [Int] {
        if pipeline != nil { return encodeWithPipeline(text, allowingSpecialTokens: false) }
        var result: [Int] = []
        result.reserveCapacity(text.utf8.count / 3 + 1)
        cache.withLock { cache in appendOrdinary(text, to: &result, cache: &cache) }
        return result
    }

    /// Token ids of raw bytes that need not be valid UTF-8 (a stray byte is split like a
    /// punctuation character); `decodeBytes(encode(utf8: b)) == b` for all bytes `b`.
    /// (With a Hugging Face `tokenizer.json` pipeline, invalid UTF-8 first becomes U+FFFD.)
    public func encode(utf8 bytes: [UInt8]) -> [Int] {
        if pipeline != nil { return encode(String(decoding: bytes, as: UTF8.self)) }
        var result: [Int] = []
        cache.withLock { cache in
            bytes.withUnsafeBufferPointer { appendOrdinary($0, to: &result, cache: &cache) }
        }
        return result
    }

    /// Token ids of `text`; with `allowingSpecialTokens`, occurrences of the special token texts
    /// become their ids (use only on text your program rendered, never on user input).
    ///
    ///     tokenizer.encode("<|user|>hi\n", allowingSpecialTokens: true)  // [1, 5195, 198]
    ///
    /// With a Hugging Face `tokenizer.json`, `encode(prompt, allowingSpecialTokens: true)` equals
    /// `tokenizer.encode(prompt, add_special_tokens=False).ids`: what `apply_chat_template` gives
    /// for a rendered chat prompt.
    public func encode(_ text: String, allowingSpecialTokens: Bool) -> [Int] {
        if pipeline != nil { return encodeWithPipeline(text, allowingSpecialTokens: allowingSpecialTokens) }
        guard allowingSpecialTokens, !specialTokens.isEmpty else { return encode(text) }
        // Matched over scalars, not Characters: "<|endoftext|>" followed by a combining mark is
        // still the special token (Substring search would see one grapheme "><mark>").
        var segments: [Pipeline.Segment] = []
        Pipeline.splitOnAddedTokens(Array(text.unicodeScalars), atStart: true, candidates: specialCandidates, into: &segments)
        var result: [Int] = []
        cache.withLock { cache in
            for segment in segments {
                switch segment {
                case .token(let id): result.append(id)
                case .text(let scalars, _): appendOrdinary(String(String.UnicodeScalarView(scalars)), to: &result, cache: &cache)
                }
            }
        }
        return result
    }

    /// The special tokens as added tokens (leftmost-longest matching, as `tokenizers` does).
    private var specialCandidates: [(Pipeline.Scalars, Pipeline.AddedToken)] {
        specialTokens.map { text, id in
            let scalars = Array(text.unicodeScalars)
            return (scalars, Pipeline.AddedToken(content: scalars, id: id, special: true, normalized: false,
                                                 lstrip: false, rstrip: false, singleWord: false))
        }
    }

    private func appendOrdinary(_ text: String, to result: inout [Int], cache: inout PieceCache.Storage) {
        var text = text
        text.withUTF8 { appendOrdinary($0, to: &result, cache: &cache) }
    }

    private func appendOrdinary(_ bytes: UnsafeBufferPointer<UInt8>, to result: inout [Int], cache: inout PieceCache.Storage) {
        PreTokenizer.forEachPiece(in: bytes) { range in
            encodePiece(UnsafeBufferPointer(rebasing: bytes[range]), into: &result, cache: &cache)
        }
    }

    /// Pieces up to this many bytes are cached (longer ones rarely repeat).
    static let cachedPieceLimit = 48
    /// Pieces up to this many bytes are merged with the simple O(n²) loop.
    static let naivePieceLimit = 64

    func encodePiece(_ piece: UnsafeBufferPointer<UInt8>, into result: inout [Int], cache: inout PieceCache.Storage) {
        if piece.count == 1, pipeline?.byteLevel != false {
            let id = byteIDs[Int(piece[0])]
            if id != UInt32.max { result.append(Int(id)) }
            return
        }
        if piece.count <= Self.cachedPieceLimit {
            let hash = PieceCache.Storage.hash(piece)
            if let cached = cache.lookup(piece, hash: hash) {
                cache.arena.withUnsafeBufferPointer { arena in
                    for index in cached { result.append(Int(arena[index])) }
                }
                return
            }
            let ids = mergedIDs(piece, heap: &cache.heap)
            cache.insert(piece, hash: hash, ids)
            for id in ids { result.append(Int(id)) }
        } else {
            for id in mergedIDs(piece, heap: &cache.heap) { result.append(Int(id)) }
        }
    }

    /// Byte tokens of `piece` merged by rank (bytes the vocabulary lacks are dropped, as
    /// Hugging Face does for a BPE model without an unknown token).
    func mergedIDs(_ piece: UnsafeBufferPointer<UInt8>, heap: inout MinHeap) -> [UInt32] {
        if let pipeline, !pipeline.byteLevel { return charLevelIDs(piece, pipeline: pipeline, heap: &heap) }
        var ids: [UInt32] = []
        ids.reserveCapacity(piece.count)
        for byte in piece {
            let id = byteIDs[Int(byte)]
            if id != UInt32.max { ids.append(id) }
        }
        if ids.count <= Self.naivePieceLimit {
            merges.mergeNaive(&ids)
        } else {
            merges.mergeLong(&ids, heap: &heap)
        }
        return ids
    }

    /// `encode` without the cache and with the naive merge loop only: the test oracle.
    func encodeReference(_ text: String) -> [Int] {
        PreTokenizer.pieces(text).flatMap { piece -> [Int] in
            var ids = piece.utf8.compactMap { byte -> UInt32? in
                let id = byteIDs[Int(byte)]
                return id == UInt32.max ? nil : id
            }
            merges.mergeNaive(&ids)
            return ids.map(Int.init)
        }
    }

    // MARK: Decoding

    /// The raw bytes of `ids` (special tokens contribute their literal text).
    /// - Throws: `TokenizerError` for an id outside the vocabulary.
    public func decodeBytes(_ ids: [Int]) throws(TokenizerError) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: try self.bytes(of: id)) }
        return bytes
    }

    /// The text of `ids`; byte sequences that are not valid UTF-8 become U+FFFD.
    /// `decode(encode(s)) == s` for every string `s`.
    ///
    /// With a Hugging Face `tokenizer.json`, equals `tokenizer.decode(ids, skip_special_tokens=False)`
    /// (its decoder: ByteLevel, the SentencePiece sequence with byte fallback, Metaspace).
    public func decode(_ ids: [Int]) throws(TokenizerError) -> String {
        if let pipeline, !pipeline.decodesBytes {
            var state = Pipeline.TextDecoder(pipeline.decoder)
            var text = ""
            for id in ids { text += state.push(try self.decoderToken(id)) }
            return text + state.finish()
        }
        return String(decoding: try decodeBytes(ids), as: UTF8.self)
    }

    /// The raw bytes of one token. For a SentencePiece-style `tokenizer.json` these are the token's
    /// own text (`▁` as a space, `<0x41>` as the byte 0x41), before the rules that look at the whole
    /// sequence (the leading space stripped at its start, an invalid byte run becoming U+FFFDs),
    /// which `decode` and `StreamingDecoder` apply.
    public func bytes(of id: Int) throws(TokenizerError) -> [UInt8] {
        guard id >= 0, id < bytesByID.count, let bytes = bytesByID[id] else { throw .unknownID(id) }
        return bytes
    }

    /// The token as written in `vocab.json` (`"Ġworld"`), or nil for an unknown id.
    public func token(of id: Int) -> String? {
        guard id >= 0, id < tokens.count else { return nil }
        return tokens[id]
    }
}

/// The per-piece merge cache: piece bytes -> ids. Guarded by one lock, taken once per `encode`
/// call, so a `BPETokenizer` can be shared between threads.
final class PieceCache: Sendable {
    /// An open-addressing hash table keyed by the piece's bytes. Keys and ids live in two arenas,
    /// so a hit costs one FNV-1a hash over a few bytes and one `memcmp`, with no String built and
    /// no allocation. (A `[String: …]` dictionary spent most of its time creating and SipHashing
    /// Strings; `encodeReference` is the uncached oracle the tests compare against.)
    struct Storage {
        struct Slot {
            var hash: UInt64 = 0
            var keyStart: UInt32 = 0
            var keyCount: UInt32 = 0
            var idsStart: UInt32 = 0
            var idsCount: UInt32 = 0  // 0 marks an empty slot: every cached piece has ids
        }

        var slots = [Slot](repeating: Slot(), count: 1 << 12)
        var used = 0
        var keys: [UInt8] = []
        var arena: [UInt32] = []
        /// Reused by the long-piece merge.
        var heap = MinHeap()

        /// Entries kept before the cache starts over (bounded memory on endless input).
        static let maxEntries = 1 << 18

        @inline(__always)
        static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            return hash
        }

        /// The range in `arena` of the ids cached for `key`, or nil.
        func lookup(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Range<Int>? {
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: hash) & mask
            return slots.withUnsafeBufferPointer { slots in
                keys.withUnsafeBufferPointer { keys in
                    while true {
                        let slot = slots[index]
                        if slot.idsCount == 0 { return nil }
                        if slot.hash == hash, Int(slot.keyCount) == key.count,
                           memcmp(keys.baseAddress! + Int(slot.keyStart), key.baseAddress!, key.count) == 0 {
                            return Int(slot.idsStart)..<Int(slot.idsStart + slot.idsCount)
                        }
                        index = (index + 1) & mask
                    }
                }
            }
        }

        mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64, _ ids: [UInt32]) {
            guard !ids.isEmpty, !key.isEmpty else { return }
            if used >= Self.maxEntries {
                slots = [Slot](repeating: Slot(), count: 1 << 12)
                used = 0
                keys.removeAll(keepingCapacity: true)
                arena.removeAll(keepingCapacity: true)
            } else if (used + 1) * 2 > slots.count {
                grow()
            }
            let slot = Slot(hash: hash, keyStart: UInt32(keys.count), keyCount: UInt32(key.count),
                            idsStart: UInt32(arena.count), idsCount: UInt32(ids.count))
            keys.append(contentsOf: key)
            arena.append(contentsOf: ids)
            place(slot)
            used += 1
        }

        private mutating func place(_ slot: Slot) {
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: slot.hash) & mask
            while slots[index].idsCount != 0 { index = (index + 1) & mask }
            slots[index] = slot
        }

        private mutating func grow() {
            let old = slots
            slots = [Slot](repeating: Slot(), count: old.count * 2)
            for slot in old where slot.idsCount != 0 { place(slot) }
        }
    }

    private let storage = Mutex(Storage())

    func withLock(_ body: (inout Storage) -> Void) {
        storage.withLock { body(&$0) }
    }
}
