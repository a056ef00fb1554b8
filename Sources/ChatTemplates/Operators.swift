import Glibc

/// Python's `str()`, operators and comparisons on template values.
extension Renderer {
    /// `str(value)`, what `{{ value }}` and `~` print. Objects whose Python text is an address
    /// (namespaces, macros, the loop) are refused rather than printed differently.
    func str(_ value: Value, at position: SourcePosition) throws -> String {
        switch value {
        case .undefined: return ""
        case .string(let s): return s
        case .none, .bool, .int, .float, .list, .tuple, .dict: return try repr(value, at: position)
        default: throw error(.unsupported, "printing a \(value.typeName) object", position)
        }
    }

    /// `repr(value)`, used inside printed lists and dicts.
    func repr(_ value: Value, at position: SourcePosition) throws -> String {
        switch value {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return PythonText.float(d)
        case .string(let s): return PythonText.repr(s)
        case .list(let items):
            var parts: [String] = []
            for item in items { parts.append(try repr(item, at: position)) }
            return "[" + parts.joined(separator: ", ") + "]"
        case .tuple(let items):
            var parts: [String] = []
            for item in items { parts.append(try repr(item, at: position)) }
            return "(" + parts.joined(separator: ", ") + (parts.count == 1 ? ",)" : ")")
        case .dict(let dict):
            var parts: [String] = []
            for (key, item) in dict.pairs { parts.append(PythonText.repr(key) + ": " + (try repr(item, at: position))) }
            return "{" + parts.joined(separator: ", ") + "}"
        default:
            throw error(.unsupported, "printing a \(value.typeName) object", position)
        }
    }

    /// A number as Python sees it for arithmetic (bool is an int).
    enum Number {
        case int(Int)
        case float(Double)
        var double: Double {
            switch self {
            case .int(let i): return Double(i)
            case .float(let d): return d
            }
        }
    }

