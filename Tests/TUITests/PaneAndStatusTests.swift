import GPT
import Sampling
import Testing
@testable import TUI

@Suite struct ShadeTests {
    @Test func levelsAreRelativeToTheMaximum() {
        #expect(Shade.level(0, maximum: 0.5) == 0)
        #expect(Shade.level(0.5, maximum: 0.5) == 4)
        #expect(Shade.level(0.26, maximum: 0.5) == 2)
        #expect(Shade.level(.nan, maximum: 1) == 0)
        #expect(Shade.level(1, maximum: 0) == 0)
    }

    @Test func stripsSqueezeByTheStrongestWeight() {
        let w: [Float] = [0, 0, 0, 1, 0, 0, 0, 0]
        #expect(Shade.stripLevels(w[...], width: 4) == [0, 4, 0, 0])
        #expect(Shade.stripLevels(w[...], width: 100).count == 8)
        #expect(Shade.strip(w[...], width: 8, ascii: true) == "   #    ")
        #expect(Shade.strip(w[...], width: 8, ascii: false) == "   █    ")
        #expect(Shade.stripLevels([][...], width: 3).isEmpty)
        #expect(Shade.stripLevels(w[...], width: 0).isEmpty)
    }

    @Test func asciiFallbackIsASCII() {
        for level in -1...6 { #expect(Shade.character(level: level, ascii: true).isASCII) }
        let b = BorderGlyphs.forTerminal(ascii: true)
        let glyphs = [b.horizontal, b.vertical, b.topLeft, b.topRight, b.bottomLeft, b.bottomRight]
        #expect(glyphs.allSatisfy { $0.isASCII })
    }
}

@Suite struct StatusTests {
    let info = StatusInfo(modelName: "chitchat", settings: SamplingSettings(), tokensPerSecond: 41.25, contextUsed: 120, contextLength: 256, streaming: true)

    @Test func theStatusBarShowsEverySettingWhenThereIsRoom() {
        let line = StatusText.statusLine(info, width: 200)
        for part in ["chitchat", "temp 0.80", "top-k 40", "top-p 0.95", "min-p 0.05", "typ 1.00", "rep 1.10/64", "freq 0.00", "pres 0.00", "41.3 tok/s", "ctx 120/256", "▶"] {
            #expect(line.contains(part), "\(part) in \(line)")
        }
        let compact = StatusText.statusLine(info, width: 100)
        #expect(compact.contains("T0.80 k40 p0.95 m0.05"), "\(compact)")
    }

    @Test func statusAndHelpAlwaysFit() {
        for width in 0...300 {
            #expect(TextWidth.of(StatusText.statusLine(info, width: width)) <= width)
            #expect(TextWidth.of(StatusText.helpLine(width: width)) <= width)
        }
        #expect(StatusText.helpLine(width: 300).contains("^D quit"))
        #expect(StatusText.helpLine(width: 30).hasPrefix(" F1 help"))
    }

    @Test func numbersAreFormattedFixed() {
        #expect(StatusText.f2(0.9000000001) == "0.90")
        #expect(StatusText.f2(1.005) == "1.01" || StatusText.f2(1.005) == "1.00")
        #expect(StatusText.f2(12) == "12.00")
        #expect(StatusText.f3(0.0004) == "0.000" && StatusText.f3(0.4125) == "0.413" && StatusText.f3(1) == "1.000")
    }
}

@Suite struct AttentionPaneTests {
    /// 2 layers, 2 heads over 6 tokens; head (l, h) puts most weight on token 2l+h.
    static let snapshot: AttentionSnapshot = {
        var w: [Float] = []
        for l in 0..<2 {
            for h in 0..<2 {
                var row = [Float](repeating: 0.04, count: 6)
                row[2 * l + h] = 0.8
                w += row
            }
        }
        return AttentionSnapshot(layers: 2, heads: 2, length: 6, weights: w)
    }()
    static let pieces = ["<|user|>", "hi", " there", "\n", "<|bot|>", " hello"]

    func render(layer: Int = 0, head: Int = 0, grid: Bool = false, width: Int = 40, height: Int = 12, ascii: Bool = false) -> (String, [StyledLine]) {
        AttentionPane.render(.init(snapshot: Self.snapshot, pieces: Self.pieces, layer: layer, head: head, grid: grid),
                             width: width, height: height, ascii: ascii)
    }

    @Test func singleViewNamesLayerAndHeadAndTheStrongestToken() {
        let (title, rows) = render(layer: 1, head: 0)
        #expect(title.contains("L2/2 H1/2"))
        #expect(rows[0].plainText.contains("0.800 @2 \" there\""), "\(rows.map(\.plainText))")
        #expect(rows.contains { $0.plainText.contains("<|user|>hi there↵<|bot|> hello") })
        let other = render(layer: 0, head: 1)
        #expect(other.0.contains("L1/2 H2/2") && other.1[0].plainText.contains("@1 \"hi\""))
    }

