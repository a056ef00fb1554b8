@_spi(Training) import GPT
import Testing
@testable import Training

/// Dropout inside the training pass: its gradient is the derivative of the loss with the masks
/// held fixed, it is off unless asked for, and it changes the gradients when on.
@Suite struct DropoutTrainingTests {
    static let (B, T) = (2, 8)
    static let inputs: [Int32] = (0..<(B * T)).map { Int32(($0 * 5 + 3) % 37) }
    static let targets: [Int32] = (0..<(B * T)).map { Int32(($0 * 11 + 1) % 37) }

    static func gradients(_ pass: GPTTrainingPass, _ dropout: GPTTrainingPass.Dropout) -> [Float] {
        let grads = GPTWeights(config: pass.model.config)
        _ = pass.forward(inputs: inputs, targets: targets, prepareBackward: true, dropout: dropout)
        pass.backward(into: grads)
        return grads.withStorage { Array($0) }
    }

    @Test func gradientWithDropoutIsTheDerivativeOfTheMaskedLoss() {
        let model = TrainerTests.freshModel()
        let pass = GPTTrainingPass(model: model, B: Self.B, T: Self.T)
        let dropout = GPTTrainingPass.Dropout(probability: 0.3, seed: 11)
        let analytic = Self.gradients(pass, dropout)
        // The 60 largest gradients, so float32 noise in the loss stays far below them.
        let checked = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }.prefix(60)
        let eps: Float = 1e-3
        for i in checked {
            let original = model.weights.withStorage { $0[i] }
            model.weights.withMutableStorage { $0[i] = original + eps }
            let plus = pass.forward(inputs: Self.inputs, targets: Self.targets, prepareBackward: false, dropout: dropout)
            model.weights.withMutableStorage { $0[i] = original - eps }
            let minus = pass.forward(inputs: Self.inputs, targets: Self.targets, prepareBackward: false, dropout: dropout)
            model.weights.withMutableStorage { $0[i] = original }
            let numeric = (plus - minus) / (2 * eps)
            #expect(abs(numeric - analytic[i]) <= 2e-3 + 0.05 * abs(analytic[i]), "parameter \(i): \(numeric) vs \(analytic[i])")
        }
    }

    @Test func dropoutChangesTheGradientsAndZeroIsOff() {
        let pass = GPTTrainingPass(model: TrainerTests.freshModel(), B: Self.B, T: Self.T)
        let none = Self.gradients(pass, .off)
        let zero = Self.gradients(pass, .init(probability: 0, seed: 3))
        let some = Self.gradients(pass, .init(probability: 0.2, seed: 3))
        let again = Self.gradients(pass, .init(probability: 0.2, seed: 3))
        #expect(none == zero)
        #expect(some != none)
        #expect(some == again)
        // A forward without dropout after one with it is unaffected by the old masks.
        let after = Self.gradients(pass, .off)
        #expect(after == none)
    }
}
