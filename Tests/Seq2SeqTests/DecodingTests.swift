import GPT
import Testing
@testable import Seq2Seq

/// Tiny random models of each norm placement and position encoding, and sources of different
/// lengths (so the encoded batch has padding).
enum DecodingFixture {
    static let variants: [String] = ["pre sinusoidal", "post learned", "pre rope"]
    static let sources: [[Int32]] = [[5, 9, 3, 17, 8, 11, 4], [6, 12, 7], [18, 10, 4, 4, 13]]

    static func model(_ variant: String, seed: UInt64 = 7, eosPush: Float = 6) throws -> Seq2SeqModel {
        let words = variant.split(separator: " ").map(String.init)
        let config = Seq2SeqConfig(
            vocabSize: 21, contextLength: 16, width: 16, heads: 2, encoderLayers: 2, decoderLayers: 2, mlpWidth: 32,
            normPlacement: .init(rawValue: words[0])!, positional: GPTConfig.Positional(rawValue: words[1])!)
        let model = try Seq2SeqModel(config: config, seed: seed)
        // Larger weights than the init's, so that the distributions are far from uniform and
        // greedy and beam search have real choices to make.
        model.weights.withMutableStorage { w in for i in w.indices { w[i] *= 2 } }
        // A push towards EOS (the last norm's bias gets a multiple of EOS's embedding, which
        // the tied head turns into a higher EOS logit), so that translations end at different
        // lengths instead of all running to the limit.
        let c = model.config
        let lastBias = c.normPlacement == .pre ? "decoder.ln_f.bias" : "decoder.\(c.decoderLayers - 1).ln_3.bias"
        let C = c.width
        let eos = model.weights.withTensor(model.weights.tensor(named: "embed.weight")!) { Array($0[(Int(c.endID) * C)..<(Int(c.endID) * C + C)]) }
        let norm2 = eos.reduce(0) { $0 + $1 * $1 }
        model.weights.withMutableTensor(model.weights.tensor(named: lastBias)!) { b in for i in 0..<C { b[i] += eosPush * eos[i] / norm2 } }
        return model
    }

    /// The teacher-forced forward of `targets` (decoder input BOS + target), its logits kept.
    static func teacherForced(_ model: Seq2SeqModel, sources: [[Int32]], targets: [[Int32]]) throws -> (Seq2SeqTrainingPass, Seq2SeqBatch) {
        let batch = try Seq2SeqBatch(sources: sources, targets: targets, config: model.config)
        let pass = Seq2SeqTrainingPass(model: model, sentences: batch.sentences, sourceLength: batch.sourceLength, targetLength: batch.targetLength)
        _ = pass.forward(batch: batch, prepareBackward: false)
        return (pass, batch)
    }

    /// log P(target + EOS | source) under the model; without EOS's term when the target was
    /// cut at `maxLength` tokens instead of ended.
    static func logLikelihood(_ model: Seq2SeqModel, source: [Int32], target: [Int32], maxLength: Int) throws -> Double {
        let (pass, batch) = try teacherForced(model, sources: [source], targets: [target])
        let V = model.config.vocabSize
        let scored = target.count < maxLength ? target.count + 1 : target.count
        return (0..<scored).reduce(0.0) { total, t in
            total + logSoftmax(pass.lastLogits.baseAddress! + t * V, count: V)[Int(batch.labels[t])]
        }
    }
}

@Suite struct DecodingTests {
    /// Greedy decoding with the caches (cross-attention keys and values once per sentence, the
    /// self-attention KV cache per step), batched over sentences of different lengths, picks at
    /// every step the argmax (over the tokens decoding may output) of the full teacher-forced
    /// forward run on its own output.
    @Test(arguments: DecodingFixture.variants) func greedyWithCachesMatchesTheFullForward(_ variant: String) throws {
        let model = try DecodingFixture.model(variant)
        let V = model.config.vocabSize
        let maxLength = 9
        let outputs = try model.greedy(sources: DecodingFixture.sources, maxLength: maxLength)
        let (pass, batch) = try DecodingFixture.teacherForced(model, sources: DecodingFixture.sources, targets: outputs)
        for (s, output) in outputs.enumerated() {
            let ended = output.count < maxLength
            for t in 0..<(output.count + (ended ? 1 : 0)) {
                let row = pass.lastLogits.baseAddress! + (s * batch.targetLength + t) * V
                let expected = t < output.count ? output[t] : model.config.endID
                #expect(model.bestProposable(row) == expected, "\(variant): sentence \(s) step \(t)")
            }
        }
        // Alone, each sentence decodes the same as in the batch.
        for (s, source) in DecodingFixture.sources.enumerated() {
            #expect(try model.greedy(sources: [source], maxLength: maxLength) == [outputs[s]])
        }
    }

