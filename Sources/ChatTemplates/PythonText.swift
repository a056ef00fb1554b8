import Glibc
import JSON

/// Python's text conversions, which decide the bytes of every value a template prints:
/// `str()`, `repr()`, float formatting and `json.dumps`.
enum PythonText {
    /// `repr(float)`: the shortest round-trip digits, in exponent form when the decimal point
    /// would sit more than 16 places right or 4 places left of the first digit.
    static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        // Swift's description also gives the shortest round-trip digits; only the layout differs.
        var text = "\(value.magnitude)"
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...])!
            text = String(text[..<e])
        }
        var integerPart = text
        var fraction = ""
        if let dot = text.firstIndex(of: ".") {
            integerPart = String(text[..<dot])
            fraction = String(text[text.index(after: dot)...])
        }
        var digits = integerPart + fraction
        var decimalPoint = integerPart.count + exponent  // value = 0.digits × 10^decimalPoint
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let sign = value < 0 ? "-" : ""
        if decimalPoint > 16 || decimalPoint <= -4 {
            let e = decimalPoint - 1
            let mantissa = digits.count > 1 ? String(digits.first!) + "." + digits.dropFirst() : digits
            let exponentText = zeroPadded(abs(e), 2)
            return sign + mantissa + "e" + (e < 0 ? "-" : "+") + exponentText
        }
        if decimalPoint <= 0 {
            return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits
        }
        if decimalPoint >= digits.count {
            return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) + ".0"
        }
        let cut = digits.index(digits.startIndex, offsetBy: decimalPoint)
        return sign + digits[..<cut] + "." + digits[cut...]
    }

    /// `repr(str)`: single quotes unless the text holds `'` and no `"`; unprintable characters escaped.
    static func repr(_ string: String) -> String {
        let quote: Unicode.Scalar = string.unicodeScalars.contains("'") && !string.unicodeScalars.contains("\"") ? "\"" : "'"
        var out = String.UnicodeScalarView()
        out.append(quote)
        for c in string.unicodeScalars {
            switch c {
            case quote, "\\":
                out.append("\\")
                out.append(c)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            default:
                if isPrintable(c) {
                    out.append(c)
                } else if c.value < 0x100 {
                    out.append(contentsOf: ("\\x" + hex(c.value, 2)).unicodeScalars)
                } else if c.value < 0x10000 {
                    out.append(contentsOf: ("\\u" + hex(c.value, 4)).unicodeScalars)
                } else {
                    out.append(contentsOf: ("\\U" + hex(c.value, 8)).unicodeScalars)
                }
            }
        }
        out.append(quote)
        return String(out)
    }

    /// Python's `str.isprintable()` for one character.
    static func isPrintable(_ c: Unicode.Scalar) -> Bool {
        if c == " " { return true }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
            return false
        default:
            return true
        }
    }

    /// `json.dumps` options as transformers' `tojson` passes them.
    struct JSONOptions {
        var ensureASCII = false
        /// nil: one line; otherwise the text of one indentation level.
        var indent: String? = nil
        var itemSeparator: String? = nil
        var keySeparator: String? = nil
        var sortKeys = false
    }

    /// A JSON string literal as `json.dumps` writes it. The JSON module already escapes exactly
    /// what Python does with `ensure_ascii=False`; `ensure_ascii=True` also escapes everything
    /// outside printable ASCII, astral characters as surrogate pairs.
    static func jsonString(_ string: String, ensureASCII: Bool) -> String {
        let plain = JSONValue.string(string).serialized()
        guard ensureASCII else { return plain }
        var out = ""
        for c in plain.unicodeScalars {
            if c.value <= 0x7E {
                out.unicodeScalars.append(c)
            } else if c.value > 0xFFFF {
                let v = c.value - 0x10000
                out += "\\u" + hex(0xD800 + (v >> 10), 4) + "\\u" + hex(0xDC00 + (v & 0x3FF), 4)
            } else {
                out += "\\u" + hex(c.value, 4)
            }
        }
        return out
    }
}

// printf's integer and fixed-point conversions, which the texts above are specified by.
extension PythonText {
    /// `value` in lowercase hex with zeros before it to `width` digits (`%0*x`).
    static func hex(_ value: UInt32, _ width: Int) -> String { zeroPadded(String(value, radix: 16), width) }

    /// `value` ≥ 0 with zeros before it to `width` digits (`%0*d`).
    static func zeroPadded(_ value: Int, _ width: Int) -> String { zeroPadded(String(value), width) }

    private static func zeroPadded(_ digits: String, _ width: Int) -> String {
        String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// `value` with `digits` decimals, by glibc's printf (`%.*f`): the exact binary value rounded
    /// half to even, as Python's `round()` does.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        let arguments: [CVarArg] = [Int32(digits), value]
        let length = Int(withVaList(arguments) { vsnprintf(nil, 0, "%.*f", $0) })
        var bytes = [CChar](repeating: 0, count: length + 1)
        _ = withVaList(arguments) { vsnprintf(&bytes, bytes.count, "%.*f", $0) }
        return String(decoding: bytes.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
