/// The small regular-expression engine behind `Split` pre-tokenizers: the subset of Oniguruma
/// (what Hugging Face `tokenizers` uses) that the Llama-3, Qwen2 and GPT-2 patterns need, matched
/// over Unicode scalars with Oniguruma's semantics.
///
/// Supported: alternation `|`; groups `(...)`, `(?:...)`, `(?i:...)` (case-insensitive literals),
/// negative and positive lookahead `(?!...)` `(?=...)`; classes `[...]` `[^...]` with ranges and
/// escapes; `.`; quantifiers `?` `*` `+` `{m}` `{m,}` `{m,n}` (greedy, m and n at most 1,000);
/// escapes `\p{L}` `\P{N}` (general categories, one or two letters), `\s` `\S` (White_Space),
/// `\d` `\D` (Nd), `\r` `\n` `\t` `\f` `\v`, `\uHHHH`, `\x{H..}`, and any escaped punctuation.
/// `\p{L}` is general category L*, `\p{N}` N*, `\s` White_Space, as `PreTokenizer.classify` says.
/// Anything else (anchors, lazy or possessive quantifiers, backreferences, scripts, a repeated
/// group that can match nothing) is refused with a message naming it, never matched differently.
///
/// Matching is leftmost, first alternative first, greedy with backtracking (Perl/Oniguruma
/// priority). A table of failed (instruction, position) states keeps a pathological pattern from
/// taking exponential time on ordinary input sizes.
///
///     let regex = try SplitRegex(#"\p{N}{1,3}|\p{L}+"#)
///     regex.matches(in: Array("abc12345".unicodeScalars))  // [0..<3, 3..<6, 6..<8]
struct SplitRegex: Sendable {
    /// Why a pattern was refused: a human-readable reason naming the construct.
    struct Unsupported: Error, Equatable {
        let reason: String
    }

    enum SetItem: Sendable {
        case scalar(Unicode.Scalar)
        case range(UInt32, UInt32)
        case categories(Set<Unicode.GeneralCategory>, negated: Bool)
        case whitespace(negated: Bool)
    }

    struct CharSet: Sendable {
        var items: [SetItem]
        var negated: Bool
        var caseInsensitive: Bool

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            var found = false
            for item in items {
                if Self.matches(item, scalar) { found = true; break }
                if caseInsensitive, case .scalar(let value) = item, SplitRegex.fold(value) == SplitRegex.fold(scalar) {
                    found = true; break
                }
            }
            return found != negated
        }

