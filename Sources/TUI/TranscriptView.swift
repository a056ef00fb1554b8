import Chat

/// The conversation as the transcript pane shows it: user and bot turns and notices, each
/// wrapped once per width and cached, so a streaming reply rewraps only itself.
public struct TranscriptView: Sendable {
    public enum Kind: Sendable, Equatable { case user, bot, notice }

    public struct Entry: Sendable {
        public var kind: Kind
        /// Text pieces: for the bot, one per token with its probability; otherwise one piece.
        public var pieces: [(text: String, probability: Double?)]
        public var interrupted = false
        var cache: (width: Int, colour: Bool, rows: [StyledLine])?
        /// A streaming reply's wrapper and how many pieces it has taken, so each frame wraps only
        /// the tokens that arrived since the last (not the whole reply again).
        var live: (width: Int, colour: Bool, wrapper: StreamingWrapper, consumed: Int)?

        public var text: String { pieces.map(\.text).joined() }
    }

    public private(set) var entries: [Entry] = []
    /// The latest reply's entry: where streamed tokens go, even when notices were added after it
    /// (`/help` while it streams) or before it (the context was trimmed for it).
    public private(set) var replyIndex: Int?
    /// Colour bot tokens by their probability.
    public var colourByProbability = false { didSet { if oldValue != colourByProbability { invalidate() } } }
    /// Replace non-ASCII characters (terminals without UTF-8).
    public let ascii: Bool
    /// What starts a user turn and a reply: "you> " and "bot> " in the chat; the languages'
    /// names in the translation view ("en> ", "es> ").
    public let userLabel: String, botLabel: String

    public init(ascii: Bool, userLabel: String = "you> ", botLabel: String = "bot> ") {
        self.ascii = ascii
        self.userLabel = userLabel
        self.botLabel = botLabel
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var last: Entry? { entries.last }

    /// Adds an entry; text is made inert (no control sequence reaches the terminal). A bot entry
    /// becomes the reply that `appendToken` extends.
    public mutating func add(_ kind: Kind, _ text: String) {
        entries.append(Entry(kind: kind, pieces: text.isEmpty ? [] : [(clean(text), nil)]))
        if kind == .bot { replyIndex = entries.count - 1 }
    }

    /// Adds a notice just above the latest reply (or at the end when there is none).
    public mutating func addNoticeBeforeReply(_ text: String) {
        guard let i = replyIndex else { return add(.notice, text) }
        entries.insert(Entry(kind: .notice, pieces: [(clean(text), nil)]), at: i)
        replyIndex = i + 1
    }

    /// Appends one generated token to the latest reply. A token that is only part of a
    /// character (the decoder holds its bytes back) adds nothing.
    public mutating func appendToken(_ text: String, probability: Double) {
        guard let i = replyIndex, !text.isEmpty else { return }
        entries[i].pieces.append((clean(text), probability))
        entries[i].cache = nil
    }

    public mutating func markLastInterrupted() {
        guard let i = replyIndex else { return }
        entries[i].interrupted = true
        entries[i].cache = nil
        entries[i].live = nil
    }

    /// The reply is complete: its streaming wrapper goes (its rows stay cached).
    public mutating func finishReply() {
        guard let i = replyIndex else { return }
        entries[i].live = nil
    }

    /// Whether there is a reply to regenerate.
    public var hasReply: Bool { replyIndex != nil }

    /// Removes the latest reply (for /regen, or a message refused before its reply began).
    public mutating func removeLastReply() {
        guard let i = replyIndex else { return }
        entries.remove(at: i)
        replyIndex = nil
    }

    public mutating func removeAll() {
        entries.removeAll()
        replyIndex = nil
    }

    /// Rows of the whole transcript at `width`, one blank row between entries.
    public mutating func rows(width: Int) -> [StyledLine] {
        var out: [StyledLine] = []
        for i in entries.indices {
            if i > 0 { out.append([]) }
            out.append(contentsOf: rows(of: i, width: width))
        }
        return out
    }

    /// The `count` rows ending `scrolledBack` rows above the bottom, and the clamped offset.
    public mutating func window(width: Int, count: Int, scrolledBack: Int) -> (rows: [StyledLine], scrolledBack: Int) {
        guard count > 0 else { return ([], 0) }
        let all = rows(width: width)
        let back = max(0, min(scrolledBack, all.count - count))
        let end = all.count - back
        return (Array(all[max(0, end - count)..<end]), back)
    }

    private mutating func rows(of i: Int, width: Int) -> [StyledLine] {
        if let c = entries[i].cache, c.width == width, c.colour == colourByProbability { return c.rows }
        let rows: [StyledLine]
        if entries[i].kind == .bot && !entries[i].interrupted && width > 0 {
            rows = streamingRows(of: i, width: width)
        } else {
            rows = wrap(segments(of: entries[i]), width: width)
        }
        entries[i].cache = (width, colourByProbability, rows)
        return rows
    }

    /// A reply's rows from its live wrapper, fed only the pieces it has not seen (the same rows
    /// as wrapping `segments(of:)` whole: the wrapper merges equal styles as `segments` does).
    private mutating func streamingRows(of i: Int, width: Int) -> [StyledLine] {
        // Taken out of the entry while it grows, so the arrays inside are not copied.
        var live = entries[i].live
        entries[i].live = nil
        if live == nil || live!.width != width || live!.colour != colourByProbability {
            var wrapper = StreamingWrapper(width: width)
            wrapper.add(Segment(botLabel, .botLabel))
            live = (width, colourByProbability, wrapper, 0)
        }
        for piece in entries[i].pieces.dropFirst(live!.consumed) {
            live!.wrapper.add(Segment(piece.text, style(of: piece.probability)))
        }
        live!.consumed = entries[i].pieces.count
        entries[i].live = live
        return live!.wrapper.rows()
    }

    private func style(of probability: Double?) -> Style {
        colourByProbability ? .probability(Self.probabilityLevel(probability ?? 1)) : .bot
    }

    func segments(of e: Entry) -> [Segment] {
        switch e.kind {
        case .user:
            return [Segment(userLabel, .userLabel), Segment(e.text, .user)]
        case .notice:
            return [Segment(e.text, .notice)]
        case .bot:
            var out = [Segment(botLabel, .botLabel)]
            for piece in e.pieces {
                let style = style(of: piece.probability)
                if let last = out.last, last.style == style, out.count > 1 {
                    out[out.count - 1].text += piece.text
                } else {
                    out.append(Segment(piece.text, style))
                }
            }
            if e.interrupted { out.append(Segment(" [interrupted]", .notice)) }
            return out
        }
    }

    /// 0 (p < 0.05) ... 4 (p ≥ 0.8).
    public static func probabilityLevel(_ p: Double) -> Int {
        switch p {
        case 0.8...: 4
        case 0.5..<0.8: 3
        case 0.2..<0.5: 2
        case 0.05..<0.2: 1
        default: 0
        }
    }

    private mutating func invalidate() {
        for i in entries.indices { entries[i].cache = nil }
    }

    private func clean(_ text: String) -> String {
        let inert = TerminalSafe.inert(text)
        return ascii ? TextWidth.asciiOnly(inert) : inert
    }
}
