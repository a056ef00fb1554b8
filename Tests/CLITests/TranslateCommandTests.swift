import Foundation
import Testing

/// `train --task translate`, `translate` and `eval` of an encoder–decoder, on 48 made-up pairs.
@Suite struct TranslateCommandTests {
    static let pairs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/tiny-pairs.tsv").path
    static let tiny = [
        "--task", "translate", "--data", pairs, "--layers", "1", "--heads", "2", "--width", "16", "--context", "24",
        "--batch-tokens", "200", "--eval-every", "3", "--checkpoint-every", "3",
    ]

    /// A model trained for `steps` updates, its directory.
    static func trained(steps: Int = 6, extra: [String] = []) throws -> String {
        let out = try CLI.temporaryDirectory().path
        let r = try CLI.run(["train", "--output", out, "--steps", "\(steps)"] + tiny + extra)
        #expect(r.status == 0, "\(r.stderr)")
        return out
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    @Test func trainsAVocabularyAndAModelAndResumeEqualsAnUninterruptedRunBitForBit() throws {
        let straight = try Self.trained()
        for file in ["vocab.json", "merges.txt", "model.safetensors", "checkpoint.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: straight + "/" + file), "\(file)")
        }
        let stopped = try Self.trained(extra: ["--stop-at", "4"])
        let resumed = try CLI.run(["train", "--task", "translate", "--data", Self.pairs, "--output", stopped, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at step 4 of 6"))
        #expect(try Self.bytes(stopped + "/checkpoint.safetensors") == Self.bytes(straight + "/checkpoint.safetensors"))
        #expect(try Self.bytes(stopped + "/model.safetensors") == Self.bytes(straight + "/model.safetensors"))
    }

    @Test func translateGivesOneLinePerLineAndAnEmptyLineStaysEmpty() throws {
        let model = try Self.trained() + "/model.safetensors"
        let r = try CLI.run(["translate", "--model", model, "-"], stdin: "I have a dog.\n\nWe see the red cat.\n")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4 && lines[1].isEmpty && lines[3].isEmpty, "\(r.stdout)")
        let one = try CLI.run(["translate", "--model", model, "--beam", "3", "I have a dog."])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(one.stdout.hasSuffix("\n") && one.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == 2)
    }

    /// `--alignment`: the translation, a title, then a grid with one row per target token and a
    /// column per source token (the tiny model has 2 heads over 1 decoder layer).
    @Test func alignmentPrintsTheTranslationThenOneRowPerTargetToken() throws {
        let model = try Self.trained() + "/model.safetensors"
        let plain = try CLI.run(["translate", "--model", model, "I have a dog."])
        for extra in [[], ["--head", "2"], ["--layer", "1", "--head", "1"]] {
            let r = try CLI.run(["translate", "--model", model, "--alignment", "I have a dog."] + extra)
            #expect(r.status == 0, "\(r.stderr)")
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines[0] + "\n" == plain.stdout, "the same greedy translation")
            #expect(lines[2] == "cross-attention, layer 1/1, " + (extra.isEmpty ? "mean of 2 heads" : "head \(extra.last!)/2"))
            #expect(lines[3].hasPrefix("source  1 \""))
            let sourceTokens = lines[3].components(separatedBy: "  ").count - 1
            #expect(lines[4].split(separator: " ").last == Substring("\(sourceTokens)"), "\(lines[4])")
            // One row per target token: at least one, each starting with the token quoted.
            let rows = lines.dropFirst(5).filter { !$0.isEmpty }
            #expect(!rows.isEmpty && rows.allSatisfy { $0.hasPrefix("\"") })
        }
        for (args, message) in [
            (["--alignment", "-"], "--alignment maps one sentence: give it as TEXT"),
            (["--alignment", "--beam", "2", "x"], "--alignment follows greedy decoding; leave out --beam"),
            (["--head", "1", "x"], "--layer and --head choose what --alignment shows"),
            (["--alignment", "--layer", "2", "x"], "--layer must be in 1...1 (got 2)"),
            (["--alignment", "--head", "3", "x"], "--head must be in 1...2 (got 3)"),
        ] {
            let r = try CLI.run(["translate", "--model", model] + args)
            #expect(r.status == 64 && r.stderr.contains(message) && r.stdout.isEmpty, "\(args): \(r.stderr)")
        }
    }

    /// The chat commands name what the file is instead of "no attnchat config".
    @Test func aTranslationModelGivenToTheChatCommandsIsNamedAsSuch() throws {
        let model = try Self.trained() + "/model.safetensors"
        for command in [["info"], ["generate", "--prompt", "hi"], ["chat", "--no-tui"]] {
            let r = try CLI.run(command + ["--model", model], stdin: "")
            #expect(r.status == 65, "\(command)")
            #expect(r.stderr == "attnchat: \(model): is an encoder–decoder translation model (format attnchat-seq2seq), not a chat model: use attnchat translate or eval\n", "\(r.stderr)")
        }
    }

    @Test func aLineLongerThanTheContextExits65NamingItAndPrintsNothing() throws {
        let model = try Self.trained(steps: 1) + "/model.safetensors"
        let long = Array(repeating: "cat", count: 40).joined(separator: " ")
        let r = try CLI.run(["translate", "--model", model], stdin: "I have a dog.\n" + long + "\n")
        #expect(r.status == 65)
        #expect(r.stdout.isEmpty)
        #expect(r.stderrLines.count == 1 && r.stderr.contains("line 2") && r.stderr.contains("context of 24"), "\(r.stderr)")
    }

    @Test func aMalformedTSVLineExits65NamingTheLine() throws {
        let dir = try CLI.temporaryDirectory()
        let bad = dir.appendingPathComponent("bad.tsv").path
        try ("I have a cat.\tYo tengo un gato.\tmade up\n" + "only two\tcolumns\n").write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "--task", "translate", "--data", bad, "--output", dir.appendingPathComponent("out").path])
        #expect(r.status == 65)
        #expect(r.stderrLines.count == 1 && r.stderr.contains("bad.tsv:2"), "\(r.stderr)")
    }

    @Test func evalOfATranslationModelPrintsLossPerplexityAndBLEUAsJSON() throws {
        let model = try Self.trained(steps: 2) + "/model.safetensors"
        let r = try CLI.run(["eval", "--model", model, "--data", Self.pairs, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        for key in ["pairs", "sentences", "tokens", "nats_per_token", "perplexity", "bleu", "brevity_penalty"] {
            #expect(object?[key] != nil, "\(key) in \(r.stdout)")
        }
        #expect(object?["sentences"] as? Int == 1)
    }

    @Test func translateWithAFileOfAnotherFormatExits65NamingTheFormat() throws {
        let checkpoint = try Self.trained(steps: 1) + "/checkpoint.safetensors"
        let r = try CLI.run(["translate", "--model", checkpoint, "hello"])
        #expect(r.status == 65)
        #expect(r.stderrLines.count == 1 && r.stderr.contains("attnchat-seq2seq-checkpoint"), "\(r.stderr)")
    }
}
