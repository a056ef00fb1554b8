/// Builds the statement tree from the lexer's tokens, following Jinja2's grammar and operator
/// precedence (`parser.py`): filters bind tighter than arithmetic, `not` looser than comparison,
/// and a conditional expression without `else` yields undefined.
struct Parser {
    private let tokens: [Token]
    private var index = 0

    init(tokens: [Token]) { self.tokens = tokens }

    static func parse(_ source: String) throws(JinjaError) -> [Node] {
        var parser = Parser(tokens: try Lexer.tokenize(source))
        let (nodes, end) = try parser.subparse(until: [])
        if let end {
            throw JinjaError(.syntax, "Encountered unknown tag '\(end.name)'.", line: end.position.line, column: end.position.column)
        }
        return nodes
    }

    // MARK: - Token helpers

    private var current: Token? { index < tokens.count ? tokens[index] : nil }
    private var lastPosition: SourcePosition { tokens.last?.position ?? SourcePosition(line: 1, column: 1) }
    private var currentPosition: SourcePosition { current?.position ?? lastPosition }

    private func error(_ message: String, _ kind: JinjaError.Kind = .syntax, at position: SourcePosition? = nil) -> JinjaError {
        let p = position ?? currentPosition
        return JinjaError(kind, message, line: p.line, column: p.column)
    }

    private func describe(_ token: Token?) -> String {
        guard let token else { return "end of template" }
        switch token.kind {
        case .text: return "template data"
        case .blockBegin: return "begin of statement block"
        case .blockEnd: return "end of statement block"
        case .variableBegin: return "begin of print statement"
        case .variableEnd: return "end of print statement"
        case .name(let n): return n
        case .string: return "string"
        case .integer: return "integer"
        case .float: return "float"
        case .op(let o): return o
        }
    }

    private func isOp(_ op: String) -> Bool {
        if case .op(op)? = current?.kind { return true }
        return false
    }

    private func isName(_ name: String) -> Bool {
        if case .name(name)? = current?.kind { return true }
        return false
    }

    private func isName(_ name: String, offset: Int) -> Bool {
        guard index + offset < tokens.count, case .name(name) = tokens[index + offset].kind else { return false }
        return true
    }

    private mutating func skipOp(_ op: String) -> Bool {
        if isOp(op) { index += 1; return true }
        return false
    }

    private mutating func skipName(_ name: String) -> Bool {
        if isName(name) { index += 1; return true }
        return false
    }

    private mutating func expectOp(_ op: String) throws(JinjaError) {
        guard skipOp(op) else { throw error("expected '\(op)', got '\(describe(current))'") }
    }

    private mutating func expectName() throws(JinjaError) -> String {
        guard case .name(let name)? = current?.kind else { throw error("expected name, got '\(describe(current))'") }
        index += 1
        return name
    }

    private mutating func expectBlockEnd() throws(JinjaError) {
        guard case .blockEnd? = current?.kind else { throw error("expected end of statement block, got '\(describe(current))'") }
        index += 1
    }

    // MARK: - Statements

    /// Parses nodes until one of `endTags` opens a block (the tag's name token is left current,
    /// after the `{%`); returns that tag, or nil at the end of the template.
    private mutating func subparse(until endTags: Set<String>) throws(JinjaError) -> ([Node], (name: String, position: SourcePosition)?) {
        var nodes: [Node] = []
        while let token = current {
            switch token.kind {
            case .text(let text):
                nodes.append(.text(text))
                index += 1
            case .variableBegin:
                index += 1
                let expr = try parseTuple()
                guard case .variableEnd? = current?.kind else { throw error("expected end of print statement, got '\(describe(current))'") }
                index += 1
                nodes.append(.output(expr))
            case .blockBegin:
                index += 1
                guard case .name(let tag)? = current?.kind else { throw error("tag name expected") }
                if endTags.contains(tag) { return (nodes, (tag, current!.position)) }
                if let node = try parseStatement(tag) { nodes.append(node) }
            default:
                throw error("unexpected '\(describe(token))'")
            }
        }
        if !endTags.isEmpty {
            let expected = endTags.sorted().map { "'\($0)'" }.joined(separator: " or ")
            throw error("Unexpected end of template. Jinja was looking for the following tags: \(expected).", at: lastPosition)
        }
        return (nodes, nil)
    }

    /// Parses the body of a block up to `end`, consuming the end tag.
    private mutating func body(until endTags: Set<String>) throws(JinjaError) -> ([Node], String) {
        let (nodes, end) = try subparse(until: endTags)
        index += 1  // the end tag's name
        return (nodes, end!.name)
    }