        static func matches(_ item: SetItem, _ scalar: Unicode.Scalar) -> Bool {
            switch item {
            case .scalar(let value): return value == scalar
            case .range(let low, let high): return scalar.value >= low && scalar.value <= high
            case .categories(let set, let negated): return set.contains(scalar.properties.generalCategory) != negated
            case .whitespace(let negated): return scalar.properties.isWhitespace != negated
            }
        }
    }

    enum Instruction: Sendable {
        case scalar(Unicode.Scalar, caseInsensitive: Bool)
        case set(CharSet)
        case anyButNewline
        /// Try `first`, then on failure `second`.
        case split(first: Int, second: Int)
        case jump(Int)
        /// Run the sub-program at `start` (which ends in `.match`) at the current position; go on
        /// when its success equals `expect`, without consuming anything.
        case lookahead(start: Int, expect: Bool)
        case match
    }

    indirect enum Node {
        case empty
        case scalar(Unicode.Scalar, caseInsensitive: Bool)
        case set(CharSet)
        case any
        case concat([Node])
        case alternation([Node])
        case repeatNode(Node, min: Int, max: Int?)
        case lookahead(Node, negated: Bool)
    }

    let pattern: String
    let program: [Instruction]

    /// Largest `{m,n}` bound accepted (a hostile `{1000000}` is refused, not expanded).
    static let maxRepeat = 1000
    /// Deepest group nesting accepted (parsing and compiling recurse once per level).
    static let maxNesting = 64
    /// Largest compiled program accepted.
    static let maxProgram = 100_000

    init(_ pattern: String) throws(Unsupported) {
        self.pattern = pattern
        var parser = Parser(scalars: Array(pattern.unicodeScalars))
        let node = try parser.parseAll()
        var compiler = Compiler()
        try compiler.emit(node)
        compiler.program.append(.match)
        try compiler.flushLookaheads()
        self.program = compiler.program
    }

    // MARK: Matching

    /// The non-empty, non-overlapping matches of the pattern in `text`, leftmost first (an empty
    /// match is skipped, as `tokenizers` does).
    func matches(in text: [Unicode.Scalar]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var matcher = Matcher(program: program, text: text)
        var start = 0
        while start < text.count {
            if let end = matcher.run(from: 0, at: start), end > start {
                result.append(start..<end)
                start = end
            } else {
                start += 1
            }
        }
        return result
    }

    /// Case folding for the `(?i:...)` literals: lowercase, plus the scalars whose simple case
    /// folding is an ASCII letter (ſ long s, K Kelvin sign), as Oniguruma folds them.
    static func fold(_ scalar: Unicode.Scalar) -> UInt32 {
        let value = scalar.value
        if value < 0x80 {
            return (value >= 0x41 && value <= 0x5A) ? value | 0x20 : value
        }
        switch value {
        case 0x017F: return 0x73  // ſ -> s
        case 0x212A: return 0x6B  // Kelvin sign -> k
        case 0x212B: return 0xE5  // Angstrom sign -> å
        default:
            let lower = scalar.properties.lowercaseMapping.unicodeScalars
            return lower.count == 1 ? lower.first!.value : value
        }
    }

    struct Matcher {
        let program: [Instruction]
        let text: [Unicode.Scalar]
        /// Failed states, stamped with the attempt that visited them (nil when too large to keep).
        var visited: [UInt32]?
        /// The stamp of the states being visited now, and the last stamp handed out.
        var attempt: UInt32 = 0
        var lastStamp: UInt32 = 0
        var stack: [(Int, Int)] = []

        init(program: [Instruction], text: [Unicode.Scalar]) {
            self.program = program
            self.text = text
            let cells = program.count * (text.count + 1)
            visited = cells <= 1 << 23 ? [UInt32](repeating: 0, count: cells) : nil
        }

        /// The end of the highest-priority match of the program at `pc` starting at `position`.
        mutating func run(from pc: Int, at position: Int) -> Int? {
            attempt = newStamp()
            return execute(pc, position)
        }

        private mutating func newStamp() -> UInt32 {
            lastStamp &+= 1
            if lastStamp == 0, visited != nil {  // wrapped: start the stamps over
                visited = [UInt32](repeating: 0, count: visited!.count)
                lastStamp = 1
            }
            return lastStamp
        }

        private mutating func execute(_ startPC: Int, _ startPosition: Int) -> Int? {
            let base = stack.count
            stack.append((startPC, startPosition))
            defer { stack.removeSubrange(base...) }
            let width = text.count + 1
            while stack.count > base {
                var (pc, position) = stack.removeLast()
                thread: while true {
                    if visited != nil {
                        let cell = pc * width + position
                        if visited![cell] == attempt { break thread }
                        visited![cell] = attempt
                    }
                    switch program[pc] {
                    case .scalar(let expected, let caseInsensitive):
                        guard position < text.count else { break thread }
                        let actual = text[position]
                        if actual == expected || (caseInsensitive && SplitRegex.fold(actual) == SplitRegex.fold(expected)) {
                            pc += 1
                            position += 1
                        } else {
                            break thread
                        }
                    case .set(let set):
                        guard position < text.count, set.contains(text[position]) else { break thread }
                        pc += 1
                        position += 1
                    case .anyButNewline:
                        guard position < text.count, text[position] != "\n" else { break thread }
                        pc += 1
                        position += 1
                    case .split(let first, let second):
                        stack.append((second, position))
                        pc = first
                    case .jump(let target):
                        pc = target
                    case .lookahead(let start, let expect):
                        // A fresh stamp: a lookahead that succeeded must not leave its states
                        // marked as failed for the next time it runs. Its instructions are its
                        // own, so the caller's marks are untouched.
                        let saved = attempt
                        attempt = newStamp()
                        let found = execute(start, position) != nil
                        attempt = saved
                        guard found == expect else { break thread }
                        pc += 1
                    case .match:
                        return position
                    }
                }
            }
            return nil
        }
    }

    // MARK: Parsing

    struct Parser {
        let scalars: [Unicode.Scalar]
        var index = 0
        var caseInsensitive = false
        var depth = 0

        init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

        func unsupported(_ what: String) -> Unsupported {
            Unsupported(reason: "\(what) at offset \(index)")
        }

        var atEnd: Bool { index >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[index] }

        mutating func next() throws(Unsupported) -> Unicode.Scalar {
            guard !atEnd else { throw unsupported("unexpected end of pattern") }
            defer { index += 1 }
            return scalars[index]
        }

        mutating func parseAll() throws(Unsupported) -> Node {
            let node = try parseAlternation()
            if !atEnd { throw unsupported("unbalanced \")\"") }
            return node
        }

        mutating func parseAlternation() throws(Unsupported) -> Node {
            var branches = [try parseConcat()]
            while peek == "|" {
                index += 1
                branches.append(try parseConcat())
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseConcat() throws(Unsupported) -> Node {
            var items: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                var atom = try parseAtom()
                atom = try parseQuantifiers(atom)
                items.append(atom)
            }
            return items.count == 1 ? items[0] : .concat(items)
        }

        mutating func parseQuantifiers(_ atom: Node) throws(Unsupported) -> Node {
            var node = atom
            while let scalar = peek {
                var bounds: (Int, Int?)
                switch scalar {
                case "?": bounds = (0, 1); index += 1
                case "*": bounds = (0, nil); index += 1
                case "+": bounds = (1, nil); index += 1
                case "{":
                    guard let parsed = try parseBraces() else { return node }
                    bounds = parsed
                default: return node
                }
                if peek == "?" { throw unsupported("lazy quantifier") }
                if peek == "+" { throw unsupported("possessive quantifier") }
                if case .lookahead = node { throw unsupported("quantified lookahead") }
                node = .repeatNode(node, min: bounds.0, max: bounds.1)
            }
            return node
        }

        /// `{m}`, `{m,}`, `{m,n}`; nil (and nothing consumed) when `{` is not a quantifier.
        mutating func parseBraces() throws(Unsupported) -> (Int, Int?)? {
            let start = index
            index += 1
            func number(_ parser: inout Parser) throws(Unsupported) -> Int? {
                var value = 0
                var digits = 0
                while let scalar = parser.peek, let digit = Int(String(scalar)), scalar.isASCII {
                    value = value * 10 + digit
                    digits += 1
                    parser.index += 1
                    if value > SplitRegex.maxRepeat { throw parser.unsupported("repetition bound above \(SplitRegex.maxRepeat)") }
                }
                return digits > 0 ? value : nil
            }
            guard let low = try number(&self) else { index = start; return nil }
            var high: Int? = low
            if peek == "," {
                index += 1
                high = try number(&self)
            }
            guard peek == "}" else { index = start; return nil }
            index += 1
            if let high, high < low { throw unsupported("repetition {\(low),\(high)} with max below min") }
            return (low, high)
        }

        mutating func parseAtom() throws(Unsupported) -> Node {
            let scalar = try next()
            switch scalar {
            case "(":
                return try parseGroup()
            case "[":
                return .set(try parseClass())
            case ".":
                return .any
            case "\\":
                return try parseEscape(inClass: false)
            case "^", "$":
                throw unsupported("anchor \"\(scalar)\"")
            case "*", "+", "?":
                throw unsupported("quantifier \"\(scalar)\" with nothing to repeat")
            case "{":
                index -= 1
                if try parseBraces() != nil { throw unsupported("quantifier with nothing to repeat") }
                index += 1
                return .scalar(scalar, caseInsensitive: caseInsensitive)
            default:
                return .scalar(scalar, caseInsensitive: caseInsensitive)
            }
        }

        mutating func parseGroup() throws(Unsupported) -> Node {
            guard depth < SplitRegex.maxNesting else { throw unsupported("groups nested deeper than \(SplitRegex.maxNesting)") }
            depth += 1
            let saved = caseInsensitive
            defer {
                caseInsensitive = saved
                depth -= 1
            }
            var lookahead: Bool?  // negated?
            if peek == "?" {
                index += 1
                let kind = try next()
                switch kind {
                case ":": break
                case "!": lookahead = true
                case "=": lookahead = false
                case "i":
                    guard try next() == ":" else { throw unsupported("inline option group") }
                    caseInsensitive = true
                default: throw unsupported("group \"(?\(kind)\"")
                }
            }
            let inner = try parseAlternation()
            guard peek == ")" else { throw unsupported("unclosed group") }
            index += 1
            if let negated = lookahead { return .lookahead(inner, negated: negated) }
            return inner
        }

        mutating func parseClass() throws(Unsupported) -> CharSet {
            var set = CharSet(items: [], negated: false, caseInsensitive: caseInsensitive)
            if peek == "^" {
                set.negated = true
                index += 1
            }
            var first = true
            while true {
                guard let scalar = peek else { throw unsupported("unclosed class") }
                if scalar == "]" && !first { index += 1; break }
                first = false
                index += 1
                var item: SetItem
                if scalar == "\\" {
                    let escaped = try parseEscape(inClass: true)
                    switch escaped {
                    case .scalar(let value, _): item = .scalar(value)
                    case .set(let inner):
                        guard inner.items.count == 1, !inner.negated else { throw unsupported("class escape") }
                        item = inner.items[0]
                    default: throw unsupported("class escape")
                    }
                } else if scalar == "[" {
                    throw unsupported("nested class")
                } else if scalar == "&", peek == "&" {
                    throw unsupported("class intersection")
                } else {
                    item = .scalar(scalar)
                }
                // A range a-b (a "-" before "]" is literal).
                if case .scalar(let low) = item, peek == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                    index += 1
                    var high = try next()
                    if high == "\\" {
                        guard case .scalar(let value, _) = try parseEscape(inClass: true) else { throw unsupported("class range") }
                        high = value
                    }
                    guard high.value >= low.value else { throw unsupported("class range out of order") }
                    item = .range(low.value, high.value)
                }
                set.items.append(item)
            }
            return set
        }

        mutating func parseEscape(inClass: Bool) throws(Unsupported) -> Node {
            let scalar = try next()
            func set(_ item: SetItem) -> Node { .set(CharSet(items: [item], negated: false, caseInsensitive: false)) }
            switch scalar {
            case "p", "P":
                return set(.categories(try parseProperty(), negated: scalar == "P"))
            case "s": return set(.whitespace(negated: false))
            case "S": return set(.whitespace(negated: true))
            case "d": return set(.categories([.decimalNumber], negated: false))
            case "D": return set(.categories([.decimalNumber], negated: true))
            case "r": return .scalar("\r", caseInsensitive: false)
            case "n": return .scalar("\n", caseInsensitive: false)
            case "t": return .scalar("\t", caseInsensitive: false)
            case "f": return .scalar("\u{0C}", caseInsensitive: false)
            case "v": return .scalar("\u{0B}", caseInsensitive: false)
            case "u":
                var value: UInt32 = 0
                for _ in 0..<4 {
                    guard let digit = hexValue(try next()) else { throw unsupported("bad \\u escape") }
                    value = value << 4 | digit
                }
                guard let result = Unicode.Scalar(value) else { throw unsupported("\\u escape of a surrogate") }
                return .scalar(result, caseInsensitive: caseInsensitive)
            case "x":
                guard try next() == "{" else { throw unsupported("\\x escape without braces") }
                var value: UInt32 = 0
                var digits = 0
                while let next = peek, next != "}" {
                    guard let digit = hexValue(next), digits < 6 else { throw unsupported("bad \\x{} escape") }
                    value = value << 4 | digit
                    digits += 1
                    index += 1
                }
                guard digits > 0, peek == "}", let result = Unicode.Scalar(value) else { throw unsupported("bad \\x{} escape") }
                index += 1
                return .scalar(result, caseInsensitive: caseInsensitive)
            default:
                if scalar.isASCII, scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                    throw unsupported("escape \\\(scalar)")
                }
                return .scalar(scalar, caseInsensitive: caseInsensitive)
            }
        }

        func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
            switch scalar.value {
            case 0x30...0x39: scalar.value - 0x30
            case 0x41...0x46: scalar.value - 0x41 + 10
            case 0x61...0x66: scalar.value - 0x61 + 10
            default: nil
            }
        }

        /// `{L}`, `{Lu}`, `L` … → the general categories.
        mutating func parseProperty() throws(Unsupported) -> Set<Unicode.GeneralCategory> {
            var name = ""
            if peek == "{" {
                index += 1
                while let scalar = peek, scalar != "}" {
                    name.unicodeScalars.append(scalar)
                    index += 1
                    if name.count > 40 { break }
                }
                guard peek == "}" else { throw unsupported("unclosed \\p{") }
                index += 1
            } else {
                name = String(try next())
            }
            guard let categories = Self.categories[name] else { throw unsupported("property \\p{\(name)}") }
            return categories
        }

        static let categories: [String: Set<Unicode.GeneralCategory>] = {
            let all: [(String, Unicode.GeneralCategory)] = [
                ("Lu", .uppercaseLetter), ("Ll", .lowercaseLetter), ("Lt", .titlecaseLetter), ("Lm", .modifierLetter),
                ("Lo", .otherLetter), ("Mn", .nonspacingMark), ("Mc", .spacingMark), ("Me", .enclosingMark),
                ("Nd", .decimalNumber), ("Nl", .letterNumber), ("No", .otherNumber), ("Pc", .connectorPunctuation),
                ("Pd", .dashPunctuation), ("Ps", .openPunctuation), ("Pe", .closePunctuation), ("Pi", .initialPunctuation),
                ("Pf", .finalPunctuation), ("Po", .otherPunctuation), ("Sm", .mathSymbol), ("Sc", .currencySymbol),
                ("Sk", .modifierSymbol), ("So", .otherSymbol), ("Zs", .spaceSeparator), ("Zl", .lineSeparator),
                ("Zp", .paragraphSeparator), ("Cc", .control), ("Cf", .format), ("Cs", .surrogate),
                ("Co", .privateUse), ("Cn", .unassigned),
            ]
            var table: [String: Set<Unicode.GeneralCategory>] = [:]
            for (name, category) in all {
                table[name] = [category]
                table[String(name.prefix(1)), default: []].insert(category)
            }
            table["L&"] = [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter]
            return table
        }()
    }

    // MARK: Compiling

    struct Compiler {
        var program: [Instruction] = []
        /// Lookahead bodies, compiled after the main program: (placeholder index, body).
        var pendingLookaheads: [(Int, Node, Bool)] = []

        mutating func append(_ instruction: Instruction) throws(Unsupported) {
            guard program.count < SplitRegex.maxProgram else {
                throw Unsupported(reason: "pattern too large once repetitions are expanded")
            }
            program.append(instruction)
        }

        mutating func emit(_ node: Node) throws(Unsupported) {
            switch node {
            case .empty: break
            case .scalar(let scalar, let caseInsensitive): try append(.scalar(scalar, caseInsensitive: caseInsensitive))
            case .set(let set): try append(.set(set))
            case .any: try append(.anyButNewline)
            case .concat(let items): for item in items { try emit(item) }
            case .alternation(let branches):
                var jumps: [Int] = []
                for (offset, branch) in branches.enumerated() {
                    if offset < branches.count - 1 {
                        let split = program.count
                        try append(.split(first: split + 1, second: -1))
                        try emit(branch)
                        jumps.append(program.count)
                        try append(.jump(-1))
                        program[split] = .split(first: split + 1, second: program.count)
                    } else {
                        try emit(branch)
                    }
                }
                for jump in jumps { program[jump] = .jump(program.count) }
            case .repeatNode(let body, let min, let max):
                if max == nil || max! > min, Self.minLength(body) == 0 {
                    throw Unsupported(reason: "a repeated group that can match nothing")
                }
                for _ in 0..<min { try emit(body) }
                if let max {
                    // Nested optionals: (body (body ...)?)?
                    var exits: [Int] = []
                    for _ in min..<max {
                        exits.append(program.count)
                        try append(.split(first: program.count + 1, second: -1))
                        try emit(body)
                    }
                    for exit in exits { program[exit] = .split(first: exit + 1, second: program.count) }
                } else {
                    let loop = program.count
                    try append(.split(first: loop + 1, second: -1))
                    try emit(body)
                    try append(.jump(loop))
                    program[loop] = .split(first: loop + 1, second: program.count)
                }
            case .lookahead(let body, let negated):
                pendingLookaheads.append((program.count, body, negated))
                try append(.lookahead(start: -1, expect: !negated))
            }
        }

        /// Appends each lookahead body (ending in `.match`) after the main program.
        mutating func flushLookaheads() throws(Unsupported) {
            while let (placeholder, body, negated) = pendingLookaheads.popLast() {
                let start = program.count
                try emit(body)
                try append(.match)
                program[placeholder] = .lookahead(start: start, expect: !negated)
            }
        }

        static func minLength(_ node: Node) -> Int {
            switch node {
            case .empty, .lookahead: 0
            case .scalar, .set, .any: 1
            case .concat(let items): items.reduce(0) { $0 + minLength($1) }
            case .alternation(let branches): branches.map(minLength).min() ?? 0
            case .repeatNode(let body, let min, _): min == 0 ? 0 : minLength(body) * min
            }
        }
    }
}
