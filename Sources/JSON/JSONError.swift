/// Why a JSON document was rejected, and where.
///
/// `line` and `column` are 1-based; `column` counts bytes from the start of the line (not
/// characters, because the offending byte may not be valid UTF-8). `offset` is the 0-based byte
/// offset into the parsed buffer.
public struct JSONError: Error, CustomStringConvertible, Equatable, Sendable {
    public var line: Int
    public var column: Int
    public var offset: Int
    /// A short phrase such as `duplicate key "x"` or `expected ',' or '}'`.
    public var reason: String

    public init(line: Int, column: Int, offset: Int, reason: String) {
        self.line = line
        self.column = column
        self.offset = offset
        self.reason = reason
    }

    /// `line 3, column 7 (byte 41): expected ',' or '}'`
    public var description: String {
        "line \(line), column \(column) (byte \(offset)): \(reason)"
    }

    /// The one line a reader of the file at `path` reports, with its line and column:
    /// `vocab.json:3: column 7: not valid JSON: expected ',' or '}'`.
    public func located(in path: String) -> String {
        "\(path):\(line): column \(column): not valid JSON: \(reason)"
    }
}
