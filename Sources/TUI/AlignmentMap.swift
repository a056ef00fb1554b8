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
/// Pure: `attnchat translate --alignment` prints it, the translation view's grid draws it
/// (`paneRows`), and their tests read it.
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
            var line = ""
            for level in levels(row: t) {
                let c = Shade.character(level: level, ascii: ascii)
                line += " " + String([c, c])  // under its column's number, right-aligned in three
            }
            out += String(line.reversed().drop { $0 == " " }.reversed()) + "\n"
        }
        return out
    }

    /// Row t's shade levels, one per source token, relative to the row's strongest weight.
    func levels(row t: Int) -> [Int] {
        let row = weights[(t * source.count)..<((t + 1) * source.count)]
        let maximum = row.max() ?? 0
        return row.map { Shade.level($0, maximum: maximum) }
    }

    /// The grid fitted to a pane of `width` × `height` cells, as styled rows: the legend of
    /// source tokens (wrapped, as much of it as leaves room for the rows), the column numbers,
    /// then a row per target token — when they do not all fit, the window that ends at
    /// `marked` (the token the pane shows), which gets a ">".
    ///
    /// Columns are three cells wide when the sentence fits, then two, then one; a source longer
    /// than the room left beside the labels is squeezed (a cell shows the strongest of the tokens
    /// it covers, as the chat's heat strips do) and loses its column numbers.
    public func paneRows(width: Int, height: Int, ascii: Bool, marked: Int?) -> [StyledLine] {
        guard width > 0, height > 0 else { return [] }
        let S = source.count, T = target.count
        let labels = target.map { Self.quoted($0, ascii: ascii) }
        // A label takes at most a third of the width; the marker column comes before it.
        let labelWidth = min((labels.map { TextWidth.of($0) }.max() ?? 0) + 1, max(4, width / 3))
        let room = max(0, width - 1 - labelWidth)
        let column = S * 3 <= room ? 3 : S * 2 <= room ? 2 : 1
        let squeezed = S > room
        var header = String(repeating: " ", count: 1 + labelWidth)
        if !squeezed {
            header += (0..<S).map { j in
                let number = String(column == 3 ? (j + 1) % 100 : (j + 1) % 10)
                return String(repeating: " ", count: max(0, column - number.count)) + number
            }.joined()
        }
        func row(_ t: Int) -> StyledLine {
            let label = TextWidth.prefix(labels[t], fitting: labelWidth - 1)
            var line: StyledLine = [
                Segment(t == marked ? ">" : " ", .title),
                Segment(label + String(repeating: " ", count: labelWidth - TextWidth.of(label))),
            ]
            for level in squeezed ? stripLevels(row: t, width: room) : levels(row: t) {
                let c = String(Shade.character(level: level, ascii: ascii))
                if column > 1 { line.append(Segment(" ")) }  // the gap; the shade sits under the number's last digits
                line.append(Segment(column == 3 ? c + c : c, .heat(level)))
            }
            return line
        }
        // The legend breaks between tokens only (a token's piece may hold a space).
        var legend: [StyledLine] = []
        var line = ""
        for (j, token) in source.enumerated() {
            let entry = (j == 0 ? "source  " : "") + "\(j + 1) \(Self.quoted(token, ascii: ascii))"
            if line.isEmpty {
                line = entry
            } else if TextWidth.of(line) + 2 + TextWidth.of(entry) > width {
                legend.append([Segment(line, .notice)])
                line = entry
            } else {
                line += "  " + entry
            }
        }
        legend.append([Segment(line, .notice)])
        // The rows come first; the legend takes what they leave.
        let legendShown = min(legend.count, max(0, height - 1 - T))
        let rowRoom = max(0, height - legendShown - 1)
        let end = min(T, max(rowRoom, (marked ?? T - 1) + 1))
        let rows = (max(0, end - rowRoom)..<end).map(row)
        let out = Array(legend.prefix(legendShown)) + (height > legendShown ? [[Segment(header, .notice)]] : []) + rows
        return AttentionPane.fit(out, width: width, height: height)
    }

    /// Row t squeezed into `width` cells (each the strongest of the tokens it covers).
    private func stripLevels(row t: Int, width: Int) -> [Int] {
        Shade.stripLevels(weights[(t * source.count)..<((t + 1) * source.count)], width: width)
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
