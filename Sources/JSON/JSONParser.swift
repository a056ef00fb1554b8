// A strict RFC 8259 parser over a byte buffer.
//
// The parser is iterative: open containers live on explicit stacks, so nesting depth costs
// heap, not call stack, and the depth limit is a reported error rather than a stack overflow.
// Nothing is ever reserved from a size the input claims; every allocation grows with bytes
// actually consumed.

extension JSONValue {
    /// Deepest nesting of arrays and objects that `parse` accepts by default.
    public static let defaultMaxDepth = 512

    /// Parses one JSON document from UTF-8 bytes.
    ///
    /// Strict RFC 8259: whitespace around the value is allowed; trailing commas, leading zeros,
    /// control characters and invalid UTF-8 inside strings, lone surrogates in `\u` escapes,
    /// numbers beyond the range of `Double`, duplicate object keys and nesting deeper than
    /// `maxDepth` are rejected.
    /// - Complexity: O(n) in the byte count.
    public static func parse(
        _ buffer: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth
    ) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: buffer.assumingMemoryBound(to: UInt8.self), maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// Parses one JSON document from UTF-8 bytes (`[UInt8]`, `Data`, an array slice, ...).
    public static func parse<Bytes: Collection<UInt8>>(
        _ bytes: Bytes, maxDepth: Int = defaultMaxDepth
    ) throws(JSONError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONError) in
                try parse(UnsafeRawBufferPointer(buffer), maxDepth: maxDepth)
            }
        }
        if let result { return try result.get() }
        return try parse(Array(bytes), maxDepth: maxDepth)
    }

    /// Parses one JSON document from a string.
    public static func parse(_ text: String, maxDepth: Int = defaultMaxDepth) throws(JSONError) -> JSONValue {
        try parse(text.utf8, maxDepth: maxDepth)
    }
}

