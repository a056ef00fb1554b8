import Foundation
@testable import Sampling

extension Sampler {
    /// `sample` on an array, for tests.
    mutating func draw(_ logits: [Float], history: [Int] = []) throws -> TokenInfo {
        try logits.withUnsafeBufferPointer { try sample($0, history: history) }
    }
}

/// Natural logs of `probabilities`: logits whose softmax at temperature 1 is exactly those.
func logits(probabilities: [Double]) -> [Float] { probabilities.map { Float(log($0)) } }

/// The hand-worked distribution most stage tests use; its entropy is 1.33308 nats.
let fiveTokens: [Double] = [0.5, 0.2, 0.15, 0.1, 0.05]

/// The ids `stage` leaves, after temperature 1 on `logits`, and the workspace for further checks.
func run(_ stage: some SamplingStage, on logits: [Float], after earlier: [any SamplingStage] = []) -> (ids: [Int], work: SamplingWorkspace) {
    var work = SamplingWorkspace()
    work.reserve(logits.count)
    for i in logits.indices { work.logits[i] = logits[i] }
    Temperature(inverse: 1, mayBan: true).apply(to: &work)
    for s in earlier { s.apply(to: &work) }
    stage.apply(to: &work)
    return (work.ids[0..<work.count].map(Int.init), work)
}

/// Pearson's chi-square statistic of `counts` against `expected` probabilities (those > 0);
/// a count where the expectation is 0 makes it infinite.
func chiSquare(_ counts: [Int], _ expected: [Double]) -> Double {
    let n = Double(counts.reduce(0, +))
    var chi2 = 0.0
    for (c, p) in zip(counts, expected) {
        if p == 0 {
            if c > 0 { return .infinity }
            continue
        }
        let e = n * p
        chi2 += (Double(c) - e) * (Double(c) - e) / e
    }
    return chi2
}

/// Softmax of logits / temperature, in Double: the reference distribution.
func softmax(_ logits: [Float], temperature: Double = 1) -> [Double] {
    let m = Double(logits.max()!)
    let e = logits.map { exp((Double($0) - m) / temperature) }
    let z = e.reduce(0, +)
    return e.map { $0 / z }
}

/// A reproducible row of roughly normal logits (sum of uniforms), the shape a model gives.
func randomLogits(count: Int, seed: UInt64, scale: Float = 3) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float((0..<4).map { _ in g.nextUnit() }.reduce(0, +) - 2) * scale }
}
