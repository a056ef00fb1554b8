import Foundation
import Testing

@Suite struct TrainCommandTests {
    static func corpus(_ text: String, name: String = "corpus.txt") throws -> String {
        let path = try CLI.temporaryDirectory().appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let tiny = ["--layers", "1", "--heads", "2", "--width", "16", "--context", "16", "--batch", "2", "--eval-every", "0"]

    @Test func trainsResumesAndEvaluates() throws {
        let data = try Self.corpus(String(repeating: "hello world, how are you today? fine thanks. ", count: 40))
        let out = try CLI.temporaryDirectory().path
        let first = try CLI.run(["train", "--data", data, "--output", out, "--steps", "6", "--checkpoint-every", "3"] + Self.tiny)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/model.safetensors"))
        let resumed = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--steps", "8"] + Self.tiny)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("resuming at step 6"))
        let eval = try CLI.run(["eval", "--model", out + "/model.safetensors", "--data", data, "--json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("\"bits_per_byte\":"))
    }

    @Test func resumeWithAnotherShapeIsRefusedNamingTheField() throws {
        let data = try Self.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        let out = try CLI.temporaryDirectory().path
        _ = try CLI.run(["train", "--data", data, "--output", out, "--steps", "2"] + Self.tiny)
        let r = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--layers", "2"])
        #expect(r.status == 65)
        #expect(r.stderr.contains("n_layer is 1 in the checkpoint but 2 now"))
    }

    /// RELIABILITY 39: resuming with another tokenizer is refused, naming it.
    @Test func resumeWithAnotherTokenizerIsRefused() throws {
        let data = try Self.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        let out = try CLI.temporaryDirectory().path
        #expect(try CLI.run(["train", "--data", data, "--output", out, "--steps", "2"] + Self.tiny).status == 0)
        let other = DefaultModelTests.root.appendingPathComponent("Tests/TokenizerTests/Fixtures/attnchat").path
        let r = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--vocab", other])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("cannot resume: tokenizer is"), "\(r.stderr)")
    }

    @Test func emptyOrShortCorpusExits65BeforeTraining() throws {
        for text in ["", "just a few words"] {
            let r = try CLI.run(["train", "--data", try Self.corpus(text), "--output", try CLI.temporaryDirectory().path] + Self.tiny)
            #expect(r.status == 65, "\(r.stderr)")
            #expect(r.stderr.contains("tokens; training needs at least"))
        }
    }

    @Test func malformedJSONLNamesTheLine() throws {
        let good = #"{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}"#
        let data = try Self.corpus(good + "\n" + good + "\n{\"messages\": [oops]}\n", name: "chats.jsonl")
        let r = try CLI.run(["train", "--data", data, "--output", try CLI.temporaryDirectory().path] + Self.tiny)
        #expect(r.status == 65)
        #expect(r.stderr.contains("line 3"))
    }

    @Test func missingCorpusExits66() throws {
        let r = try CLI.run(["train", "--data", "/nonexistent.txt", "--output", try CLI.temporaryDirectory().path] + Self.tiny)
        #expect(r.status == 66)
    }

    @Test func dropoutOutsideZeroToOneExits64NamingTheFlag() throws {
        let data = try Self.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        for bad in ["1", "-0.1", "nan"] {
            let r = try CLI.run(["train", "--data", data, "--output", try CLI.temporaryDirectory().path, "--dropout=" + bad] + Self.tiny)
            #expect(r.status == 64, "\(bad): \(r.stderr)")
            #expect(r.stderr.contains("--dropout must be in [0, 1)"), "\(r.stderr)")
        }
    }

    @Test func dropoutIsSavedInTheCheckpointAndKeptOnResume() throws {
        let data = try Self.corpus(String(repeating: "hello world, how are you today? fine thanks. ", count: 40))
        let out = try CLI.temporaryDirectory().path
        let first = try CLI.run(["train", "--data", data, "--output", out, "--steps", "3", "--dropout", "0.2"] + Self.tiny)
        #expect(first.status == 0, "\(first.stderr)")
        let resumed = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--steps", "5", "--dropout", "0.1"] + Self.tiny)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("changing the run's dropout from 0.2 to 0.1"), "\(resumed.stderr)")
        let kept = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--steps", "6"] + Self.tiny)
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(!kept.stderr.contains("dropout"), "the checkpoint's dropout (0.1) stays: \(kept.stderr)")
    }

    /// The help states the defaults (Training's RunSettings() and ModelShape()), and a run
    /// given no shape gets the one stated.
    @Test func theHelpStatesTheDefaultsARunUses() throws {
        let help = try CLI.run(["train", "--help"])
        #expect(help.status == 0)
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for stated in ["Transformer blocks (default 4)", "Residual width (default 256)", "(default learned)", "Sequences per micro-batch (default 16)",
                       "Updates (default 2000)", "Peak learning rate (default 0.001)", "Warmup updates (default 100)", "(default 0.1)",
                       "0 turns it off (default 1)", "0 turns it off (default 0)", "Validate every N updates (default 250)"] {
            #expect(text.contains(stated), "\(stated): \(text)")
        }
        let data = try Self.corpus(String(repeating: "hello world, how are you today? fine thanks. ", count: 40))
        let r = try CLI.run(["train", "--data", data, "--output", try CLI.temporaryDirectory().path, "--steps", "1", "--batch", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("model: 4 layers, 4 heads, width 256, context 256, learned positions"), "\(r.stderr)")
    }

    /// --config sets the run; a flag given too wins over the file.
    @Test func configFileSetsTheRunAndFlagsWin() throws {
        let data = try Self.corpus(String(repeating: "hello world, how are you today? fine thanks. ", count: 40))
        let config = try Self.corpus(#"{"layers": 2, "heads": 2, "width": 16, "context": 16, "batch": 2, "steps": 5, "eval_every": 0}"#, name: "run.json")
        let out = try CLI.temporaryDirectory().path
        let r = try CLI.run(["train", "--data", data, "--output", out, "--config", config, "--steps", "3"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("model: 2 layers, 2 heads, width 16, context 16"), "\(r.stderr)")
        #expect(r.stderr.contains("3/3"), "\(r.stderr)")
        let bad = try Self.corpus(#"{"layers": 2, "learning_rate": 0.1}"#, name: "bad.json")
        let refused = try CLI.run(["train", "--data", data, "--output", out, "--config", bad])
        #expect(refused.status == 65)
        #expect(refused.stderr.contains(#""learning_rate": unknown setting"#), "\(refused.stderr)")
        let missing = try CLI.run(["train", "--data", data, "--output", out, "--config", "/nonexistent/run.json"])
        #expect(missing.status == 66, "\(missing.stderr)")
        // On resume the checkpoint's settings apply; the file's steps extend the run, its lr is
        // reported as ignored, and steps not beyond the checkpoint name the file's key.
        let more = try Self.corpus(#"{"steps": 5, "lr": 0.5}"#, name: "more.json")
        let resumed = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--config", more, "--batch", "4"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("ignored on --resume (the checkpoint's settings apply): --batch, lr (in \(more))"), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("5/5"), "\(resumed.stderr)")
        let shorter = try Self.corpus(#"{"steps": 2}"#, name: "shorter.json")
        let refusedSteps = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--config", shorter])
        #expect(refusedSteps.status == 65)
        #expect(refusedSteps.stderr.contains(#""steps": 2 is not beyond the checkpoint's step 5"#), "\(refusedSteps.stderr)")
    }

    /// RELIABILITY 37/38: a training run killed with SIGKILL (perhaps in the middle of writing a
    /// checkpoint) and resumed ends with the same weights, bit for bit, as a run never stopped;
    /// a leftover temporary file is ignored.
    @Test func aRunKilledAndResumedEndsWithTheWeightsOfAStraightRun() throws {
        let data = try Self.corpus(String(repeating: "hello world, how are you today? fine thanks. ", count: 40))
        let args = ["train", "--data", data, "--steps", "120", "--checkpoint-every", "1"] + Self.tiny
        let straight = try CLI.temporaryDirectory().path
        #expect(try CLI.run(args + ["--output", straight]).status == 0)

        let killed = try CLI.temporaryDirectory().path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = args + ["--output", killed]
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpoint = killed + "/checkpoint.safetensors"
        let deadline = Date().addingTimeInterval(30)
        while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(1_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try Data("junk".utf8).write(to: URL(fileURLWithPath: killed + "/.checkpoint.safetensors.tmp-1-2"))
        let resumed = try CLI.run(args + ["--output", killed, "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
         let step = resumed.stderr.firstMatch(of: /resuming at step (\d+) of 120/).flatMap { Int($0.1) }
        #expect(step != nil && step! < 120, "the kill came before the end: \(resumed.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: straight + "/model.safetensors"))
        let b = try Data(contentsOf: URL(fileURLWithPath: killed + "/model.safetensors"))
        #expect(a == b, "the resumed run's weights differ from the straight run's")
    }
}
