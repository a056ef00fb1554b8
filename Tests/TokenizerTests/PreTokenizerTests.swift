import Foundation
import Testing
@testable import Tokenizer

@Suite struct PreTokenizerTests {
    @Test func splitsLikeTheGPT2Pattern() {
        #expect(PreTokenizer.pieces("Hello world's  123!!") == ["Hello", " world", "'s", " ", " 123", "!!"])
        #expect(PreTokenizer.pieces("a \t\nb") == ["a", " \t", "\n", "b"])
        #expect(PreTokenizer.pieces("end   ") == ["end", "   "])
        #expect(PreTokenizer.pieces("?'s") == ["?'", "s"])
        #expect(PreTokenizer.pieces(" 's") == [" '", "s"])
        #expect(PreTokenizer.pieces("") == [])
    }

    /// The pieces Hugging Face's ByteLevel pre-tokenizer produced, for every tricky fixture string.
    @Test func matchesHuggingFacePiecesOnFixtures() throws {
        for expectation in try Fixture.expectations("hf-expected.json") {
            guard let expected = expectation.pieces else { continue }
            let ours = PreTokenizer.pieces(expectation.text).map { ByteLevel.encode(Array($0.utf8)) }
            #expect(ours == expected, "\(expectation.text.debugDescription)")
        }
    }

    /// Swift's own regex engine, given the pattern, is the oracle on random text.
    @Test func matchesTheRegexOnRandomText() throws {
        let pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        let regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<300 {
            let text = randomText(&rng, length: 12)
            let expected = text.unicodeScalars.isEmpty ? [] : String(text).matches(of: regex).map { match in
                String(text.unicodeScalars[match.range.lowerBound..<match.range.upperBound])
            }
            #expect(PreTokenizer.pieces(text) == expected, "\(text.debugDescription)")
        }
    }

    @Test func piecesTileTheInputExactly() {
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<200 {
            let text = randomText(&rng, length: 20)
            #expect(PreTokenizer.pieces(text).joined() == text)
        }
    }

    @Test func splitsAMegabyteWithoutSpacesInLinearTime() {
        let text = String(repeating: "ab1!é日", count: 1 << 17)
        let clock = ContinuousClock()
        let elapsed = clock.measure { #expect(PreTokenizer.pieces(text).joined() == text) }
        #expect(elapsed < .seconds(20))
    }
}

@Suite struct PreTokenizerClassTests {
    @Test func asciiFastPathAgreesWithTheUnicodeProperties() throws {
        for byte in UInt8(0)..<128 {
            #expect(PreTokenizer.asciiClass(byte) == PreTokenizer.classify(Unicode.Scalar(byte)), "byte \(byte)")
        }
    }
}
