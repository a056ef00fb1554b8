/// The input line: an editable string of characters (grapheme clusters) and a cursor.
/// Pure value type; the UI maps keys onto these calls.
///
/// Stored as a gap buffer — the characters before the cursor, and those after it in reverse —
/// so that typing or pasting at the cursor, wherever it is, costs the same for every key: a
/// 100 KB paste arrives as 100,000 keys, and copying the line per key made it quadratic.
public struct InputLine: Equatable, Sendable {
    private var before: [Character] = []
    /// The characters after the cursor, last one first.
    private var afterReversed: [Character] = []

    public init(_ text: String = "") {
        before = Array(text)
    }

    /// The whole line (built on each call: for drawing and tests, not per key).
    public var characters: [Character] { before + afterReversed.reversed() }
    /// 0 ... characters.count.
    public var cursor: Int { before.count }
    public var text: String { String(characters) }
    public var isEmpty: Bool { before.isEmpty && afterReversed.isEmpty }

    /// Inserts text at the cursor. Control characters other than newline and tab are dropped
    /// (they cannot come from typing; a paste may carry them).
    public mutating func insert(_ text: String) {
        let clean = text.filter { c in
            c == "\n" || c == "\t" || !c.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
        }
        guard !clean.isEmpty else { return }
        // A combining mark typed after a character joins it: re-cluster the character before the
        // cursor with the new text (only it: clusters never reach further back).
        guard let last = before.popLast() else {
            before.append(contentsOf: clean)
            return
        }
        before.append(contentsOf: String(last) + clean)
    }

    public mutating func backspace() { _ = before.popLast() }
    public mutating func deleteForward() { _ = afterReversed.popLast() }

    public mutating func left() { if let c = before.popLast() { afterReversed.append(c) } }
    public mutating func right() { if let c = afterReversed.popLast() { before.append(c) } }
    public mutating func home() {
        afterReversed.append(contentsOf: before.reversed())
        before.removeAll(keepingCapacity: true)
    }
    public mutating func end() {
        before.append(contentsOf: afterReversed.reversed())
        afterReversed.removeAll(keepingCapacity: true)
    }
    public mutating func killToEnd() { afterReversed.removeAll() }

    /// Deletes the word before the cursor (and the spaces after it), like ^W in a shell.
    public mutating func deleteWordBack() {
        while let c = before.last, c.isWhitespace { before.removeLast() }
        while let c = before.last, !c.isWhitespace { before.removeLast() }
    }

    public mutating func set(_ text: String) {
        before = Array(text)
        afterReversed = []
    }

    /// What the input row shows in `width` cells after `prompt`: the line scrolled so the cursor
    /// stays visible, newlines shown as "↵" ("|" without UTF-8), and the cursor's column.
    public func view(width: Int, prompt: String, ascii: Bool) -> (text: String, cursorColumn: Int) {
        let promptWidth = TextWidth.of(prompt)
        let room = width - promptWidth - 1  // keep a cell for the cursor at the end
        guard room > 0 else { return (TextWidth.prefix(prompt, fitting: max(0, width)), max(0, min(width - 1, promptWidth))) }
        let characters = self.characters, cursor = self.cursor
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
