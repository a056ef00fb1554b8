
/// GPT-2's pre-tokenizer, written by hand: splits text into the pieces that BPE merges within.
///
/// It reproduces, scalar for scalar, the regular expression that GPT-2, `tiktoken`'s `gpt2` and
/// Hugging Face's `ByteLevel` pre-tokenizer use:
///
///     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
///
/// A hand-written scanner over UTF-8 bytes is several times faster than a regex engine and, more
/// importantly, has no backtracking: every byte is looked at a bounded number of times, so a
/// 1 MB string without spaces splits in linear time.
///
///     PreTokenizer.pieces("Hello world's  123!!")
///     // ["Hello", " world", "'s", " ", " 123", "!!"]
///     PreTokenizer.pieces("a \t\nb")   // ["a", " \t", "\n", "b"]
///     PreTokenizer.pieces("end   ")    // ["end", "   "]
public enum PreTokenizer {
    /// The four classes the pattern distinguishes (`\p{L}`, `\p{N}`, `\s`, everything else).
    enum Class: UInt8 { case letter, number, space, other }

    /// Class of an ASCII byte, by range (a lookup table in a `static let` would cost a
    /// `swift_once` check per byte in this hot loop). Agrees with `classify` on all 128 values.
    @inline(__always)
    static func asciiClass(_ byte: UInt8) -> Class {
        let lower = byte | 0x20
        if lower >= 0x61 && lower <= 0x7A { return .letter }  // a-z, A-Z
        if byte >= 0x30 && byte <= 0x39 { return .number }  // 0-9
        if byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) { return .space }  // space, \t \n \v \f \r
        return .other
    }

    /// `\p{L}` is general category L*, `\p{N}` is N*, `\s` is the White_Space property,
    /// as in Oniguruma (Hugging Face) and Python's `regex` (GPT-2, tiktoken).
    static func classify(_ scalar: Unicode.Scalar) -> Class {
        let properties = scalar.properties
        if properties.isWhitespace { return .space }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Class and UTF-8 length of the scalar starting at `index` (the buffer is valid UTF-8, as
    /// every Swift string is; a stray continuation byte is treated as a one-byte "other").
    @inline(__always)
    static func scalarClass(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (Class, Int) {
        let lead = bytes[index]
        if lead < 0x80 { return (asciiClass(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        guard length > 1, index + length <= bytes.count else { return (.other, 1) }
        var value = UInt32(lead) & (0xFF >> UInt32(length + 1))
        for offset in 1..<length { value = value << 6 | (UInt32(bytes[index + offset]) & 0x3F) }
        guard let scalar = Unicode.Scalar(value) else { return (.other, length) }
        return (classify(scalar), length)
    }

    /// Calls `body` with the byte range of each piece of `bytes`, in order. The ranges tile the
    /// buffer exactly: no byte is skipped or repeated.
    /// - Complexity: O(n) in the number of bytes.
    public static func forEachPiece(
        in bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) throws -> Void
    ) rethrows {
        let count = bytes.count
        var start = 0
        while start < count {
            let end = pieceEnd(bytes, from: start)
            try body(start..<end)
            start = end
        }
    }

    /// End of the piece that starts at `start`: the alternatives of the pattern, tried in order.
    static func pieceEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = bytes.count
        // 1. 's 't 're 've 'm 'll 'd (ASCII apostrophe, lowercase only, as in the pattern)
        if bytes[start] == 0x27, start + 1 < count {
            let next = bytes[start + 1]
            if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 { return start + 2 }  // s t m d
            if start + 2 < count {
                let third = bytes[start + 2]
                if (next == 0x72 || next == 0x76) && third == 0x65 { return start + 3 }  // re ve
                if next == 0x6C && third == 0x6C { return start + 3 }  // ll
            }
        }
        // 2-4. ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional U+0020, then a run of one class.
        var (runClass, length) = scalarClass(bytes, at: start)
        var runStart = start
        if bytes[start] == 0x20, start + 1 < count {
            let (nextClass, nextLength) = scalarClass(bytes, at: start + 1)
            if nextClass != .space {
                runClass = nextClass
                runStart = start + 1
                length = nextLength
            }
        }
        if runClass != .space {
            var end = runStart + length
            while end < count {
                let (nextClass, nextLength) = scalarClass(bytes, at: end)
                guard nextClass == runClass else { break }
                end += nextLength
            }
            return end
        }
        // 5. `\s+(?!\S)`: a whitespace run, minus its last character when text follows it, so that
        //    the last space can join the next word (" word"). 6. `\s+`: a lone whitespace character.
        var end = start
        var lastStart = start
        while end < count {
            let (nextClass, nextLength) = scalarClass(bytes, at: end)
            guard nextClass == .space else { break }
            lastStart = end
            end += nextLength
        }
        if end == count || lastStart == start { return end }
        return lastStart
    }

    /// The pieces of `text` as strings (convenient for tests and the `encode` command).
    public static func pieces(_ text: String) -> [String] {
        var copy = text
        return copy.withUTF8 { bytes in
            var result: [String] = []
            forEachPiece(in: bytes) { range in
                result.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return result
        }
    }
}
