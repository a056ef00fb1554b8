import Testing
@testable import GPT

/// `GPTState.explainAttention`: the steps it shows are the attention generation computes.
@Suite struct ExplainTests {
    static let tokens = ForwardConsistencyTests.tokens

    @Test(arguments: GPTConfig.Positional.allCases)
    func weightsEqualTheCaptureOfGeneration(positional: GPTConfig.Positional) throws {
        let model = ForwardConsistencyTests.model(positional)
        let c = model.config
        let T = Self.tokens.count
        var full = [Float](repeating: 0, count: c.layers * c.heads * T * T)
        try full.withUnsafeMutableBufferPointer { _ = try GPTState(model: model, chunkSize: 5).prefill(Self.tokens, fullAttention: $0) }
        let state = GPTState(model: model, chunkSize: 5)
        for (l, h, p) in [(0, 0, 0), (1, 2, 7), (0, 1, T - 1), (1, 0, T - 1)] {
            let e = try state.explainAttention(tokens: Self.tokens, layer: l, head: h, position: p)
            let captured = Array(full[(((l * c.heads + h) * T + p) * T)...].prefix(p + 1))
            #expect(worst(e.weights, captured) < 1e-5)
            #expect(e.keys.count == p + 1 && e.values.count == p + 1 && e.query.count == c.headSize)
            #expect(e.maskedPositions == (p + 1)..<T)
            #expect(zip(e.scaled, e.scores).allSatisfy { abs($0 - $1 * e.scale) <= 1e-6 * max(1, abs($0)) })
            #expect(abs(e.scale - 1 / Float(c.headSize).squareRoot()) < 1e-7)
            // The head's output, as the forward computed it, is the weighted sum of the values.
            let sum = (0..<c.headSize).map { d in (0...p).reduce(Float(0)) { $0 + e.weights[$1] * e.values[$1][d] } }
            #expect(worst(e.output, sum) < 1e-5)
        }
        // The state holds the prompt afterwards, like a prefill.
        #expect(state.length == T)
    }

    /// One prefill serves every layer and head; any other forward makes the next call run again.
    @Test func otherLayersAndHeadsReuseThePrefillUntilTheStateMovesOn() throws {
        let model = ForwardConsistencyTests.model(.rope)
        let state = GPTState(model: model, chunkSize: 4)
        let p = 9
        _ = try state.explainAttention(tokens: Self.tokens, layer: 0, head: 0, position: p)
        let forwards = state.forwardCount
        let reused = try state.explainAttention(tokens: Self.tokens, layer: 1, head: 2, position: p)
        #expect(state.forwardCount == forwards, "no forward for another layer and head")
        let fresh = try GPTState(model: model, chunkSize: 4).explainAttention(tokens: Self.tokens, layer: 1, head: 2, position: p)
        #expect(reused == fresh)
        // Another prompt of the same length, or a decode in between, runs the model again.
        var other = Self.tokens
        other[3] = 50
        let changed = try state.explainAttention(tokens: other, layer: 1, head: 2, position: p)
        #expect(state.forwardCount > forwards && changed != reused)
        _ = try state.decode(1)
        let again = try state.explainAttention(tokens: other, layer: 1, head: 2, position: p)
        #expect(again == changed)
    }

    /// Under grouped-query attention a head's keys and values are its group's: the query heads of
    /// one group show the same keys, and their weights are still PyTorch's.
    @Test func groupedQueryHeadsShowTheirGroupsKeysAndPyTorchsWeights() throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path("llama-gqa"))
        let sequence = try #require(try Fixtures.expected("llama-gqa").sequences.first)
        let c = model.config
        #expect(c.heads == 6 && c.kvHeads == 2)
        let state = GPTState(model: model)
        let p = sequence.inputIDs.count - 1
        var explanations: [AttentionExplanation] = []
        for h in 0..<c.heads {
            let e = try state.explainAttention(tokens: sequence.inputIDs, layer: 1, head: h, position: p)
            #expect(e.keyValueHead == h / 3)
            #expect(worst(e.weights, Array(sequence.attentions[1][h][p].prefix(p + 1))) < 1e-5)
            explanations.append(e)
        }
        #expect(explanations[0].keys == explanations[2].keys && explanations[3].values == explanations[5].values)
        #expect(explanations[0].keys != explanations[3].keys)
    }

    @Test func weightsEqualPyTorchOutputAttentions() throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path("tiny-odd"))
        let sequence = try #require(try Fixtures.expected("tiny-odd").sequences.first)
        #expect(sequence.attentionRows == "all")
        let state = GPTState(model: model)
        let T = sequence.inputIDs.count
        for l in 0..<model.config.layers {
            for h in 0..<model.config.heads {
                for p in [0, T / 2, T - 1] {
                    let e = try state.explainAttention(tokens: sequence.inputIDs, layer: l, head: h, position: p)
                    let reference = Array(sequence.attentions[l][h][p].prefix(p + 1))
                    #expect(worst(e.weights, reference) < 1e-5, "layer \(l) head \(h) position \(p)")
                }
            }
        }
    }
}
