/// Picks the next token from a row of logits. Temperature 0 is greedy (argmax); otherwise the
/// logits are divided by the temperature, softmaxed in Double, and one token drawn with the
/// seeded generator.
///
/// The full pipeline of penalties and truncations (top-k, top-p, min-p, typical) builds on this.
public struct Sampler: Sendable {
    public var temperature: Double
    public private(set) var generator: SeededGenerator
    /// Scratch probabilities, (V); kept to avoid an allocation per token.
    private var probabilities: [Double] = []

    public init(temperature: Double, seed: UInt64) {
        precondition(temperature >= 0 && temperature.isFinite, "validate temperature before sampling")
        self.temperature = temperature
        generator = SeededGenerator(seed: seed)
    }

    /// The id with the largest logit; the lowest id wins a tie. NaN logits are never picked.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue {
            best = i
            bestValue = v
        }
        return best
    }

    /// Draws the next token id from `logits` (V).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        if temperature == 0 { return Self.argmax(logits) }
        if probabilities.count != logits.count { probabilities = [Double](repeating: 0, count: logits.count) }
        let maxLogit = Double(logits[Self.argmax(logits)])
        var total = 0.0
        for i in logits.indices {
            let p = logits[i].isFinite ? exp((Double(logits[i]) - maxLogit) / temperature) : 0
            probabilities[i] = p
            total += p
        }
        let target = generator.nextUnit() * total
        var running = 0.0
        for i in probabilities.indices {
            running += probabilities[i]
            if running > target { return i }
        }
        return Self.argmax(logits)
    }
}

import Foundation
