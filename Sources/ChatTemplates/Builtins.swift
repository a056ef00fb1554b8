
/// Arguments of a filter, test, method or global, bound to parameter names like a Python call.
struct BoundArguments {
    let values: [String: Value]

    /// Binds `positional` then `keyword` to `names`; too many or unknown ones are an error.
    init(_ function: String, _ names: [String], _ positional: [Value], _ keyword: [(String, Value)],
         renderer: Renderer, at position: SourcePosition) throws {
        guard positional.count <= names.count else {
            throw renderer.error(.runtime, "\(function)() takes at most \(names.count) argument(s), got \(positional.count)", position)
        }
        var values: [String: Value] = [:]
        for (name, value) in zip(names, positional) { values[name] = value }
        for (name, value) in keyword {
            guard names.contains(name) else {
                throw renderer.error(.unsupported, "\(function)() with keyword argument '\(name)'", position)
            }
            guard values[name] == nil else {
                throw renderer.error(.runtime, "\(function)() got multiple values for argument '\(name)'", position)
            }
            values[name] = value
        }
        self.values = values
    }

    subscript(_ name: String) -> Value? { values[name] }
}

extension Renderer {
    // MARK: - Helpers shared by filters and methods

    func string(_ value: Value, _ what: String, at position: SourcePosition) throws -> String {
        guard case .string(let s) = value else {
            throw error(.runtime, "\(what) expects a string, not \(value.typeName)", position)
        }
        return s
    }