    @Test func gridShowsEveryLayerAndHead() {
        let (title, rows) = render(grid: true)
        #expect(title.contains("grid 2x2"))
        let texts = rows.map(\.plainText)
        #expect(texts[0].hasPrefix(">L1H1 █") && texts[1].hasPrefix(" L1H2  █") && texts[3].hasPrefix(" L2H2    █"))
        // Too many rows for the height: a count of the rest.
        let (_, small) = render(grid: true, height: 2)
        #expect(small[1].plainText.contains("3 more"))
    }

    @Test(arguments: [(1, 1), (2, 1), (5, 3), (40, 12), (64, 40), (300, 100)])
    func everySizeFits(width: Int, height: Int) {
        for grid in [false, true] {
            for ascii in [false, true] {
                let (_, rows) = render(grid: grid, width: width, height: height, ascii: ascii)
                #expect(rows.count == height)
                for row in rows {
                    #expect(row.width <= width)
                    let allASCII = row.plainText.allSatisfy { $0.isASCII }
                    if ascii { #expect(allASCII, "\(row.plainText)") }
                }
            }
        }
    }

    @Test func noSnapshotYet() {
        let (_, rows) = AttentionPane.render(.init(snapshot: nil, pieces: [], layer: 0, head: 0, grid: false), width: 30, height: 3, ascii: false)
        #expect(rows[0].plainText == "(waiting for a reply)" && rows.count == 3)
    }
}

@Suite struct InputTests {
    @Test func utf8Editing() {
        var line = InputLine()
        line.insert("héllo 👩‍💻")
        #expect(line.cursor == 7 && line.text == "héllo 👩‍💻")
        line.backspace()
        #expect(line.text == "héllo ")
        line.home()
        line.right()
        line.deleteForward()
        #expect(line.text == "hllo ")
        line.insert("e")
        line.insert("\u{301}")  // a combining accent joins the character before it
        #expect(line.text == "he\u{301}llo " && line.cursor == 2)
        line.end()
        line.insert("big world")
        line.deleteWordBack()
        #expect(line.text == "he\u{301}llo big ")
        line.home()
        line.killToEnd()
        #expect(line.isEmpty)
        line.insert("a\u{1B}[31mb\nc")  // controls from a paste are dropped, newlines kept
        #expect(line.text == "a[31mb\nc")
    }

    @Test func viewKeepsTheCursorVisible() {
        var line = InputLine(String(repeating: "x", count: 100))
        var v = line.view(width: 20, prompt: "> ", ascii: false)
        #expect(TextWidth.of(v.text) <= 20 && v.cursorColumn == 19)
        line.home()
        v = line.view(width: 20, prompt: "> ", ascii: false)
        #expect(v.cursorColumn == 2 && v.text.hasPrefix("> xxx"))
        let multi = InputLine("one\ntwo").view(width: 30, prompt: "> ", ascii: false)
        #expect(multi.text == "> one↵two")
        #expect(InputLine("日本").view(width: 30, prompt: "> ", ascii: true).text == "> ??")
        for width in 0...6 { #expect(TextWidth.of(InputLine("日本語テキスト").view(width: width, prompt: "> ", ascii: false).text) <= max(width, 0)) }
    }

    @Test func historyBrowsesAndKeepsTheDraft() {
        var h = InputHistory()
        h.add("first")
        h.add("second")
        #expect(h.up(current: "draft") == "second")
        #expect(h.up(current: "") == "first")
        #expect(h.up(current: "") == nil)
        #expect(h.down() == "second")
        #expect(h.down() == "draft")
        #expect(h.down() == nil)
    }
}

@Suite struct TranscriptViewTests {
    @Test func modelOutputIsInertAndTurnsAreLabelled() {
        var t = TranscriptView(ascii: false)
        t.add(.user, "hi")
        t.add(.bot, "")
        t.appendToken("\u{1B}]0;owned\u{07}", probability: 0.9)
        t.appendToken(" ok\r", probability: 0.1)
        t.markLastInterrupted()
        let rows = t.rows(width: 60).map(\.plainText)
        #expect(rows == ["you> hi", "", "bot> ␛]0;owned␇ ok␍ [interrupted]"])
        #expect(!rows.joined().unicodeScalars.contains { $0.value < 0x20 })
    }

