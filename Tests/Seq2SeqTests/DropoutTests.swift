import GPT
import Kernels
import Testing
@testable import Seq2Seq

/// Dropout in the encoder–decoder's training pass: off at probability 0, a pure function of its
/// seed, and its gradient is the gradient of the loss it computes (finite differences with the
/// same masks).
@Suite struct DropoutTests {
    static func model(_ placement: Seq2SeqConfig.NormPlacement) throws -> Seq2SeqModel {
        let config = Seq2SeqConfig(
            vocabSize: 23, contextLength: 12, width: 16, heads: 2, encoderLayers: 2, decoderLayers: 2, mlpWidth: 24, normPlacement: placement)
        return try Seq2SeqModel(config: config, seed: 5)
    }

    static func batch(_ model: Seq2SeqModel) throws -> Seq2SeqBatch {
        try Seq2SeqBatch(sources: [[5, 9, 4, 17], [8, 3]], targets: [[6, 12, 20], [7]], config: model.config)
    }

    static func run(_ model: Seq2SeqModel, _ dropout: Seq2SeqTrainingPass.Dropout?) throws -> (loss: Float, grads: [Float]) {
        let batch = try batch(model)
        let pass = Seq2SeqTrainingPass(model: model, sentences: batch.sentences, sourceLength: batch.sourceLength, targetLength: batch.targetLength)
        let grads = Seq2SeqWeights(config: model.config)
        let loss = pass.forward(batch: batch, prepareBackward: true, dropout: dropout)
        pass.backward(into: grads)
        return (loss, grads.withStorage { Array($0) })
    }

    @Test(arguments: [Seq2SeqConfig.NormPlacement.pre, .post])
    func probabilityZeroIsNoDropoutAndASeedGivesOneMask(placement: Seq2SeqConfig.NormPlacement) throws {
        let model = try Self.model(placement)
        let plain = try Self.run(model, nil)
        let zero = try Self.run(model, .init(probability: 0, seed: 3))
        #expect(zero.loss == plain.loss && zero.grads == plain.grads)
        let a = try Self.run(model, .init(probability: 0.3, seed: 3))
        let b = try Self.run(model, .init(probability: 0.3, seed: 3))
        let c = try Self.run(model, .init(probability: 0.3, seed: 4))
        #expect(a.loss == b.loss && a.grads == b.grads)
        #expect(a.loss != plain.loss && a.loss != c.loss)
    }

    /// Central differences of the loss with the same masks, at the largest gradients of every
    /// kind of tensor, against the backward's gradient.
    @Test(arguments: [Seq2SeqConfig.NormPlacement.pre, .post])
    func theGradientWithDropoutIsTheLossesGradient(placement: Seq2SeqConfig.NormPlacement) throws {
        let model = try Self.model(placement)
        let dropout = Seq2SeqTrainingPass.Dropout(probability: 0.3, seed: 11)
        let (_, grads) = try Self.run(model, dropout)
        let h: Float = 1e-2
        var checked = 0
        for name in ["embed.weight", "encoder.0.attn.c_attn.weight", "encoder.1.mlp.c_fc.weight", "decoder.0.cross.c_kv.weight", "decoder.1.mlp.c_proj.weight", "decoder.1.attn.c_proj.bias"] {
            let t = model.weights.tensor(named: name)!
            // The element of this tensor with the largest gradient: well above the noise of a Float32 loss.
            let i = (0..<t.count).max { abs(grads[t.offset + $0]) < abs(grads[t.offset + $1]) }!
            let original = model.weights.withTensor(t) { $0[i] }
            model.weights.withMutableTensor(t) { $0[i] = original + h }
            let up = try Self.run(model, dropout).loss
            model.weights.withMutableTensor(t) { $0[i] = original - h }
            let down = try Self.run(model, dropout).loss
            model.weights.withMutableTensor(t) { $0[i] = original }
            let numeric = (up - down) / (2 * h)
            let analytic = grads[t.offset + i]
            #expect(abs(numeric - analytic) <= 0.05 * abs(analytic) + 2e-3, "\(placement) \(name)[\(i)]: \(numeric) vs \(analytic)")
            checked += 1
        }
        #expect(checked == 6)
    }
}
