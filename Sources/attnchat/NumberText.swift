import Glibc

/// The text of the numbers attnchat prints ("%.2f", "%.1f MB", "%.4f bits/byte"). glibc's printf
/// does the rounding (half to even on the exact binary value), so each is byte for byte what
/// Foundation's `String(format:)` printed, without the internationalization Foundation links in.
enum NumberText {
    /// `value` with `digits` decimals, printf's `%.*f`; with `plus`, `%+.*f` (a + before 0 and up).
    /// (A Float is widened to Double first, exactly, as C's varargs did.)
    static func fixed(_ value: some BinaryFloatingPoint, _ digits: Int, plus: Bool = false) -> String {
        printf(plus ? "%+.*f" : "%.*f", digits, Double(value))
    }

    /// `value` as d.ddde±xx with `digits` decimals, printf's `%.*e` (a learning rate: 3.00e-04).
    static func exponent(_ value: some BinaryFloatingPoint, _ digits: Int) -> String { printf("%.*e", digits, Double(value)) }

    /// `n` with zeros before it to `width` digits, printf's `%0*d` for n ≥ 0 ("07").
    static func zeroPadded(_ n: Int, _ width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `byte` as two uppercase hex digits, printf's `%02X` ("0A").
    static func hex(_ byte: UInt8) -> String { (byte < 0x10 ? "0" : "") + String(byte, radix: 16, uppercase: true) }

    /// `text` right-aligned in `width` characters, printf's `%*s`.
    static func right(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// `text` left-aligned in `width` characters, printf's `%-*s`.
    static func left(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    /// glibc's `vsnprintf` of one double after a precision, sized by a first call that writes nothing.
    private static func printf(_ format: String, _ digits: Int, _ value: Double) -> String {
        let arguments: [CVarArg] = [Int32(digits), value]
        let length = Int(withVaList(arguments) { vsnprintf(nil, 0, format, $0) })
        var bytes = [CChar](repeating: 0, count: length + 1)
        _ = withVaList(arguments) { vsnprintf(&bytes, bytes.count, format, $0) }
        return String(decoding: bytes.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
