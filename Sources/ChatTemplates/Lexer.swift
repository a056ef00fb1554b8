/// Splits a template into text and tag tokens the way Jinja2's lexer does under transformers'
/// settings (`trim_blocks=True`, `lstrip_blocks=True`, `keep_trailing_newline=False`), so the
/// whitespace around tags — what decides most of a prompt's exact bytes — comes out the same.
struct Token {
    enum Kind: Equatable {
        case text(String)
        case blockBegin, blockEnd
        case variableBegin, variableEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        case op(String)
    }
    let kind: Kind
    let position: SourcePosition
}

struct Lexer {
    private let source: [Unicode.Scalar]
    /// Line and column of every scalar, plus one past the end.
    private var positions: [SourcePosition] = []
    private var tokens: [Token] = []

    init(_ text: String) {
        // Jinja2 reads `\r\n` and `\r` as `\n`, and drops one trailing newline.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.unicodeScalars.count)
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if scalar == "\r" {
                scalars.append("\n")
                previousWasCR = true
                continue
            }
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = false
            scalars.append(scalar)
        }
        if scalars.last == "\n" { scalars.removeLast() }
        source = scalars
        var line = 1, column = 1
        positions.reserveCapacity(scalars.count + 1)
        for scalar in scalars {
            positions.append(SourcePosition(line: line, column: column))
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        positions.append(SourcePosition(line: line, column: column))
    }

    static func tokenize(_ text: String) throws(JinjaError) -> [Token] {
        var lexer = Lexer(text)
        try lexer.run()
        return lexer.tokens
    }

    private func syntaxError(_ message: String, at index: Int) -> JinjaError {
        let p = positions[min(index, positions.count - 1)]
        return JinjaError(.syntax, message, line: p.line, column: p.column)
    }

    private func matches(_ literal: String, at index: Int) -> Bool {
        var i = index
        for scalar in literal.unicodeScalars {
            guard i < source.count, source[i] == scalar else { return false }
            i += 1
        }
        return true
    }

    private mutating func run() throws(JinjaError) {
        var pos = 0
        while pos < source.count {
            // The earliest `{{`, `{%` or `{#` starts the next tag.
            var tagStart = pos
            var found = false
            while tagStart + 1 < source.count {
                if source[tagStart] == "{" && (source[tagStart + 1] == "{" || source[tagStart + 1] == "%" || source[tagStart + 1] == "#") {
                    found = true
                    break
                }
                tagStart += 1
            }
            if !found {
                emitText(from: pos, to: source.count)
                return
            }
            let opener = source[tagStart + 1]
            var afterOpener = tagStart + 2
            var sign: Unicode.Scalar? = nil
            if afterOpener < source.count, source[afterOpener] == "-" || source[afterOpener] == "+" {
                sign = source[afterOpener]
                afterOpener += 1
            }
            // A raw block is data up to its `endraw`.
            if opener == "%", let rawBodyStart = rawBegin(at: afterOpener) {
                applyWhitespaceControl(textFrom: pos, to: tagStart, sign: sign, isVariable: false)
                pos = try raw(bodyStart: rawBodyStart)
                continue
            }
            applyWhitespaceControl(textFrom: pos, to: tagStart, sign: sign, isVariable: opener == "{")
            switch opener {
            case "#":
                pos = try comment(from: afterOpener, tagStart: tagStart)
            case "%":
                tokens.append(Token(kind: .blockBegin, position: positions[tagStart]))
                pos = try expressionTokens(from: afterOpener, isBlock: true, tagStart: tagStart)
            default:
                tokens.append(Token(kind: .variableBegin, position: positions[tagStart]))
                pos = try expressionTokens(from: afterOpener, isBlock: false, tagStart: tagStart)
            }
        }
    }

