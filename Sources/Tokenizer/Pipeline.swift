import FoundationEssentials

/// The parts of a Hugging Face `tokenizer.json` around the BPE model, each run exactly as
/// `tokenizers` runs it: added tokens, normalizer, pre-tokenizer, model options, decoder.
/// Text moves through them as arrays of Unicode scalars (Rust `char`s): Swift `String`
/// comparison is canonical equivalence, which would make "é" and "e\u{301}" the same token.
struct Pipeline: Sendable {
    typealias Scalars = [Unicode.Scalar]

    /// One entry of `added_tokens`.
    struct AddedToken: Sendable {
        let content: Scalars
        let id: Int
        let special: Bool
        let normalized: Bool
        let lstrip: Bool
        let rstrip: Bool
        let singleWord: Bool
    }

    indirect enum Normalizer: Sendable {
        case nfc
        case prepend(Scalars)
        case replace(pattern: Scalars, content: Scalars)
        case sequence([Normalizer])
    }

    enum PrependScheme: Sendable { case first, always, never }

    indirect enum PreTokenizerStep: Sendable {
        case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
        case split(SplitRegex)
        case digits(individual: Bool)
        case metaspace(replacement: Unicode.Scalar, prepend: PrependScheme, split: Bool)
        case sequence([PreTokenizerStep])
    }

    /// How ids become text. `sentencePiece` is the `Sequence` decoder Llama-2, TinyLlama and
    /// Mistral ship, [Replace "▁"→" ", ByteFallback, Fuse, Strip(" ", 1, 0)], or any ordered
    /// subset of it.
    enum Decoder: Sendable {
        /// GPT-2's byte map, then UTF-8 with U+FFFD for invalid sequences.
        case byteLevel
        case sentencePiece(replacements: [(Scalars, Scalars)], byteFallback: Bool, fuse: Bool, strip: (content: Unicode.Scalar, count: Int)?)
        /// The replacement becomes a space, except in the first token, where it is dropped
        /// (unless the prepend scheme is `never`).
        case metaspace(replacement: Unicode.Scalar, dropInFirst: Bool)
        /// No decoder: the tokens joined by spaces.
        case none
    }

    var addedTokens: [AddedToken] = []
    var normalizer: Normalizer?
    var preTokenizer: PreTokenizerStep?
    var decoder: Decoder = .byteLevel
    /// Whether the model sees bytes (a ByteLevel pre-tokenizer maps them to characters) or chars.
    var byteLevel = true
    var ignoreMerges = false
    /// `<0xNN>` ids by byte when `byte_fallback` is on and the vocabulary has all of them.
    var byteFallbackIDs: [UInt32]?
    var unknownID: UInt32?
    var fuseUnknown = false
    /// Char-level model: the id of each single-scalar vocabulary token, by scalar value.
    var scalarIDs: [UInt32: UInt32] = [:]
    /// `ignore_merges`: the model vocabulary by the UTF-8 of the text a piece must be.
    var wholeTokenIDs: [[UInt8]: UInt32] = [:]
    /// Added tokens matched in the raw text, and (with their content normalized) in normalized text.
    var rawCandidates: [(Scalars, AddedToken)] = []
    var normalizedCandidates: [(Scalars, AddedToken)] = []
    /// What the decoder sees for a `normalized` added token: its normalized content, as
    /// `tokenizers` decodes it (Llama's "hello world" decodes as "▁hello▁world").
    var decoderTokens: [Int: String] = [:]

    // MARK: Added tokens