    @Test func colouringByProbability() {
        var t = TranscriptView(ascii: false)
        t.add(.bot, "")
        t.appendToken("sure", probability: 0.95)
        t.appendToken(" maybe", probability: 0.01)
        #expect(t.rows(width: 40)[0].map(\.style) == [.botLabel, .bot])
        t.colourByProbability = true
        #expect(t.rows(width: 40)[0].map(\.style) == [.botLabel, .probability(4), .probability(0)])
    }

    /// A streaming reply wraps only its new tokens, and the rows equal wrapping the whole reply
    /// at once after every token: random pieces with spaces, newlines, wide characters, and
    /// combining marks arriving as tokens of their own; widths from 1; colouring on and off.
    @Test func aStreamingReplyWrapsLikeTheWholeTextAfterEveryToken() {
        let alphabet: [String] = ["", "a", "bc", " ", "  ", "\n", "世界", "e", "\u{301}", "\u{0308}x", "👩‍👩‍👧", "long-word-", "🇫🇷", "\t"]
        var rng = SplitMix(seed: 9)
        for trial in 0..<150 {
            let width = 1 + Int(rng.next() % 30)
            var live = TranscriptView(ascii: false)
            live.colourByProbability = trial % 3 == 0
            live.add(.bot, "")
            for _ in 0..<(1 + Int(rng.next() % 40)) {
                let piece = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                live.appendToken(piece, probability: Double(rng.next() % 100) / 100)
                var whole = TranscriptView(ascii: false)
                whole.colourByProbability = live.colourByProbability
                whole.add(.bot, "")
                for p in live.last!.pieces { whole.appendToken(p.text, probability: p.probability!) }
                let expected = wrap(whole.segments(of: whole.last!), width: width)
                #expect(live.rows(width: width) == expected, "trial \(trial) width \(width): \(live.last!.pieces.map(\.text))")
            }
        }
    }

    /// Tokens go to the reply even when notices arrive while it streams: one inserted above it
    /// (the context was trimmed for it) and one added below it (/help); /regen finds it.
    @Test func noticesDuringAReplyDoNotSwallowItsTokens() {
        var t = TranscriptView(ascii: false)
        t.add(.user, "hi")
        t.add(.bot, "")
        t.addNoticeBeforeReply("(trimmed)")
        t.appendToken("hello", probability: 0.9)
        t.add(.notice, "help text")
        t.appendToken(" there", probability: 0.9)
        t.appendToken("", probability: 0.5)  // a partial character: nothing to show yet
        t.markLastInterrupted()
        #expect(t.rows(width: 60).map(\.plainText) == ["you> hi", "", "(trimmed)", "", "bot> hello there [interrupted]", "", "help text"])
        #expect(t.hasReply)
        t.removeLastReply()
        #expect(t.rows(width: 60).map(\.plainText) == ["you> hi", "", "(trimmed)", "", "help text"])
        #expect(!t.hasReply)
    }

    @Test func scrollingWindow() {
        var t = TranscriptView(ascii: true)
        for i in 0..<10 { t.add(.notice, "line \(i) é") }
        let bottom = t.window(width: 20, count: 3, scrolledBack: 0)
        #expect(bottom.rows.map(\.plainText) == ["line 8 ?", "", "line 9 ?"])
        let top = t.window(width: 20, count: 3, scrolledBack: 1000)
        #expect(top.rows[0].plainText == "line 0 ?" && top.scrolledBack == 16)
    }
}


@Suite struct GroupedQueryPaneTests {
    /// Six query heads over two key/value heads: every query head is shown, with its group.
    @Test func everyQueryHeadIsShownWithTheKeyValueHeadItReads() {
        let snapshot = AttentionSnapshot(layers: 1, heads: 6, kvHeads: 2, length: 2, weights: Array(repeating: 0.5, count: 12))
        for head in 0..<6 {
            let (title, _) = AttentionPane.render(
                .init(snapshot: snapshot, pieces: ["a", "b"], layer: 0, head: head, grid: false), width: 40, height: 8, ascii: false)
            #expect(title == " L1/1 H\(head + 1)/6 kv\(head / 3 + 1)/2 live ", "\(title)")
        }
        let (grid, rows) = AttentionPane.render(.init(snapshot: snapshot, pieces: ["a", "b"], layer: 0, head: 0, grid: true), width: 40, height: 8, ascii: false)
        #expect(grid.contains("grid 1x6") && rows.count >= 6)
    }

    @Test func multiHeadAttentionTitlesNameNoGroup() {
        let snapshot = AttentionSnapshot(layers: 1, heads: 2, length: 1, weights: [1, 1])
        let (title, _) = AttentionPane.render(.init(snapshot: snapshot, pieces: ["a"], layer: 0, head: 1, grid: false), width: 40, height: 8, ascii: false)
        #expect(title == " L1/1 H2/2 live ")
    }
}