    func number(_ value: Value) -> Number? {
        switch value {
        case .int(let i): return .int(i)
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d): return .float(d)
        default: return nil
        }
    }

    func binary(_ op: String, _ left: Value, _ right: Value, at position: SourcePosition) throws -> Value {
        if case .undefined(let what) = left { throw error(.runtime, "'\(what)' is undefined", position) }
        if case .undefined(let what) = right { throw error(.runtime, "'\(what)' is undefined", position) }
        func typeError() -> JinjaError {
            error(.runtime, "unsupported operand type(s) for \(op): '\(left.typeName)' and '\(right.typeName)'", position)
        }
        func overflow() -> JinjaError { error(.unsupported, "integer arithmetic beyond 64 bits", position) }
        switch (op, left, right) {
        case ("+", .string(let a), .string(let b)): return .string(a + b)
        case ("+", .list(let a), .list(let b)): return .list(a + b)
        case ("+", .tuple(let a), .tuple(let b)): return .tuple(a + b)
        case ("*", .tuple, _), ("*", _, .tuple):
            throw error(.unsupported, "repeating a tuple with *", position)
        case ("*", .string(let s), _), ("*", _, .string(let s)):
            guard let n = integer(left.isString ? right : left), left.isString != right.isString else { throw typeError() }
            return .string(n > 0 ? String(repeating: s, count: n) : "")
        case ("*", .list(let items), _), ("*", _, .list(let items)):
            guard let n = integer(left.isList ? right : left), left.isList != right.isList else { throw typeError() }
            return .list(n > 0 ? Array([[Value]](repeating: items, count: n).joined()) : [])
        case ("%", .string, _):
            throw error(.unsupported, "printf-style string formatting with %", position)
        default: break
        }
        guard let a = number(left), let b = number(right) else { throw typeError() }
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case "+":
                let (r, o) = x.addingReportingOverflow(y)
                if o { throw overflow() }
                return .int(r)
            case "-":
                let (r, o) = x.subtractingReportingOverflow(y)
                if o { throw overflow() }
                return .int(r)
            case "*":
                let (r, o) = x.multipliedReportingOverflow(by: y)
                if o { throw overflow() }
                return .int(r)
            case "/":
                guard y != 0 else { throw error(.runtime, "division by zero", position) }
                return .float(Double(x) / Double(y))
            case "//", "%":
                guard y != 0 else { throw error(.runtime, "integer division or modulo by zero", position) }
                var q = x / y
                var r = x % y
                if r != 0 && ((r < 0) != (y < 0)) {
                    q -= 1
                    r += y
                }
                return .int(op == "//" ? q : r)
            case "**":
                if y < 0 { return .float(pow(Double(x), Double(y))) }
                var result = 1
                for _ in 0..<y {
                    let (r, o) = result.multipliedReportingOverflow(by: x)
                    if o { throw overflow() }
                    result = r
                }
                return .int(result)
            default: throw typeError()
            }
        }
        let x = a.double, y = b.double
        switch op {
        case "+": return .float(x + y)
        case "-": return .float(x - y)
        case "*": return .float(x * y)
        case "/":
            guard y != 0 else { throw error(.runtime, "float division by zero", position) }
            return .float(x / y)
        case "//", "%":
            guard y != 0 else { throw error(.runtime, "float modulo", position) }
            let q = (x / y).rounded(.down)
            return .float(op == "//" ? q : x - q * y)
        case "**": return .float(pow(x, y))
        default: throw typeError()
        }
    }

    /// Python `==`: numbers across int/float/bool, deep for lists and dicts.
    func equals(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case (.dict(let x), .dict(let y)):
            return x.count == y.count && x.pairs.allSatisfy { key, value in y[key].map { equals(value, $0) } ?? false }
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.macro(let x), .macro(let y)): return x === y
        case (.builtin(let x), .builtin(let y)): return x == y
        default:
            if let x = number(a), let y = number(b) {
                if case .int(let i) = x, case .int(let j) = y { return i == j }
                return x.double == y.double
            }
            return false
        }
    }

    /// Python ordering; only numbers with numbers, strings with strings, lists with lists.
    func lessThan(_ a: Value, _ b: Value, _ op: String, at position: SourcePosition) throws -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)):
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x, y) where !equals(p, q) { return try lessThan(p, q, op, at: position) }
            return x.count < y.count
        default:
            if let x = number(a), let y = number(b) {
                if case .int(let i) = x, case .int(let j) = y { return i < j }
                return x.double < y.double
            }
            if case .undefined(let what) = a { throw error(.runtime, "'\(what)' is undefined", position) }
            if case .undefined(let what) = b { throw error(.runtime, "'\(what)' is undefined", position) }
            throw error(.runtime, "'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'", position)
        }
    }

    func compare(_ op: String, _ left: Value, _ right: Value, at position: SourcePosition) throws -> Bool {
        switch op {
        case "==": return equals(left, right)
        case "!=": return !equals(left, right)
        case "<": return try lessThan(left, right, op, at: position)
        case ">": return try lessThan(right, left, op, at: position)
        case "<=": return try equals(left, right) || lessThan(left, right, op, at: position)
        case ">=": return try equals(left, right) || lessThan(right, left, op, at: position)
        case "in": return try contains(right, left, at: position)
        case "not in": return try !contains(right, left, at: position)
        default: throw error(.syntax, "unknown comparison \(op)", position)
        }
    }

    /// Python `needle in container`.
    func contains(_ container: Value, _ needle: Value, at position: SourcePosition) throws -> Bool {
        switch container {
        case .undefined: return false
        case .string(let s):
            guard case .string(let sub) = needle else {
                throw error(.runtime, "'in <string>' requires string as left operand, not \(needle.typeName)", position)
            }
            return sub.isEmpty || s.unicodeScalars.firstRange(of: sub.unicodeScalars) != nil
        case .list(let items), .tuple(let items): return items.contains { equals($0, needle) }
        case .dict(let dict):
            guard case .string(let key) = needle else { return false }
            return dict[key] != nil
        case .namespace, .loop:
            throw error(.runtime, "argument of type '\(container.typeName)' is not iterable", position)
        default:
            throw error(.runtime, "argument of type '\(container.typeName)' is not iterable", position)
        }
    }
}

extension Value {
    var isString: Bool {
        if case .string = self { return true }
        return false
    }

    var isList: Bool {
        if case .list = self { return true }
        return false
    }
}
