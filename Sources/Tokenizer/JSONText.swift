import FoundationEssentials
import JSON

/// Writing JSON text byte for byte as Hugging Face `tokenizers` (Rust `serde_json`) does, so that
/// the files attnchat writes are identical to the ones `tokenizers` would write, and locating
/// keys in JSON text for error messages (the parser reports positions only for syntax errors).
enum JSONText {
    /// A JSON string literal with serde_json's escapes: `"` `\` and the C0 controls only
    /// (`\b \t \n \f \r`, the rest as `\u00xx`); everything else, non-ASCII included, is raw.
    ///
    ///     JSONText.quoted("a\"b\n")  // "\"a\\\"b\\n\""
    static func quoted(_ text: String) -> String {
        var out = "\""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\u{0C}": out += "\\f"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}

/// The 1-based line on which `"key"` first appears as an object key in `data`, for error messages.
func lineNumber(ofKey key: String, in data: Data?) -> Int? {
    guard let data else { return nil }
    let needle = Array((JSONText.quoted(key) + ":").utf8)
    let bytes = [UInt8](data)
    guard needle.count <= bytes.count else { return nil }
    var line = 1
    var index = 0
    while index + needle.count <= bytes.count {
        if bytes[index] == 0x0A { line += 1 }
        if bytes[index] == needle[0], Array(bytes[index..<(index + needle.count)]) == needle { return line }
        index += 1
    }
    return nil
}

/// Parses JSON with the strict `JSON` parser, turning its error into a `TokenizerError` with the
/// path, line, column and reason.
func parseJSON(_ data: Data, path: String) throws(TokenizerError) -> JSONValue {
    do {
        return try JSONValue.parse(data)
    } catch {
        throw .notJSON(path: path, error)
    }
}
