/// Turns token ids into text one id at a time, for printing a reply while it is generated.
///
/// A token may end in the middle of a UTF-8 character (an emoji is four bytes, often spread over
/// two or three tokens). The decoder holds such a tail back until the character is complete, so
/// the terminal never shows a half character; bytes that can never become a character are
/// replaced by U+FFFD as soon as that is certain, and `finish()` flushes any incomplete tail as
/// U+FFFD. The concatenation of everything it returns equals `tokenizer.decode(ids)`.
///
///     var decoder = StreamingDecoder(tokenizer: tokenizer)
///     try decoder.push(id1)   // ""    (first bytes of 👍)
///     try decoder.push(id2)   // "👍"
///     decoder.finish()        // ""
public struct StreamingDecoder: Sendable {
    public let tokenizer: BPETokenizer
    /// Bytes received but not yet returned: at most an incomplete character (3 bytes).
    private var pending: [UInt8] = []
    /// For a `tokenizer.json` whose decoder is not byte-level (SentencePiece's byte fallback and
    /// leading-space strip, Metaspace): the decoder's own state, which holds a run of `<0xNN>`
    /// tokens until it ends and strips only at the start of the sequence.
    private var text: Pipeline.TextDecoder?

    public init(tokenizer: BPETokenizer) {
        self.tokenizer = tokenizer
        if let pipeline = tokenizer.pipeline, !pipeline.decodesBytes { text = Pipeline.TextDecoder(pipeline.decoder) }
    }

    /// Adds one token and returns the text that is now complete (possibly empty).
    /// - Throws: `TokenizerError.unknownID`; the decoder is then unchanged.
    public mutating func push(_ id: Int) throws(TokenizerError) -> String {
        if text != nil {
            let token = try tokenizer.decoderToken(id)
            return text!.push(token)
        }
        pending.append(contentsOf: try tokenizer.bytes(of: id))
        let cut = Self.completePrefixLength(pending)
        guard cut > 0 else { return "" }
        let text = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return text
    }

    /// Returns the remaining bytes (an incomplete character becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        if text != nil {
            defer { text = Pipeline.TextDecoder(text!.decoder) }
            return text!.finish()
        }
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Whether an incomplete character is being held back.
    public var hasPendingBytes: Bool { !pending.isEmpty || text?.hasPendingBytes == true }

    /// Length of the prefix of `bytes` that can be decoded now: everything except a final
    /// sequence that is a valid but incomplete UTF-8 character. Cutting there never changes
    /// the decoding, because the held part starts with a lead byte, where decoding restarts anyway.
    ///
    ///     completePrefixLength([0x68, 0xF0, 0x9F])  // 1   ("h", then 2 of 👍's 4 bytes)
    ///     completePrefixLength([0x68, 0xF0, 0x41])  // 3   (0xF0 can no longer complete)
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let count = bytes.count
        var start = count - 1
        // Find the last byte that is not a continuation byte (10xxxxxx), within a character's reach.
        while start >= 0, start > count - 4, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        guard start >= 0 else { return count }
        let lead = bytes[start]
        let needed: Int
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF4: needed = 4
        default: return count  // ASCII or a byte that never starts a character
        }
        let have = count - start
        guard have < needed else { return count }
        // The second byte's range depends on the lead (no overlongs, no surrogates, ≤ U+10FFFF).
        if have >= 2 {
            let second = bytes[start + 1]
            let valid: ClosedRange<UInt8> = switch lead {
            case 0xE0: 0xA0...0xBF
            case 0xED: 0x80...0x9F
            case 0xF0: 0x90...0xBF
            case 0xF4: 0x80...0x8F
            default: 0x80...0xBF
            }
            guard valid.contains(second) else { return count }
        }
        return start
    }
}
