import Foundation
import JSON
import Safetensors
import Testing
@testable import Seq2Seq

/// A tiny encoder–decoder, one padded batch, and what PyTorch (float64) says the logits, the
/// label-smoothed loss and every gradient are. Made by `Scripts/make-seq2seq-fixtures.py`:
/// `pre_sinusoidal` (pre-norm, final norms, sinusoidal positions) and `post_learned` (the
/// paper's post-norm, learned positions).
struct Seq2SeqFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    let json: JSONValue
    let file: SafetensorsFile
    let model: Seq2SeqModel
    let batch: Seq2SeqBatch

    init(_ name: String) throws {
        let json = try JSONValue.parse(try Data(contentsOf: Self.directory.appendingPathComponent(name + ".json")))
        let file = try SafetensorsFile(path: Self.directory.appendingPathComponent(name + ".safetensors").path)
        let c = json["config"]!
        let int = { (key: String) in c[key]!.intValue! }
        let config = Seq2SeqConfig(
            vocabSize: int("vocab"), contextLength: int("context"), width: int("width"), heads: int("heads"),
            encoderLayers: int("encoder_layers"), decoderLayers: int("decoder_layers"), mlpWidth: int("mlp"),
            normPlacement: Seq2SeqConfig.NormPlacement(rawValue: c["norm"]!.stringValue!)!,
            positional: .init(rawValue: c["positional"]!.stringValue!)!, epsilon: Float(c["epsilon"]!.doubleValue!),
            paddingID: Int32(int("pad")), beginID: Int32(int("bos")), endID: Int32(int("eos")))
        try config.validate()
        let weights = Seq2SeqWeights(config: config)
        #expect(weights.tensors.map(\.name) == json["tensors"]!.arrayValue!.map { $0.stringValue! }, "tensor names and order")
        for tensor in weights.tensors {
            try weights.withMutableTensor(tensor) { try file.copyFloats("weights." + tensor.name, into: $0) }
        }
        let b = json["batch"]!
        let lists = { (key: String) in b[key]!.arrayValue!.map { $0.arrayValue!.map { Int32($0.intValue!) } } }
        let batch = try Seq2SeqBatch(sources: lists("sources"), targets: lists("targets"), config: config)
        #expect(batch.sources == lists("padded_sources").flatMap { $0 })
        #expect(batch.decoderInputs == lists("decoder_inputs").flatMap { $0 })
        #expect(batch.labels == lists("labels").flatMap { $0 })
        (self.json, self.file, self.batch) = (json, file, batch)
        model = Seq2SeqModel(weights: weights)
    }

    func pass() -> Seq2SeqTrainingPass {
        Seq2SeqTrainingPass(model: model, sentences: batch.sentences, sourceLength: batch.sourceLength, targetLength: batch.targetLength)
    }
}

@Suite struct PyTorchParityTests {
    static let fixtures = ["pre_sinusoidal", "post_learned"]

    @Test(arguments: fixtures) func lossAndLogitsMatchPyTorch(_ name: String) throws {
        let fixture = try Seq2SeqFixture(name)
        let pass = fixture.pass()
        let loss = pass.forward(batch: fixture.batch, prepareBackward: false)
        let expected = fixture.json["loss"]!.doubleValue!
        #expect(abs(Double(loss) - expected) < 1e-5, "loss \(loss) vs \(expected)")
        let logits = try fixture.file.floats("logits")
        let worst = zip(Array(pass.lastLogits), logits).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-5, "logits differ by \(worst)")
    }

    @Test(arguments: fixtures) func everyGradientMatchesPyTorch(_ name: String) throws {
        let fixture = try Seq2SeqFixture(name)
        let pass = fixture.pass()
        _ = pass.forward(batch: fixture.batch, prepareBackward: true)
        let gradients = Seq2SeqWeights(config: fixture.model.config)
        pass.backward(into: gradients)
        for tensor in gradients.tensors {
            let reference = try fixture.file.floats("grad." + tensor.name)
            let actual = gradients.withTensor(tensor) { Array($0) }
            let scale = max(reference.map(abs).max()!, 1e-3)
            let worst = zip(actual, reference).map { abs($0 - $1) }.max()!
            #expect(worst / scale < 1e-4, "\(tensor.name): relative error \(worst / scale)")
        }
    }
}
