import FileIO
import Foundation
import Testing
@testable import Tokenizer

/// Files and ids against Hugging Face `tokenizers` (fixtures from Scripts/make-tokenizer-fixtures.py).
@Suite struct CompatibilityTests {
    @Test func encodesLikeHuggingFaceWithItsFiles() throws {
        let tokenizer = Fixture.hf
        for expectation in try Fixture.expectations("hf-expected.json") {
            #expect(tokenizer.encode(expectation.text) == expectation.ids, "\(expectation.text.debugDescription)")
        }
    }

    @Test func loadsVocabAndMergesFromMemoryLikeTokenizerJSON() throws {
        let fromBytes = try BPETokenizer(vocabJSON: Fixture.data("hf/vocab.json"), merges: Fixture.data("hf/merges.txt"))
        let fromJSON = try BPETokenizer(tokenizerJSON: Fixture.data("hf/tokenizer.json"))
        #expect(fromBytes.specialTokens == fromJSON.specialTokens)
        #expect(fromBytes.specialTokenID("<|endoftext|>") == 0)
        for expectation in try Fixture.expectations("hf-expected.json") {
            #expect(fromBytes.encode(expectation.text) == expectation.ids)
        }
    }

    /// Hugging Face loaded the files attnchat trained and gave these ids.
    @Test func huggingFaceEncodesAttnchatsFilesTheSame() throws {
        let tokenizer = try BPETokenizer(directory: Fixture.path("attnchat"))
        for expectation in try Fixture.expectations("attnchat-expected.json") {
            #expect(tokenizer.encode(expectation.text) == expectation.ids, "\(expectation.text.debugDescription)")
        }
    }

    /// Same training text, same settings: attnchat writes the very bytes `tokenizers` wrote.
    @Test func trainingWritesTheFilesHuggingFaceWrites() throws {
        var trainer = BPETrainer(vocabularySize: 500, specialTokens: BPETokenizer.defaultSpecialTokens)
        trainer.add(String(decoding: try Fixture.data("train.txt"), as: UTF8.self))
        let tokenizer = try trainer.train()
        #expect(tokenizer.vocabJSON() == (try Fixture.data("hf/vocab.json")))
        #expect(tokenizer.mergesText() == (try Fixture.data("hf/merges.txt")))
        #expect(tokenizer.tokenizerJSON() == (try Fixture.data("hf/tokenizer.json")))
    }

    @Test func rewritesLoadedFilesByteForByte() throws {
        let tokenizer = Fixture.hf
        #expect(tokenizer.vocabJSON() == (try Fixture.data("hf/vocab.json")))
        #expect(tokenizer.mergesText() == (try Fixture.data("hf/merges.txt")))
        #expect(tokenizer.tokenizerJSON() == (try Fixture.data("hf/tokenizer.json")))
    }

    @Test func savesAndReloadsThroughADirectory() throws {
        let directory = NSTemporaryDirectory() + "attnchat-tok-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Fixture.hf.save(to: directory, existing: .replace)
        let reloaded = try BPETokenizer(directory: directory)
        #expect(reloaded.encode("Hello world 👍🏽") == Fixture.hf.encode("Hello world 👍🏽"))
        #expect(reloaded.specialTokens == Fixture.hf.specialTokens)
    }

    @Test func readsLegacyStringMerges() throws {
        var json = try #require(String(data: Fixture.data("hf/tokenizer.json"), encoding: .utf8))
        // Rewrite `[\n "a",\n "b"\n ]` pairs into the older `"a b"` strings.
        let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        var model = try #require(object["model"] as? [String: Any])
        let pairs = try #require(model["merges"] as? [[String]])
        model["merges"] = pairs.map { $0.joined(separator: " ") }
        var legacy = object
        legacy["model"] = model
        json = String(decoding: try JSONSerialization.data(withJSONObject: legacy), as: UTF8.self)
        let tokenizer = try BPETokenizer(tokenizerJSON: Data(json.utf8))
        #expect(tokenizer.encode("Hello world, how are you?") == Fixture.hf.encode("Hello world, how are you?"))
    }

