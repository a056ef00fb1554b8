/// One translation as the alignment pane needs it: the source's and the translation's token
/// pieces and, for each target token, the cross-attention of the decoding step that produced it
/// in every decoder layer and head — so the pane switches layer and head afterwards without
/// decoding again.
public struct TranslationRecord: Sendable {
    public let layers: Int
    public let heads: Int
    /// Display text of the source tokens.
    public let source: [String]
    /// Display text of the target tokens so far.
    public private(set) var target: [String] = []
    /// Each target token's probability under the model at its step.
    public private(set) var probabilities: [Double] = []
    /// (T, L, H, S) row-major.
    public private(set) var weights: [Float] = []

    public init(layers: Int, heads: Int, source: [String]) {
        self.layers = layers
        self.heads = heads
        self.source = source
    }

    /// Adds a target token and its step's cross-attention, (L, H, S): each layer's (H, S) as
    /// `Seq2SeqDecoder.crossAttention` gives it, layer after layer.
    public mutating func append(piece: String, probability: Double, attention: [Float]) {
        precondition(attention.count == layers * heads * source.count, "cross-attention must be (L, H, S)")
        target.append(piece)
        probabilities.append(probability)
        weights += attention
    }

    /// Step t's weights over the source tokens in (layer, head).
    public func row(step t: Int, layer: Int, head: Int) -> ArraySlice<Float> {
        let S = source.count
        let start = ((t * layers + layer) * heads + head) * S
        return weights[start..<(start + S)]
    }

    /// The whole source × target matrix of (layer, head).
    public func map(layer: Int, head: Int) -> AlignmentMap {
        AlignmentMap(source: source, target: target, weights: (0..<target.count).flatMap { row(step: $0, layer: layer, head: head) })
    }
}

/// The translation view's side pane as text: pure, so that every size can be tested.
///
/// Single view — for the newest (or scrubbed) target token, the selected layer and head's
/// cross-attention over the source tokens: a row per source token with its weight as a bar (on a
/// scale where the whole row sums to 1) and its piece shaded relative to the strongest. Grid
/// view — the whole alignment matrix of the selected layer and head (`AlignmentMap.paneRows`).
public enum TranslationPane {
    /// The pane's title and its `height` rows of at most `width` cells (inside the border).
    ///
    /// - Parameter pending: what shows before the translation has a token.
    public static func render(
        _ record: TranslationRecord?, selection: PaneSelection, pending: String, width: Int, height: Int, ascii: Bool
    ) -> (title: String, rows: [StyledLine]) {
        guard width > 0, height > 0 else { return ("", []) }
        let which = "L\(selection.layer + 1)/\(selection.layers) H\(selection.head + 1)/\(selection.heads)"
        guard let r = record, let shown = selection.shown(tokens: r.target.count), !r.source.isEmpty else {
            return (" cross-attention \(which) ", AttentionPane.fit([[Segment(pending, .notice)]], width: width, height: height))
        }
        let layer = min(selection.layer, r.layers - 1), head = min(selection.head, r.heads - 1)
        let position = selection.scrubPosition(tokens: r.target.count).map { " tok \($0.index)/\($0.count)" } ?? " live"
        if selection.grid {
            let rows = r.map(layer: layer, head: head).paneRows(width: width, height: height, ascii: ascii, marked: shown)
            return (" grid \(which)\(position) ", rows)
        }
        return (" \(which)\(position) ", AttentionPane.fit(bars(r, step: shown, layer: layer, head: head, width: width, height: height, ascii: ascii), width: width, height: height))
    }

    /// The shown token, then a row per source token: `"piece"  bar  0.123`. When the source has
    /// more tokens than the rows left, the strongest are kept, in source order, and a last row
    /// counts the others.
    static func bars(_ r: TranslationRecord, step: Int, layer: Int, head: Int, width: Int, height: Int, ascii: Bool) -> [StyledLine] {
        var out: [StyledLine] = [[
            Segment("target ", .notice), Segment(AttentionPane.quoted(r.target[step], ascii: ascii)),
            Segment(" \(step + 1)/\(r.target.count) p \(StatusText.f2(r.probabilities[step]))", .notice),
        ]]
        let row = r.row(step: step, layer: layer, head: head)
        let S = r.source.count
        var kept = Array(0..<S)
        if S > height - 1 {
            let room = max(0, height - 2)
            kept = AttentionPane.strongest(row, count: room).map { $0 - row.startIndex }.sorted()
        }
        let labels = r.source.map { AttentionPane.quoted($0, ascii: ascii) }
        let labelWidth = min(labels.map { TextWidth.of($0) }.max() ?? 0, max(4, width / 3))
        let barWidth = width - labelWidth - 8  // a space, the bar, a space, "0.123", a margin
        let maximum = row.max() ?? 0
        for j in kept {
            let weight = row[row.startIndex + j]
            let label = TextWidth.prefix(labels[j], fitting: labelWidth)
            var line: StyledLine = [
                Segment(label, .heat(Shade.level(weight, maximum: maximum))),
                Segment(String(repeating: " ", count: labelWidth - TextWidth.of(label) + 1)),
            ]
            if barWidth > 0 { line.append(Segment(Shade.bar(weight, width: barWidth, ascii: ascii) + " ")) }
            line.append(Segment(AttentionPane.weight3(weight), .notice))
            out.append(line)
        }
        if kept.count < S && height > 1 {
            out.append([Segment("\(ascii ? "..." : "…") \(S - kept.count) weaker not shown", .notice)])
        }
        return out
    }
}
