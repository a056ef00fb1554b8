import Testing
@testable import TUI

@Suite struct LayoutTests {
    static let sizes: [(Int, Int)] = {
        var out: [(Int, Int)] = [(1, 1), (0, 0), (10, 20), (20, 5), (19, 5), (20, 4), (30, 8), (71, 24), (72, 24), (80, 24), (300, 100)]
        for w in stride(from: 1, through: 300, by: 7) {
            for h in stride(from: 1, through: 100, by: 3) { out.append((w, h)) }
        }
        return out
    }()

    /// Every rectangle lies on the screen, none overlap, and together they cover every row.
    @Test func everySizeLaysOutInsideTheScreen() {
        for (w, h) in Self.sizes {
            let l = ScreenLayout(width: w, height: h)
            #expect(l.tooSmall == (w < ScreenLayout.minimumWidth || h < ScreenLayout.minimumHeight), "\(w)x\(h)")
            if l.tooSmall {
                #expect(l.tooSmallNotice.count <= h && l.tooSmallNotice.allSatisfy { TextWidth.of($0) <= w })
                continue
            }
            var rects = [l.transcript, l.status, l.input, l.help]
            if let p = l.pane { rects.append(p) }
            for r in rects {
                #expect(!r.isEmpty && r.row >= 0 && r.col >= 0 && r.row + r.height <= h && r.col + r.width <= w, "\(w)x\(h) \(r)")
            }
            for i in rects.indices {
                for j in rects.indices where i < j { #expect(!rects[i].intersects(rects[j]), "\(w)x\(h)") }
            }
            let cells = rects.reduce(0) { $0 + $1.width * $1.height }
            #expect(cells == w * h, "\(w)x\(h): every cell belongs to one part")
        }
    }

    @Test func thePaneHidesWhenNarrowOrAskedTo() {
        #expect(ScreenLayout(width: 71, height: 30).pane == nil)
        #expect(ScreenLayout(width: 30, height: 8).pane == nil)
        let wide = ScreenLayout(width: 120, height: 30)
        #expect(wide.pane != nil && wide.pane!.width >= 30 && wide.transcript.width >= 60)
        #expect(ScreenLayout(width: 120, height: 30, showPane: false).pane == nil)
        #expect(ScreenLayout(width: 300, height: 100).pane!.width == 64)
    }

    @Test func bottomRowsAreStatusInputHelp() {
        let l = ScreenLayout(width: 30, height: 8)
        #expect(!l.tooSmall)
        #expect(l.status.row == 5 && l.input.row == 6 && l.help.row == 7)
        #expect(l.transcript.height == 5 && l.transcript.width == 30)
        #expect(ScreenLayout(width: 10, height: 20).tooSmallNotice == ["terminal", "too small:", "10x20,", "need 20x5"])
        #expect(ScreenLayout(width: 1, height: 1).tooSmallNotice == ["t"])
    }
}

@Suite struct TextWidthTests {
    @Test(arguments: [
        ("abc", 3), ("", 0), ("日本語", 6), ("e\u{301}", 1), ("👍", 2), ("👩\u{200D}💻", 4), ("한국", 4),
        ("ｱ", 1), ("Ａ", 2), ("\u{FE0F}", 0), ("a\tb", 2), ("❤\u{FE0F}", 1),
    ])
    func knownWidths(text: String, width: Int) {
        #expect(TextWidth.of(text) == width, "\(text.unicodeScalars.map { String($0.value, radix: 16) })")
    }

    @Test func prefixNeverSplitsACharacter() {
        #expect(TextWidth.prefix("日本語", fitting: 3) == "日")
        #expect(TextWidth.prefix("e\u{301}e\u{301}", fitting: 1) == "e\u{301}")
        #expect(TextWidth.prefix("abc", fitting: 0) == "")
        #expect(TextWidth.asciiOnly("héllo 日本") == "h?llo ??")
    }
}

@Suite struct WrapTests {
    @Test func wordsWrapAtSpaces() {
        #expect(wrap([Segment("the quick brown fox")], width: 10).map(\.plainText) == ["the quick", "brown fox"])
        #expect(wrap([Segment("abcdefghij")], width: 4).map(\.plainText) == ["abcd", "efgh", "ij"])
        #expect(wrap([Segment("a\nb\n\nc")], width: 5).map(\.plainText) == ["a", "b", "", "c"])
        #expect(wrap([Segment("")], width: 5).map(\.plainText) == [""])
        #expect(wrap([Segment("abc")], width: 0).isEmpty)
        #expect(wrap([Segment("  indented")], width: 20).map(\.plainText) == ["  indented"])
    }

    @Test func stylesSurviveTheWrap() {
        let rows = wrap([Segment("you> ", .userLabel), Segment("hello world", .user)], width: 8)
        #expect(rows.map(\.plainText) == ["you>", "hello", "world"])
        #expect(rows[0][0].style == .userLabel && rows[1][0].style == .user)
    }

    @Test func wideCombiningAndZWJCharactersStayWholeAndFit() {
        let text = "日本語のテキスト e\u{301}te\u{301} 👩\u{200D}💻👍🏽 a\u{20DD} ﷽ Ｗｉｄｅ"
        for width in 1...24 {
            let rows = wrap([Segment(text)], width: width)
            for row in rows {
                let w = row.width
                // A character wider than the row gets a row of its own (clipped when drawn).
                #expect(w <= width || row.plainText.count == 1, "width \(width): \(row.plainText)")
            }
            let joined = rows.map(\.plainText).joined()
            #expect(joined.filter { $0 != " " } == text.filter { $0 != " " }, "width \(width)")
        }
    }

    /// Random strings from a mixed alphabet: no row ever exceeds the width, no character is lost.
    @Test func randomTextNeverOverflows() {
        let alphabet: [Character] = ["a", "b", " ", " ", "日", "é", "e\u{301}", "👍", "👩\u{200D}💻", "\n", "x", "y", "z", "-"]
        var rng = SplitMix(seed: 7)
        for trial in 0..<300 {
            let n = Int(rng.next() % 80)
            let text = String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            let width = 2 + Int(rng.next() % 30)
            let rows = wrap([Segment(text)], width: width)
            for row in rows { #expect(row.width <= width || row.plainText.count == 1, "trial \(trial): \(row.plainText)") }
            #expect(rows.map(\.plainText).joined().filter { $0 != " " } == text.filter { $0 != " " && $0 != "\n" }, "trial \(trial)")
        }
    }
}

/// A tiny deterministic generator for the property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
