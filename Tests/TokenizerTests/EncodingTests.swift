import Foundation
import Testing
@testable import Tokenizer

@Suite struct EncodingTests {
    let tokenizer = Fixture.hf

    @Test func roundTripsRandomUnicode() throws {
        var rng = SeededGenerator(seed: 42)
        for length in [0, 1, 2, 5, 20, 100] {
            for _ in 0..<60 {
                let text = randomText(&rng, length: length)
                #expect(try tokenizer.decode(tokenizer.encode(text)) == text, "\(text.debugDescription)")
            }
        }
        #expect(try tokenizer.decode(tokenizer.encode("")) == "")
    }

    @Test func roundTripsArbitraryBytes() throws {
        var rng = SeededGenerator(seed: 3)
        for length in [1, 2, 3, 7, 64, 500] {
            for _ in 0..<40 {
                let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                #expect(try tokenizer.decodeBytes(tokenizer.encode(utf8: bytes)) == bytes)
            }
        }
    }

    @Test func roundTripsAWholeFile() throws {
        let text = String(decoding: try Fixture.data("train.txt"), as: UTF8.self)
        #expect(try tokenizer.decode(tokenizer.encode(text)) == text)
    }

    @Test func cachedEncodingEqualsTheReference() throws {
        var rng = SeededGenerator(seed: 5)
        for _ in 0..<200 {
            let text = randomText(&rng, length: 30)
            #expect(tokenizer.encode(text) == tokenizer.encodeReference(text))
            #expect(tokenizer.encode(text) == tokenizer.encode(text))  // the second time from the cache
        }
    }

    /// The heap-based merge of long pieces against the naive loop, its oracle.
    @Test func longPieceMergeEqualsTheNaiveLoop() {
        var rng = SeededGenerator(seed: 9)
        let alphabet = Array("aabbabcé日 ".utf8)
        var heap = MinHeap()
        for length in [2, 3, 10, 65, 300, 2000] {
            for _ in 0..<20 {
                let bytes = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                var naive = bytes.map { tokenizer.byteIDs[Int($0)] }
                var fast = naive
                tokenizer.merges.mergeNaive(&naive)
                tokenizer.merges.mergeLong(&fast, heap: &heap)
                #expect(naive == fast)
            }
        }
    }

    @Test func encodesAMegabyteWithoutSpacesWithinATimeBound() throws {
        for unit in ["a", "ab", "日本", "👍🏽"] {
            let text = String(repeating: unit, count: (1 << 20) / unit.utf8.count)
            let clock = ContinuousClock()
            var ids: [Int] = []
            let elapsed = clock.measure { ids = tokenizer.encode(text) }
            #expect(elapsed < .seconds(30), "\(unit): \(elapsed)")
            #expect(try tokenizer.decode(ids) == text)
        }
    }

    @Test func neverProducesSpecialTokensFromUserText() {
        let text = "hello <|endoftext|> and <|user|><|bot|>"
        let ids = tokenizer.encode(text)
        for special in tokenizer.specialTokens.values { #expect(!ids.contains(special)) }
    }

    @Test func insertsSpecialTokensOnlyWhenAllowed() throws {
        let ids = tokenizer.encode("<|user|>hi\n<|bot|>hello<|endoftext|>", allowingSpecialTokens: true)
        let user = try #require(tokenizer.specialTokenID("<|user|>"))
        let bot = try #require(tokenizer.specialTokenID("<|bot|>"))
        let end = try #require(tokenizer.specialTokenID("<|endoftext|>"))
        #expect(ids.first == user && ids.last == end && ids.contains(bot))
        #expect(ids == [user] + tokenizer.encode("hi\n") + [bot] + tokenizer.encode("hello") + [end])
        #expect(tokenizer.isSpecial(end) && !tokenizer.isSpecial(ids[1]))
        #expect(try tokenizer.decode(ids) == "<|user|>hi\n<|bot|>hello<|endoftext|>")
    }

    @Test func rejectsUnknownIds() {
        #expect(throws: TokenizerError.self) { try tokenizer.decode([0, tokenizer.vocabularySize]) }
        #expect(throws: TokenizerError.self) { try tokenizer.decode([-1]) }
    }
}
