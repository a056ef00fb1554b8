import GPT

/// The attention pane's explain view: for the selected layer, head and token, the steps of
/// scaled dot-product attention on its real numbers (as `attnchat explain` prints them), as
/// text, pure, so every size can be tested.
public enum ExplainPane {
    /// The title and `height` rows of at most `width` cells (inside the border).
    ///
    /// - Parameters:
    ///   - explanation: nil while none is computed yet (`pending` says why).
    ///   - pieces: display text of the context tokens (at least `explanation.tokenCount`).
    ///   - kvHeads: key/value heads when fewer than `heads` (grouped-query attention).
    ///   - scrub: which generated token is shown (1-based) and how many there are; nil while live.
    public static func render(
        _ explanation: AttentionExplanation?, pending: String, pieces: [String], layers: Int, heads: Int, kvHeads: Int? = nil,
        scrub: (index: Int, count: Int)?, width: Int, height: Int, ascii: Bool
    ) -> (title: String, rows: [StyledLine]) {
        guard width > 0, height > 0 else { return ("", []) }
        let position = scrub.map { " tok \($0.index)/\($0.count)" } ?? " live"
        guard let e = explanation else {
            return (" explain\(position) ", AttentionPane.fit([[Segment(pending, .notice)]], width: width, height: height))
        }
        // Under grouped-query attention the keys and values are those of the head's group.
        let kvHeads = kvHeads ?? heads
        let group = kvHeads < heads ? " kv\(e.keyValueHead + 1)/\(kvHeads)" : ""
        let title = " L\(e.layer + 1)/\(layers) H\(e.head + 1)/\(heads)\(group) explain\(position) "
        let arrow = ascii ? "->" : "→"
        func piece(_ i: Int) -> String { AttentionPane.quoted(i < pieces.count ? pieces[i] : "?", ascii: ascii) }
        var rows: [StyledLine] = [
            [Segment("q @\(e.position + 1) ", .notice), Segment(piece(e.position)), Segment(" d \(e.query.count)", .notice)],
            [Segment("q.k \(arrow) x\(StatusText.f3(Double(e.scale))) \(arrow) mask \(arrow) softmax \(arrow) w.v", .notice)],
            [Segment(" pos    q.k  scaled weight token", .notice)],
        ]
        // The strongest positions, strongest first, as many as fit above the last two lines.
        let maximum = e.weights.max() ?? 0
        let room = max(0, height - rows.count - 2)
        for j in AttentionPane.strongest(e.weights[...], count: room) {
            let level = Shade.level(e.weights[j], maximum: maximum)
            rows.append([
                Segment(pad("\(j + 1)", 4) + " " + pad(fixed(e.scores[j], 1), 6) + " " + pad(fixed(e.scaled[j], 2), 6) + " "
                    + AttentionPane.weight3(e.weights[j]) + " ", .plain),
                Segment(piece(j), .heat(level)),
            ])
        }
        let masked = e.maskedPositions
        rows.append([Segment(masked.isEmpty ? "mask: none (the query is last)" : "mask: \(masked.lowerBound + 1)\(ascii ? "-" : "–")\(masked.upperBound) come later, weight 0", .notice)])
        var out = "out"
        for x in e.output {
            let next = " " + fixed(x, 2)
            if TextWidth.of(out + next) > width { break }
            out += next
        }
        rows.append([Segment(out, .plain)])
        return (title, AttentionPane.fit(rows, width: width, height: height))
    }

    static func fixed(_ x: Float, _ digits: Int) -> String {
        guard x.isFinite else { return "-" }
        let scale = digits == 1 ? 10.0 : 100.0
        let r = (Double(x) * scale).rounded() / scale
        var s = "\(r)"
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        }
        return s
    }

    static func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
}