    private static let unsupportedTags: Set<String> = [
        "include", "import", "from", "extends", "block", "call", "filter", "with", "autoescape", "do", "trans", "pluralize",
    ]

    private mutating func parseStatement(_ tag: String) throws(JinjaError) -> Node? {
        let position = currentPosition
        index += 1
        switch tag {
        case "if":
            var branches: [(Expr, [Node])] = []
            var condition = try parseTuple(withConditional: false)
            try expectBlockEnd()
            while true {
                let (nodes, end) = try body(until: ["elif", "else", "endif"])
                branches.append((condition, nodes))
                switch end {
                case "elif":
                    condition = try parseTuple(withConditional: false)
                    try expectBlockEnd()
                case "else":
                    try expectBlockEnd()
                    let (otherwise, _) = try body(until: ["endif"])
                    try expectBlockEnd()
                    return .ifChain(branches, otherwise: otherwise)
                default:
                    try expectBlockEnd()
                    return .ifChain(branches, otherwise: nil)
                }
            }
        case "for":
            var target: [String] = []
            repeat {
                if isName("in") && !target.isEmpty { break }
                target.append(try expectName())
            } while skipOp(",")
            guard skipName("in") else { throw error("expected 'in', got '\(describe(current))'") }
            let iterable = try parseTuple(withConditional: false, extraEnd: ["recursive"])
            var filter: Expr? = nil
            if skipName("if") { filter = try parseExpression() }
            if isName("recursive") { throw error("recursive for loops", .unsupported) }
            try expectBlockEnd()
            let (loopBody, end) = try body(until: ["endfor", "else"])
            var otherwise: [Node]? = nil
            try expectBlockEnd()
            if end == "else" {
                (otherwise, _) = try body(until: ["endfor"])
                try expectBlockEnd()
            }
            return .forLoop(target: target, iterable: iterable, filter: filter, body: loopBody, otherwise: otherwise, position: position)
        case "set":
            let first = try expectName()
            let target: AssignTarget
            if skipOp(".") {
                target = .namespaceAttribute(first, try expectName())
            } else {
                var names = [first]
                while skipOp(",") {
                    if isOp("=") { break }
                    names.append(try expectName())
                }
                target = .names(names)
            }
            if skipOp("=") {
                let value = try parseTuple()
                try expectBlockEnd()
                return .set(target, value, position: position)
            }
            guard case .names(let names) = target, names.count == 1 else { throw error("expected '='") }
            if isOp("|") { throw error("filters on block assignments", .unsupported) }
            try expectBlockEnd()
            let (nodes, _) = try body(until: ["endset"])
            try expectBlockEnd()
            return .setBlock(names[0], nodes)
        case "macro":
            let name = try expectName()
            try expectOp("(")
            var parameters: [(name: String, defaultValue: Expr?)] = []
            while !isOp(")") {
                if !parameters.isEmpty { try expectOp(",") }
                if isOp(")") { break }
                let parameter = try expectName()
                parameters.append((parameter, skipOp("=") ? try parseExpression() : nil))
            }
            try expectOp(")")
            try expectBlockEnd()
            let (nodes, _) = try body(until: ["endmacro"])
            try expectBlockEnd()
            return .macro(Macro(name: name, parameters: parameters, body: nodes))
        case "break", "continue":
            try expectBlockEnd()
            return tag == "break" ? .breakLoop(position) : .continueLoop(position)
        case "generation":
            // transformers' `{% generation %}` only marks assistant text for a token mask;
            // rendering is the body unchanged.
            try expectBlockEnd()
            let (nodes, _) = try body(until: ["endgeneration"])
            try expectBlockEnd()
            return .ifChain([(Expr(.literal(.bool(true)), position), nodes)], otherwise: nil)
        default:
            if Self.unsupportedTags.contains(tag) {
                throw error("the '\(tag)' tag", .unsupported, at: position)
            }
            throw error("Encountered unknown tag '\(tag)'.", at: position)
        }
    }

    // MARK: - Expressions

    /// `a, b` makes a tuple; a single expression stays itself.
    private mutating func parseTuple(withConditional: Bool = true, extraEnd: Set<String> = []) throws(JinjaError) -> Expr {
        let position = currentPosition
        var items: [Expr] = []
        var isTuple = false
        while true {
            if !items.isEmpty { try expectOp(",") }
            if isTupleEnd(extraEnd) { break }
            items.append(withConditional ? try parseExpression() : try parseOr())
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            guard let only = items.first else { throw error("Expected an expression, got '\(describe(current))'") }
            return only
        }
        return Expr(.tuple(items), position)
    }

