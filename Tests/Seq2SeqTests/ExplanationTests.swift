import Testing
@testable import Seq2Seq

/// `explainAttention`: each of the three attentions taken apart for one query, with weights
/// recomputed from q and k that equal the ones the forward used.
@Suite struct ExplanationTests {
    static let config = Seq2SeqConfig(vocabSize: 23, contextLength: 12, width: 16, heads: 2, encoderLayers: 2, decoderLayers: 2, mlpWidth: 24)
    static let source: [Int32] = [5, 9, 4, 17, 8]
    static let target: [Int32] = [6, 12, 20]

    @Test(arguments: Seq2SeqAttention.allCases)
    func recomputedWeightsEqualTheForwardsForEveryLayerHeadAndQuery(kind: Seq2SeqAttention) throws {
        let model = try Seq2SeqModel(config: Self.config, seed: 3)
        let queries = kind == .encoder ? Self.source.count : Self.target.count + 1
        for layer in 0..<2 {
            for head in 0..<2 {
                for position in 0..<queries {
                    let e = try model.explainAttention(source: Self.source, target: Self.target, attention: kind, layer: layer, head: head, position: position)
                    let used = try model.forwardAttentionWeights(source: Self.source, target: Self.target, attention: kind, layer: layer, head: head, position: position)
                    #expect(e.weights.count == used.count)
                    for (a, b) in zip(e.weights, used) { #expect(abs(a - b) <= 1e-5, "\(kind) \(layer) \(head) \(position)") }
                    #expect(abs(e.weights.reduce(0, +) - 1) <= 1e-5)
                    // The head's output is the weighted sum of its values.
                    for d in 0..<8 {
                        let sum = zip(e.weights, e.values).reduce(Float(0)) { $0 + $1.0 * $1.1[d] }
                        #expect(abs(sum - e.output[d]) <= 1e-4)
                    }
                }
            }
        }
    }

    /// Only the decoder's self-attention is causal: its later positions are masked; the encoder
    /// and the cross-attention see every source token.
    @Test func onlyTheDecodersSelfAttentionMasksLaterPositions() throws {
        let model = try Seq2SeqModel(config: Self.config, seed: 3)
        let decoder = try model.explainAttention(source: Self.source, target: Self.target, attention: .decoder, layer: 1, head: 0, position: 1)
        #expect(decoder.keys.count == 2 && decoder.maskedPositions == 2..<4)
        let encoder = try model.explainAttention(source: Self.source, target: Self.target, attention: .encoder, layer: 0, head: 1, position: 1)
        #expect(encoder.keys.count == 5 && encoder.maskedPositions.isEmpty)
        let cross = try model.explainAttention(source: Self.source, target: Self.target, attention: .cross, layer: 0, head: 1, position: 0)
        #expect(cross.keys.count == 5 && cross.maskedPositions.isEmpty)
    }
}
