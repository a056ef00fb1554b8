import Testing
@testable import Seq2Seq

/// Passes that share a `BufferPool` get their buffers back dirty from the previous pass and must
/// compute exactly what fresh passes do.
@Suite struct BufferPoolTests {
    @Test func passesSharingAPoolEqualFreshPassesBitForBit() throws {
        let config = Seq2SeqConfig(vocabSize: 23, contextLength: 12, width: 16, heads: 2, encoderLayers: 2, decoderLayers: 2, mlpWidth: 24)
        let model = try Seq2SeqModel(config: config, seed: 8)
        let batches = [
            try Seq2SeqBatch(sources: [[5, 9, 4, 17], [8, 3]], targets: [[6, 12, 20], [7]], config: config),
            try Seq2SeqBatch(sources: [[4, 4, 9]], targets: [[11, 12, 13, 14, 15]], config: config),
            try Seq2SeqBatch(sources: [[3, 5], [9, 10, 11, 12, 13], [6]], targets: [[6], [7, 8], [9, 10, 11]], config: config),
        ]
        func run(pool: BufferPool?) -> [(Float, [Float])] {
            batches.map { batch in
                let grads = Seq2SeqWeights(config: config)
                let pass = Seq2SeqTrainingPass(model: model, sentences: batch.sentences, sourceLength: batch.sourceLength, targetLength: batch.targetLength, pool: pool)
                let loss = pass.forward(batch: batch, prepareBackward: true)
                pass.backward(into: grads)
                return (loss, grads.withStorage { Array($0) })
            }
        }
        let fresh = run(pool: nil)
        let pool = BufferPool()
        // Twice through the pool: the second round reuses every buffer of the first.
        for _ in 0..<2 {
            for (a, b) in zip(run(pool: pool), fresh) {
                #expect(a.0 == b.0)
                #expect(a.1 == b.1)
            }
        }
    }
}
