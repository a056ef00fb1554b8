/// What the attention pane looks at — a layer, a head, the grid or not, a scrubbed token — and
/// the Alt keys that change it, one table for every full-screen front end, so the same key does
/// the same thing in the chat and in the translation view. Pure: its tests press keys.
public struct PaneSelection: Equatable, Sendable {
    public let layers: Int
    public let heads: Int
    /// 0-based.
    public var layer: Int
    /// 0-based.
    public var head: Int
    public var grid = false
    /// The token shown (0-based, among the last reply's or translation's tokens); nil follows
    /// the newest.
    public var scrub: Int?

    public init(layers: Int, heads: Int, layer: Int = 0, head: Int = 0) {
        self.layers = max(1, layers)
        self.heads = max(1, heads)
        self.layer = min(max(0, layer), self.layers - 1)
        self.head = min(max(0, head), self.heads - 1)
    }

    /// M-h / M-l previous / next head, M-j / M-k next / previous layer (both wrap around), M-g
    /// the grid, M-, / M-. scrub back / forward through `tokens` tokens (forward past the
    /// newest but one is live again), M-/ live. Returns false for any other key.
    public mutating func apply(alt key: Character, tokens: Int) -> Bool {
        switch key {
        case "h": head = (head + heads - 1) % heads
        case "l": head = (head + 1) % heads
        case "j": layer = (layer + 1) % layers
        case "k": layer = (layer + layers - 1) % layers
        case "g": grid.toggle()
        case ",":
            guard tokens > 0 else { break }
            scrub = max(0, (scrub ?? tokens - 1) - 1)
        case ".":
            if let i = scrub { scrub = i + 1 >= tokens - 1 ? nil : i + 1 }
        case "/": scrub = nil
        default: return false
        }
        return true
    }

    /// The token shown, 0-based, among `tokens` (the newest unless scrubbed); nil when there
    /// are none.
    public func shown(tokens: Int) -> Int? {
        guard tokens > 0 else { return nil }
        return min(scrub ?? tokens - 1, tokens - 1)
    }

    /// A pane title's "which token": the scrubbed one, 1-based, of `tokens`; nil while live.
    public func scrubPosition(tokens: Int) -> (index: Int, count: Int)? {
        scrub.map { (min($0, tokens - 1) + 1, tokens) }
    }
}
