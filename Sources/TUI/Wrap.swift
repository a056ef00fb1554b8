/// Word wrap of styled text into rows of at most `width` cells.
///
/// Breaks after spaces where it can; a word longer than the row is cut between characters
/// (never inside a grapheme cluster); "\n" always starts a new row; spaces carried over a soft
/// break are dropped; a character wider than the row gets a row of its own (clipped when drawn).
///
///     wrap([Segment("the quick brown fox")], width: 10).map(\.plainText) == ["the quick", "brown fox"]
///
/// - Complexity: O(n) in the characters of the text.
public func wrap(_ segments: [Segment], width: Int) -> [StyledLine] {
    guard width > 0 else { return [] }
    var wrapper = Wrapper(width: width)
    for segment in segments {
        for c in segment.text { wrapper.add(c, segment.style) }
    }
    return wrapper.finish()
}

/// The wrapping state machine behind `wrap`: characters go in one at a time, rows come out. A
/// streaming reply keeps one and feeds it only the new tokens; `rows()` reads the rows so far
/// without ending the wrap.
struct Wrapper: Sendable {
    let width: Int
    var rows: [StyledLine] = []
    /// The row being filled: character, style, cells.
    var cells: [(Character, Style, Int)] = []
    var used = 0
    /// Index in `cells` just after the last space: where a soft break may go.
    var breakAt: Int?
    /// The current row began at a soft break (so leading spaces are dropped).
    var soft = false

    init(width: Int) { self.width = width }

    mutating func add(_ c: Character, _ style: Style) {
        if c == "\n" || c == "\r\n" {
            emit(cells[...])
            reset(soft: false)
            return
        }
        let c: Character = c == "\t" ? " " : c
        let w = TextWidth.of(c)
        if c == " " && soft && cells.isEmpty { return }
        if used + w > width && !cells.isEmpty {
            if c == " " {
                emit(cells[...])
                reset(soft: true)
                return
            }
            if let b = breakAt {
                var head = cells[..<b]
                while let last = head.last, last.0 == " " { head = head.dropLast() }
                emit(head)
                cells.removeSubrange(..<b)
            } else {
                emit(cells[...])
                cells.removeAll(keepingCapacity: true)
            }
            used = cells.reduce(0) { $0 + $1.2 }
            breakAt = nil
            soft = true
            if used + w > width && !cells.isEmpty {
                // The carried-over word and the new character still do not fit: cut the word.
                emit(cells[...])
                reset(soft: true)
            }
        }
        cells.append((c, style, w))
        used += w
        if c == " " { breakAt = cells.count }
    }

    mutating func finish() -> [StyledLine] {
        if !cells.isEmpty || rows.isEmpty || !soft { emit(cells[...]) }
        return rows
    }

    mutating func add(_ segment: Segment) {
        for c in segment.text { add(c, segment.style) }
    }

    private mutating func reset(soft: Bool) {
        cells.removeAll(keepingCapacity: true)
        used = 0
        breakAt = nil
        self.soft = soft
    }

    private mutating func emit(_ part: ArraySlice<(Character, Style, Int)>) {
        var line: StyledLine = []
        for (c, style, _) in part {
            if let last = line.last, last.style == style {
                line[line.count - 1].text.append(c)
            } else {
                line.append(Segment(String(c), style))
            }
        }
        rows.append(line)
    }
}

/// `wrap` for text that arrives in pieces (a streaming reply): `add` each piece, read `rows()`
/// at any time; the rows equal `wrap` of the pieces joined (equal styles merged), at a cost per
/// piece rather than per whole text. The last character is held back until the next piece,
/// which may continue its grapheme cluster (a combining mark as a token of its own).
struct StreamingWrapper: Sendable {
    private var wrapper: Wrapper
    private var pending: Segment?

    init(width: Int) { wrapper = Wrapper(width: width) }

    mutating func add(_ segment: Segment) {
        guard !segment.text.isEmpty else { return }
        var segment = segment
        if let held = pending {
            if held.style == segment.style {
                segment.text = held.text + segment.text
            } else {
                wrapper.add(held)
            }
            pending = nil
        }
        let last = segment.text.index(before: segment.text.endIndex)
        wrapper.add(Segment(String(segment.text[..<last]), segment.style))
        pending = Segment(String(segment.text[last...]), segment.style)
    }

    func rows() -> [StyledLine] {
        var copy = wrapper
        if let held = pending { copy.add(held) }
        return copy.finish()
    }
}
