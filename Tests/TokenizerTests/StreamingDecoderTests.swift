import Testing
@testable import Tokenizer

@Suite struct StreamingDecoderTests {
    let tokenizer = Fixture.hf

    /// Streams ids one at a time and returns every chunk, then the final flush.
    func stream(_ ids: [Int]) throws -> [String] {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var chunks = try ids.map { try decoder.push($0) }
        chunks.append(decoder.finish())
        return chunks
    }

    /// The single-byte tokens of `bytes`: the finest possible split of any text.
    func byteTokens(_ bytes: [UInt8]) -> [Int] { bytes.map { Int(tokenizer.byteIDs[Int($0)]) } }

    @Test func equalsTheOneShotDecodeForRandomText() throws {
        var rng = SeededGenerator(seed: 21)
        for _ in 0..<200 {
            let text = randomText(&rng, length: 15)
            #expect(try stream(tokenizer.encode(text)).joined() == text)
            #expect(try stream(byteTokens(Array(text.utf8))).joined() == text)
        }
    }

    @Test func equalsTheOneShotDecodeForRandomBytes() throws {
        var rng = SeededGenerator(seed: 22)
        let interesting: [UInt8] = [0x41, 0x80, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0x9F, 0xA0, 0x90, 0x8F]
        for length in 1...8 {
            for _ in 0..<300 {
                let bytes = (0..<length).map { _ in interesting[Int(rng.next() % UInt64(interesting.count))] }
                let ids = byteTokens(bytes)
                #expect(try stream(ids).joined() == tokenizer.decode(ids), "\(bytes)")
            }
        }
    }

    @Test func showsAnEmojiSplitOverTokensOnceAndWhole() throws {
        let chunks = try stream(byteTokens(Array("a👍🏽b".utf8)))
        #expect(chunks.filter { !$0.isEmpty } == ["a", "👍", "🏽", "b"])
        #expect(!chunks.joined().contains("\u{FFFD}"))
    }

    @Test func flushesBytesThatNeverCompleteAsReplacementCharacters() throws {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        #expect(try decoder.push(byteTokens([0xF0])[0]) == "")
        #expect(try decoder.push(byteTokens([0x9F])[0]) == "")
        #expect(decoder.hasPendingBytes)
        #expect(decoder.finish() == "\u{FFFD}")
        // A byte that can never start a character is replaced at once: streaming never stalls.
        #expect(try decoder.push(byteTokens([0xFF])[0]) == "\u{FFFD}")
        #expect(try decoder.push(byteTokens([0xF0])[0]) == "")
        #expect(try decoder.push(byteTokens([0x41])[0]) == "\u{FFFD}A")
    }

    @Test func rejectsUnknownIdsAndKeepsItsState() throws {
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        _ = try decoder.push(byteTokens([0xE2])[0])
        #expect(throws: TokenizerError.self) { try decoder.push(999_999) }
        _ = try decoder.push(byteTokens([0x82])[0])
        #expect(try decoder.push(byteTokens([0xAC])[0]) == "€")
    }
}
