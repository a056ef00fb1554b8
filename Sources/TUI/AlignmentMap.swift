import Chat

/// A translation's cross-attention as text: the source/target alignment matrix of the
/// encoder–decoder, one row per target token (the step that produced it) and one column per
/// source token, each cell the shade of how much that step's query attended to that source token,
/// relative to the row's strongest — the picture Bahdanau et al. and Vaswani et al. print.
///
///     source  1 "The"  2 " cat"  3 " sleeps"  4 "."
///               1  2  3  4
///     "El"     ██ ░░
///     " gato"        ██
///     ...
///
/// Pure: `attnchat translate --alignment` prints it, and its tests read it.
public struct AlignmentMap: Sendable, Equatable {
    /// Token texts of the source sentence, as the tokenizer decodes each.
    public let source: [String]
    /// Token texts of the translation, one per decoding step.
    public let target: [String]
    /// (target.count, source.count) row-major: row t is step t's attention over the source.
    public let weights: [Float]

    public init(source: [String], target: [String], weights: [Float]) {
        precondition(weights.count == source.count * target.count, "weights must be (target, source)")
        self.source = source
        self.target = target
        self.weights = weights
    }

    /// The source position each target token attends to most (ties: the first), e.g. for tests
    /// and for a script that wants the hard alignment.
    public var strongestSource: [Int] {
        let S = source.count
        guard S > 0 else { return target.map { _ in 0 } }
        return (0..<target.count).map { t in
            let row = weights[(t * S)..<((t + 1) * S)]
            return row.indices.max { row[$0] < row[$1] || (row[$0] == row[$1] && $0 > $1) }! - t * S
        }
    }

    /// The grid as lines of text: a legend numbering the source tokens, a header of column
    /// numbers, then a row per target token, labels quoted with control characters made visible.
    /// Each cell is two characters of `Shade`'s ramp; with `ascii`, " .:+#" and non-ASCII
    /// characters of tokens as "?" (the attention pane's rules for a terminal without UTF-8).
    public func text(ascii: Bool) -> String {
        let S = source.count
        let labels = target.map { Self.quoted($0, ascii: ascii) }
        let labelWidth = max(8, labels.map { TextWidth.of($0) }.max() ?? 0) + 1
        // Columns three wide: room for numbers up to 99 and a gap; wider sentences print the
        // numbers modulo 100 (the legend still gives every position).
        var out = "source  " + source.enumerated().map { "\($0.offset + 1) \(Self.quoted($0.element, ascii: ascii))" }.joined(separator: "  ") + "\n"
        out += String(repeating: " ", count: labelWidth)
        out += (0..<S).map { pad(String(($0 + 1) % 100), 3) }.joined() + "\n"
        for (t, label) in labels.enumerated() {
            out += label + String(repeating: " ", count: labelWidth - TextWidth.of(label))
            let row = weights[(t * S)..<((t + 1) * S)]
            let maximum = row.max() ?? 0
            var line = ""
            for value in row {
                let c = Shade.character(level: Shade.level(value, maximum: maximum), ascii: ascii)
                line += " " + String([c, c])  // under its column's number, right-aligned in three
            }
            out += String(line.reversed().drop { $0 == " " }.reversed()) + "\n"
        }
        return out
    }

    /// A token as the attention pane shows one: quoted, control characters as visible symbols
    /// (`TerminalSafe`), line breaks and tabs as arrows, so a token never moves the cursor or
    /// breaks the grid's rows.
    static func quoted(_ token: String, ascii: Bool) -> String {
        AttentionPane.quoted(TerminalSafe.inert(token), ascii: ascii)
    }
}

/// `text` right-aligned in `width` columns (numbers in the header).
private func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}
