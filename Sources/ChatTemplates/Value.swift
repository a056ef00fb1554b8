/// A Jinja runtime value, modelled on the Python objects Jinja2 sees when transformers renders a
/// chat template: JSON-like data plus the few objects templates create (namespaces, macros,
/// loop state, bound methods).
///
/// Dictionaries keep insertion order because Python's do, and `tojson`/`items` output depends on
/// it. Namespaces and loop state are reference types because Jinja mutates them in place
/// (`{% set ns.found = true %}` inside a loop must be seen after it).
enum Value {
    /// Jinja's `Undefined`; `name` is what was looked up, for error messages.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    /// A Python tuple: `(a, b)` literals and the pairs of `items`; prints with parentheses and
    /// never equals a list.
    case tuple([Value])
    case dict(OrderedDict)
    case namespace(Namespace)
    case loop(LoopState)
    case macro(Macro)
    /// A global function such as `raise_exception` or `namespace`.
    case builtin(String)
    /// `obj.method` not yet called, e.g. the `strip` of `message.content.strip()`.
    case boundMethod(Box, String)

    /// Indirection so a bound method can hold its receiver.
    final class Box {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
}

/// An insertion-ordered string-keyed dictionary (Python 3.7+ dict semantics for string keys).
struct OrderedDict {
    private(set) var keys: [String] = []
    private var storage: [String: Value] = [:]

    init() {}

    init(_ pairs: [(String, Value)]) {
        for (key, value) in pairs { self[key] = value }
    }

    var count: Int { keys.count }

    subscript(key: String) -> Value? {
        get { storage[key] }
        set {
            if let newValue {
                if storage.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if storage.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    var pairs: [(String, Value)] { keys.map { ($0, storage[$0]!) } }
    var values: [Value] { keys.map { storage[$0]! } }
}

/// `namespace(...)`: the one mutable object templates can write attributes to.
final class Namespace {
    var attributes: OrderedDict
    init(_ attributes: OrderedDict) { self.attributes = attributes }
}

/// The `loop` variable of a `for` block.
final class LoopState {
    let items: [Value]
    var index0: Int = 0
    init(items: [Value]) { self.items = items }

    func attribute(_ name: String) -> Value? {
        let length = items.count
        switch name {
        case "index": return .int(index0 + 1)
        case "index0": return .int(index0)
        case "revindex": return .int(length - index0)
        case "revindex0": return .int(length - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == length - 1)
        case "length": return .int(length)
        case "depth": return .int(1)
        case "depth0": return .int(0)
        case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined("there is no previous item")
        case "nextitem": return index0 + 1 < length ? items[index0 + 1] : .undefined("there is no next item")
        default: return nil
        }
    }
}

/// A `{% macro %}` definition; called like a function.
final class Macro {
    let name: String
    let parameters: [(name: String, defaultValue: Expr?)]
    let body: [Node]
    init(name: String, parameters: [(name: String, defaultValue: Expr?)], body: [Node]) {
        self.name = name
        self.parameters = parameters
        self.body = body
    }
}

extension Value {
    /// Python truthiness (`bool(x)`), with Jinja's falsy `Undefined`.
    var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let l), .tuple(let l): return !l.isEmpty
        case .dict(let d): return d.count > 0
        case .namespace, .loop, .macro, .builtin, .boundMethod: return true
        }
    }

    var isUndefined: Bool {
        if case .undefined = self { return true }
        return false
    }

    /// Python's type name, for error messages that mirror Python's.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .loop: return "LoopContext"
        case .macro: return "Macro"
        case .builtin: return "function"
        case .boundMethod: return "builtin_function_or_method"
        }
    }
}
