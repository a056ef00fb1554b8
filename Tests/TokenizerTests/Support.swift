import Foundation
import Testing
@testable import Tokenizer

/// Paths of the committed fixtures (next to this file) and of the package's `Vocab/`.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static func path(_ name: String) -> String { directory + "/" + name }
    static func data(_ name: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path(name))) }

    struct Expectation: Decodable {
        var text: String
        var ids: [Int]
        var pieces: [String]?
    }

    static func expectations(_ name: String) throws -> [Expectation] {
        try JSONDecoder().decode([Expectation].self, from: data(name))
    }

    /// The small tokenizer Hugging Face trained on `train.txt`.
    static let hf: BPETokenizer = {
        do { return try BPETokenizer(directory: path("hf")) } catch { fatalError("fixture hf/: \(error)") }
    }()
}

/// A seeded generator (SplitMix64) so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random text drawn from the troublesome corners of Unicode: ASCII words and punctuation,
/// accents and combining marks, CJK, Hangul, Arabic, emoji with skin tones and ZWJ, digits of
/// several scripts, every kind of whitespace, apostrophes for the contractions.
func randomText(_ rng: inout SeededGenerator, length: Int) -> String {
    let atoms: [String] = [
        "a", "b", "Z", "hello", "world", " ", " ", "  ", "\t", "\n", "\r\n", "\u{00A0}", "\u{2009}", "\u{3000}",
        "\u{0085}", "\u{2028}", "'", "'s", "'ll", "'re", "'T", "é", "e\u{0301}", "\u{0308}", "ñ", "ß", "日", "本",
        "語", "한", "ب", "ع", "٣", "½", "²", "7", "42", ".", ",", "!", "?", "-", "_", "<|endoftext|>", "<|user|>",
        "👍", "👍🏽", "👨‍👩‍👧", "\u{200D}", "🏳️‍🌈", "🇺🇸", "\u{FE0F}", "\u{200B}", "\u{FEFF}", "\u{0000}", "\u{7F}",
        "\u{10FFFF}", "\u{E000}", "Ω", "я", "λ",
    ]
    var text = ""
    for _ in 0..<length { text += atoms[Int(rng.next() % UInt64(atoms.count))] }
    return text
}