    private mutating func emitText(from start: Int, to end: Int) {
        guard start < end else { return }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: source[start..<end])
        tokens.append(Token(kind: .text(String(text)), position: positions[start]))
    }

    /// Emits the text before a tag after `{%-`/`{{-` (strip all whitespace before the tag) or
    /// `lstrip_blocks` (strip spaces and tabs between the line start and a block or comment tag).
    private mutating func applyWhitespaceControl(textFrom start: Int, to end: Int, sign: Unicode.Scalar?, isVariable: Bool) {
        var stop = end
        if sign == "-" {
            while stop > start && isPythonWhitespace(source[stop - 1]) { stop -= 1 }
        } else if sign != "+" && !isVariable {
            var lineStart = end
            while lineStart > start && source[lineStart - 1] != "\n" { lineStart -= 1 }
            let atLineStart = lineStart > start || start == 0 || source[start - 1] == "\n"
            if atLineStart && lineStart < end && source[lineStart..<end].allSatisfy(isPythonWhitespace) {
                stop = lineStart
            }
        }
        emitText(from: start, to: stop)
    }

    /// After `{#`: skips to `#}` (`-#}` strips following whitespace; trim_blocks drops one newline).
    private func comment(from start: Int, tagStart: Int) throws(JinjaError) -> Int {
        var i = start
        while i < source.count {
            if source[i] == "+" && matches("#}", at: i + 1) { return i + 3 }
            if source[i] == "-" && matches("#}", at: i + 1) { return skipWhitespace(from: i + 3) }
            if matches("#}", at: i) {
                let end = i + 2
                return end < source.count && source[end] == "\n" ? end + 1 : end
            }
            i += 1
        }
        throw syntaxError("Missing end of comment tag", at: tagStart)
    }

    private func skipWhitespace(from start: Int) -> Int {
        var i = start
        while i < source.count && isPythonWhitespace(source[i]) { i += 1 }
        return i
    }

    /// `{% raw %}`: returns where the raw body starts, or nil when the tag is not `raw`.
    private func rawBegin(at start: Int) -> Int? {
        var i = skipWhitespace(from: start)
        guard matches("raw", at: i) else { return nil }
        i = skipWhitespace(from: i + 3)
        if matches("-%}", at: i) { return skipWhitespace(from: i + 3) }
        if matches("%}", at: i) { return i + 2 }
        return nil
    }

    private mutating func raw(bodyStart: Int) throws(JinjaError) -> Int {
        var i = bodyStart
        while i + 1 < source.count {
            if source[i] == "{" && source[i + 1] == "%" {
                var j = i + 2
                var sign: Unicode.Scalar? = nil
                if j < source.count, source[j] == "-" || source[j] == "+" {
                    sign = source[j]
                    j += 1
                }
                j = skipWhitespace(from: j)
                if matches("endraw", at: j) {
                    j = skipWhitespace(from: j + 6)
                    var end: Int?
                    if matches("+%}", at: j) {
                        end = j + 3
                    } else if matches("-%}", at: j) {
                        end = skipWhitespace(from: j + 3)
                    } else if matches("%}", at: j) {
                        end = j + 2 < source.count && source[j + 2] == "\n" ? j + 3 : j + 2
                    }
                    if let end {
                        applyWhitespaceControl(textFrom: bodyStart, to: i, sign: sign, isVariable: false)
                        return end
                    }
                }
            }
            i += 1
        }
        throw syntaxError("Missing end of raw directive", at: bodyStart)
    }

    /// Tokens inside `{% %}` or `{{ }}` up to the closing delimiter at bracket depth 0.
    private mutating func expressionTokens(from start: Int, isBlock: Bool, tagStart: Int) throws(JinjaError) -> Int {
        var i = start
        var brackets: [Unicode.Scalar] = []
        while true {
            while i < source.count && isPythonWhitespace(source[i]) { i += 1 }
            guard i < source.count else {
                throw syntaxError(isBlock ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'", at: tagStart)
            }
            if brackets.isEmpty {
                if isBlock {
                    if matches("+%}", at: i) {
                        tokens.append(Token(kind: .blockEnd, position: positions[i]))
                        return i + 3
                    }
                    if matches("-%}", at: i) {
                        tokens.append(Token(kind: .blockEnd, position: positions[i]))
                        return skipWhitespace(from: i + 3)
                    }
                    if matches("%}", at: i) {
                        tokens.append(Token(kind: .blockEnd, position: positions[i]))
                        return i + 2 < source.count && source[i + 2] == "\n" ? i + 3 : i + 2
                    }
                } else {
                    if matches("-}}", at: i) {
                        tokens.append(Token(kind: .variableEnd, position: positions[i]))
                        return skipWhitespace(from: i + 3)
                    }
                    if matches("}}", at: i) {
                        tokens.append(Token(kind: .variableEnd, position: positions[i]))
                        return i + 2
                    }
                }
            }
            let position = positions[i]
            let c = source[i]
            if ("0"..."9").contains(c) {
                i = lexNumber(at: i)
            } else if c == "_" || c.properties.isAlphabetic {
                var j = i
                while j < source.count && (source[j] == "_" || source[j].properties.isAlphabetic || ("0"..."9").contains(source[j])) { j += 1 }
                var name = String.UnicodeScalarView()
                name.append(contentsOf: source[i..<j])
                tokens.append(Token(kind: .name(String(name)), position: position))
                i = j
            } else if c == "'" || c == "\"" {
                i = try lexString(at: i)
            } else {
                let two = i + 1 < source.count ? String(String.UnicodeScalarView([c, source[i + 1]])) : ""
                if ["//", "**", "==", "!=", "<=", ">="].contains(two) {
                    tokens.append(Token(kind: .op(two), position: position))
                    i += 2
                    continue
                }
                let single = String(c)
                guard "+-/*%~[](){}=.:|,;<>".unicodeScalars.contains(c) else {
                    throw syntaxError("unexpected char '\(single)'", at: i)
                }
                switch c {
                case "(", "[", "{": brackets.append(c == "(" ? ")" : c == "[" ? "]" : "}")
                case ")", "]", "}":
                    guard let expected = brackets.popLast() else { throw syntaxError("unexpected '\(single)'", at: i) }
                    guard expected == c else { throw syntaxError("unexpected '\(single)', expected '\(expected)'", at: i) }
                default: break
                }
                tokens.append(Token(kind: .op(single), position: position))
                i += 1
            }
        }
    }

    private func isDigit(_ i: Int) -> Bool { i < source.count && ("0"..."9").contains(source[i]) }

    /// Digits with `_` separators, as Jinja's `(\d+_)*\d+`.
    private func digits(from start: Int) -> Int {
        var i = start
        while isDigit(i) || (source[i] == "_" && isDigit(i + 1) && i > start) { i += 1 }
        return i
    }

    private mutating func lexNumber(at start: Int) -> Int {
        var i = digits(from: start)
        var isFloat = false
        if i < source.count, source[i] == ".", isDigit(i + 1) {
            i = digits(from: i + 1)
            isFloat = true
        }
        if i < source.count, source[i] == "e" || source[i] == "E" {
            var j = i + 1
            if j < source.count, source[j] == "+" || source[j] == "-" { j += 1 }
            if isDigit(j) {
                i = digits(from: j)
                isFloat = true
            }
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: source[start..<i].filter { $0 != "_" })
        let literal = String(text)
        if isFloat {
            tokens.append(Token(kind: .float(Double(literal) ?? .infinity), position: positions[start]))
        } else if let value = Int(literal) {
            tokens.append(Token(kind: .integer(value), position: positions[start]))
        } else {
            // Python ints are unbounded; an integer literal past Int64 is not worth supporting.
            tokens.append(Token(kind: .float(.nan), position: positions[start]))
        }
        return i
    }

    /// A quoted literal, decoded as Jinja2 does (Python's `unicode-escape`).
    private mutating func lexString(at start: Int) throws(JinjaError) -> Int {
        let quote = source[start]
        var i = start + 1
        var value = String.UnicodeScalarView()
        while true {
            guard i < source.count else { throw syntaxError("unexpected end of string literal", at: start) }
            let c = source[i]
            if c == quote { break }
            if c != "\\" {
                value.append(c)
                i += 1
                continue
            }
            guard i + 1 < source.count else { throw syntaxError("unexpected end of string literal", at: start) }
            let e = source[i + 1]
            i += 2
            switch e {
            case "\n": break
            case "\\": value.append("\\")
            case "'": value.append("'")
            case "\"": value.append("\"")
            case "a": value.append("\u{07}")
            case "b": value.append("\u{08}")
            case "f": value.append("\u{0C}")
            case "n": value.append("\n")
            case "r": value.append("\r")
            case "t": value.append("\t")
            case "v": value.append("\u{0B}")
            case "0"..."7":
                var code = Int(e.value - 48)
                var count = 1
                while count < 3, i < source.count, ("0"..."7").contains(source[i]) {
                    code = code * 8 + Int(source[i].value - 48)
                    i += 1
                    count += 1
                }
                value.append(Unicode.Scalar(UInt32(code))!)
            case "x", "u", "U":
                let width = e == "x" ? 2 : e == "u" ? 4 : 8
                var code: UInt32 = 0
                for _ in 0..<width {
                    guard i < source.count, let digit = Int(String(source[i]), radix: 16) else {
                        throw syntaxError("truncated \\\(e) escape in string literal", at: start)
                    }
                    code = code * 16 + UInt32(digit)
                    i += 1
                }
                guard let scalar = Unicode.Scalar(code) else {
                    throw JinjaError(.unsupported, "string escape of a surrogate or out-of-range code point", line: positions[start].line, column: positions[start].column)
                }
                value.append(scalar)
            case "N":
                throw JinjaError(.unsupported, "\\N{...} escapes in string literals", line: positions[start].line, column: positions[start].column)
            default:
                value.append("\\")
                value.append(e)
            }
        }
        tokens.append(Token(kind: .string(String(value)), position: positions[start]))
        return i + 1
    }
}

/// Python's `str.isspace()`, which is also what `\s`, `strip()` and `split()` use.
func isPythonWhitespace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
        return true
    default:
        return false
    }
}