    /// Where sentences end at different steps the batch drops finished rows as it goes
    /// (`keepRows`); with a hook it keeps every row. Both decode as each sentence alone does.
    @Test(arguments: DecodingFixture.variants) func droppingFinishedRowsDecodesAsKeepingThem(_ variant: String) throws {
        var compared = 0
        let models: [(UInt64, Float)] = (1...12).flatMap { seed in [3, 4, 5].map { (UInt64(seed), Float($0)) } }
        for (seed, push) in models {
            let model = try DecodingFixture.model(variant, seed: seed, eosPush: push)
            let outputs = try model.greedy(sources: DecodingFixture.sources, maxLength: 9)
            guard Set(outputs.map(\.count)).count > 1 else { continue }
            compared += 1
            #expect(try model.greedy(sources: DecodingFixture.sources, maxLength: 9) { _, _ in } == outputs, "\(variant) seed \(seed)")
            for (s, source) in DecodingFixture.sources.enumerated() {
                #expect(try model.greedy(sources: [source], maxLength: 9) == [outputs[s]], "\(variant) seed \(seed) sentence \(s)")
            }
        }
        #expect(compared >= 3, "\(variant): too few models whose sentences end at different steps")
    }

    /// Batched beam search (per-row top candidates, rows leaving as sentences end) gives each
    /// sentence what the naive oracle — every candidate sorted, one sentence alone — gives.
    @Test(arguments: DecodingFixture.variants) func batchedBeamSearchEqualsTheNaiveOneSentenceAtATime(_ variant: String) throws {
        for seed: UInt64 in [7, 8, 9] {
            let model = try DecodingFixture.model(variant, seed: seed, eosPush: 4)
            for (beam, penalty) in [(2, Float(0)), (3, 0.6), (5, 1)] {
                let limits = DecodingFixture.sources.indices.map { 6 + 2 * $0 }
                let batched = try model.beamSearch(sources: DecodingFixture.sources, beam: beam, lengthPenalty: penalty, maxLengths: limits)
                for (s, source) in DecodingFixture.sources.enumerated() {
                    let alone = try model.naiveBeamSearch(source: source, beam: beam, lengthPenalty: penalty, maxLength: limits[s])
                    #expect(batched[s] == alone, "\(variant) seed \(seed) beam \(beam) α \(penalty) sentence \(s)")
                }
            }
        }
    }

    @Test func topProposableKeepsTheLargestInOrderWithTiesByToken() throws {
        let model = try DecodingFixture.model("pre sinusoidal")
        // Ids 0 and 1 (padding, BOS) are never proposed, however large.
        let logp: [Double] = [9, 9, -1, 3, 0.5, 3, -2, 7, 3] + [Double](repeating: -5, count: 12)
        let top = model.topProposable(logp, count: 4)
        #expect(top.map(\.token) == [7, 3, 5, 8])
        #expect(model.topProposable(logp, count: 40).count == 19)
    }

    @Test(arguments: DecodingFixture.variants) func beamOfOneIsGreedy(_ variant: String) throws {
        let model = try DecodingFixture.model(variant)
        for source in DecodingFixture.sources {
            let greedy = try model.greedy(sources: [source], maxLength: 10)[0]
            #expect(try model.beamSearch(source: source, beam: 1, lengthPenalty: 0, maxLength: 10) == greedy)
        }
    }

    /// With no length penalty, beam search's translation is at least as likely as greedy's
    /// (a translation cut at the length limit is scored without EOS, as both searches rank it).
    @Test(arguments: DecodingFixture.variants) func beamSearchIsAtLeastAsLikelyAsGreedy(_ variant: String) throws {
        for seed: UInt64 in [7, 8] {
            let model = try DecodingFixture.model(variant, seed: seed)
            for source in DecodingFixture.sources {
                let greedy = try model.greedy(sources: [source], maxLength: 12)[0]
                let beam = try model.beamSearch(source: source, beam: 4, lengthPenalty: 0, maxLength: 12)
                let (pGreedy, pBeam) = (
                    try DecodingFixture.logLikelihood(model, source: source, target: greedy, maxLength: 12),
                    try DecodingFixture.logLikelihood(model, source: source, target: beam, maxLength: 12)
                )
                #expect(pBeam >= pGreedy - 1e-4, "\(variant) seed \(seed): beam \(beam) \(pBeam) < greedy \(greedy) \(pGreedy)")
            }
        }
    }

    /// The newest token's cross-attention weights, per layer, row and head, are softmax rows
    /// over the sentence: they sum to 1 over its tokens and are 0 on its padding.
    @Test func crossAttentionWeightsAreSoftmaxRowsOverTheSentence() throws {
        let model = try DecodingFixture.model("pre sinusoidal")
        let (H, L) = (model.config.heads, model.config.decoderLayers)
        let S = DecodingFixture.sources.map(\.count).max()!
        var steps = 0
        _ = try model.greedy(sources: DecodingFixture.sources, maxLength: 5) { _, decoder in
            steps += 1
            for layer in 0..<L {
                for (row, source) in DecodingFixture.sources.enumerated() {
                    let weights = decoder.crossAttention(layer: layer, row: row)
                    #expect(weights.count == H * S)
                    for h in 0..<H {
                        let head = weights[(h * S)..<((h + 1) * S)]
                        #expect(abs(head.prefix(source.count).reduce(0, +) - 1) < 1e-5)
                        #expect(head.prefix(source.count).allSatisfy { $0 > 0 })
                        #expect(head.dropFirst(source.count).allSatisfy { $0 == 0 })
                    }
                }
            }
        }
        #expect(steps > 0)
    }
}