    /// Scalars of `\w` in Rust's `regex` (alphabetic, marks, decimal digits, connector
    /// punctuation, join controls): the word test of `single_word`.
    static func isWord(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    /// A piece of text after added-token extraction: an added token's id, or text to normalize.
    enum Segment {
        case token(Int)
        case text(Scalars, atStart: Bool)
    }

    /// Splits `text` on the added tokens in `candidates` the way `AddedVocabulary::find_matches`
    /// does: leftmost-longest matches, `single_word` matches discarded when a word character
    /// touches them, `lstrip`/`rstrip` taking the whitespace beside them.
    static func splitOnAddedTokens(_ text: Scalars, atStart: Bool, candidates: [(Scalars, AddedToken)],
                                   into segments: inout [Segment]) {
        guard !candidates.isEmpty, !text.isEmpty else {
            if !text.isEmpty { segments.append(.text(text, atStart: atStart)) }
            return
        }
        var previousEnd = 0
        var position = 0
        // Most positions start no added token (Llama-3's 256 all start with "<"): one set lookup
        // skips them instead of trying every candidate.
        let firstScalars = Set(candidates.compactMap { $0.0.first })
        func emitText(_ range: Range<Int>) {
            guard !range.isEmpty else { return }
            segments.append(.text(Array(text[range]), atStart: atStart && range.lowerBound == 0))
        }
        while position < text.count {
            guard firstScalars.contains(text[position]) else {
                position += 1
                continue
            }
            // Longest candidate starting here.
            var best: (Int, AddedToken)?
            for (content, token) in candidates where content.count > (best?.0 ?? 0) && position + content.count <= text.count {
                if content.first == text[position], text[position..<(position + content.count)].elementsEqual(content) {
                    best = (content.count, token)
                }
            }
            guard let (length, token) = best else {
                position += 1
                continue
            }
            var start = position
            var stop = position + length
            position = stop
            if token.singleWord {
                let startsClean = start == 0 || !isWord(text[start - 1])
                let stopsClean = stop == text.count || !isWord(text[stop])
                if !startsClean || !stopsClean { continue }
            }
            if token.lstrip {
                var newStart = start
                while newStart > 0, text[newStart - 1].properties.isWhitespace { newStart -= 1 }
                start = max(newStart, previousEnd)
            }
            if token.rstrip {
                while stop < text.count, text[stop].properties.isWhitespace { stop += 1 }
                position = stop
            }
            emitText(previousEnd..<start)
            segments.append(.token(token.id))
            previousEnd = stop
        }
        emitText(previousEnd..<text.count)
    }

    // MARK: Normalizing

    func normalize(_ text: Scalars) -> Scalars {
        guard let normalizer else { return text }
        return Self.apply(normalizer, to: text)
    }

    static func apply(_ normalizer: Normalizer, to text: Scalars) -> Scalars {
        switch normalizer {
        case .nfc:
            return Array(String(String.UnicodeScalarView(text)).nfcNormalized.unicodeScalars)
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content):
            return replaceAll(pattern, with: content, in: text)
        case .sequence(let steps):
            var result = text
            for step in steps { result = apply(step, to: result) }
            return result
        }
    }

