import Foundation
import GPT
import Testing
@testable import TUI

@Suite struct ExplainPaneTests {
    static let explanation = AttentionExplanation(
        layer: 1, head: 2, position: 2, tokenCount: 5, query: [0.5, -1, 2, 0.25],
        keys: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]], values: [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]],
        scores: [0.5, -1, 2], scale: 0.5, scaled: [0.25, -0.5, 1], weights: [0.2, 0.1, 0.7], output: [2.5, 2.5, 2.5, 2.5])
    static let pieces = ["<|user|>", "hi", " there", "\n", "!"]

    @Test func showsTheStepsAndTheStrongestPositionsFirst() {
        let (title, rows) = ExplainPane.render(
            Self.explanation, pending: "", pieces: Self.pieces, layers: 4, heads: 4, scrub: nil, width: 44, height: 9, ascii: false)
        #expect(title == " L2/4 H3/4 explain live ")
        let text = rows.map { $0.map { (s: Segment) in s.text }.joined() }
        #expect(rows.count == 9)
        #expect(text[0] == "q @3 \" there\" d 4")
        #expect(text[1].hasPrefix("q.k → x0.500 → mask → softmax → w.v"))
        // Strongest first: position 3 (0.7), then 1 (0.2), then 2 (0.1).
        #expect(text[3] == "   3    2.0   1.00 0.700 \" there\"")
        #expect(text[4].hasPrefix("   1    0.5   0.25 0.200"))
        #expect(text[5].hasPrefix("   2   -1.0  -0.50 0.100"))
        #expect(text.contains("mask: 4–5 come later, weight 0"))
        #expect(text.contains("out 2.50 2.50 2.50 2.50"))
    }

    @Test func theLastTokenHasNothingMaskedAndASCIIStaysASCII() {
        let last = AttentionExplanation(
            layer: 0, head: 0, position: 0, tokenCount: 1, query: [1], keys: [[1]], values: [[4]], scores: [1], scale: 1,
            scaled: [1], weights: [1], output: [4])
        let (title, rows) = ExplainPane.render(last, pending: "", pieces: ["é"], layers: 1, heads: 1, scrub: (3, 9), width: 30, height: 6, ascii: true)
        #expect(title == " L1/1 H1/1 explain tok 3/9 ")
        let text = rows.map { $0.map { (s: Segment) in s.text }.joined() }
        #expect(text.contains("mask: none (the query is last)"))
        #expect(text.allSatisfy { $0.allSatisfy(\.isASCII) })
    }

    @Test func pendingAndTinySizesNeverTrap() {
        let (_, rows) = ExplainPane.render(nil, pending: "(waiting for a reply)", pieces: [], layers: 2, heads: 2, scrub: nil, width: 10, height: 2, ascii: false)
        #expect(rows.count == 2 && rows[0].map { (s: Segment) in s.text }.joined() == "(waiting f")
        for (w, h) in [(0, 0), (1, 1), (3, 2), (80, 1)] {
            let (_, r) = ExplainPane.render(Self.explanation, pending: "", pieces: Self.pieces, layers: 4, heads: 4, scrub: nil, width: w, height: h, ascii: false)
            #expect(r.count == (w > 0 ? h : 0))
        }
    }
}

@Suite struct ExplainWorkerTests {
    static func model() -> GPTModel {
        GPTModel(weights: GPTWeights(config: GPTConfig(vocabSize: 50, contextLength: 32, layers: 2, heads: 2, width: 16), seed: 3, std: 0.2))
    }

    /// The UI thread never runs the forward: it asks, gets nil ("computing"), and finds the
    /// result on a later frame — the same numbers `explainAttention` gives.
    @Test func answersOffTheCallingThreadWithTheSameNumbers() throws {
        let model = Self.model()
        let worker = ExplainWorker(model: model)
        let request = ExplainWorker.Request(context: [3, 1, 4, 1, 5, 9, 2, 6], layer: 1, head: 1, position: 5)
        #expect(worker.outcome(for: request, start: false) == nil)
        #expect(!worker.hasNews)
        var outcome = worker.outcome(for: request)
        for _ in 0..<2000 where outcome == nil {
            usleep(1000)
            outcome = worker.outcome(for: request)
        }
        let expected = try GPTState(model: model).explainAttention(tokens: request.context, layer: 1, head: 1, position: 5)
        #expect(outcome == .done(expected))
        #expect(!worker.hasNews, "taking the result clears the news")
        // Without `start`, another request is not computed.
        let other = ExplainWorker.Request(context: request.context, layer: 0, head: 0, position: 7)
        #expect(worker.outcome(for: other, start: false) == nil)
        usleep(50_000)
        #expect(worker.outcome(for: other, start: false) == nil)
    }
}
