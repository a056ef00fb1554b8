import Chat
import Seq2Seq
import Testing
@testable import TUI

/// The translation view's pane as text: a record of 3 target tokens over 4 source tokens in 2
/// layers × 2 heads, where head (l, h) of step t looks mostly at source token (t + l + h) % 4.
@Suite struct TranslationPaneTests {
    static let record: TranslationRecord = {
        var r = TranslationRecord(layers: 2, heads: 2, source: ["The", " cat", " sleeps", "."])
        for (t, piece) in ["El", " gato", " duerme"].enumerated() {
            var attention: [Float] = []
            for l in 0..<2 {
                for h in 0..<2 {
                    var row: [Float] = [0.1, 0.1, 0.1, 0.1]
                    row[(t + l + h) % 4] = 0.7
                    attention += row
                }
            }
            r.append(piece: piece, probability: [0.9, 0.5, 0.25][t], attention: attention)
        }
        return r
    }()

    func render(_ s: PaneSelection, width: Int = 46, height: Int = 20, ascii: Bool = false) -> (String, [String]) {
        let (title, rows) = TranslationPane.render(Self.record, selection: s, pending: "(waiting)", width: width, height: height, ascii: ascii)
        return (title, rows.map(\.plainText))
    }

    @Test func theRecordKeepsEveryLayerAndHeadOfEveryStep() {
        let r = Self.record
        #expect(Array(r.row(step: 0, layer: 0, head: 0)) == [0.7, 0.1, 0.1, 0.1])
        #expect(Array(r.row(step: 2, layer: 1, head: 1)) == [0.1, 0.1, 0.1, 0.1].enumerated().map { $0.offset == 0 ? 0.7 : $0.element })
        let map = r.map(layer: 1, head: 0)
        #expect(map.target == ["El", " gato", " duerme"] && map.strongestSource == [1, 2, 3])
    }

    /// The newest token, then one row per source token: its piece, a bar as long as its weight
    /// (the whole width is 1), and the weight.
    @Test func singleViewShowsTheNewestTokensWeightsOverTheSourceAsBars() {
        var s = PaneSelection(layers: 2, heads: 2, layer: 1)
        let (title, rows) = render(s)
        #expect(title == " L2/2 H1/2 live ")
        #expect(rows[0] == #"target " duerme" 3/3 p 0.25"#)
        // Step 2, layer 1, head 0: source token (2 + 1 + 0) % 4 = 3 is the strongest.
        #expect(rows[4].hasPrefix(#"".""#) && rows[4].hasSuffix("0.700"), "\(rows)")
        #expect(rows[1].hasPrefix(#""The""#) && rows[1].hasSuffix("0.100"))
        func barCells(_ row: String) -> Int { row.filter { "█▏▎▍▌▋▊▉".contains($0) }.count }
        // 46 cells: the widest label (9), a space, the bar (29), a space, 0.700 and a margin:
        // 0.7 × 29 = 20.3 cells (20 and an eighth block ▎), 0.1 × 29 = 2.9 (2 and ▉).
        #expect(barCells(rows[4]) == 21 && barCells(rows[1]) == 3, "\(rows)")
        #expect(rows[4].contains("████████████████████▎ ") && rows[1].contains("██▉ "), "\(rows)")
        // Another head, other weights; the same for an earlier token.
        _ = s.apply(alt: "l", tokens: 3)
        #expect(render(s).1[1].hasSuffix("0.700") && render(s).0 == " L2/2 H2/2 live ")
        _ = s.apply(alt: ",", tokens: 3)
        let (scrubbed, earlier) = render(s)
        #expect(scrubbed == " L2/2 H2/2 tok 2/3 " && earlier[0] == #"target " gato" 2/3 p 0.50"#)
        #expect(earlier[1].hasSuffix("0.100") && earlier[4].hasSuffix("0.700"), "step 1, layer 1, head 1: source (1 + 1 + 1) % 4 = 3")
    }

    /// The grid: the legend, the column numbers, a row per target token with its shades, the
    /// shown token marked.
    @Test func gridShowsTheWholeMatrixOfTheSelectedHead() {
        var s = PaneSelection(layers: 2, heads: 2)
        _ = s.apply(alt: "g", tokens: 3)
        let (title, rows) = render(s)
        #expect(title == " grid L1/2 H1/2 live ")
        #expect(rows[0] == #"source  1 "The"  2 " cat"  3 " sleeps"  4 ".""#)
        // A marker column, the labels (the widest and a space), then columns three wide, each
        // number over its shade's second cell, as `translate --alignment` prints them.
        #expect(rows[1] == "             1  2  3  4")
        // Layer 0, head 0: step t looks at source t. 0.1 of 0.7 is level 1 (░).
        #expect(rows[2] == #" "El"       ██ ░░ ░░ ░░"#)
        #expect(rows[3] == #" " gato"    ░░ ██ ░░ ░░"#)
        #expect(rows[4] == #">" duerme"  ░░ ░░ ██ ░░"#)
        _ = s.apply(alt: ",", tokens: 3)
        _ = s.apply(alt: "j", tokens: 3)
        let (scrubbed, other) = render(s)
        #expect(scrubbed == " grid L2/2 H1/2 tok 2/3 ")
        #expect(other[3] == #">" gato"    ░░ ░░ ██ ░░"#, "layer 1: step t looks at source t + 1")
    }

