import Foundation
import Testing
@testable import Sampling

/// Each stage on hand-worked logits. `fiveTokens` is q = [0.5, 0.2, 0.15, 0.1, 0.05].
@Suite struct StageTests {
    /// CTRL and OpenAI arithmetic: r = 2, frequency 0.5, presence 0.25, window [0, 1, 1, 9, -1].
    /// id 0 (c = 1): 2 > 0 → 2 / 2 = 1, − 1·0.5 − 0.25 = 0.25
    /// id 1 (c = 2): −1 ≤ 0 → −1 · 2 = −2, − 2·0.5 − 0.25 = −3.25
    /// ids 2, 3: not in the window; 9 and −1: outside the vocabulary, skipped.
    @Test func penaltiesFollowCTRLAndOpenAIArithmetic() {
        var work = SamplingWorkspace()
        work.reserve(4)
        work.logits = [2, -1, 0.5, 3]
        [0, 1, 1, 9, -1].withUnsafeBufferPointer { Penalties(window: $0, repetition: 2, frequency: 0.5, presence: 0.25).apply(to: &work) }
        #expect(work.logits == [0.25, -3.25, 0.5, 3])
        #expect(work.counts == [0, 0, 0, 0])  // left clean for the next token
    }

    /// Repetition penalty below 1 rewards repeats, each distinct token once however often it occurs.
    @Test func repetitionPenaltyAppliesOncePerDistinctToken() {
        var work = SamplingWorkspace()
        work.reserve(2)
        work.logits = [4, -4]
        [0, 0, 0, 1, 1].withUnsafeBufferPointer { Penalties(window: $0, repetition: 0.5, frequency: 0, presence: 0).apply(to: &work) }
        #expect(work.logits == [8, -2])
    }

    /// The penalty window is the last `repeatLastN` tokens of the history.
    @Test func penaltyWindowIsTheLastNTokens() throws {
        let row: [Float] = [1, 0.9]
        var settings = SamplingSettings(temperature: 0, repeatPenalty: 2, repeatLastN: 1)
        var sampler = try Sampler(settings: settings)
        #expect(try sampler.draw(row, history: [0]).id == 1)  // 1 / 2 < 0.9
        #expect(try sampler.draw(row, history: [0, 1]).id == 0)  // only id 1 is in the window
        settings.repeatLastN = -1
        try sampler.update(settings)
        #expect(try sampler.draw(row, history: [0, 1]).id == 0)  // 0.5 vs 0.45: both penalised
        settings.repeatLastN = 0
        try sampler.update(settings)
        #expect(try sampler.draw(row, history: [0, 0, 0]).id == 0)  // window off
    }

    @Test func logitBiasAddsAndMinusInfinityBans() throws {
        var sampler = try Sampler(settings: SamplingSettings(temperature: 0), logitBias: [2: 5, 0: -.infinity, 99: 1])
        #expect(try sampler.draw([3, 1, 0]).id == 2)  // 0 + 5 beats 1; id 0 banned; 99 beyond the row
        var banAll = try Sampler(settings: .neutral(), logitBias: [0: -.infinity, 1: -.infinity])
        #expect(throws: SamplingError.self) { try banAll.draw([1, 2]) }
    }

    @Test(arguments: [
        (0, [0, 1, 2, 3, 4]), (1, [0]), (2, [0, 1]), (3, [0, 1, 2]), (5, [0, 1, 2, 3, 4]), (500, [0, 1, 2, 3, 4]),
    ])
    func topKKeepsTheKMostLikely(k: Int, expected: [Int]) {
        let stage = TopK(k: k)
        let kept = stage.isActive ? run(stage, on: logits(probabilities: fiveTokens)).ids : [0, 1, 2, 3, 4]
        #expect(Set(kept) == Set(expected))
    }

    /// Equal logits at the cut go to the lower ids, so the result does not depend on the sort.
    @Test func topKBreaksTiesByLowerId() {
        #expect(run(TopK(k: 2), on: [2, 2, 2, 2]).ids == [0, 1])
        #expect(run(TopK(k: 2), on: [1, 3, 2, 0, 3]).ids == [1, 4])
    }

    /// Cumulative q: 0.5, 0.7, 0.85, 0.95, 1. The smallest head reaching p survives.
    @Test(arguments: [(0.0, [0]), (0.3, [0]), (0.6, [0, 1]), (0.8, [0, 1, 2]), (0.9, [0, 1, 2, 3]), (0.99, [0, 1, 2, 3, 4])])
    func topPKeepsTheSmallestHeadReachingP(p: Double, expected: [Int]) {
        #expect(run(TopP(p: p), on: logits(probabilities: fiveTokens)).ids == expected)
    }

    /// After top-k 3, top-p works on the renormalised head: 0.5/0.85 = 0.588 < 0.6 needs id 1.
    @Test func topPWorksOnTheRenormalisedDistribution() {
        #expect(run(TopP(p: 0.6), on: logits(probabilities: fiveTokens), after: [TopK(k: 3)]).ids == [0, 1])
    }

    /// max q = 0.5, so min-p m keeps q ≥ 0.5·m.
    @Test(arguments: [(0.05, [0, 1, 2, 3, 4]), (0.15, [0, 1, 2, 3]), (0.25, [0, 1, 2]), (0.35, [0, 1]), (1.0, [0])])
    func minPKeepsTokensNearTheBest(m: Double, expected: [Int]) {
        #expect(Set(run(MinP(p: m), on: logits(probabilities: fiveTokens)).ids) == Set(expected))
    }

