import Foundation
import Testing
@testable import Tokenizer

/// The tokenizer.json layouts of the Hugging Face families against `tokenizers` itself
/// (fixtures from Scripts/make-hf-tokenizer-fixtures.py): ids without and with the
/// post-processor's special tokens, `decode`, and the streaming decoder.
@Suite struct HuggingFaceFamilyTests {
    struct Expected: Decodable {
        struct Encode: Decodable {
            var text: String
            var ids: [Int]
            var withSpecial: [Int]
            var decoded: String
        }
        struct Decode: Decodable {
            var ids: [Int]
            var text: String
        }
        var encodes: [Encode]
        var decodes: [Decode]
    }

    static let families = ["gpt2", "smollm2", "llama3", "qwen2", "llama2", "metaspace", "metaspace-always"]

    static func load(_ family: String) throws -> (BPETokenizer, Expected) {
        let tokenizer = try BPETokenizer(directory: Fixture.path("families/\(family)"))
        let expected = try JSONDecoder().decode(Expected.self, from: Fixture.data("families/\(family)-expected.json"))
        return (tokenizer, expected)
    }

    /// `encode(text, allowingSpecialTokens: true)` is `tokenizer.encode(text, add_special_tokens=False)`.
    @Test(arguments: families)
    func encodesRenderedTextLikeTokenizers(family: String) throws {
        let (tokenizer, expected) = try Self.load(family)
        var failures = 0
        for entry in expected.encodes {
            let ids = tokenizer.encode(entry.text, allowingSpecialTokens: true)
            if ids != entry.ids, failures < 8 {
                failures += 1
                Issue.record("\(family) \(entry.text.debugDescription): \(ids) != \(entry.ids)")
            }
        }
    }

    /// With the post-processor: `add_special_tokens=True` (Llama's `<s>`, Llama-3's `<|begin_of_text|>`).
    @Test(arguments: families)
    func addsThePostProcessorsSpecialTokens(family: String) throws {
        let (tokenizer, expected) = try Self.load(family)
        for entry in expected.encodes.prefix(80) {
            #expect(tokenizer.encode(entry.text, allowingSpecialTokens: true, addingSpecialTokens: true) == entry.withSpecial,
                    "\(family) \(entry.text.debugDescription)")
        }
    }

    /// `decode(ids)` is `tokenizer.decode(ids, skip_special_tokens=False)`, and streaming one id at a
    /// time gives the same text.
    @Test(arguments: families)
    func decodesAndStreamsLikeTokenizers(family: String) throws {
        let (tokenizer, expected) = try Self.load(family)
        let cases = expected.encodes.map { ($0.withSpecial, $0.decoded) } + expected.decodes.map { ($0.ids, $0.text) }
        var failures = 0
        for (ids, text) in cases {
            let decoded = try tokenizer.decode(ids)
            var streamer = StreamingDecoder(tokenizer: tokenizer)
            var streamed = ""
            for id in ids { streamed += try streamer.push(id) }
            streamed += streamer.finish()
            if (decoded != text || streamed != text), failures < 8 {
                failures += 1
                Issue.record("\(family) \(ids): decode \(decoded.debugDescription), stream \(streamed.debugDescription), expected \(text.debugDescription)")
            }
        }
    }

    /// User text never produces special tokens; the special token texts encode as plain text.
    @Test(arguments: families)
    func userTextNeverProducesSpecialTokens(family: String) throws {
        let (tokenizer, expected) = try Self.load(family)
        for entry in expected.encodes.prefix(120) {
            let ids = tokenizer.encode(entry.text)
            #expect(!ids.contains(where: tokenizer.isSpecial), "\(family) \(entry.text.debugDescription)")
        }
    }
}
