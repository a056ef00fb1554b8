/// Why a chat template could not be parsed or rendered, and where.
///
/// Every failure carries the template line and column it concerns, so a caller can report
/// "template line N: ..." (the chat exits 65 on any of these) instead of prompting a model
/// with text the model's own tooling would never have produced.
public struct JinjaError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// The template is not valid Jinja (Jinja2 would refuse it too).
        case syntax
        /// Valid Jinja that this interpreter does not implement (a tag, filter, test, method or
        /// operand type); rendering stops rather than guess.
        case unsupported
        /// A runtime failure Jinja2 would also raise: an undefined value used in arithmetic,
        /// adding a string to a number, a value `tojson` cannot serialize, and so on.
        case runtime
        /// The template called `raise_exception(message)`: usually a conversation the
        /// template does not accept (roles that do not alternate, a system role it lacks).
        case raised
    }

    public let kind: Kind
    /// For `.raised`, exactly the template's message; otherwise a description of the problem.
    public let message: String
    /// 1-based line in the template source (after `\r\n` and `\r` became `\n`).
    public let line: Int
    /// 1-based column, in Unicode scalars, of the tag, token or expression concerned.
    public let column: Int

    public init(_ kind: Kind, _ message: String, line: Int, column: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        let what: String
        switch kind {
        case .syntax: what = "syntax error"
        case .unsupported: what = "not supported"
        case .runtime: what = "error"
        case .raised: what = "raise_exception"
        }
        return "chat template line \(line), column \(column): \(what): \(message)"
    }
}

/// A position in the template source.
struct SourcePosition: Sendable {
    var line: Int
    var column: Int
}