private enum ASCII {
    static let tab: UInt8 = 0x09, newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20
    static let quote: UInt8 = 0x22, plus: UInt8 = 0x2B, comma: UInt8 = 0x2C, minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E, slash: UInt8 = 0x2F, zero: UInt8 = 0x30, nine: UInt8 = 0x39
    static let colon: UInt8 = 0x3A, upperE: UInt8 = 0x45, openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C, closeBracket: UInt8 = 0x5D, lowerE: UInt8 = 0x65
    static let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
}

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var position = 0
    /// Reused for strings that contain escapes, so only the final `String` is allocated.
    var scratch: [UInt8] = []

    /// An array or object whose closing bracket has not been reached yet.
    struct OpenContainer {
        let isObject: Bool
        /// Where its elements start in `elements`, or its members in `members`.
        let start: Int
        /// Key → position within the object, once it has more than `JSONObject.indexThreshold`
        /// members; handed to the finished `JSONObject`.
        var keyIndex: [String: Int]?
    }

    // Values of all open containers share two stacks; a container's values are copied out
    // into one exactly sized array when it closes, so no array grows by doubling.
    var open: [OpenContainer] = []
    var elements: [JSONValue] = []
    var members: [(key: String, value: JSONValue)] = []
    /// The key of each open object's member whose value is being parsed.
    var pendingKeys: [String] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        parseValue: while true {
            guard position < bytes.count else { throw error("unexpected end of input, expected a value") }
            var value: JSONValue
            switch bytes[position] {
            case ASCII.openBrace:
                guard open.count < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
                position += 1
                skipWhitespace()
                if position < bytes.count, bytes[position] == ASCII.closeBrace {
                    position += 1
                    value = .object(JSONObject())
                } else {
                    open.append(OpenContainer(isObject: true, start: members.count, keyIndex: nil))
                    try parseKey()
                    continue parseValue
                }
            case ASCII.openBracket:
                guard open.count < maxDepth else { throw error("nesting deeper than \(maxDepth) levels") }
                position += 1
                skipWhitespace()
                if position < bytes.count, bytes[position] == ASCII.closeBracket {
                    position += 1
                    value = .array([])
                } else {
                    open.append(OpenContainer(isObject: false, start: elements.count, keyIndex: nil))
                    continue parseValue
                }
            case ASCII.quote:
                value = .string(try parseString())
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                value = .bool(true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                value = .bool(false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                value = .null
            case ASCII.minus, ASCII.zero...ASCII.nine:
                value = try parseNumber()
            default:
                throw error("\(describeByte(at: position)), expected a value")
            }

            // Hand the finished value to its container; close every container that ends here.
            while let container = open.last {
                skipWhitespace()
                if container.isObject {
                    members.append((pendingKeys.removeLast(), value))
                    guard position < bytes.count else { throw error("unexpected end of input, expected ',' or '}'") }
                    if bytes[position] == ASCII.comma {
                        position += 1
                        skipWhitespace()
                        try parseKey()
                        continue parseValue
                    }
                    guard bytes[position] == ASCII.closeBrace else {
                        throw error("\(describeByte(at: position)), expected ',' or '}'")
                    }
                    position += 1
                    let entries = Array(members[container.start...])
                    members.removeSubrange(container.start...)
                    open.removeLast()
                    value = .object(JSONObject(validatedEntries: entries, index: container.keyIndex))
                } else {
                    elements.append(value)
                    guard position < bytes.count else { throw error("unexpected end of input, expected ',' or ']'") }
                    if bytes[position] == ASCII.comma {
                        position += 1
                        skipWhitespace()
                        continue parseValue
                    }
                    guard bytes[position] == ASCII.closeBracket else {
                        throw error("\(describeByte(at: position)), expected ',' or ']'")
                    }
                    position += 1
                    let array = Array(elements[container.start...])
                    elements.removeSubrange(container.start...)
                    open.removeLast()
                    value = .array(array)
                }
            }
            skipWhitespace()
            guard position == bytes.count else { throw error("\(describeByte(at: position)) after the JSON value") }
            return value
        }
    }

    // MARK: - Tokens

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case ASCII.space, ASCII.newline, ASCII.carriageReturn, ASCII.tab: position += 1
            default: return
            }
        }
    }

    /// Parses `"key" :` and the whitespace after it into `pendingKeys`, rejecting a key the
    /// innermost open object already holds.
    mutating func parseKey() throws(JSONError) {
        guard position < bytes.count else { throw error("unexpected end of input, expected a string key") }
        guard bytes[position] == ASCII.quote else {
            throw error("\(describeByte(at: position)), expected a string key")
        }
        let keyOffset = position
        let key = try parseString()

        let top = open.count - 1
        let start = open[top].start
        let memberPosition = members.count - start
        if open[top].keyIndex != nil {
            if open[top].keyIndex?.updateValue(memberPosition, forKey: key) != nil {
                throw error("duplicate key \(quoted(key))", at: keyOffset)
            }
        } else {
            for i in start..<members.count where members[i].key == key {
                throw error("duplicate key \(quoted(key))", at: keyOffset)
            }
            if memberPosition + 1 > JSONObject.indexThreshold {
                var index = [String: Int](minimumCapacity: 2 * JSONObject.indexThreshold)
                for i in start..<members.count { index[members[i].key] = i - start }
                index[key] = memberPosition
                open[top].keyIndex = index
            }
        }
        pendingKeys.append(key)

        skipWhitespace()
        guard position < bytes.count, bytes[position] == ASCII.colon else {
            throw error("\(describeByte(at: position)), expected ':'")
        }
        position += 1
        skipWhitespace()
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let length = literal.utf8CodeUnitCount
        let start = literal.utf8Start
        for i in 0..<length {
            guard position + i < bytes.count, bytes[position + i] == start[i] else {
                throw error("invalid literal, expected '\(literal)'")
            }
        }
        position += length
    }

    /// Parses a string starting at its opening quote; leaves `position` after the closing quote.
    mutating func parseString() throws(JSONError) -> String {
        position += 1
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == ASCII.quote {
                let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte == ASCII.backslash {
                return try parseEscapedString(from: start)
            }
            if byte < 0x20 { throw error("control character \(hex(byte)) in string") }
            if byte < 0x80 { position += 1 } else { try skipUTF8Sequence() }
        }
        throw error("unterminated string", at: start - 1)
    }

    /// The slow path once a backslash appears: decode into `scratch`.
    mutating func parseEscapedString(from start: Int) throws(JSONError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
        while position < bytes.count {
            let byte = bytes[position]
            if byte == ASCII.quote {
                position += 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == ASCII.backslash {
                try decodeEscape()
            } else if byte < 0x20 {
                throw error("control character \(hex(byte)) in string")
            } else if byte < 0x80 {
                scratch.append(byte)
                position += 1
            } else {
                let sequenceStart = position
                try skipUTF8Sequence()
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[sequenceStart..<position]))
            }
        }
        throw error("unterminated string", at: start - 1)
    }

    /// Decodes one escape at `position` (a backslash) and appends its UTF-8 to `scratch`.
    mutating func decodeEscape() throws(JSONError) {
        let escapeOffset = position
        guard position + 1 < bytes.count else { throw error("unterminated string") }
        let code = bytes[position + 1]
        position += 2
        switch code {
        case ASCII.quote, ASCII.backslash, ASCII.slash: scratch.append(code)
        case UInt8(ascii: "b"): scratch.append(0x08)
        case UInt8(ascii: "f"): scratch.append(0x0C)
        case UInt8(ascii: "n"): scratch.append(ASCII.newline)
        case UInt8(ascii: "r"): scratch.append(ASCII.carriageReturn)
        case UInt8(ascii: "t"): scratch.append(ASCII.tab)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xDC00...0xDFFF).contains(scalar) {
                throw error("lone low surrogate \\u\(String(scalar, radix: 16, uppercase: true))", at: escapeOffset)
            }
            if (0xD800...0xDBFF).contains(scalar) {
                guard position + 1 < bytes.count, bytes[position] == ASCII.backslash,
                    bytes[position + 1] == UInt8(ascii: "u")
                else {
                    throw error("lone high surrogate \\u\(String(scalar, radix: 16, uppercase: true))", at: escapeOffset)
                }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("high surrogate not followed by a low surrogate", at: escapeOffset)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            appendUTF8(scalar)
        default:
            throw error("invalid escape '\\\(describeASCII(code))'", at: escapeOffset)
        }
    }

    mutating func parseHex4() throws(JSONError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard position < bytes.count else { throw error("unterminated \\u escape") }
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("\(describeByte(at: position)) in \\u escape, expected a hex digit")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Validates one multi-byte UTF-8 sequence at `position` (Unicode 15, table 3-7: no
    /// overlongs, no surrogates, nothing above U+10FFFF) and steps over it.
    mutating func skipUTF8Sequence() throws(JSONError) {
        let lead = bytes[position]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: throw error("invalid UTF-8 byte \(hex(lead))")
        }
        for i in 1..<length {
            let range = i == 1 ? secondRange : 0x80...0xBF
            guard position + i < bytes.count, range.contains(bytes[position + i]) else {
                if position + i >= bytes.count { throw error("truncated UTF-8 sequence", at: position) }
                throw error("invalid UTF-8 byte \(hex(bytes[position + i]))", at: position + i)
            }
        }
        position += length
    }

    mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = position
        if bytes[position] == ASCII.minus { position += 1 }
        let integerStart = position
        guard position < bytes.count, isDigit(bytes[position]) else {
            throw error("\(describeByte(at: position)), expected a digit")
        }
        if bytes[position] == ASCII.zero {
            position += 1
            if position < bytes.count, isDigit(bytes[position]) { throw error("leading zero in number", at: start) }
        } else {
            skipDigits()
        }
        let integerEnd = position
        var isInteger = true
        if position < bytes.count, bytes[position] == ASCII.dot {
            isInteger = false
            position += 1
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw error("\(describeByte(at: position)), expected a digit after '.'")
            }
            skipDigits()
        }
        if position < bytes.count, bytes[position] == ASCII.lowerE || bytes[position] == ASCII.upperE {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == ASCII.plus || bytes[position] == ASCII.minus {
                position += 1
            }
            guard position < bytes.count, isDigit(bytes[position]) else {
                throw error("\(describeByte(at: position)), expected a digit in the exponent")
            }
            skipDigits()
        }
        if isInteger, let exact = exactInteger(integerStart..<integerEnd, negative: start != integerStart) {
            return .integer(exact)
        }
        // The grammar is already checked, so this only converts; it is locale-independent.
        let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(literal), value.isFinite else {
            throw error("number \(literal.prefix(40)) is out of range", at: start)
        }
        return .number(value)
    }

    /// The digits as an Int64, or nil when they overflow it (they then become a Double).
    func exactInteger(_ digits: Range<Int>, negative: Bool) -> Int64? {
        var value: Int64 = 0
        for i in digits {
            let digit = Int64(bytes[i] - ASCII.zero)
            // Accumulate on the negative side so Int64.min is representable.
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = shifted.subtractingReportingOverflow(digit)
            if overflow1 || overflow2 { return nil }
            value = next
        }
        if negative { return value }
        return value == .min ? nil : -value
    }

    mutating func skipDigits() {
        while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }

    func isDigit(_ byte: UInt8) -> Bool { byte &- ASCII.zero < 10 }

    // MARK: - Errors

    func error(_ reason: String) -> JSONError { error(reason, at: position) }

    /// Line and column are only computed here, on the failure path.
    func error(_ reason: String, at offset: Int) -> JSONError {
        let offset = min(offset, bytes.count)
        var line = 1
        var lineStart = 0
        for i in 0..<offset where bytes[i] == ASCII.newline {
            line += 1
            lineStart = i + 1
        }
        return JSONError(line: line, column: offset - lineStart + 1, offset: offset, reason: reason)
    }

    func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "unexpected end of input" }
        let byte = bytes[offset]
        if byte >= 0x20 && byte < 0x7F { return "unexpected '\(describeASCII(byte))'" }
        return "unexpected byte \(hex(byte))"
    }

    func describeASCII(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : hex(byte)
    }
}

func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16, uppercase: true)
    return byte < 0x10 ? "0x0" + digits : "0x" + digits
}

/// `text` in double quotes with JSON escaping, cut to 80 characters, for error messages.
func quoted(_ text: String) -> String {
    let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
    return JSONValue.string(shown).serialized()
}
