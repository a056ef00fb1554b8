/// The input line: an editable string of characters (grapheme clusters) and a cursor.
/// Pure value type; the UI maps keys onto these calls.
public struct InputLine: Equatable, Sendable {
    public private(set) var characters: [Character] = []
    /// 0 ... characters.count.
    public private(set) var cursor = 0

    public init(_ text: String = "") {
        characters = Array(text)
        cursor = characters.count
    }

    public var text: String { String(characters) }
    public var isEmpty: Bool { characters.isEmpty }

    /// Inserts text at the cursor. Control characters other than newline and tab are dropped
    /// (they cannot come from typing; a paste may carry them).
    public mutating func insert(_ text: String) {
        let clean = text.filter { c in
            c == "\n" || c == "\t" || !c.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
        }
        let new = Array(clean)
        // A combining mark typed after a character joins it: rebuild the clusters around the cursor.
        let before = String(characters[..<cursor]) + String(new)
        let after = characters[cursor...]
        let merged = Array(before)
        characters = merged + after
        cursor = merged.count
    }

    public mutating func backspace() {
        guard cursor > 0 else { return }
        characters.remove(at: cursor - 1)
        cursor -= 1
    }

    public mutating func deleteForward() {
        guard cursor < characters.count else { return }
        characters.remove(at: cursor)
    }

    public mutating func left() { cursor = max(0, cursor - 1) }
    public mutating func right() { cursor = min(characters.count, cursor + 1) }
    public mutating func home() { cursor = 0 }
    public mutating func end() { cursor = characters.count }
    public mutating func killToEnd() { characters.removeSubrange(cursor...) }

    /// Deletes the word before the cursor (and the spaces after it), like ^W in a shell.
    public mutating func deleteWordBack() {
        var i = cursor
        while i > 0 && characters[i - 1].isWhitespace { i -= 1 }
        while i > 0 && !characters[i - 1].isWhitespace { i -= 1 }
        characters.removeSubrange(i..<cursor)
        cursor = i
    }

    public mutating func set(_ text: String) {
        characters = Array(text)
        cursor = characters.count
    }

    /// What the input row shows in `width` cells after `prompt`: the line scrolled so the cursor
    /// stays visible, newlines shown as "↵" ("|" without UTF-8), and the cursor's column.
    public func view(width: Int, prompt: String, ascii: Bool) -> (text: String, cursorColumn: Int) {
        let promptWidth = TextWidth.of(prompt)
        let room = width - promptWidth - 1  // keep a cell for the cursor at the end
        guard room > 0 else { return (TextWidth.prefix(prompt, fitting: max(0, width)), max(0, min(width - 1, promptWidth))) }
        let shown: [Character] = characters.map { c in
            if c == "\n" { return ascii ? "|" : "↵" }
            if c == "\t" { return " " }
            if ascii && !c.isASCII { return "?" }
            return c
        }
        let widths = shown.map { max(0, TextWidth.of($0)) }
        // Start as far left as possible while the cursor fits.
        var start = 0
        var used = widths[..<cursor].reduce(0, +)
        while used > room && start < cursor {
            used -= widths[start]
            start += 1
        }
        var text = prompt
        var cells = 0
        var i = start
        while i < shown.count && cells + widths[i] <= room {
            text.append(shown[i])
            cells += widths[i]
            i += 1
        }
        return (text, promptWidth + used)
    }
}

/// Up/Down through earlier messages; the line being typed is kept as a draft.
public struct InputHistory: Sendable {
    public private(set) var entries: [String] = []
    private var index: Int?
    private var draft = ""

    public init() {}

    public mutating func add(_ text: String) {
        if entries.last != text { entries.append(text) }
        index = nil
    }

    /// The older entry, or nil at the oldest.
    public mutating func up(current: String) -> String? {
        guard !entries.isEmpty else { return nil }
        if index == nil {
            draft = current
            index = entries.count - 1
        } else if index! > 0 {
            index! -= 1
        } else {
            return nil
        }
        return entries[index!]
    }

    /// The newer entry, the draft past the newest, or nil when not browsing.
    public mutating func down() -> String? {
        guard let i = index else { return nil }
        if i + 1 < entries.count {
            index = i + 1
            return entries[i + 1]
        }
        index = nil
        return draft
    }
}
