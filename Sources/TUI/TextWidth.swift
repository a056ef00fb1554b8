/// Terminal cell widths, by wcwidth-like rules: what ncursesw (through the C library's wcwidth)
/// assumes when it places characters, so that text measured here never pushes a pane border.
///
///     TextWidth.of("abc") == 3      TextWidth.of("日本") == 4
///     TextWidth.of("e\u{301}") == 1 (a combining accent takes no cell)
///     TextWidth.of("👩‍💻") == 4      (two wide emoji joined by a zero-width joiner: the per-scalar sum)
///
/// Wrapping never splits a `Character` (a grapheme cluster), so a combining mark or a ZWJ
/// sequence always stays with its base.
public enum TextWidth {
    /// Cells taken by one Unicode scalar: 0 for combining marks, format characters (ZWJ,
    /// variation selectors) and controls; 2 for East Asian wide/fullwidth and emoji shown as
    /// emoji by default; 1 otherwise.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x7F { return v >= 0x20 ? 1 : 0 }
        if v < 0xA0 { return 0 }  // DEL and C1 controls
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format, .control: return v == 0xAD ? 1 : 0
        default: break
        }
        if (0x1160...0x11FF).contains(v) { return 0 }  // Hangul medial vowels and final consonants
        if isWide(v) || scalar.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// Cells taken by a grapheme cluster: the sum over its scalars, as ncursesw counts them.
    public static func of(_ character: Character) -> Int {
        if let ascii = character.asciiValue { return ascii >= 0x20 && ascii < 0x7F ? 1 : 0 }
        var w = 0
        for s in character.unicodeScalars { w += of(s) }
        return w
    }

    /// Cells taken by a string.
    public static func of(_ text: some StringProtocol) -> Int {
        var w = 0
        for c in text { w += of(c) }
        return w
    }

    /// The longest prefix of `text` that fits `width` cells, never splitting a character.
    public static func prefix(_ text: String, fitting width: Int) -> String {
        var used = 0
        var end = text.startIndex
        for i in text.indices {
            let w = of(text[i])
            if used + w > width { break }
            used += w
            end = text.index(after: i)
        }
        return String(text[..<end])
    }

    /// `text` for a terminal without UTF-8: every non-ASCII character becomes "?".
    public static func asciiOnly(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text }
        return String(text.map { $0.isASCII ? $0 : "?" })
    }

    private static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3,
            0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6,
            0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return true
        default:
            return false
        }
    }
}
