import Foundation
import Testing

/// The embedded default model and the export path.
@Suite struct DefaultModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let corpus = root.appendingPathComponent("data/chitchat/dataset.json").path

    @Test func theEmbeddedModelNeedsNoFiles() throws {
        let r = try CLI.run(["info", "--model", "default", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\"vocab_size\":4096"))
        #expect(r.stdout.contains("\"dtypes\":[\"F16\"]"))
    }

    /// `attnchat` alone is the chat with the embedded model; without a terminal it is line mode.
    @Test func noArgumentsChatsWithTheDefaultModel() throws {
        let r = try CLI.run(["--max-tokens", "8", "--seed", "1"], stdin: "hi! how are you doing today?\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.isEmpty)
    }

    /// The model card's number: `attnchat eval --model default` on the chit-chat validation split
    /// reproduces `Model/default.json`. Runs where the corpus is present (`Scripts/fetch-corpus`;
    /// `.ci/run` fetches it).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: corpus)))
    func defaultModelMatchesItsModelCard() throws {
        let card = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.root.appendingPathComponent("Model/default.json"))) as! [String: Any]
        let r = try CLI.run(["eval", "--model", "default", "--data", Self.corpus, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let bpb = json["bits_per_byte"] as! Double
        #expect(abs(bpb - (card["validation_bits_per_byte"] as! Double)) < 0.0005, "validation bits/byte \(bpb)")
        #expect(bpb <= 1.40, "issue 5's goal: validation bits/byte \(bpb)")
        let bytes = json["bytes"] as! Int  // every validation byte but those of each window's first token
        #expect(bytes < 684_380 && bytes > 680_000)
    }

    /// A Hugging Face export loads back (and, in transformers, as GPT2LMHeadModel) with the same outputs.
    @Test func huggingFaceExportGivesTheSameGreedyTokens() throws {
        let out = try CLI.temporaryDirectory().appendingPathComponent("hf").path
        let export = try CLI.run(["export", "--model", CLI.fixture("tiny-odd"), "--output", out, "--hugging-face"])
        #expect(export.status == 0, "\(export.stderr)")
        for file in ["config.json", "model.safetensors", "vocab.json", "merges.txt", "tokenizer.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file)")
        }
        let r = try CLI.run(["generate", "--model", out, "--prompt-ids", GenerateCommandTests.prompt, "--max-tokens", "20", "--temperature", "0", "--ids"])
        #expect(r.stdout == GenerateCommandTests.pytorchGreedy + "\n")
    }

    @Test func exportToF16HalvesTheFile() throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("m.safetensors").path
        #expect(try CLI.run(["export", "--model", CLI.fixture("small"), "--output", path, "--dtype", "F16"]).status == 0)
        let r = try CLI.run(["info", "--model", path, "--json"])
        #expect(r.stdout.contains("\"dtypes\":[\"F16\"]"))
        #expect(try CLI.run(["export", "--model", CLI.fixture("small"), "--output", path, "--dtype", "F8"]).status == 64)
    }
}
