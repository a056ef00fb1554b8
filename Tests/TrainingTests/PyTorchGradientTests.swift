import Foundation
@_spi(Training) import GPT
import JSON
import Safetensors
import Testing
@testable import Training

/// A tiny GPT-2, one batch, and what PyTorch (float64) says the loss, every gradient and two
/// AdamW steps are. Made by `Scripts/make-training-fixtures.py`.
enum TrainingFixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let json = try! JSONValue.parse(try! Data(contentsOf: directory.appendingPathComponent("expected.json")))
    static let expected = try! SafetensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
    static var B: Int { json["B"]!.intValue! }
    static var T: Int { json["T"]!.intValue! }
    static func ids(_ key: String) -> [Int32] { json[key]!.arrayValue!.flatMap { $0.arrayValue!.map { Int32($0.intValue!) } } }
    static func model() throws -> GPTModel { try GPTModel.load(path: directory.appendingPathComponent("tiny").path).model }
    /// The key third of every c_attn bias: its gradient is exactly zero (softmax ignores a
    /// constant added to a row), so float32 noise there makes AdamW's update arbitrary.
    static func isKeyBias(_ name: String, _ index: Int, width: Int) -> Bool {
        name.hasSuffix("attn.c_attn.bias") && (width..<2 * width).contains(index)
    }
}

@Suite struct PyTorchGradientTests {
    @Test func lossAndLogitsMatchPyTorch() throws {
        let model = try TrainingFixture.model()
        let pass = GPTTrainingPass(model: model, B: TrainingFixture.B, T: TrainingFixture.T)
        let loss = pass.forward(inputs: TrainingFixture.ids("inputs"), targets: TrainingFixture.ids("targets"), prepareBackward: false)
        #expect(abs(Double(loss) - TrainingFixture.json["loss"]!.doubleValue!) < 1e-5)
        let expected = try TrainingFixture.expected.floats("logits")
        let actual = Array(pass.lastLogits)
        #expect(zip(actual, expected).map { abs($0 - $1) }.max()! < 1e-4)
    }

    @Test func everyGradientMatchesPyTorch() throws {
        let model = try TrainingFixture.model()
        let pass = GPTTrainingPass(model: model, B: TrainingFixture.B, T: TrainingFixture.T)
        _ = pass.forward(inputs: TrainingFixture.ids("inputs"), targets: TrainingFixture.ids("targets"), prepareBackward: true)
        let grads = GPTWeights(config: model.config)
        pass.backward(into: grads)
        for tensor in grads.tensors {
            let reference = try TrainingFixture.expected.floats("grad." + tensor.name)
            let actual = grads.withTensor(tensor) { Array($0) }
            let scale = reference.map(abs).max()!
            var worst: Float = 0
            for i in actual.indices {
                if TrainingFixture.isKeyBias(tensor.name, i, width: model.config.width) {
                    #expect(abs(actual[i]) < 1e-6)
                } else {
                    worst = max(worst, abs(actual[i] - reference[i]))
                }
            }
            #expect(worst / scale < 1e-4, "\(tensor.name): relative error \(worst / scale)")
        }
    }

    /// Two AdamW steps on the same batch land where torch.optim.AdamW does.
    @Test func twoAdamWStepsMatchPyTorch() throws {
        let model = try TrainingFixture.model()
        let pass = GPTTrainingPass(model: model, B: TrainingFixture.B, T: TrainingFixture.T)
        let grads = GPTWeights(config: model.config)
        let adam = AdamW(weights: model.weights)
        let lr = Float(TrainingFixture.json["lr"]!.doubleValue!)
        for step in 1...2 {
            grads.withMutableStorage { $0.update(repeating: 0) }
            _ = pass.forward(inputs: TrainingFixture.ids("inputs"), targets: TrainingFixture.ids("targets"), prepareBackward: true)
            pass.backward(into: grads)
            model.weights.withMutableStorage { p in grads.withStorage { g in adam.update(params: p, grads: g, lr: lr) } }
            for tensor in model.weights.tensors {
                let reference = try TrainingFixture.expected.floats("step\(step)." + tensor.name)
                let actual = model.weights.withTensor(tensor) { Array($0) }
                for i in actual.indices {
                    let tolerance: Float = TrainingFixture.isKeyBias(tensor.name, i, width: model.config.width) ? 2.5 * lr : 2e-6
                    if abs(actual[i] - reference[i]) > tolerance {
                        Issue.record("step \(step) \(tensor.name)[\(i)]: \(actual[i]) vs \(reference[i])")
                        break
                    }
                }
            }
        }
    }
}
