import FoundationEssentials
import Glibc

/// Jinja's built-in filters and tests, transformers' globals, and the Python methods templates
/// call on strings, dicts and lists. Anything not listed here is an `.unsupported` error.
extension Renderer {
    // MARK: - Filters

    func applyFilter(_ name: String, _ value: Value, _ positional: [Value], _ keyword: [(String, Value)],
                     at position: SourcePosition) throws -> Value {
        func bind(_ names: [String]) throws -> BoundArguments {
            try BoundArguments(name, names, positional, keyword, renderer: self, at: position)
        }
        /// Jinja's `soft_str`: what string filters apply to a non-string.
        func text() throws -> String { try str(value, at: position) }
        switch name {
        case "trim":
            let args = try bind(["chars"])
            var chars: String? = nil
            if let c = args["chars"], case .string(let s) = c { chars = s }
            return .string(strip(try text(), chars: chars, leading: true, trailing: true))
        case "length", "count":
            _ = try bind([])
            return .int(try length(value, at: position))
        case "tojson":
            let args = try bind(["ensure_ascii", "indent", "separators", "sort_keys"])
            return .string(try json(value, try jsonOptions(args, at: position), level: 0, at: position))
        case "default", "d":
            let args = try bind(["default_value", "boolean"])
            let useDefault = value.isUndefined || ((args["boolean"]?.isTruthy ?? false) && !value.isTruthy)
            return useDefault ? (args["default_value"] ?? .string("")) : value
        case "upper":
            _ = try bind([])
            return .string(try text().uppercased())
        case "lower":
            _ = try bind([])
            return .string(try text().lowercased())
        case "capitalize":
            _ = try bind([])
            return .string(pythonCapitalize(try text()))
        case "title":
            _ = try bind([])
            // Jinja's own title: words start after spaces, dashes and opening brackets.
            var out = ""
            var atWordStart = true
            for c in try text().unicodeScalars {
                let separator = isPythonWhitespace(c) || "-({[<".unicodeScalars.contains(c)
                if separator {
                    out.unicodeScalars.append(c)
                } else if atWordStart {
                    out += String(c).uppercased()
                } else {
                    out += String(c).lowercased()
                }
                atWordStart = separator
            }
            return .string(out)
        case "replace":
            let args = try bind(["old", "new", "count"])
            guard case .string(let old)? = args["old"], case .string(let new)? = args["new"] else {
                throw error(.unsupported, "replace() with non-string arguments", position)
            }
            return .string(try pythonReplace(try text(), old, new, count: args["count"].flatMap { integer($0) } ?? -1))
        case "string":
            _ = try bind([])
            return .string(try text())
        case "int":
            let args = try bind(["default", "base"])
            let fallback = args["default"] ?? .int(0)
            switch value {
            case .int: return value
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d): return d.isFinite ? .int(Int(d.rounded(.towardZero))) : fallback
            case .string(let s):
                let base = args["base"].flatMap { integer($0) } ?? 10
                let trimmed = strip(s, chars: nil, leading: true, trailing: true).replacing("_", with: "")
                if let i = Int(trimmed, radix: base) { return .int(i) }
                if base == 10, let d = Double(trimmed), d.isFinite { return .int(Int(d.rounded(.towardZero))) }
                return fallback
            default: return fallback
            }
        case "float":
            let args = try bind(["default"])
            let fallback = args["default"] ?? .float(0)
            switch value {
            case .float: return value
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s): return Double(strip(s, chars: nil, leading: true, trailing: true)).map { .float($0) } ?? fallback
            default: return fallback
            }
        case "abs":
            _ = try bind([])
            switch value {
            case .int(let i): return .int(abs(i))
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d): return .float(abs(d))
            default: throw error(.runtime, "bad operand type for abs(): '\(value.typeName)'", position)
            }
        case "round":
            let args = try bind(["precision", "method"])
            let precision = args["precision"].flatMap { integer($0) } ?? 0
            guard let n = number(value) else { throw error(.runtime, "round() needs a number", position) }
            let method = args["method"].flatMap { if case .string(let s) = $0 { return s } else { return nil } } ?? "common"
            let scale = pow(10.0, Double(precision))
            switch method {
            case "common":
                // Python's round() keeps an int an int.
                if case .int(let i) = n {
                    guard precision >= 0 else { throw error(.unsupported, "round() of an integer to a negative precision", position) }
                    return .int(i)
                }
                // Python's round(): the exact binary value rounded half-to-even, which is what
                // glibc's printf does for a non-negative precision.
                if precision >= 0, n.double.isFinite {
                    return .float(Double(PythonText.fixed(n.double, precision)) ?? n.double)
                }
                return .float((n.double * scale).rounded(.toNearestOrEven) / scale)
            case "ceil": return .float((n.double * scale).rounded(.up) / scale)
            case "floor": return .float((n.double * scale).rounded(.down) / scale)
            default: throw error(.runtime, "method must be common, ceil or floor", position)
            }
        case "first":
            _ = try bind([])
            return try iterate(value, at: position).first ?? .undefined("No first item, sequence was empty.")
        case "last":
            _ = try bind([])
            if case .dict = value { throw error(.runtime, "'dict' object is not reversible", position) }
            return try iterate(value, at: position).last ?? .undefined("No last item, sequence was empty.")
        case "list":
            _ = try bind([])
            return .list(try iterate(value, at: position))
        case "reverse":
            _ = try bind([])
            if case .string(let s) = value {
                var out = String.UnicodeScalarView()
                out.append(contentsOf: s.unicodeScalars.reversed())
                return .string(String(out))
            }
            if case .dict = value { throw error(.runtime, "'dict' object is not reversible", position) }
            return .list(try iterate(value, at: position).reversed())
        case "items":
            _ = try bind([])
            switch value {
            case .undefined: return .list([])
            case .dict(let dict): return .list(dict.pairs.map { .tuple([.string($0.0), $0.1]) })
            default: throw error(.runtime, "Can only get item pairs from a mapping.", position)
            }
        case "join":
            let args = try bind(["d", "attribute"])
            var separator = ""
            if let d = args["d"] { separator = try str(d, at: position) }
            var parts: [String] = []
            for item in try iterate(value, at: position) {
                let element = try args["attribute"].map { try lookupPath(item, $0, at: position) } ?? item
                parts.append(try str(element, at: position))
            }
            return .string(parts.joined(separator: separator))
        case "map":
            var results: [Value] = []
            let items = try iterate(value, at: position)
            if let attributeIndex = keyword.firstIndex(where: { $0.0 == "attribute" }) {
                let args = try bind(["attribute", "default"])
                for item in items {
                    results.append(try lookupPath(item, keyword[attributeIndex].1, default: args["default"], at: position))
                }
                return .list(results)
            }
            guard case .string(let filterName)? = positional.first else {
                throw error(.runtime, "map requires a filter argument", position)
            }
            for item in items {
                results.append(try applyFilter(filterName, item, Array(positional.dropFirst()), keyword, at: position))
            }
            return .list(results)
        case "select", "reject":
            var results: [Value] = []
            for item in try iterate(value, at: position) {
                var passes = item.isTruthy
                if case .string(let testName)? = positional.first {
                    passes = try applyTest(testName, item, Array(positional.dropFirst()), keyword, at: position)
                }
                if passes == (name == "select") { results.append(item) }
            }
            return .list(results)
        case "selectattr", "rejectattr":
            guard let attributeName = positional.first else { throw error(.runtime, "\(name) needs an attribute", position) }
            var results: [Value] = []
            for item in try iterate(value, at: position) {
                let attributeValue = try lookupPath(item, attributeName, at: position)
                var passes = attributeValue.isTruthy
                if positional.count > 1, case .string(let testName) = positional[1] {
                    passes = try applyTest(testName, attributeValue, Array(positional.dropFirst(2)), keyword, at: position)
                }
                if passes == (name == "selectattr") { results.append(item) }
            }
            return .list(results)
        case "unique":
            let args = try bind(["case_sensitive", "attribute"])
            let caseSensitive = args["case_sensitive"]?.isTruthy ?? false
            var seen: [Value] = []
            var results: [Value] = []
            for item in try iterate(value, at: position) {
                var key = try args["attribute"].map { try lookupPath(item, $0, at: position) } ?? item
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                if !seen.contains(where: { equals($0, key) }) {
                    seen.append(key)
                    results.append(item)
                }
            }
            return .list(results)
        case "sort":
            let args = try bind(["reverse", "case_sensitive", "attribute"])
            let caseSensitive = args["case_sensitive"]?.isTruthy ?? false
            var keyed: [(Value, Value)] = []
            for item in try iterate(value, at: position) {
                var key = try args["attribute"].map { try lookupPath(item, $0, at: position) } ?? item
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                keyed.append((key, item))
            }
            // Insertion sort: stable like Python's, and comparisons may throw.
            var sorted: [(Value, Value)] = []
            for entry in keyed {
                var index = sorted.count
                while index > 0, try lessThan(entry.0, sorted[index - 1].0, "<", at: position) { index -= 1 }
                sorted.insert(entry, at: index)
            }
            if args["reverse"]?.isTruthy ?? false {
                // Python's reverse=True keeps equal elements in their original order.
                var groups: [[(Value, Value)]] = []
                for entry in sorted {
                    if let last = groups.last?.last, equals(last.0, entry.0) { groups[groups.count - 1].append(entry) } else { groups.append([entry]) }
                }
                sorted = groups.reversed().flatMap { $0 }
            }
            return .list(sorted.map { $0.1 })
        case "sum":
            let args = try bind(["attribute", "start"])
            var total = args["start"] ?? .int(0)
            for item in try iterate(value, at: position) {
                let element = try args["attribute"].map { try lookupPath(item, $0, at: position) } ?? item
                total = try binary("+", total, element, at: position)
            }
            return total
        case "min", "max":
            let args = try bind(["case_sensitive", "attribute"])
            let caseSensitive = args["case_sensitive"]?.isTruthy ?? false
            var best: (Value, Value)? = nil
            for item in try iterate(value, at: position) {
                var key = try args["attribute"].map { try lookupPath(item, $0, at: position) } ?? item
                if !caseSensitive, case .string(let s) = key { key = .string(s.lowercased()) }
                if let current = best {
                    let better = name == "min" ? try lessThan(key, current.0, "<", at: position) : try lessThan(current.0, key, "<", at: position)
                    if better { best = (key, item) }
                } else {
                    best = (key, item)
                }
            }
            return best?.1 ?? .undefined("No \(name == "min" ? "smallest" : "largest") item, sequence was empty.")
        case "wordcount":
            _ = try bind([])
            return .int(try split(try text(), separator: nil, maxSplit: -1).count)
        case "center":
            let args = try bind(["width"])
            let width = args["width"].flatMap { integer($0) } ?? 80
            let s = try text()
            let count = s.unicodeScalars.count
            guard width > count else { return .string(s) }
            // CPython's str.center puts the odd space on the left when the text length is odd.
            let padding = width - count
            let left = padding / 2 + (padding & width & 1)
            return .string(String(repeating: " ", count: left) + s + String(repeating: " ", count: padding - left))
        case "indent":
            let args = try bind(["width", "first", "blank"])
            var indentation = "    "
            if let width = args["width"] {
                if case .string(let s) = width { indentation = s } else if let n = integer(width) { indentation = String(repeating: " ", count: max(n, 0)) }
            }
            let s = try text() + "\n"
            var lines = splitLines(s)
            var result: String
            if args["blank"]?.isTruthy ?? false {
                result = lines.joined(separator: "\n" + indentation)
            } else {
                result = lines.isEmpty ? "" : lines.removeFirst()
                if !lines.isEmpty {
                    result += "\n" + lines.map { $0.isEmpty ? $0 : indentation + $0 }.joined(separator: "\n")
                }
            }
            if args["first"]?.isTruthy ?? false { result = indentation + result }
            return .string(result)
        default:
            throw error(.unsupported, "the '\(name)' filter", position)
        }
    }

    /// Python `str.replace(old, new, count)`.
    func pythonReplace(_ s: String, _ old: String, _ new: String, count: Int) throws -> String {
        let scalars = Array(s.unicodeScalars)
        let target = Array(old.unicodeScalars)
        var out = String.UnicodeScalarView()
        var replaced = 0
        if target.isEmpty {
            // Python inserts `new` before every character and at the end.
            for c in scalars {
                if count < 0 || replaced < count {
                    out.append(contentsOf: new.unicodeScalars)
                    replaced += 1
                }
                out.append(c)
            }
            if count < 0 || replaced < count { out.append(contentsOf: new.unicodeScalars) }
            return String(out)
        }
        var i = 0
        while i < scalars.count {
            if (count < 0 || replaced < count), i + target.count <= scalars.count, Array(scalars[i..<i + target.count]) == target {
                out.append(contentsOf: new.unicodeScalars)
                i += target.count
                replaced += 1
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }

    // MARK: - Tests

    func applyTest(_ name: String, _ value: Value, _ positional: [Value], _ keyword: [(String, Value)],
                   at position: SourcePosition) throws -> Bool {
        func other() throws -> Value {
            guard positional.count == 1, keyword.isEmpty else { throw error(.runtime, "test '\(name)' takes one argument", position) }
            return positional[0]
        }
        switch name {
        case "defined": return !value.isUndefined
        case "undefined": return value.isUndefined
        case "none": if case .none = value { return true } else { return false }
        case "boolean": if case .bool = value { return true } else { return false }
        case "true": if case .bool(true) = value { return true } else { return false }
        case "false": if case .bool(false) = value { return true } else { return false }
        case "integer": if case .int = value { return true } else { return false }
        case "float": if case .float = value { return true } else { return false }
        case "number": return number(value) != nil
        case "string": return value.isString
        case "mapping": if case .dict = value { return true } else { return false }
        case "iterable":
            switch value {
            case .undefined, .string, .list, .tuple, .dict: return true
            default: return false
            }
        case "sequence":
            switch value {
            case .undefined, .string, .list, .tuple, .dict: return true
            default: return false
            }
        case "callable":
            switch value {
            case .macro, .builtin, .boundMethod: return true
            default: return false
            }
        case "eq", "equalto", "==": return equals(value, try other())
        case "ne", "!=": return !equals(value, try other())
        case "lt", "lessthan", "<": return try lessThan(value, try other(), "<", at: position)
        case "gt", "greaterthan", ">": return try lessThan(try other(), value, ">", at: position)
        case "le", "<=": return try compare("<=", value, try other(), at: position)
        case "ge", ">=": return try compare(">=", value, try other(), at: position)
        case "in": return try contains(try other(), value, at: position)
        case "odd", "even":
            guard let i = integer(value) else { throw error(.runtime, "test '\(name)' needs an integer", position) }
            return (abs(i) % 2 == 1) == (name == "odd")
        case "divisibleby":
            guard let i = integer(value), let n = integer(try other()), n != 0 else {
                throw error(.runtime, "divisibleby needs non-zero integers", position)
            }
            return i % n == 0
        case "lower":
            guard case .string(let s) = value else { throw error(.runtime, "test 'lower' needs a string", position) }
            return s == s.lowercased()
        case "upper":
            guard case .string(let s) = value else { throw error(.runtime, "test 'upper' needs a string", position) }
            return s == s.uppercased()
        case "sameas":
            let target = try other()
            switch (value, target) {
            case (.none, .none): return true
            case (.bool(let a), .bool(let b)): return a == b
            case (.none, _), (_, .none), (.bool, _), (_, .bool): return false
            default: throw error(.unsupported, "'sameas' on values other than none, true and false", position)
            }
        case "escaped": return false
        default:
            throw error(.unsupported, "the '\(name)' test", position)
        }
    }

    // MARK: - Globals

    static let globalNames = ["raise_exception", "strftime_now", "namespace", "dict", "range", "lipsum", "cycler", "joiner"]

    func callGlobal(_ name: String, _ positional: [Value], _ keyword: [(String, Value)], at position: SourcePosition) throws -> Value {
        switch name {
        case "raise_exception":
            let args = try BoundArguments(name, ["message"], positional, keyword, renderer: self, at: position)
            throw error(.raised, try str(args["message"] ?? .undefined("message"), at: position), position)
        case "strftime_now":
            let args = try BoundArguments(name, ["format"], positional, keyword, renderer: self, at: position)
            guard case .string(let format)? = args["format"] else { throw error(.runtime, "strftime_now() needs a format string", position) }
            return .string(try strftime(format, at: position))
        case "namespace", "dict":
            var attributes = OrderedDict()
            if let first = positional.first {
                guard positional.count == 1, case .dict(let dict) = first else {
                    throw error(.unsupported, "\(name)() with positional arguments other than one dict", position)
                }
                attributes = dict
            }
            for (key, value) in keyword { attributes[key] = value }
            if name == "dict" { return .dict(attributes) }
            if attributes.keys.contains(where: { $0.hasPrefix("_") }) {
                throw error(.runtime, "Chat templates cannot store underscore-prefixed attributes on a namespace", position)
            }
            return .namespace(Namespace(attributes))
        case "range":
            guard keyword.isEmpty, (1...3).contains(positional.count) else { throw error(.runtime, "range() takes 1 to 3 integer arguments", position) }
            var bounds: [Int] = []
            for value in positional {
                guard let i = integer(value) else { throw error(.runtime, "'\(value.typeName)' object cannot be interpreted as an integer", position) }
                bounds.append(i)
            }
            let (start, stop, step) = bounds.count == 1 ? (0, bounds[0], 1) : (bounds[0], bounds[1], bounds.count == 3 ? bounds[2] : 1)
            guard step != 0 else { throw error(.runtime, "range() arg 3 must not be zero", position) }
            let values = Array(stride(from: start, to: stop, by: step))
            // Jinja's sandbox caps ranges at 100,000 items.
            guard values.count <= 100_000 else { throw error(.runtime, "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", position) }
            return .list(values.map { .int($0) })
        default:
            throw error(.unsupported, "the '\(name)' function", position)
        }
    }

    /// C's `strftime` for the directives dates in templates use, in English, in local time.
    func strftime(_ format: String, at position: SourcePosition) throws -> String {
        // glibc's local time (TZ, /etc/localtime): FoundationEssentials alone knows only GMT.
        var seconds = time_t(now.timeIntervalSince1970.rounded(.down))
        var c = tm()
        localtime_r(&seconds, &c)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        let year = Int(c.tm_year) + 1900, month = Int(c.tm_mon) + 1, day = Int(c.tm_mday)
        let hour = Int(c.tm_hour), minute = Int(c.tm_min), second = Int(c.tm_sec), weekday = Int(c.tm_wday) + 1
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var out = ""
        var scalars = format.unicodeScalars.makeIterator()
        while let ch = scalars.next() {
            guard ch == "%" else {
                out.unicodeScalars.append(ch)
                continue
            }
            guard var directive = scalars.next() else { throw error(.unsupported, "strftime format ending in %", position) }
            var unpadded = false
            if directive == "-" {
                unpadded = true
                guard let next = scalars.next() else { throw error(.unsupported, "strftime format ending in %-", position) }
                directive = next
            }
            func number(_ n: Int) -> String { unpadded ? "\(n)" : two(n) }
            switch directive {
            case "d": out += number(day)
            case "e": out += day < 10 ? " \(day)" : "\(day)"
            case "m": out += number(month)
            case "Y": out += "\(year)"
            case "y": out += two(year % 100)
            case "b", "h": out += String(months[month - 1].prefix(3))
            case "B": out += months[month - 1]
            case "a": out += String(days[weekday - 1].prefix(3))
            case "A": out += days[weekday - 1]
            case "H": out += number(hour)
            case "I": out += number(hour % 12 == 0 ? 12 : hour % 12)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "M": out += number(minute)
            case "S": out += number(second)
            case "j":
                let dayOfYear = Int(c.tm_yday) + 1
                out += unpadded ? "\(dayOfYear)" : PythonText.zeroPadded(dayOfYear, 3)
            case "%": out += "%"
            default: throw error(.unsupported, "strftime directive %\(directive)", position)
            }
        }
        return out
    }

    // MARK: - Methods

    func callMethod(_ receiver: Value, _ name: String, _ positional: [Value], _ keyword: [(String, Value)],
                    at position: SourcePosition) throws -> Value {
        func bind(_ names: [String]) throws -> BoundArguments {
            try BoundArguments(name, names, positional, keyword, renderer: self, at: position)
        }
        func optionalString(_ value: Value?) throws -> String? {
            switch value {
            case nil, .none?: return nil
            case .string(let s)?: return s
            case let other?: throw error(.runtime, "\(name)() argument must be str or None, not \(other.typeName)", position)
            }
        }
        switch receiver {
        case .string(let s):
            switch name {
            case "strip", "lstrip", "rstrip":
                let chars = try optionalString(try bind(["chars"])["chars"])
                return .string(strip(s, chars: chars, leading: name != "rstrip", trailing: name != "lstrip"))
            case "upper": _ = try bind([]); return .string(s.uppercased())
            case "lower": _ = try bind([]); return .string(s.lowercased())
            case "title": _ = try bind([]); return .string(pythonTitle(s))
            case "capitalize": _ = try bind([]); return .string(pythonCapitalize(s))
            case "startswith", "endswith":
                let args = try bind(["prefix", "start", "end"])
                if args["start"] != nil || args["end"] != nil { throw error(.unsupported, "\(name)() with start or end", position) }
                var candidates: [String] = []
                switch args["prefix"] {
                case .string(let p)?: candidates = [p]
                case .list(let items)?, .tuple(let items)?:
                    for item in items { candidates.append(try string(item, "\(name)()", at: position)) }
                default: throw error(.runtime, "\(name) first arg must be str or a tuple of str", position)
                }
                let scalars = Array(s.unicodeScalars)
                return .bool(candidates.contains { candidate in
                    let c = Array(candidate.unicodeScalars)
                    return name == "startswith" ? scalars.starts(with: c) : scalars.reversed().starts(with: c.reversed())
                })
            case "split", "rsplit":
                let args = try bind(["sep", "maxsplit"])
                let separator = try optionalString(args["sep"])
                if separator == "" { throw error(.runtime, "empty separator", position) }
                let pieces = try split(s, separator: separator, maxSplit: args["maxsplit"].flatMap { integer($0) } ?? -1, fromRight: name == "rsplit")
                return .list(pieces.map { .string($0) })
            case "splitlines":
                if !positional.isEmpty || !keyword.isEmpty { throw error(.unsupported, "splitlines(keepends)", position) }
                return .list(splitLines(s).map { .string($0) })
            case "replace":
                let args = try bind(["old", "new", "count"])
                guard case .string(let old)? = args["old"], case .string(let new)? = args["new"] else {
                    throw error(.runtime, "replace() arguments must be str", position)
                }
                return .string(try pythonReplace(s, old, new, count: args["count"].flatMap { integer($0) } ?? -1))
            case "find", "rfind", "index", "rindex", "count":
                let args = try bind(["sub"])
                let sub = Array(try string(args["sub"] ?? .none, "\(name)()", at: position).unicodeScalars)
                let scalars = Array(s.unicodeScalars)
                var hits: [Int] = []
                var i = 0
                while i + sub.count <= scalars.count {
                    if Array(scalars[i..<i + sub.count]) == sub {
                        hits.append(i)
                        // count() counts non-overlapping occurrences.
                        i += name == "count" ? max(sub.count, 1) : 1
                    } else {
                        i += 1
                    }
                }
                if name == "count" { return .int(hits.count) }
                let hit = name.hasPrefix("r") ? hits.last : hits.first
                if let hit { return .int(hit) }
                if name.hasSuffix("index") { throw error(.runtime, "substring not found", position) }
                return .int(-1)
            case "join":
                let args = try bind(["iterable"])
                var parts: [String] = []
                for item in try iterate(args["iterable"] ?? .undefined("iterable"), at: position) {
                    parts.append(try string(item, "join()", at: position))
                }
                return .string(parts.joined(separator: s))
            case "removeprefix", "removesuffix":
                let args = try bind(["affix"])
                let affix = Array(try string(args["affix"] ?? .none, "\(name)()", at: position).unicodeScalars)
                var scalars = Array(s.unicodeScalars)
                if name == "removeprefix", scalars.starts(with: affix) { scalars.removeFirst(affix.count) }
                if name == "removesuffix", !affix.isEmpty, scalars.reversed().starts(with: affix.reversed()) { scalars.removeLast(affix.count) }
                var out = String.UnicodeScalarView()
                out.append(contentsOf: scalars)
                return .string(String(out))
            case "isdigit", "isspace", "isalpha", "isalnum", "islower", "isupper":
                _ = try bind([])
                let scalars = Array(s.unicodeScalars)
                switch name {
                case "isspace": return .bool(!scalars.isEmpty && scalars.allSatisfy(isPythonWhitespace))
                case "isdigit": return .bool(!scalars.isEmpty && scalars.allSatisfy { $0.properties.numericType == .decimal || $0.properties.numericType == .digit })
                case "isalpha": return .bool(!scalars.isEmpty && scalars.allSatisfy { $0.properties.isAlphabetic && $0.properties.generalCategory.isLetter })
                case "isalnum": return .bool(!scalars.isEmpty && scalars.allSatisfy { $0.properties.generalCategory.isLetter || $0.properties.numericType != nil })
                case "islower": return .bool(s.lowercased() == s && s.uppercased() != s)
                default: return .bool(s.uppercased() == s && s.lowercased() != s)
                }
            default:
                throw error(.unsupported, "the string method '\(name)'", position)
            }
        case .dict(let dict):
            switch name {
            case "get":
                let args = try bind(["key", "default"])
                guard case .string(let key)? = args["key"] else { return args["default"] ?? .none }
                return dict[key] ?? args["default"] ?? .none
            // A list stands in for the dict_items view; only its printed form would differ.
            case "items": _ = try bind([]); return .list(dict.pairs.map { .tuple([.string($0.0), $0.1]) })
            case "keys": _ = try bind([]); return .list(dict.keys.map { .string($0) })
            case "values": _ = try bind([]); return .list(dict.values)
            case "copy": _ = try bind([]); return receiver
            case "clear", "pop", "popitem", "setdefault", "update", "fromkeys":
                throw error(.runtime, "access to attribute '\(name)' of 'dict' object is unsafe.", position)
            default:
                throw error(.unsupported, "the dict method '\(name)'", position)
            }
        case .list(let items), .tuple(let items):
            switch name {
            case "count":
                let args = try bind(["value"])
                let target = args["value"] ?? .undefined("value")
                return .int(items.filter { equals($0, target) }.count)
            case "index":
                let args = try bind(["value"])
                let target = args["value"] ?? .undefined("value")
                guard let index = items.firstIndex(where: { equals($0, target) }) else { throw error(.runtime, "value is not in list", position) }
                return .int(index)
            case "copy": _ = try bind([]); return receiver
            default:
                throw error(.runtime, "access to attribute '\(name)' of 'list' object is unsafe.", position)
            }
        case .loop(let state):
            guard name == "cycle", !positional.isEmpty else { throw error(.runtime, "no items for cycling given", position) }
            return positional[state.index0 % positional.count]
        default:
            throw error(.unsupported, "the method '\(name)' on \(receiver.typeName)", position)
        }
    }
}

extension Unicode.GeneralCategory {
    var isLetter: Bool {
        switch self {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }
}