    /// Python `str.strip(chars)` and its one-sided forms.
    func strip(_ s: String, chars: String?, leading: Bool, trailing: Bool) -> String {
        let scalars = Array(s.unicodeScalars)
        let set = chars.map { Set($0.unicodeScalars) }
        func strips(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? isPythonWhitespace(c) }
        var start = 0, end = scalars.count
        if leading { while start < end && strips(scalars[start]) { start += 1 } }
        if trailing { while end > start && strips(scalars[end - 1]) { end -= 1 } }
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars[start..<end])
        return String(out)
    }

    /// Python `str.split(sep, maxsplit)`.
    func split(_ s: String, separator: String?, maxSplit: Int, fromRight: Bool = false) throws -> [String] {
        let scalars = Array(s.unicodeScalars)
        func text(_ slice: ArraySlice<Unicode.Scalar>) -> String {
            var out = String.UnicodeScalarView()
            out.append(contentsOf: slice)
            return String(out)
        }
        var pieces: [String] = []
        if let separator {
            let sep = Array(separator.unicodeScalars)
            guard !sep.isEmpty else { throw JinjaError(.runtime, "empty separator", line: 0, column: 0) }
            if fromRight {
                var end = scalars.count, i = scalars.count - sep.count
                while i >= 0 && (maxSplit < 0 || pieces.count < maxSplit) {
                    if Array(scalars[i..<i + sep.count]) == sep {
                        pieces.append(text(scalars[(i + sep.count)..<end]))
                        end = i
                        i -= sep.count
                    } else {
                        i -= 1
                    }
                }
                pieces.append(text(scalars[0..<end]))
                return pieces.reversed()
            }
            var start = 0, i = 0
            while i + sep.count <= scalars.count && (maxSplit < 0 || pieces.count < maxSplit) {
                if Array(scalars[i..<i + sep.count]) == sep {
                    pieces.append(text(scalars[start..<i]))
                    i += sep.count
                    start = i
                } else {
                    i += 1
                }
            }
            pieces.append(text(scalars[start...]))
            return pieces
        }
        guard !fromRight else { throw JinjaError(.unsupported, "rsplit() without a separator", line: 0, column: 0) }
        var i = 0
        while i < scalars.count {
            while i < scalars.count && isPythonWhitespace(scalars[i]) { i += 1 }
            guard i < scalars.count else { break }
            if maxSplit >= 0 && pieces.count == maxSplit {
                var end = scalars.count
                while end > i && isPythonWhitespace(scalars[end - 1]) { end -= 1 }
                pieces.append(text(scalars[i..<end]))
                break
            }
            let start = i
            while i < scalars.count && !isPythonWhitespace(scalars[i]) { i += 1 }
            pieces.append(text(scalars[start..<i]))
        }
        return pieces
    }

    /// Python `str.splitlines()`.
    func splitLines(_ s: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        let scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(String(current))
                current = String.UnicodeScalarView()
                if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" { i += 1 }
            default:
                current.append(c)
            }
            i += 1
        }
        if !current.isEmpty { lines.append(String(current)) }
        return lines
    }

    /// Python `str.title()`: a cased letter after a cased letter is lowercased, any other is titlecased.
    func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for c in s.unicodeScalars {
            let cased = c.properties.isCased && (c.properties.isUppercase || c.properties.isLowercase || c.properties.generalCategory == .titlecaseLetter)
            if cased {
                out += previousCased ? String(c).lowercased() : c.properties.titlecaseMapping
            } else {
                out.unicodeScalars.append(c)
            }
            previousCased = cased
        }
        return out
    }

    /// Python `str.capitalize()`: first character titlecased, the rest lowercased.
    func pythonCapitalize(_ s: String) -> String {
        guard let first = s.unicodeScalars.first else { return "" }
        var rest = String.UnicodeScalarView()
        rest.append(contentsOf: s.unicodeScalars.dropFirst())
        return first.properties.titlecaseMapping + String(rest).lowercased()
    }

    /// Python `len()`.
    func length(_ value: Value, at position: SourcePosition) throws -> Int {
        switch value {
        case .undefined: return 0
        case .string(let s): return s.unicodeScalars.count
        case .list(let items), .tuple(let items): return items.count
        case .dict(let dict): return dict.count
        default: throw error(.runtime, "object of type '\(value.typeName)' has no len()", position)
        }
    }

    /// Jinja's attribute getter for `attribute=` arguments: dotted paths, integer parts, item
    /// lookup first; `default` replaces an undefined result after each part, as `make_attrgetter` does.
    func lookupPath(_ value: Value, _ path: Value, default fallback: Value? = nil, at position: SourcePosition) throws -> Value {
        var parts: [Value] = []
        if case .string(let text) = path {
            parts = text.split(separator: ".", omittingEmptySubsequences: false).map { Int($0).map { .int($0) } ?? .string(String($0)) }
        } else if let i = integer(path) {
            parts = [.int(i)]
        } else {
            throw error(.runtime, "attribute must be a string or an integer", position)
        }
        var current = value
        for part in parts {
            current = try item(current, part, at: position)
            if let fallback, current.isUndefined { current = fallback }
        }
        return current
    }

    // MARK: - JSON (transformers' tojson: json.dumps with ensure_ascii=False by default)

    func json(_ value: Value, _ options: PythonText.JSONOptions, level: Int, at position: SourcePosition) throws -> String {
        switch value {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
            return PythonText.float(d)
        case .string(let s): return PythonText.jsonString(s, ensureASCII: options.ensureASCII)
        case .list(let items), .tuple(let items):
            guard !items.isEmpty else { return "[]" }
            var parts: [String] = []
            for item in items { parts.append(try json(item, options, level: level + 1, at: position)) }
            return wrap(parts, open: "[", close: "]", options, level: level)
        case .dict(var dict):
            guard dict.count > 0 else { return "{}" }
            if options.sortKeys {
                dict = OrderedDict(dict.pairs.sorted { $0.0.unicodeScalars.lexicographicallyPrecedes($1.0.unicodeScalars) })
            }
            let keySeparator = options.keySeparator ?? ": "
            var parts: [String] = []
            for (key, item) in dict.pairs {
                parts.append(PythonText.jsonString(key, ensureASCII: options.ensureASCII) + keySeparator + (try json(item, options, level: level + 1, at: position)))
            }
            return wrap(parts, open: "{", close: "}", options, level: level)
        default:
            throw error(.runtime, "Object of type \(value.typeName) is not JSON serializable", position)
        }
    }

    private func wrap(_ parts: [String], open: String, close: String, _ options: PythonText.JSONOptions, level: Int) -> String {
        guard let indent = options.indent else {
            return open + parts.joined(separator: options.itemSeparator ?? ", ") + close
        }
        let inner = "\n" + String(repeating: indent, count: level + 1)
        let outer = "\n" + String(repeating: indent, count: level)
        return open + inner + parts.joined(separator: (options.itemSeparator ?? ",") + inner) + outer + close
    }

    func jsonOptions(_ args: BoundArguments, at position: SourcePosition) throws -> PythonText.JSONOptions {
        var options = PythonText.JSONOptions()
        options.ensureASCII = args["ensure_ascii"]?.isTruthy ?? false
        switch args["indent"] {
        case nil, .none?: break
        case .string(let s)?: options.indent = s
        case let value?:
            guard let n = integer(value) else { throw error(.runtime, "indent must be an int or a string", position) }
            options.indent = String(repeating: " ", count: max(n, 0))
        }
        switch args["separators"] {
        case nil, .none?: break
        case .list(let pair)? where pair.count == 2, .tuple(let pair)? where pair.count == 2:
            guard case .string(let item) = pair[0], case .string(let key) = pair[1] else {
                throw error(.runtime, "separators must be two strings", position)
            }
            options.itemSeparator = item
            options.keySeparator = key
        default: throw error(.runtime, "separators must be an (item_separator, key_separator) pair", position)
        }
        options.sortKeys = args["sort_keys"]?.isTruthy ?? false
        return options
    }
}
