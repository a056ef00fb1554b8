import Foundation

/// Writing JSON text byte for byte as Hugging Face `tokenizers` (Rust `serde_json`) does, so that
/// the files attnchat writes are identical to the ones `tokenizers` would write, and locating
/// keys in JSON text for error messages (Foundation's parser reports no positions for values).
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

/// Parses JSON with Foundation, turning its error into a `TokenizerError` with the path (and the
/// line and column Foundation mentions in its message, when it does).
func parseJSON(_ data: Data, path: String) throws -> Any {
    do {
        return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    } catch {
        let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        if let (line, column) = jsonErrorLocation(detail, in: data) {
            throw TokenizerError(.badData, path: path, line: line, "column \(column): not valid JSON: \(detail)")
        }
        throw TokenizerError(.badData, path: path, "not valid JSON: \(detail)")
    }
}

/// An integer JSON value (rejecting booleans, fractions and strings), or nil.
func jsonInteger(_ value: Any) -> Int? {
    guard let number = value as? NSNumber else { return nil }
    // `is Bool` also holds for the numbers 0 and 1 on Linux; booleans have type encoding "c".
    if String(cString: number.objCType) == "c" { return nil }
    let double = number.doubleValue
    guard double.rounded() == double, abs(double) < 1e15 else { return nil }
    return number.intValue
}

/// Foundation reports a JSON syntax error "around character N" (a byte offset); this turns the
/// offset into a 1-based line and column, so the message can point into the file.
///
///     jsonErrorLocation("Invalid value around character 14.", in: Data("{\"a\": [1,\n2,\n x]}".utf8))
///     // (line: 3, column: 2)
func jsonErrorLocation(_ message: String, in data: Data) -> (line: Int, column: Int)? {
    guard let range = message.range(of: "around character ") else { return nil }
    let digits = message[range.upperBound...].prefix { $0.isNumber }
    guard let offset = Int(digits), offset >= 0, offset <= data.count else { return nil }
    var line = 1
    var lineStart = 0
    for (index, byte) in data.prefix(offset).enumerated() where byte == 0x0A {
        line += 1
        lineStart = index + 1
    }
    return (line, offset - lineStart + 1)
}