    /// H = 1.33308 nats; surprises −ln q = 0.693, 1.609, 1.897, 2.303, 2.996; distance to H:
    /// 0.640, 0.276, 0.564, 0.970, 1.663, so the typical order is 1, 2, 0, 3, 4 and the most
    /// likely token is not the most typical one.
    @Test(arguments: [(0.0, [1]), (0.3, [1, 2]), (0.5, [1, 2, 0]), (0.9, [1, 2, 0, 3]), (0.99, [1, 2, 0, 3, 4])])
    func typicalKeepsTheTokensClosestToTheEntropy(p: Double, expected: [Int]) {
        #expect(run(Typical(p: p), on: logits(probabilities: fiveTokens)).ids == expected)
    }

    /// Mirostat's cut: surprises in bits are 1, 2.32, 2.74, 3.32, 4.32; mu keeps those ≤ mu.
    @Test(arguments: [(0.5, [0]), (2.5, [0, 1]), (3.5, [0, 1, 2, 3]), (10.0, [0, 1, 2, 3, 4])])
    func mirostatKeepsTokensWithSurpriseAtMostMu(mu: Double, expected: [Int]) {
        #expect(Set(run(MirostatV2(mu: mu), on: logits(probabilities: fiveTokens)).ids) == Set(expected))
    }

    /// Every stage keeps `total` equal to the kept weights, which the mass accounting relies on.
    @Test func stagesKeepTheTotalOfTheSurvivors() {
        let row = randomLogits(count: 2000, seed: 12)
        let stages: [any SamplingStage] = [TopK(k: 50), TopP(p: 0.7), MinP(p: 0.2), Typical(p: 0.5), MirostatV2(mu: 4)]
        for stage in stages {
            let (_, work) = run(stage, on: row)
            #expect(abs(work.total - work.weightSum(0..<work.count)) <= 1e-9 * work.total, "\(stage)")
        }
    }

    /// The partial sort agrees with a full sort for every prefix length, with ties.
    @Test func partialSortMatchesAFullSort() {
        var g = SeededGenerator(seed: 3)
        let keys = (0..<500).map { _ in Float(g.next() % 50) }
        let full = (0..<500 as Range<Int32>).sorted { a, b in keys[Int(a)] > keys[Int(b)] || (keys[Int(a)] == keys[Int(b)] && a < b) }
        for m in [1, 2, 5, 64, 499, 500] {
            var ids = (0..<500 as Range<Int32>).shuffled(using: &g)
            ids.withUnsafeMutableBufferPointer { SamplingWorkspace.partialSort($0.baseAddress!, count: 500, prefix: m) { keys[Int($0)] } }
            #expect(Array(ids[0..<m]) == Array(full[0..<m]))
        }
    }
}

@Suite struct TokenInfoTests {
    @Test func infoReportsProbabilitiesEntropyAndRemovedMass() throws {
        var settings = SamplingSettings.neutral(seed: 1)
        settings.topK = 2
        settings.topP = 0.99
        var sampler = try Sampler(settings: settings)
        let info = try sampler.draw(logits(probabilities: fiveTokens))
        #expect([0, 1].contains(info.id))
        #expect(abs(info.probability - (info.id == 0 ? 0.5 / 0.7 : 0.2 / 0.7)) < 1e-6)
        #expect(abs(info.entropy - 1.333_08) < 1e-4)
        #expect(info.top.map(\.id) == [0, 1, 2, 3, 4])
        for (alternative, q) in zip(info.top, fiveTokens) { #expect(abs(alternative.probability - q) < 1e-6) }
        #expect(info.massRemoved.map(\.stage) == ["top-k", "top-p"])
        #expect(abs(info.massRemoved[0].fraction - 0.3) < 1e-6)
        #expect(abs(info.massRemoved[1].fraction) < 1e-9)  // 0.7 already ≥ 0.99 · 0.7
    }

    /// Greedy: probability 1, the greedy cut reported, entropy and alternatives at temperature 1.
    @Test func greedyInfoDescribesTheModelsOwnDistribution() throws {
        var sampler = try Sampler(settings: SamplingSettings(temperature: 0))
        let info = try sampler.draw(logits(probabilities: fiveTokens))
        #expect(info.id == 0 && info.probability == 1)
        #expect(abs(info.entropy - 1.333_08) < 1e-4)
        #expect(info.massRemoved.map(\.stage) == ["greedy"])
        #expect(abs(info.massRemoved[0].fraction - 0.5) < 1e-6)
    }

    @Test func infoListsFewerAlternativesForATinyVocabulary() throws {
        var sampler = try Sampler(settings: .neutral())
        let info = try sampler.draw([0, 0])
        #expect(info.top.count == 2 && info.top.map(\.id) == [0, 1])
        #expect(info.massRemoved.isEmpty)
        #expect(abs(info.entropy - log(2)) < 1e-6)
    }

    @Test func fixedListHoldsFiveInline() {
        var list = FixedList<Int>()
        for i in 0..<5 { list.append(i * 10) }
        #expect(Array(list) == [0, 10, 20, 30, 40])
        #expect(list.description == "[0, 10, 20, 30, 40]")
        #expect(list == list && list != FixedList())
    }
}
