import Testing
@testable import Tokenizer

@Suite struct ByteLevelTests {
    @Test func mapsEveryByteToADistinctPrintableCharacter() {
        #expect(Set(ByteLevel.scalars).count == 256)
        for scalar in ByteLevel.scalars {
            #expect(!scalar.properties.isWhitespace && scalar.value > 0x20 && scalar.value != 0x7F)
        }
    }

    @Test func matchesGPT2sKnownCharacters() {
        #expect(ByteLevel.character(for: 0x20) == "Ġ")
        #expect(ByteLevel.character(for: 0x0A) == "Ċ")
        #expect(ByteLevel.character(for: 0x41) == "A")
        #expect(ByteLevel.character(for: 0xAD) == "Ń")  // soft hyphen, the last shifted byte: U+0143
        #expect(ByteLevel.encode([0x20, 0x68, 0x69]) == "Ġhi")
    }

    @Test func roundTripsAllBytes() {
        let bytes = (0..<256).map { UInt8($0) }
        #expect(ByteLevel.decode(ByteLevel.encode(bytes)) == bytes)
        #expect(ByteLevel.decode("<|user|>") == Array("<|user|>".utf8))
        #expect(ByteLevel.decode("€") == nil)
    }
}
