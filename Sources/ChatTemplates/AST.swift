/// An expression node. A class so the tree can refer to itself without boxing; immutable.
final class Expr: @unchecked Sendable {
    enum Kind {
        case literal(Value)
        case name(String)
        case list([Expr])
        case tuple([Expr])
        case dict([(Expr, Expr)])
        case attribute(Expr, String)
        case item(Expr, Expr)
        case slice(Expr, start: Expr?, stop: Expr?, step: Expr?)
        case call(Expr, Arguments)
        case filter(Expr, String, Arguments)
        case test(Expr, String, Arguments)
        case not(Expr)
        case negate(Expr)
        case plus(Expr)
        case binary(String, Expr, Expr)
        case concat([Expr])
        case and(Expr, Expr)
        case or(Expr, Expr)
        /// Python-style chained comparison: `a < b <= c`.
        case compare(Expr, [(String, Expr)])
        case conditional(test: Expr, then: Expr, otherwise: Expr?)
    }
    let kind: Kind
    let position: SourcePosition
    init(_ kind: Kind, _ position: SourcePosition) {
        self.kind = kind
        self.position = position
    }
}

/// Call arguments: positional then keyword, as in Python.
struct Arguments {
    var positional: [Expr] = []
    var keyword: [(String, Expr)] = []
}

/// Where a `{% set %}` or `{% for %}` stores values.
enum AssignTarget {
    case names([String])
    /// `ns.attr`, only valid on a namespace.
    case namespaceAttribute(String, String)
}

/// A template statement.
indirect enum Node {
    case text(String)
    case output(Expr)
    case ifChain([(Expr, [Node])], otherwise: [Node]?)
    case forLoop(target: [String], iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node]?, position: SourcePosition)
    case set(AssignTarget, Expr, position: SourcePosition)
    case setBlock(String, [Node])
    case macro(Macro)
    case breakLoop(SourcePosition)
    case continueLoop(SourcePosition)
}

// The tree is immutable once parsed (macros hold only `let`s), so sharing it across threads is safe.
extension Node: @unchecked Sendable {}