    /// A source too long for the rows: the strongest stay, in source order, and a row counts the rest.
    @Test func aLongSourceKeepsItsStrongestTokens() {
        let (_, rows) = render(PaneSelection(layers: 2, heads: 2), height: 4)
        #expect(rows.count == 4)
        // Step 2, layer 0, head 0: " sleeps" at 0.7; of the 0.1 ties the later, ".", comes first.
        #expect(rows[1].hasPrefix(#"" sleeps""#) && rows[1].hasSuffix("0.700") && rows[2].hasPrefix(#"".""#), "\(rows)")
        #expect(rows[3] == "… 2 weaker not shown", "\(rows)")
    }

    @Test(arguments: [(1, 1), (2, 1), (5, 3), (12, 4), (46, 20), (64, 40), (300, 100)])
    func everySizeFits(width: Int, height: Int) {
        for grid in [false, true] {
            for ascii in [false, true] {
                var s = PaneSelection(layers: 2, heads: 2)
                s.grid = grid
                let (_, rows) = TranslationPane.render(Self.record, selection: s, pending: "(waiting)", width: width, height: height, ascii: ascii)
                #expect(rows.count == height)
                for row in rows {
                    #expect(row.width <= width, "\(width)x\(height) \(row.plainText)")
                    if ascii { #expect(row.plainText.allSatisfy { $0.isASCII }, "\(row.plainText)") }
                }
            }
        }
    }

    @Test func beforeTheFirstTokenThePaneSaysWhatToDo() {
        let empty = TranslationRecord(layers: 2, heads: 2, source: ["a"])
        for record in [nil, empty] {
            let (title, rows) = TranslationPane.render(record, selection: PaneSelection(layers: 2, heads: 2, layer: 1), pending: "(type a sentence)", width: 30, height: 3, ascii: false)
            #expect(title == " cross-attention L2/2 H1/2 " && rows.map(\.plainText) == ["(type a sentence)", "", ""])
        }
    }
}

@Suite struct AlignmentGridTests {
    static let map = TranslationPaneTests.record.map(layer: 0, head: 0)

    /// Rows that do not fit: the window ending at the marked row; the legend goes first.
    @Test func aShortPaneShowsTheRowsUpToTheMarkedOne() {
        let rows = Self.map.paneRows(width: 40, height: 3, ascii: true, marked: 1).map(\.plainText)
        #expect(rows == ["             1  2  3  4", #" "El"       ## .. .. .."#, #">" gato"    .. ## .. .."#])
        let live = Self.map.paneRows(width: 40, height: 3, ascii: true, marked: 2).map(\.plainText)
        #expect(live[1].hasPrefix(#" " gato""#) && live[2].hasPrefix(#">" duerme""#))
    }

    /// The legend breaks between tokens, never inside a quoted piece.
    @Test func theLegendBreaksBetweenTokens() {
        let rows = Self.map.paneRows(width: 30, height: 9, ascii: false, marked: nil).map(\.plainText)
        #expect(rows[0] == #"source  1 "The"  2 " cat""#)
        #expect(rows[1] == #"3 " sleeps"  4 ".""#)
    }

    /// Narrower panes take narrower columns; too narrow, the row is squeezed into strips.
    @Test func narrowPanesNarrowTheColumns() {
        let two = Self.map.paneRows(width: 16, height: 5, ascii: true, marked: nil).map(\.plainText)
        #expect(two[1] == "       1 2 3 4" && two[2] == #" "El"  # . . ."#, "\(two)")
        let one = Self.map.paneRows(width: 9, height: 5, ascii: true, marked: nil).map(\.plainText)
        #expect(one[1] == "     1234" && one[2] == #" "El #..."#, "labels cut to a third: \(one)")
        // 7 cells: 2 for 4 tokens, each the strongest of two; no numbers.
        let squeezed = Self.map.paneRows(width: 7, height: 5, ascii: true, marked: nil).map(\.plainText)
        #expect(squeezed[2] == #" "El #."# && squeezed[3] == #" " g #."# && squeezed[4] == #" " d .#"#, "\(squeezed)")
        #expect(!squeezed.joined().contains("1"))
    }
}

@Suite struct TranslationStatusTests {
    let info = TranslationStatus(
        modelName: "mt-3ep", languages: ("en", "es"), decoding: "greedy", layer: 2, layers: 3, head: 0, heads: 4,
        tokensPerSecond: 812.46, tokens: (8, 9), streaming: true)

