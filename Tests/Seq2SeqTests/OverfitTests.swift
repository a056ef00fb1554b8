import Testing
@testable import Seq2Seq

/// Adam (β 0.9/0.999, no weight decay) over a flat buffer: the test's own optimiser, since
/// `Training.AdamW` is built from a `GPTWeights`' tensor table.
struct TestAdam {
    var m: [Float], v: [Float], step = 0
    init(count: Int) { (m, v) = ([Float](repeating: 0, count: count), [Float](repeating: 0, count: count)) }
    mutating func update(_ p: UnsafeMutableBufferPointer<Float>, _ g: UnsafeBufferPointer<Float>, lr: Float) {
        step += 1
        let (c1, c2) = (1 - Float.pow(0.9, step), 1 - Float.pow(0.999, step))
        for i in p.indices {
            m[i] = 0.9 * m[i] + 0.1 * g[i]
            v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
            p[i] -= lr * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
        }
    }
}

extension Float {
    static func pow(_ base: Float, _ n: Int) -> Float { (0..<n).reduce(1) { r, _ in r * base } }
}

@Suite struct OverfitTests {
    /// The whole training path — forward, backward, an optimiser step — learns a three-sentence
    /// copy task to near-zero loss, and greedy and beam search then copy every sentence.
    @Test(arguments: ["pre", "post"]) func overfitsACopyTask(_ placement: String) throws {
        let config = Seq2SeqConfig(
            vocabSize: 12, contextLength: 8, width: 32, heads: 4, encoderLayers: 2, decoderLayers: 2, mlpWidth: 64,
            normPlacement: .init(rawValue: placement)!)
        let model = try Seq2SeqModel(config: config, seed: 3)
        let sources: [[Int32]] = [[3, 4, 5], [6, 7, 8, 9], [10, 5, 3, 11]]
        let batch = try Seq2SeqBatch(sources: sources, targets: sources, config: config)
        let pass = Seq2SeqTrainingPass(model: model, sentences: batch.sentences, sourceLength: batch.sourceLength, targetLength: batch.targetLength)
        pass.labelSmoothing = 0  // so that the loss can reach 0
        let gradients = Seq2SeqWeights(config: config)
        var adam = TestAdam(count: model.weights.count)
        var loss: Float = .infinity
        for _ in 0..<300 {
            gradients.zero()
            loss = pass.forward(batch: batch, prepareBackward: true)
            pass.backward(into: gradients)
            model.weights.withMutableStorage { p in gradients.withStorage { g in adam.update(p, g, lr: 3e-3) } }
        }
        #expect(loss < 0.02, "\(placement)-norm: loss \(loss) after 300 steps")
        #expect(try model.greedy(sources: sources, maxLength: 6) == sources)
        for source in sources { #expect(try model.beamSearch(source: source, beam: 3, lengthPenalty: 0.6, maxLength: 6) == source) }
    }
}