    /// minbpe's known answer: "aaabdaaabac" with 3 merges encodes as [aaab, d, aaab, a, c]
    /// ([258, 100, 258, 97, 99] in minbpe's byte-id space). Ties go to the smallest ids here, as in
    /// Hugging Face, so the merges are (a,a), (a,b), (aa,ab) rather than minbpe's (a,a), (aa,a), (aaa,b).
    @Test func learnsMinbpesKnownAnswer() throws {
        var trainer = BPETrainer(vocabularySize: 259)
        trainer.add("aaabdaaabac")
        let tokenizer = try trainer.train()
        #expect(tokenizer.mergeCount == 3)
        let id = { (token: String) in try #require(tokenizer.ids[token]) }
        #expect(tokenizer.encode("aaabdaaabac") == [try id("aaab"), try id("d"), try id("aaab"), try id("a"), try id("c")])
        #expect(tokenizer.mergePairs().map { "\($0) \($1)" } == ["a a", "a b", "aa ab"])
    }

    @Test func rejectsVocabularySizesThatCannotWork() {
        #expect(throws: TokenizerError.self) { try BPETrainer(vocabularySize: 200).train() }
        #expect(throws: TokenizerError.self) { try BPETrainer(vocabularySize: 70000).train() }
        do {
            _ = try BPETrainer(vocabularySize: 257, specialTokens: ["<a>", "<b>"]).train()
            Issue.record("trained 257 tokens: fewer than 256 bytes + 2 specials")
        } catch {
            #expect(error.exitCode == 64)
        }
    }

    /// The default tokenizer in Vocab/: Hugging Face's ids on 1,000 validation messages.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: Fixture.packageRoot + "/Vocab/vocab.json")))
    func defaultVocabularyEncodesLikeHuggingFace() throws {
        let tokenizer = try BPETokenizer(directory: Fixture.packageRoot + "/Vocab")
        #expect(tokenizer.vocabularySize == 4096)
        #expect(BPETokenizer.defaultSpecialTokens.map { tokenizer.specialTokenID($0) } == [0, 1, 2])
        let fromBytes = try BPETokenizer(
            vocabJSON: Data(contentsOf: URL(fileURLWithPath: Fixture.packageRoot + "/Vocab/vocab.json")),
            merges: Data(contentsOf: URL(fileURLWithPath: Fixture.packageRoot + "/Vocab/merges.txt")))
        #expect(fromBytes.specialTokens == tokenizer.specialTokens)
        for expectation in try Fixture.expectations("vocab-validation.json") {
            #expect(tokenizer.encode(expectation.text) == expectation.ids, "\(expectation.text.debugDescription)")
        }
    }
}

/// GPT-2's own 50,257-token files (Scripts/fetch-gpt2-vocab puts them in data/gpt2/).
@Suite struct GPT2VocabularyTests {
    static let directory = Fixture.packageRoot + "/data/gpt2"

    @Test(.enabled(if: FileManager.default.fileExists(atPath: directory + "/vocab.json")))
    func encodesLikeHuggingFaceWithGPT2sFiles() throws {
        let tokenizer = try BPETokenizer(directory: Self.directory)
        #expect(tokenizer.vocabularySize == 50257)
        #expect(tokenizer.mergeCount == 50000)
        #expect(tokenizer.specialTokenID("<|endoftext|>") == 50256)
        #expect(tokenizer.specialTokenID("<|user|>") == nil)
        for expectation in try Fixture.expectations("gpt2-expected.json") {
            #expect(tokenizer.encode(expectation.text) == expectation.ids, "\(expectation.text.debugDescription)")
        }
        // Written back, GPT-2's files keep their ranks and ids.
        let reloaded = try BPETokenizer(vocabJSON: tokenizer.vocabJSON(), merges: tokenizer.mergesText())
        #expect(reloaded.encode("Hello world, this is GPT-2!") == tokenizer.encode("Hello world, this is GPT-2!"))
        let fromJSON = try BPETokenizer(tokenizerJSON: tokenizer.tokenizerJSON())
        #expect(fromJSON.encode("naïve café 👍🏽") == tokenizer.encode("naïve café 👍🏽"))
    }
}