    @Test func theStatusBarNamesModelLanguagesDecodingHeadAndSpeed() {
        #expect(StatusText.translationLine(info, width: 200, ascii: false) == " ▶ mt-3ep │ en→es │ greedy │ L3/3 H1/4 │ 812.5 tok/s │ 8 → 9 tokens")
        #expect(StatusText.translationLine(info, width: 200, ascii: true) == " > mt-3ep | en->es | greedy | L3/3 H1/4 | 812.5 tok/s | 8 -> 9 tokens")
        // Short of room, the model's name goes first.
        #expect(StatusText.translationLine(info, width: 60, ascii: false).hasPrefix(" ▶ en→es │ greedy │ L3/3 H1/4"))
    }

    @Test func statusAndHelpAlwaysFit() {
        for width in 0...200 {
            #expect(TextWidth.of(StatusText.translationLine(info, width: width, ascii: false)) <= width)
            #expect(TextWidth.of(StatusText.helpLine(width: width, hints: StatusText.translationKeyHints)) <= width)
        }
        #expect(StatusText.helpLine(width: 300, hints: StatusText.translationKeyHints).hasSuffix("^C stop  ^D quit"))
    }
}

@Suite struct ShadeBarTests {
    @Test func barsAreAbsoluteWithEighthBlocks() {
        #expect(Shade.bar(0.5, width: 4, ascii: false) == "██  ")
        #expect(Shade.bar(0.3, width: 4, ascii: true) == "#   ")
        #expect(Shade.bar(1, width: 3, ascii: false) == "███")
        #expect(Shade.bar(0.0625, width: 2, ascii: false) == "▏ ", "one eighth of a cell")
        #expect(Shade.bar(.nan, width: 2, ascii: false) == "  " && Shade.bar(7, width: 2, ascii: true) == "##")
        #expect(Shade.bar(0.5, width: 0, ascii: false).isEmpty)
    }
}

/// The worker's decoding against the model's own: the view streams what `translate` prints.
@Suite struct TranslationDecodingTests {
    static func model() throws -> Seq2SeqModel {
        let config = Seq2SeqConfig(vocabSize: 23, contextLength: 16, width: 16, heads: 2, encoderLayers: 2, decoderLayers: 2, mlpWidth: 32)
        let model = try Seq2SeqModel(config: config, seed: 5)
        // Larger weights than the init's, so that the choices are not near-ties.
        model.weights.withMutableStorage { w in for i in w.indices { w[i] *= 3 } }
        return model
    }

    static let source: [Int32] = [5, 9, 3, 17, 8, 11]

    @Test func greedyStreamsTheTokensAndCrossAttentionOfSeq2SeqModelGreedy() throws {
        let model = try Self.model()
        let c = model.config
        var expected: [[Float]] = []
        let tokens = try model.greedy(sources: [Self.source], maxLength: 12) { _, decoder in
            expected.append((0..<c.decoderLayers).flatMap { decoder.crossAttention(layer: $0, row: 0) })
        }[0]
        var streamed: [Int32] = [], attention: [[Float]] = [], probabilities: [Double] = []
        let interrupted = try TranslationWorker.decode(model: model, source: Self.source, decoding: .greedy, maxLength: 12, cancel: CancellationFlag()) {
            streamed.append($0)
            probabilities.append($1)
            attention.append($2)
        }
        #expect(!interrupted && !tokens.isEmpty)
        #expect(streamed == tokens)
        #expect(attention == Array(expected.prefix(tokens.count)), "each token's step, every layer and head")
        #expect(attention.allSatisfy { $0.count == c.decoderLayers * c.heads * Self.source.count })
        #expect(probabilities.allSatisfy { $0 > 0 && $0 <= 1 })
    }

    @Test func beamSearchIsReplayedForItsCrossAttention() throws {
        let model = try Self.model()
        let best = try model.beamSearch(source: Self.source, beam: 3, lengthPenalty: 1, maxLength: 12)
        var streamed: [Int32] = [], attention: [[Float]] = []
        _ = try TranslationWorker.decode(model: model, source: Self.source, decoding: .beam(width: 3, lengthPenalty: 1), maxLength: 12, cancel: CancellationFlag()) {
            streamed.append($0)
            attention.append($2)
        }
        #expect(streamed == best)
        // Each head's weights over the 6 source tokens sum to 1.
        for step in attention {
            for row in stride(from: 0, to: step.count, by: Self.source.count) {
                #expect(abs(step[row..<(row + Self.source.count)].reduce(0, +) - 1) < 1e-4)
            }
        }
    }

    @Test func cancellingStopsBeforeTheNextToken() throws {
        let model = try Self.model()
        let cancel = CancellationFlag()
        var count = 0
        let interrupted = try TranslationWorker.decode(model: model, source: Self.source, decoding: .greedy, maxLength: 12, cancel: cancel) { _, _, _ in
            count += 1
            cancel.cancel()
        }
        #expect(interrupted && count == 1)
    }
}
