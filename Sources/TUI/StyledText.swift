/// What a piece of text on screen means; the drawing layer turns it into colours or attributes.
public enum Style: Hashable, Sendable {
    case plain
    case userLabel, user
    case botLabel, bot
    case notice
    case border, title
    case status, help
    /// Attention weight, 0 (none) ... `Shade.levels - 1` (the strongest).
    case heat(Int)
    /// A generated token's probability, 0 (unlikely) ... 4 (near certain).
    case probability(Int)
}

/// A run of text in one style.
public struct Segment: Equatable, Sendable {
    public var text: String
    public var style: Style
    public init(_ text: String, _ style: Style = .plain) {
        self.text = text
        self.style = style
    }
}

/// One screen row: segments left to right.
public typealias StyledLine = [Segment]

extension Array where Element == Segment {
    /// The row's width in cells.
    public var width: Int { reduce(0) { $0 + TextWidth.of($1.text) } }
    /// The row's text without styles.
    public var plainText: String { map(\.text).joined() }

    /// The row cut to `width` cells, never splitting a character.
    public func clipped(to width: Int) -> StyledLine {
        var out: StyledLine = []
        var used = 0
        for s in self {
            let w = TextWidth.of(s.text)
            if used + w <= width {
                out.append(s)
                used += w
            } else {
                let cut = TextWidth.prefix(s.text, fitting: width - used)
                if !cut.isEmpty { out.append(Segment(cut, s.style)) }
                break
            }
        }
        return out
    }
}
