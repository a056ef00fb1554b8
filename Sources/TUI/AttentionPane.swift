import GPT

/// The attention side pane as text: pure, so that every size can be tested.
///
/// Single view — the selected layer and head: the strongest few context tokens with their
/// weights, then the tail of the context as token pieces, each styled by its weight
/// (`Style.heat`). Grid view — every layer × head as a heat strip over the whole context (the
/// terminal counterpart of bertviz's model view).
public enum AttentionPane {
    /// What the pane looks at.
    public struct Model: Sendable {
        public var snapshot: AttentionSnapshot?
        /// Display text of the context tokens the snapshot covers (at least its `length`).
        public var pieces: [String]
        public var layer: Int
        public var head: Int
        public var grid: Bool
        /// Which generated token is shown (1-based) and how many there are; nil while live.
        public var scrub: (index: Int, count: Int)?
        /// The shown token's probability, if known.
        public var probability: Double?

        public init(snapshot: AttentionSnapshot?, pieces: [String], layer: Int, head: Int, grid: Bool,
                    scrub: (index: Int, count: Int)? = nil, probability: Double? = nil) {
            self.snapshot = snapshot
            self.pieces = pieces
            self.layer = layer
            self.head = head
            self.grid = grid
            self.scrub = scrub
            self.probability = probability
        }
    }

    /// How many of the strongest tokens get a numeric line.
    public static let strongestCount = 3

    /// The pane's title and its `height` rows of at most `width` cells (inside the border).
    public static func render(_ m: Model, width: Int, height: Int, ascii: Bool) -> (title: String, rows: [StyledLine]) {
        guard width > 0, height > 0 else { return ("", []) }
        guard let s = m.snapshot, s.layers > 0, s.heads > 0, s.length > 0 else {
            return (" attention ", fit([[Segment("(waiting for a reply)", .notice)]], width: width, height: height))
        }
        let layer = min(max(0, m.layer), s.layers - 1), head = min(max(0, m.head), s.heads - 1)
        let position = m.scrub.map { " tok \($0.index)/\($0.count)" } ?? " live"
        if m.grid {
            return (" grid \(s.layers)x\(s.heads)\(position) ", fit(gridRows(s, width: width, height: height, ascii: ascii, selected: (layer, head)), width: width, height: height))
        }
        // Under grouped-query attention every query head is shown, with the key/value head it reads.
        let group = s.kvHeads < s.heads ? " kv\(s.keyValueHead(of: head) + 1)/\(s.kvHeads)" : ""
        let title = " L\(layer + 1)/\(s.layers) H\(head + 1)/\(s.heads)\(group)\(position) "
        let row = s.row(layer: layer, head: head)
        var rows: [StyledLine] = []
        if let p = m.probability, s.length - 1 < m.pieces.count {
            rows.append([Segment("token ", .notice), Segment(quoted(m.pieces[s.length - 1], ascii: ascii)), Segment(" p \(StatusText.f2(p))", .notice)])
        }
        // The strongest few, with their weights.
        let maximum = row.max() ?? 0
        for i in strongest(row, count: min(strongestCount, max(0, height - 2))) {
            let weight = row[i]
            let level = Shade.level(weight, maximum: maximum)
            let piece = i - row.startIndex < m.pieces.count ? m.pieces[i - row.startIndex] : "?"
            rows.append([
                Segment(String(Shade.character(level: level, ascii: ascii)), .heat(level)),
                Segment(" \(weight3(weight)) @\(i - row.startIndex) ", .plain),
                Segment(quoted(piece, ascii: ascii), .heat(level)),
            ])
        }
        let room = height - rows.count
        if room > 1 {
            rows.append([Segment(String(repeating: ascii ? "-" : "─", count: width), .border)])
            // The tail of the context, as many rows as fit: the query token is last.
            var segments: [Segment] = []
            var budget = (room - 1) * width * 2
            var i = s.length - 1
            var tail: [Segment] = []
            while i >= 0 && budget > 0 {
                let piece = i < m.pieces.count ? m.pieces[i] : "?"
                let shown = display(piece, ascii: ascii)
                tail.append(Segment(shown, .heat(Shade.level(row[row.startIndex + i], maximum: maximum))))
                budget -= max(1, TextWidth.of(shown))
                i -= 1
            }
            segments = tail.reversed()
            let wrapped = wrap(segments, width: width)
            rows.append(contentsOf: wrapped.suffix(room - 1))
        }
        return (title, fit(rows, width: width, height: height))
    }

    /// Every layer × head as "L1H2 ▁▃█..." rows; the selected one marked with ">".
    static func gridRows(_ s: AttentionSnapshot, width: Int, height: Int, ascii: Bool, selected: (Int, Int)) -> [StyledLine] {
        var rows: [StyledLine] = []
        let total = s.layers * s.heads
        for index in 0..<total {
            let (l, h) = (index / s.heads, index % s.heads)
            if rows.count == height - 1 && index < total - 1 {
                rows.append([Segment("\(ascii ? "..." : "…") \(total - index) more", .notice)])
                break
            }
            let label = "\((l, h) == selected ? ">" : " ")L\(l + 1)H\(h + 1) "
            let levels = Shade.stripLevels(s.row(layer: l, head: h), width: max(0, width - TextWidth.of(label)))
            var line: StyledLine = [Segment(label, .plain)]
            for level in levels { line.append(Segment(String(Shade.character(level: level, ascii: ascii)), .heat(level))) }
            rows.append(line)
        }
        return rows
    }

    /// Indices of the `count` largest weights, largest first (ties: the later position first).
    /// - Complexity: O(n · count), one pass per kept index.
    static func strongest(_ row: ArraySlice<Float>, count: Int) -> [Int] {
        var picked: [Int] = []
        for _ in 0..<min(count, row.count) {
            var best: Int?
            for i in row.indices where !picked.contains(i) {
                if best == nil || row[i] >= row[best!] { best = i }
            }
            picked.append(best!)
        }
        return picked
    }

    /// A token piece for the pane: newline as "↵", tab as "→" (ASCII "|" and ">").
    public static func display(_ piece: String, ascii: Bool) -> String {
        var out = ""
        for c in piece {
            switch c {
            case "\n", "\r\n": out += ascii ? "|" : "↵"
            case "\t": out += ascii ? ">" : "→"
            default: out.append(ascii && !c.isASCII ? "?" : c)
            }
        }
        return out
    }

    static func quoted(_ piece: String, ascii: Bool) -> String { "\"" + display(piece, ascii: ascii) + "\"" }

    static func weight3(_ w: Float) -> String {
        let r = Int((Double(w) * 1000).rounded())
        return r >= 1000 ? "1.000" : "0." + String(repeating: "0", count: 3 - String(r).count) + "\(r)"
    }

    /// Exactly `height` rows, each clipped to `width`.
    static func fit(_ rows: [StyledLine], width: Int, height: Int) -> [StyledLine] {
        var out = rows.prefix(height).map { $0.clipped(to: width) }
        while out.count < height { out.append([]) }
        return out
    }
}