    /// Non-overlapping occurrences of `pattern`, left to right, replaced by `content`.
    static func replaceAll(_ pattern: Scalars, with content: Scalars, in text: Scalars) -> Scalars {
        guard !pattern.isEmpty, text.count >= pattern.count else { return text }
        var result: Scalars = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index] == pattern[0], index + pattern.count <= text.count,
               text[index..<(index + pattern.count)].elementsEqual(pattern) {
                result += content
                index += pattern.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    // MARK: Pre-tokenizing

    /// A pre-tokenized piece and whether it begins the original text (Metaspace's `first`).
    struct Piece {
        var scalars: Scalars
        var atStart: Bool
    }

    func preTokenize(_ text: Scalars, atStart: Bool) -> [Piece] {
        var pieces = [Piece(scalars: text, atStart: atStart)]
        if let preTokenizer { pieces = Self.apply(preTokenizer, to: pieces) }
        return pieces.filter { !$0.scalars.isEmpty }
    }

    static func apply(_ step: PreTokenizerStep, to pieces: [Piece]) -> [Piece] {
        switch step {
        case .sequence(let steps):
            var result = pieces
            for inner in steps { result = apply(inner, to: result) }
            return result
        default:
            var result: [Piece] = []
            for piece in pieces where !piece.scalars.isEmpty {
                let ranges = split(step, piece.scalars, atStart: piece.atStart)
                for (offset, range) in ranges.enumerated() where !range.1.isEmpty {
                    result.append(Piece(scalars: range.1, atStart: piece.atStart && offset == 0 && range.0))
                }
            }
            return result
        }
    }

    /// The sub-pieces of one piece as (starts at the piece's start, scalars).
    private static func split(_ step: PreTokenizerStep, _ text: Scalars, atStart: Bool) -> [(Bool, Scalars)] {
        switch step {
        case .byteLevel(let addPrefixSpace, let useRegex):
            var text = text
            if addPrefixSpace, text.first != " " { text.insert(" ", at: 0) }
            guard useRegex else { return [(true, text)] }
            var string = String(String.UnicodeScalarView(text))
            var result: [(Bool, Scalars)] = []
            string.withUTF8 { bytes in
                PreTokenizer.forEachPiece(in: bytes) { range in
                    let piece = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
                    result.append((range.lowerBound == 0, Array(piece.unicodeScalars)))
                }
            }
            return result
        case .split(let regex):
            var result: [(Bool, Scalars)] = []
            var previous = 0
            for match in regex.matches(in: text) {
                if match.lowerBound > previous { result.append((previous == 0, Array(text[previous..<match.lowerBound]))) }
                result.append((match.lowerBound == 0, Array(text[match])))
                previous = match.upperBound
            }
            if previous < text.count { result.append((previous == 0, Array(text[previous...]))) }
            return result
        case .digits(let individual):
            var result: [(Bool, Scalars)] = []
            var start = 0
            var index = 0
            while index < text.count {
                guard isNumeric(text[index]) else { index += 1; continue }
                if index > start { result.append((start == 0, Array(text[start..<index]))) }
                var end = index + 1
                if !individual { while end < text.count, isNumeric(text[end]) { end += 1 } }
                result.append((index == 0, Array(text[index..<end])))
                start = end
                index = end
            }
            if start < text.count { result.append((start == 0, Array(text[start...]))) }
            return result
        case .metaspace(let replacement, let prepend, let split):
            let prepends = prepend == .always || (prepend == .first && atStart)
            return metaspaceSplit(text, replacement: replacement, prepend: prepends, split: split)
        case .sequence:
            return [(true, text)]  // handled by `apply`
        }
    }

    static func metaspaceSplit(_ text: Scalars, replacement: Unicode.Scalar, prepend: Bool, split: Bool) -> [(Bool, Scalars)] {
        var text = text.map { $0 == " " ? replacement : $0 }
        if prepend, text.first != replacement { text.insert(replacement, at: 0) }
        guard split else { return [(true, text)] }
        // MergedWithNext: every replacement starts a new piece.
        var result: [(Bool, Scalars)] = []
        var start = 0
        for index in text.indices where text[index] == replacement && index > start {
            result.append((start == 0, Array(text[start..<index])))
            start = index
        }
        if start < text.count { result.append((start == 0, Array(text[start...]))) }
        return result
    }

    /// Rust's `char::is_numeric`: general categories Nd, Nl, No.
    static func isNumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }
}

extension String {
    /// Canonical composition (NFC), by the standard library's own normalizer (the one String
    /// comparison uses): Swift 6.3 has no other public normalization API than the underscored
    /// `_nfcCodeUnits`, and Foundation's `precomposedStringWithCanonicalMapping` would link ICU.
    /// The result is used as scalars, never compared as Strings.
    var nfcNormalized: String {
        // Pure ASCII is always NFC; skip the normalizer for the common case.
        if utf8.allSatisfy({ $0 < 0x80 }) { return self }
        return String(decoding: _nfcCodeUnits, as: UTF8.self)
    }
}
