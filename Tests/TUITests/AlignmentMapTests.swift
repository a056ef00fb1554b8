import Testing
@testable import TUI

@Suite struct AlignmentMapTests {
    /// Three target tokens over four source tokens; each row has one clear peak.
    static let map = AlignmentMap(
        source: ["The", " cat", " sleeps", "."], target: ["El", " gato", " duerme"],
        weights: [
            0.70, 0.20, 0.05, 0.05,
            0.10, 0.80, 0.05, 0.05,
            0.02, 0.08, 0.40, 0.50,
        ])

    @Test func eachRowIsShadedRelativeToItsStrongestSourceToken() {
        let lines = Self.map.text(ascii: true).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == #"source  1 "The"  2 " cat"  3 " sleeps"  4 ".""#)
        #expect(lines[1] == "            1  2  3  4")  // labels take 10 columns: the widest, quoted, and a space
        // 0.70 → #, 0.20 → level round(0.2/0.7·4) = 1 → ".", 0.05 → 0 → blank (trailing blanks trimmed).
        #expect(lines[2] == #""El"       ## .."#)
        #expect(lines[3] == #"" gato"    .. ##"#)
        // 0.08 of 0.50 → level 1 → "."; 0.40 → level 3 → "+".
        #expect(lines[4] == #"" duerme"     .. ++ ##"#)
        #expect(lines[5] == "")
    }

    @Test func unicodeShadesAndTheColumnsLineUp() {
        let lines = Self.map.text(ascii: false).split(separator: "\n").map(String.init)
        #expect(lines[2] == #""El"       ██ ░░"#)
        // A cell's blocks sit under the last two characters of its column's number field.
        let header = Array(lines[1]), row = Array(lines[3])
        let column2 = header.lastIndex(of: "2")!
        #expect(row[column2] == "█" && row[column2 - 1] == "█")
    }

    @Test func strongestSourceIsTheHardAlignment() {
        #expect(Self.map.strongestSource == [0, 1, 3])
    }

    /// A token with a newline or an escape cannot break the grid or drive the terminal.
    @Test func controlCharactersInTokensAreMadeVisible() {
        let map = AlignmentMap(source: ["a\nb", "\u{1B}[2J"], target: ["\"q\""], weights: [1, 0])
        let text = map.text(ascii: false)
        #expect(!text.contains("\u{1B}"))
        #expect(text.hasPrefix("source  1 \"a↵b\"  2 \"␛[2J\""))
        #expect(text.split(separator: "\n").count == 3)
        #expect(map.text(ascii: true).hasPrefix("source  1 \"a|b\"  2 \"?[2J\""))
    }
}
