import Seq2Seq
import Testing
@testable import Training

/// Bucketed batches under a token budget, and their order per epoch.
@Suite struct TranslationBatchesTests {
    static let tokens: TranslationTokens = {
        let lengths = (0..<200).map { (1 + ($0 * 7) % 19, 1 + ($0 * 11) % 23) }
        return TranslationTokens(
            sources: lengths.map { [Int32](repeating: 5, count: $0.0) }, targets: lengths.map { [Int32](repeating: 6, count: $0.1) })
    }()

    @Test func everyPairOnceAndEveryBatchWithinTheBudget() {
        let batches = TranslationBatches(tokens: Self.tokens, tokenBudget: 300, seed: 3)
        #expect(batches.batches.flatMap { $0 }.sorted() == Array(0..<200))
        for batch in batches.batches {
            let S = batch.map { Self.tokens.sources[$0].count }.max()!, T = batch.map { Self.tokens.targets[$0].count + 1 }.max()!
            #expect(batch.count * (S + T) <= 300)
        }
    }

    @Test func anEpochVisitsEveryBatchOnceInASeededOrderThatDependsOnlyOnTheStep() {
        let a = TranslationBatches(tokens: Self.tokens, tokenBudget: 300, seed: 3)
        let b = TranslationBatches(tokens: Self.tokens, tokenBudget: 300, seed: 3)
        let n = a.count
        let epoch0 = (0..<n).map { a.batch(step: $0) }, epoch1 = (n..<2 * n).map { a.batch(step: $0) }
        #expect(Set(epoch0) == Set(a.batches) && Set(epoch1) == Set(a.batches))
        #expect(epoch0 != epoch1)
        #expect((0..<2 * n).map { b.batch(step: $0) } == epoch0 + epoch1)
    }

    @Test func aPairLongerThanTheBudgetGetsABatchOfItsOwn() {
        let tokens = TranslationTokens(sources: [[5, 5, 5, 5], [5]], targets: [[6, 6, 6, 6], [6]])
        let batches = TranslationBatches(tokens: tokens, tokenBudget: 4, seed: 1)
        #expect(batches.batches.sorted { $0[0] < $1[0] } == [[0], [1]])
    }
}
