import FoundationEssentials

/// Variables visible at one point of a template. `for` iterations and macro calls get a child
/// scope, so a `set` inside them does not leak out — Jinja's rule, and why templates use
/// `namespace()` to carry state out of loops. `if` blocks share their parent's scope.
final class Scope {
    var variables: [String: Value] = [:]
    let parent: Scope?
    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var scope: Scope? = self
        while let current = scope {
            if let value = current.variables[name] { return value }
            scope = current.parent
        }
        return nil
    }
}

/// Executes a parsed template. One renderer per render call; not shared between threads.
final class Renderer {
    enum Flow { case normal, breakLoop, continueLoop }

    let root: Scope
    let now: Date
    var output = ""
    /// Macro calls in progress; bounded so a recursive macro fails instead of overflowing a
    /// thread's stack (templates that recurse, over nested JSON schemas, go a few levels deep).
    var callDepth = 0

    init(root: Scope, now: Date) {
        self.root = root
        self.now = now
    }

    func error(_ kind: JinjaError.Kind, _ message: String, _ position: SourcePosition) -> JinjaError {
        JinjaError(kind, message, line: position.line, column: position.column)
    }

    // MARK: - Statements

    func execute(_ nodes: [Node], in scope: Scope) throws -> Flow {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .output(let expr):
                output += try str(try evaluate(expr, in: scope), at: expr.position)
            case .ifChain(let branches, let otherwise):
                var taken = false
                for (condition, body) in branches where try evaluate(condition, in: scope).isTruthy {
                    taken = true
                    let flow = try execute(body, in: scope)
                    if flow != .normal { return flow }
                    break
                }
                if !taken, let otherwise {
                    let flow = try execute(otherwise, in: scope)
                    if flow != .normal { return flow }
                }
            case .forLoop(let target, let iterableExpr, let filter, let body, let otherwise, let position):
                let iterable = try evaluate(iterableExpr, in: scope)
                var items = try iterate(iterable, at: iterableExpr.position)
                if let filter {
                    var kept: [Value] = []
                    for item in items {
                        let filterScope = Scope(parent: scope)
                        try bind(target, to: item, in: filterScope, at: position)
                        if try evaluate(filter, in: filterScope).isTruthy { kept.append(item) }
                    }
                    items = kept
                }
                let state = LoopState(items: items)
                for (offset, item) in items.enumerated() {
                    state.index0 = offset
                    let iterationScope = Scope(parent: scope)
                    try bind(target, to: item, in: iterationScope, at: position)
                    iterationScope.variables["loop"] = .loop(state)
                    if try execute(body, in: iterationScope) == .breakLoop { break }
                }
                if items.isEmpty, let otherwise {
                    let flow = try execute(otherwise, in: Scope(parent: scope))
                    if flow != .normal { return flow }
                }
            case .set(let target, let expr, let position):
                let value = try evaluate(expr, in: scope)
                switch target {
                case .names(let names):
                    try bind(names, to: value, in: scope, at: position)
                case .namespaceAttribute(let name, let attribute):
                    guard case .namespace(let namespace)? = scope.lookup(name) else {
                        throw error(.runtime, "cannot assign attribute on non-namespace object", position)
                    }
                    guard !attribute.hasPrefix("_") else {
                        throw error(.runtime, "Chat templates cannot store underscore-prefixed attributes on a namespace", position)
                    }
                    namespace.attributes[attribute] = value
                }
            case .setBlock(let name, let body):
                let saved = output
                output = ""
                _ = try execute(body, in: Scope(parent: scope))
                let captured = output
                output = saved
                scope.variables[name] = .string(captured)
            case .macro(let macro):
                scope.variables[macro.name] = .macro(macro)
            case .breakLoop(let position), .continueLoop(let position):
                guard scope !== root else { throw error(.syntax, "break and continue are only valid inside a loop", position) }
                if case .breakLoop = node { return .breakLoop }
                return .continueLoop
            }
        }
        return .normal
    }

    /// Assigns one value to `names`, unpacking it like Python when there are several.
    func bind(_ names: [String], to value: Value, in scope: Scope, at position: SourcePosition) throws {
        if names.count == 1 {
            scope.variables[names[0]] = value
            return
        }
        let parts = try iterate(value, at: position)
        guard parts.count == names.count else {
            throw error(.runtime, parts.count > names.count
                ? "too many values to unpack (expected \(names.count))"
                : "not enough values to unpack (expected \(names.count), got \(parts.count))", position)
        }
        for (name, part) in zip(names, parts) { scope.variables[name] = part }
    }

    /// What `for x in value` visits: list items, dict keys, string characters; nothing for undefined.
    func iterate(_ value: Value, at position: SourcePosition) throws -> [Value] {
        switch value {
        case .undefined: return []
        case .list(let items), .tuple(let items): return items
        case .dict(let dict): return dict.keys.map { .string($0) }
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        default: throw error(.runtime, "'\(value.typeName)' object is not iterable", position)
        }
    }

    // MARK: - Expressions

    func evaluate(_ expr: Expr, in scope: Scope) throws -> Value {
        let position = expr.position
        switch expr.kind {
        case .literal(let value):
            return value
        case .name(let name):
            return scope.lookup(name) ?? .undefined(name)
        case .list(let items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item, in: scope)) }
            return .list(values)
        case .tuple(let items):
            var values: [Value] = []
            for item in items { values.append(try evaluate(item, in: scope)) }
            return .tuple(values)
        case .dict(let pairs):
            var dict = OrderedDict()
            for (keyExpr, valueExpr) in pairs {
                guard case .string(let key) = try evaluate(keyExpr, in: scope) else {
                    throw error(.unsupported, "dictionary keys other than strings", keyExpr.position)
                }
                dict[key] = try evaluate(valueExpr, in: scope)
            }
            return .dict(dict)
        case .attribute(let objectExpr, let name):
            return try attribute(try evaluate(objectExpr, in: scope), name, at: position)
        case .item(let objectExpr, let keyExpr):
            return try item(try evaluate(objectExpr, in: scope), try evaluate(keyExpr, in: scope), at: position)
        case .slice(let objectExpr, let startExpr, let stopExpr, let stepExpr):
            let object = try evaluate(objectExpr, in: scope)
            let start = try startExpr.map { try evaluate($0, in: scope) }
            let stop = try stopExpr.map { try evaluate($0, in: scope) }
            let step = try stepExpr.map { try evaluate($0, in: scope) }
            return try slice(object, start: start, stop: stop, step: step, at: position)
        case .call(let calleeExpr, let arguments):
            let callee = try evaluate(calleeExpr, in: scope)
            let (positional, keyword) = try evaluate(arguments, in: scope)
            return try call(callee, positional, keyword, at: position)
        case .filter(let valueExpr, let name, let arguments):
            let value = try evaluate(valueExpr, in: scope)
            let (positional, keyword) = try evaluate(arguments, in: scope)
            return try applyFilter(name, value, positional, keyword, at: position)
        case .test(let valueExpr, let name, let arguments):
            let value = try evaluate(valueExpr, in: scope)
            let (positional, keyword) = try evaluate(arguments, in: scope)
            return .bool(try applyTest(name, value, positional, keyword, at: position))
        case .not(let operand):
            return .bool(!(try evaluate(operand, in: scope).isTruthy))
        case .negate(let operand):
            switch try evaluate(operand, in: scope) {
            case .int(let i): return .int(-i)
            case .bool(let b): return .int(b ? -1 : 0)
            case .float(let d): return .float(-d)
            case let other: throw error(.runtime, "bad operand type for unary -: '\(other.typeName)'", position)
            }
        case .plus(let operand):
            switch try evaluate(operand, in: scope) {
            case .int(let i): return .int(i)
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d): return .float(d)
            case let other: throw error(.runtime, "bad operand type for unary +: '\(other.typeName)'", position)
            }
        case .binary(let op, let leftExpr, let rightExpr):
            return try binary(op, try evaluate(leftExpr, in: scope), try evaluate(rightExpr, in: scope), at: position)
        case .concat(let parts):
            var text = ""
            for part in parts { text += try str(try evaluate(part, in: scope), at: part.position) }
            return .string(text)
        case .and(let leftExpr, let rightExpr):
            let left = try evaluate(leftExpr, in: scope)
            return left.isTruthy ? try evaluate(rightExpr, in: scope) : left
        case .or(let leftExpr, let rightExpr):
            let left = try evaluate(leftExpr, in: scope)
            return left.isTruthy ? left : try evaluate(rightExpr, in: scope)
        case .compare(let firstExpr, let operations):
            var left = try evaluate(firstExpr, in: scope)
            for (op, rightExpr) in operations {
                let right = try evaluate(rightExpr, in: scope)
                guard try compare(op, left, right, at: rightExpr.position) else { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let test, let then, let otherwise):
            if try evaluate(test, in: scope).isTruthy { return try evaluate(then, in: scope) }
            return try otherwise.map { try evaluate($0, in: scope) } ?? .undefined("conditional expression without else")
        }
    }

    func evaluate(_ arguments: Arguments, in scope: Scope) throws -> ([Value], [(String, Value)]) {
        var positional: [Value] = []
        for expr in arguments.positional { positional.append(try evaluate(expr, in: scope)) }
        var keyword: [(String, Value)] = []
        for (name, expr) in arguments.keyword { keyword.append((name, try evaluate(expr, in: scope))) }
        return (positional, keyword)
    }

    // MARK: - Attribute and item access (Jinja's sandboxed getattr/getitem)

    static let dictMethods: Set<String> = ["clear", "copy", "fromkeys", "get", "items", "keys", "pop", "popitem", "setdefault", "update", "values"]
    static let listMethods: Set<String> = ["append", "clear", "copy", "count", "extend", "index", "insert", "pop", "remove", "reverse", "sort"]
    static let stringMethods: Set<String> = [
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format", "format_map", "index",
        "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace",
        "istitle", "isupper", "join", "ljust", "lower", "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace",
        "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
        "title", "translate", "upper", "zfill",
    ]

    /// `obj.name`: a Python attribute (a method) first, then the item of that name.
    func attribute(_ object: Value, _ name: String, at position: SourcePosition) throws -> Value {
        switch object {
        case .undefined(let what):
            throw error(.runtime, "'\(what)' is undefined", position)
        case .dict(let dict):
            if Self.dictMethods.contains(name) { return .boundMethod(Value.Box(object), name) }
            return dict[name] ?? .undefined(name)
        case .string:
            return Self.stringMethods.contains(name) ? .boundMethod(Value.Box(object), name) : .undefined(name)
        case .list:
            return Self.listMethods.contains(name) ? .boundMethod(Value.Box(object), name) : .undefined(name)
        case .tuple:
            return name == "count" || name == "index" ? .boundMethod(Value.Box(object), name) : .undefined(name)
        case .namespace(let namespace):
            return namespace.attributes[name] ?? .undefined(name)
        case .loop(let state):
            if name == "cycle" { return .boundMethod(Value.Box(object), name) }
            if name == "changed" { throw error(.unsupported, "loop.changed", position) }
            return state.attribute(name) ?? .undefined(name)
        default:
            return .undefined(name)
        }
    }

    /// `obj[key]`: the item first, then (for string keys) the attribute.
    func item(_ object: Value, _ key: Value, at position: SourcePosition) throws -> Value {
        switch object {
        case .undefined(let what):
            throw error(.runtime, "'\(what)' is undefined", position)
        case .dict(let dict):
            guard case .string(let name) = key else { return .undefined("item") }
            if let value = dict[name] { return value }
            return Self.dictMethods.contains(name) ? .boundMethod(Value.Box(object), name) : .undefined(name)
        case .list(let items), .tuple(let items):
            if let i = integer(key) {
                let index = i < 0 ? i + items.count : i
                return items.indices.contains(index) ? items[index] : .undefined("list index out of range")
            }
            if case .string(let name) = key { return try attribute(object, name, at: position) }
            return .undefined("item")
        case .string(let s):
            if let i = integer(key) {
                let scalars = Array(s.unicodeScalars)
                let index = i < 0 ? i + scalars.count : i
                return scalars.indices.contains(index) ? .string(String(scalars[index])) : .undefined("string index out of range")
            }
            if case .string(let name) = key { return try attribute(object, name, at: position) }
            return .undefined("item")
        case .namespace, .loop:
            if case .string(let name) = key { return try attribute(object, name, at: position) }
            return .undefined("item")
        default:
            return .undefined("item")
        }
    }

    /// An int index, with Python's bool-is-int.
    func integer(_ value: Value) -> Int? {
        switch value {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    /// Python slicing `x[start:stop:step]` of a list or string.
    func slice(_ object: Value, start: Value?, stop: Value?, step: Value?, at position: SourcePosition) throws -> Value {
        func bound(_ value: Value?) throws -> Int? {
            guard let value else { return nil }
            if case .none = value { return nil }
            guard let i = integer(value) else {
                throw error(.runtime, "slice indices must be integers or None", position)
            }
            return i
        }
        let stepValue = try bound(step) ?? 1
        guard stepValue != 0 else { throw error(.runtime, "slice step cannot be zero", position) }
        func indices(count: Int) throws -> [Int] {
            func clamp(_ value: Int?, default defaultValue: Int) -> Int {
                guard var v = value else { return defaultValue }
                if v < 0 { v += count }
                if stepValue > 0 { return min(max(v, 0), count) }
                return min(max(v, -1), count - 1)
            }
            let from = clamp(try bound(start), default: stepValue > 0 ? 0 : count - 1)
            let to = clamp(try bound(stop), default: stepValue > 0 ? count : -1)
            return Array(stride(from: from, to: to, by: stepValue))
        }
        switch object {
        case .undefined(let what):
            throw error(.runtime, "'\(what)' is undefined", position)
        case .list(let items):
            return .list(try indices(count: items.count).map { items[$0] })
        case .tuple(let items):
            return .tuple(try indices(count: items.count).map { items[$0] })
        case .string(let s):
            let scalars = Array(s.unicodeScalars)
            var out = String.UnicodeScalarView()
            for i in try indices(count: scalars.count) { out.append(scalars[i]) }
            return .string(String(out))
        default:
            return .undefined("slice")
        }
    }

    // MARK: - Calls

    func call(_ callee: Value, _ positional: [Value], _ keyword: [(String, Value)], at position: SourcePosition) throws -> Value {
        switch callee {
        case .macro(let macro):
            return try callMacro(macro, positional, keyword, at: position)
        case .builtin(let name):
            return try callGlobal(name, positional, keyword, at: position)
        case .boundMethod(let receiver, let name):
            return try callMethod(receiver.value, name, positional, keyword, at: position)
        case .undefined(let what):
            throw error(.runtime, "'\(what)' is undefined", position)
        default:
            throw error(.runtime, "'\(callee.typeName)' object is not callable", position)
        }
    }

    func callMacro(_ macro: Macro, _ positional: [Value], _ keyword: [(String, Value)], at position: SourcePosition) throws -> Value {
        guard positional.count <= macro.parameters.count else {
            throw error(.runtime, "macro '\(macro.name)' takes not more than \(macro.parameters.count) argument(s)", position)
        }
        guard callDepth < 50 else { throw error(.runtime, "maximum macro recursion depth exceeded", position) }
        let scope = Scope(parent: root)
        var given: [String: Value] = [:]
        for (name, value) in keyword {
            guard macro.parameters.contains(where: { $0.name == name }) else {
                throw error(.unsupported, "macro '\(macro.name)' called with keyword argument '\(name)' it does not declare", position)
            }
            given[name] = value
        }
        for (offset, parameter) in macro.parameters.enumerated() {
            if offset < positional.count {
                scope.variables[parameter.name] = positional[offset]
            } else if let value = given[parameter.name] {
                scope.variables[parameter.name] = value
            } else if let defaultValue = parameter.defaultValue {
                scope.variables[parameter.name] = try evaluate(defaultValue, in: scope)
            } else {
                scope.variables[parameter.name] = .undefined(parameter.name)
            }
        }
        let saved = output
        output = ""
        callDepth += 1
        defer { callDepth -= 1 }
        _ = try execute(macro.body, in: scope)
        let result = output
        output = saved
        return .string(result)
    }
}
