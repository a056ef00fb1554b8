/// Makes model output inert before it reaches a terminal or a transcript: C0 controls (but
/// newline and tab), DEL and C1 controls become visible Control Pictures (ESC → ␛, BEL → ␇,
/// CR → ␍), so no escape sequence the model writes can move the cursor, retitle the window or
/// ring the bell.
public enum TerminalSafe {
    /// `text` with every control character but "\n" and "\t" replaced by a visible symbol.
    public static func inert(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if !isControl(scalar) {
                out.append(scalar)
            } else if scalar.value < 0x20 {
                out.append(Unicode.Scalar(0x2400 + scalar.value)!)  // ␀…␟
            } else if scalar.value == 0x7F {
                out.append("\u{2421}")  // ␡
            } else {
                out.append("\u{FFFD}")  // C1: no picture exists
            }
        }
        return String(out)
    }

    /// `inert(text)` with "\n" made visible too (␊): for one-line messages that quote text
    /// from outside — a path, a `/set` value, a token — so that neither an escape sequence
    /// reaches the terminal nor a newline splits the line.
    public static func oneLine(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.map { $0 == "\n" ? "\u{240A}" : $0 })
        return inert(String(scalars))
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        (s.value < 0x20 && s != "\n" && s != "\t") || s.value == 0x7F || (0x80...0x9F).contains(s.value)
    }
}