    private func isTupleEnd(_ extraEnd: Set<String>) -> Bool {
        guard let token = current else { return true }
        switch token.kind {
        case .variableEnd, .blockEnd: return true
        case .op(let op): return op == ")" 
        case .name(let name): return extraEnd.contains(name)
        default: return false
        }
    }

    mutating func parseExpression() throws(JinjaError) -> Expr {
        let position = currentPosition
        var expr = try parseOr()
        while skipName("if") {
            let test = try parseOr()
            let otherwise = skipName("else") ? try parseExpression() : nil
            expr = Expr(.conditional(test: test, then: expr, otherwise: otherwise), position)
        }
        return expr
    }

    private mutating func parseOr() throws(JinjaError) -> Expr {
        var left = try parseAnd()
        while isName("or") {
            let position = currentPosition
            index += 1
            left = Expr(.or(left, try parseAnd()), position)
        }
        return left
    }

    private mutating func parseAnd() throws(JinjaError) -> Expr {
        var left = try parseNot()
        while isName("and") {
            let position = currentPosition
            index += 1
            left = Expr(.and(left, try parseNot()), position)
        }
        return left
    }

    private mutating func parseNot() throws(JinjaError) -> Expr {
        if isName("not") {
            let position = currentPosition
            index += 1
            return Expr(.not(try parseNot()), position)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(JinjaError) -> Expr {
        let position = currentPosition
        let first = try parseMath1()
        var operations: [(String, Expr)] = []
        while true {
            if case .op(let op)? = current?.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
                index += 1
                operations.append((op, try parseMath1()))
            } else if skipName("in") {
                operations.append(("in", try parseMath1()))
            } else if isName("not") && isName("in", offset: 1) {
                index += 2
                operations.append(("not in", try parseMath1()))
            } else {
                break
            }
        }
        return operations.isEmpty ? first : Expr(.compare(first, operations), position)
    }

    private mutating func parseMath1() throws(JinjaError) -> Expr {
        var left = try parseConcat()
        while isOp("+") || isOp("-") {
            let position = currentPosition
            guard case .op(let op)? = current?.kind else { break }
            index += 1
            left = Expr(.binary(op, left, try parseConcat()), position)
        }
        return left
    }

    private mutating func parseConcat() throws(JinjaError) -> Expr {
        let position = currentPosition
        var parts = [try parseMath2()]
        while skipOp("~") { parts.append(try parseMath2()) }
        return parts.count == 1 ? parts[0] : Expr(.concat(parts), position)
    }

    private mutating func parseMath2() throws(JinjaError) -> Expr {
        var left = try parsePow()
        while isOp("*") || isOp("/") || isOp("//") || isOp("%") {
            let position = currentPosition
            guard case .op(let op)? = current?.kind else { break }
            index += 1
            left = Expr(.binary(op, left, try parsePow()), position)
        }
        return left
    }

    private mutating func parsePow() throws(JinjaError) -> Expr {
        var left = try parseUnary()
        while isOp("**") {
            let position = currentPosition
            index += 1
            left = Expr(.binary("**", left, try parseUnary()), position)
        }
        return left
    }

    private mutating func parseUnary(withFilter: Bool = true) throws(JinjaError) -> Expr {
        let position = currentPosition
        var node: Expr
        if skipOp("-") {
            node = Expr(.negate(try parseUnary(withFilter: false)), position)
        } else if skipOp("+") {
            node = Expr(.plus(try parseUnary(withFilter: false)), position)
        } else {
            node = try parsePrimary()
        }
        node = try parsePostfix(node)
        if withFilter { node = try parseFilterExpression(node) }
        return node
    }

    private mutating func parsePrimary() throws(JinjaError) -> Expr {
        guard let token = current else { throw error("unexpected end of template") }
        let position = token.position
        switch token.kind {
        case .name(let name):
            index += 1
            switch name {
            case "true", "True": return Expr(.literal(.bool(true)), position)
            case "false", "False": return Expr(.literal(.bool(false)), position)
            case "none", "None": return Expr(.literal(.none), position)
            default: return Expr(.name(name), position)
            }
        case .string(var value):
            index += 1
            // Adjacent literals concatenate, as in Python.
            while case .string(let more)? = current?.kind {
                value += more
                index += 1
            }
            return Expr(.literal(.string(value)), position)
        case .integer(let value):
            index += 1
            return Expr(.literal(.int(value)), position)
        case .float(let value):
            index += 1
            guard !value.isNaN else { throw error("integer literal too large", .unsupported) }
            return Expr(.literal(.float(value)), position)
        case .op("("):
            index += 1
            if skipOp(")") { return Expr(.tuple([]), position) }
            let inner = try parseTuple()
            try expectOp(")")
            return inner
        case .op("["):
            index += 1
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return Expr(.list(items), position)
        case .op("{"):
            index += 1
            var pairs: [(Expr, Expr)] = []
            while !isOp("}") {
                if !pairs.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let key = try parseExpression()
                try expectOp(":")
                pairs.append((key, try parseExpression()))
            }
            try expectOp("}")
            return Expr(.dict(pairs), position)
        default:
            throw error("unexpected '\(describe(token))'")
        }
    }

    private mutating func parsePostfix(_ start: Expr) throws(JinjaError) -> Expr {
        var node = start
        while true {
            let position = currentPosition
            if skipOp(".") {
                guard let token = current else { throw error("expected name or number") }
                switch token.kind {
                case .name(let name):
                    index += 1
                    node = Expr(.attribute(node, name), position)
                case .integer(let value):
                    index += 1
                    node = Expr(.item(node, Expr(.literal(.int(value)), token.position)), position)
                default:
                    throw error("expected name or number")
                }
            } else if skipOp("[") {
                node = try parseSubscript(node, position)
            } else if isOp("(") {
                node = Expr(.call(node, try parseCallArguments()), position)
            } else {
                return node
            }
        }
    }

    private mutating func parseSubscript(_ node: Expr, _ position: SourcePosition) throws(JinjaError) -> Expr {
        var parts: [Expr?] = []
        var current: Expr? = nil
        var sawColon = false
        while true {
            if isOp("]") {
                parts.append(current)
                index += 1
                break
            } else if skipOp(":") {
                parts.append(current)
                current = nil
                sawColon = true
                if parts.count > 2 { throw error("expected ']'") }
            } else if isOp(",") {
                throw error("tuple subscripts", .unsupported)
            } else {
                if current != nil { throw error("expected ']', got '\(describe(self.current))'") }
                current = try parseExpression()
            }
        }
        if !sawColon {
            guard let key = parts[0] else { throw error("expected an expression in the subscript") }
            return Expr(.item(node, key), position)
        }
        return Expr(.slice(node, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil), position)
    }

    private mutating func parseCallArguments() throws(JinjaError) -> Arguments {
        try expectOp("(")
        var arguments = Arguments()
        while !isOp(")") {
            if !arguments.positional.isEmpty || !arguments.keyword.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            if isOp("*") || isOp("**") { throw error("*args and **kwargs in calls", .unsupported) }
            if case .name(let name)? = current?.kind, index + 1 < tokens.count, tokens[index + 1].kind == .op("=") {
                index += 2
                arguments.keyword.append((name, try parseExpression()))
            } else {
                if !arguments.keyword.isEmpty { throw error("positional argument after keyword argument") }
                arguments.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return arguments
    }

    private mutating func parseFilterExpression(_ start: Expr) throws(JinjaError) -> Expr {
        var node = start
        while true {
            let position = currentPosition
            if skipOp("|") {
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                let arguments = isOp("(") ? try parseCallArguments() : Arguments()
                node = Expr(.filter(node, name, arguments), position)
            } else if isName("is") {
                index += 1
                let negated = skipName("not")
                var name = try expectName()
                while skipOp(".") { name += "." + (try expectName()) }
                var arguments = Arguments()
                if isOp("(") {
                    arguments = try parseCallArguments()
                } else if let token = current, !isName("else"), !isName("or"), !isName("and") {
                    var takesArgument = false
                    switch token.kind {
                    case .name, .string, .integer, .float, .op("("), .op("["), .op("{"): takesArgument = true
                    default: break
                    }
                    if takesArgument {
                        if isName("is") { throw error("You cannot chain multiple tests with is") }
                        arguments.positional = [try parsePostfix(try parsePrimary())]
                    }
                }
                let test = Expr(.test(node, name, arguments), position)
                node = negated ? Expr(.not(test), position) : test
            } else if isOp("(") {
                node = Expr(.call(node, try parseCallArguments()), position)
            } else {
                return node
            }
        }
    }
}
