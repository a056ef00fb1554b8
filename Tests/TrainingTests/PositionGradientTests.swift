import Foundation
import GPT
import JSON
import Safetensors
import Testing

/// A tiny attnchat GPT with sinusoidal or rotary positions (an attnchat `.safetensors` file, no
/// wpe), one batch, and what PyTorch (float64) says the loss, the logits and every gradient are.
/// Made by `Scripts/make-position-fixtures.py`; see Fixtures/README.md.
struct PositionFixture {
    let json: JSONValue
    let expected: SafetensorsFile
    let modelPath: String

    init(_ positional: String) throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures").appendingPathComponent("positions").appendingPathComponent(positional)
        json = try JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent("expected.json")))
        expected = try SafetensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        modelPath = directory.appendingPathComponent("model.safetensors").path
    }

    var B: Int { json["B"]!.intValue! }
    var T: Int { json["T"]!.intValue! }
    func ids(_ key: String) -> [Int32] { json[key]!.arrayValue!.flatMap { $0.arrayValue!.map { Int32($0.intValue!) } } }
    func model() throws -> GPTModel { try GPTModel.load(path: modelPath).model }

    /// The entries of `name` whose gradient is identically zero: the key third of every c_attn
    /// bias with sinusoidal positions (a constant q·b_k added to a whole row of scores, which
    /// softmax ignores). Nothing with rope: there b_k is rotated by each key's own position.
    func zeroGradientSlice(_ name: String) -> Range<Int>? {
        guard let bounds = json["zero_grad_slices"]?[name]?.arrayValue else { return nil }
        return bounds[0].intValue!..<bounds[1].intValue!
    }
}

@Suite struct PositionGradientTests {
    @Test(arguments: ["sinusoidal", "rope"])
    func lossAndLogitsMatchPyTorch(positional: String) throws {
        let fixture = try PositionFixture(positional)
        let model = try fixture.model()
        #expect(model.config.positional.rawValue == positional)
        #expect(model.weights.positionEmbedding == nil)
        let pass = GPTTrainingPass(model: model, B: fixture.B, T: fixture.T)
        let loss = pass.forward(inputs: fixture.ids("inputs"), targets: fixture.ids("targets"), prepareBackward: false)
        #expect(abs(Double(loss) - fixture.json["loss"]!.doubleValue!) < 1e-5)
        let expected = try fixture.expected.floats("logits")
        let actual = Array(pass.lastLogits)
        #expect(actual.count == expected.count)
        #expect(zip(actual, expected).map { abs($0 - $1) }.max()! < 1e-4)
    }

    @Test(arguments: ["sinusoidal", "rope"])
    func everyGradientMatchesPyTorch(positional: String) throws {
        let fixture = try PositionFixture(positional)
        let model = try fixture.model()
        let pass = GPTTrainingPass(model: model, B: fixture.B, T: fixture.T)
        _ = pass.forward(inputs: fixture.ids("inputs"), targets: fixture.ids("targets"), prepareBackward: true)
        let grads = GPTWeights(config: model.config)
        pass.backward(into: grads)
        #expect(grads.tensors.map(\.name) == fixture.json["params"]!.arrayValue!.map { $0.stringValue! })
        for tensor in grads.tensors {
            let reference = try fixture.expected.floats("grad." + tensor.name)
            let actual = grads.withTensor(tensor) { Array($0) }
            #expect(actual.count == reference.count)
            let scale = reference.map(abs).max()!
            let zero = fixture.zeroGradientSlice(tensor.name)
            var worst: Float = 0
            for i in actual.indices {
                if let zero, zero.contains(i) {
                    #expect(abs(actual[i]) < 1e-6, "\(tensor.name)[\(i)] should be zero: \(actual[i])")
                } else {
                    worst = max(worst, abs(actual[i] - reference[i]))
                }
            }
            #expect(worst / scale < 1e-4, "\(tensor.name): relative error \(worst / scale)")
        }
    }

    /// With rotary positions the key bias is rotated by each key's position, so its gradient is
    /// real (unlike learned or sinusoidal positions): it must match PyTorch on its own scale,
    /// which the tensor-wide tolerance above would not notice if it came out zero.
    @Test func rotaryKeyBiasGradientMatchesPyTorch() throws {
        let fixture = try PositionFixture("rope")
        let model = try fixture.model()
        let C = model.config.width
        let pass = GPTTrainingPass(model: model, B: fixture.B, T: fixture.T)
        _ = pass.forward(inputs: fixture.ids("inputs"), targets: fixture.ids("targets"), prepareBackward: true)
        let grads = GPTWeights(config: model.config)
        pass.backward(into: grads)
        for l in 0..<model.config.layers {
            let name = "h.\(l).attn.c_attn.bias"
            #expect(fixture.zeroGradientSlice(name) == nil)
            let reference = Array(try fixture.expected.floats("grad." + name)[C..<2 * C])
            let actual = grads.withTensor(grads.tensor(named: name)!) { Array($0[C..<2 * C]) }
            let scale = reference.map(abs).max()!
            #expect(scale > 1e-3, "\(name): the reference key-bias gradient is unexpectedly small")
            let worst = zip(actual, reference).map { abs($0 - $1) }.max()!
            #expect(worst / scale < 1e-4, "\(name) key bias: relative error \(worst / scale)")
        }
    }
}
