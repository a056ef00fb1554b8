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

    /// With --dropout the masks follow from the seed and the step: a resumed run still equals
    /// an uninterrupted one, and differs from a run without dropout.
    @Test func dropoutRunsResumeBitForBitToo() throws {
        let straight = try Self.trained(extra: ["--dropout", "0.2"])
        let stopped = try Self.trained(extra: ["--dropout", "0.2", "--stop-at", "4"])
        let resumed = try CLI.run(["train", "--task", "translate", "--data", Self.pairs, "--output", stopped, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try Self.bytes(stopped + "/checkpoint.safetensors") == Self.bytes(straight + "/checkpoint.safetensors"))
        let plain = try Self.trained()
        #expect(try Self.bytes(plain + "/checkpoint.safetensors") != Self.bytes(straight + "/checkpoint.safetensors"))
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

    @Test func theEmbeddedTranslationModelGivenToTheChatCommandsIsNamedAsSuch() throws {
        for command in [["info"], ["generate", "--prompt", "hi"], ["chat", "--no-tui"]] {
            let r = try CLI.run(command + ["--model", "default-translate"], stdin: "")
            #expect(r.status == 65, "\(command)")
            #expect(r.stderr.hasPrefix("attnchat: default-translate: is an encoder–decoder translation model"), "\(r.stderr)")
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
        #expect(object?["decoding"] as? String == "greedy" && object?["translate_seconds"] is Double)
        let beam = try CLI.run(["eval", "--model", model, "--data", Self.pairs, "--beam", "3", "--json"])
        #expect(beam.status == 0, "\(beam.stderr)")
        let beamObject = try JSONSerialization.jsonObject(with: Data(beam.stdout.utf8)) as? [String: Any]
        #expect(beamObject?["decoding"] as? String == "beam" && beamObject?["beam"] as? Int == 3, "\(beam.stdout)")
        let gpt = try CLI.run(["eval", "--data", Self.pairs, "--beam", "3"])
        #expect(gpt.status == 64 && gpt.stderr.contains("--beam measures a translation model's BLEU"), "\(gpt.stderr)")
    }

    static let embeddedDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Model/en-es").standardized.path

    /// With no --model, translate uses the model inside the binary, which is the committed
    /// Model/en-es/model.safetensors (Q8, within the 12 MB): its F32 export translates
    /// the same, and quantizing that export again gives the same file back.
    @Test func translateWithoutAModelUsesTheEmbeddedModelAndItsExportsTranslateTheSame() throws {
        let committed = Self.embeddedDirectory + "/model.safetensors"
        let size = try FileManager.default.attributesOfItem(atPath: committed)[.size] as? Int ?? .max
        #expect(size <= 12_000_000, "\(size) bytes")
        let sentences = "I have a dog.\nWhere is the station?\nShe reads a book every night.\n"
        let embedded = try CLI.run(["translate", "-"], stdin: sentences)
        #expect(embedded.status == 0, "\(embedded.stderr)")
        #expect(embedded.stdout.split(separator: "\n").count == 3 && !embedded.stdout.contains("\n\n"), "\(embedded.stdout)")
        let dir = try CLI.temporaryDirectory().path
        let f32 = dir + "/f32.safetensors", q8 = dir + "/q8.safetensors"
        #expect(try CLI.run(["export", "--model", "default-translate", "--dtype", "F32", "--output", f32]).status == 0)
        #expect(try CLI.run(["export", "--model", f32, "--vocab", Self.embeddedDirectory, "--dtype", "Q8", "--output", q8]).status == 0)
        for model in [f32, q8] {
            let r = try CLI.run(["translate", "--model", model, "--vocab", Self.embeddedDirectory, "-"], stdin: sentences)
            #expect(r.status == 0 && r.stdout == embedded.stdout, "\(model): \(r.stdout) \(r.stderr)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: q8)) == Data(contentsOf: URL(fileURLWithPath: committed)))
        let bf16 = try CLI.run(["export", "--model", "default-translate", "--dtype", "BF16", "--output", dir + "/x.safetensors"])
        #expect(bf16.status == 64 && bf16.stderr.contains("encoder–decoder files are F32, F16, Q8 or Q4"), "\(bf16.stderr)")
    }

    /// `explain` of an encoder–decoder: the encoder's, the decoder's and the cross-attention,
    /// as text and JSON; the options that only an encoder–decoder has are refused for a GPT.
    @Test func explainTakesApartEachOfTheThreeAttentions() throws {
        let model = try Self.trained() + "/model.safetensors"
        for (kind, title) in [("encoder", "Encoder self-attention"), ("decoder", "Decoder self-attention"), ("cross", "Cross-attention")] {
            let r = try CLI.run(["explain", "--model", model, "--prompt", "I have a dog.", "--attention", kind, "--target", "Tengo un perro."])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains(title + " step by step") && r.stdout.contains("Target: Tengo un perro.\n"), "\(r.stdout)")
            let json = try CLI.run(["explain", "--model", model, "--prompt", "I have a dog.", "--attention", kind, "--position", "1", "--json"])
            #expect(json.status == 0, "\(json.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect(object?["attention"] as? String == kind)
            let weights = object?["weights"] as? [Double] ?? []
            #expect(abs(weights.reduce(0, +) - 1) < 1e-4, "\(weights)")
            // Position 1 of the decoder is its start token: it sees only itself.
            #expect(kind != "decoder" || weights.count == 1)
            #expect((object?["queries"] as? [String])?.first == (kind == "encoder" ? "I" : "<s>"), "\(json.stdout)")
        }
        let badKind = try CLI.run(["explain", "--model", model, "--prompt", "x", "--attention", "sideways"])
        #expect(badKind.status == 64 && badKind.stderr.contains("--attention must be encoder, decoder or cross"))
        let badLayer = try CLI.run(["explain", "--model", model, "--prompt", "x", "--layer", "2"])
        #expect(badLayer.status == 64 && badLayer.stderr.contains("the decoder has 1 layers"), "\(badLayer.stderr)")
        let gpt = try CLI.run(["explain", "--prompt", "hello", "--attention", "cross"])
        #expect(gpt.status == 64 && gpt.stderr.contains("is a GPT"), "\(gpt.stderr)")
    }

    @Test func translateWithAFileOfAnotherFormatExits65NamingTheFormat() throws {
        let checkpoint = try Self.trained(steps: 1) + "/checkpoint.safetensors"
        let r = try CLI.run(["translate", "--model", checkpoint, "hello"])
        #expect(r.status == 65)
        #expect(r.stderrLines.count == 1 && r.stderr.contains("attnchat-seq2seq-checkpoint"), "\(r.stderr)")
    }
}
