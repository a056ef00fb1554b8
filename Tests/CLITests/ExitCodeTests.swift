import Foundation
@_spi(Training) import GPT
import Testing

/// Exit codes as README's table states them, the same in every command, and values that used
/// to be accepted silently refused where they enter.
@Suite struct ExitCodeTests {
    /// Runs with a time limit (a FIFO used to block the read forever) and stdout discarded.
    static func run(_ args: [String]) throws -> StdoutTests.Outcome {
        try StdoutTests.run(args, stdout: FileHandle.nullDevice, timeout: 30)
    }

    /// tiny-odd has 301 rows; the default tokenizer 4,096 tokens. eval said 64, the others 65.
    @Test func aModelVocabularyMismatchIs65InEveryCommand() throws {
        let data = try TrainCommandTests.corpus("hello there, how are you? fine thanks.")
        for args in [["eval", "--data", data], ["generate", "--prompt", "hi"], ["explain", "--prompt", "hi"]] {
            let r = try CLI.run(args + ["--model", CLI.fixture("tiny-odd")])
            #expect(r.status == 65, "\(args[0]): \(r.stderr)")
            #expect(r.stderr.contains("4096"), "\(args[0]): \(r.stderr)")
        }
    }

    /// One classification of a bad input path, whichever file it is (a model, a corpus, a
    /// training config): what is wrong with it, named, and 66.
    @Test(arguments: [
        ("loop", "too many levels of symbolic links"),
        ("fifo", "is a FIFO, expected a regular file"),
    ])
    func aBadInputPathIsNamedAndIs66(kind: String, message: String) throws {
        let dir = try CLI.temporaryDirectory().path
        let path = dir + "/bad.json"
        if kind == "loop" {
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: path)
        } else {
            try #require(mkfifo(path, 0o600) == 0)
        }
        let data = try TrainCommandTests.corpus(String(repeating: "hello world, how are you today? ", count: 40))
        for args in [
            ["generate", "--model", path, "--prompt", "hi"], ["eval", "--data", path], ["info", "--model", path],
            ["train", "--data", data, "--output", dir + "/run", "--config", path], ["train", "--data", path, "--output", dir + "/run"],
        ] {
            let r = try Self.run(args)
            #expect(!r.timedOut, "\(args)")
            #expect(r.status == 66, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("attnchat: \(path): \(message)"), "\(args): \(r.stderr)")
        }
    }

    @Test(.enabled(if: getuid() == 0, "mknod needs root (CI runs the tests as root)"))
    func aCharacterDeviceAsModelIs66() throws {
        let path = try CLI.temporaryDirectory().path + "/zero"
        try #require(mknod(path, S_IFCHR | 0o666, StdoutTests.device(1, 5)) == 0)
        let r = try Self.run(["info", "--model", path])
        #expect(r.status == 66, "\(r.stderr)")
        #expect(r.stderr == "attnchat: \(path): is a character device, expected a regular file\n")
    }

    @Test(arguments: [["info", "--model", ""], ["eval", "--data", ""], ["tokenizer", "encode", "--vocab", "", "hi"]])
    func anEmptyPathIs64(args: [String]) throws {
        let r = try Self.run(args)
        #expect(r.status == 64, "\(r.stderr)")
    }

    @Test(arguments: [["tokenizer", "decode", "300", "abc", "301"], ["generate", "--prompt-ids", "300 abc", "--ids"]])
    func aBadTokenIDIsOneLineAnd64(args: [String]) throws {
        let r = try CLI.run(args)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderrLines.count == 1, "\(r.stderr)")
        #expect(r.stderr.hasSuffix(": \"abc\" is not a token id\n"), "\(r.stderr)")
    }

    @Test func aLayerNormEpsilonThatIsNotANumberIs65() throws {
        let dir = try CLI.temporaryDirectory().appendingPathComponent("model").path
        try FileManager.default.copyItem(atPath: CLI.fixture("tiny-odd"), toPath: dir)
        let config = dir + "/config.json"
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "\"layer_norm_epsilon\": 1e-05", with: "\"layer_norm_epsilon\": \"x\"")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["info", "--model", dir])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr == "attnchat: \(config): field \"layer_norm_epsilon\" is not a number\n")
    }

    /// 1e-40 is a denormal Float: logits divided by it were infinite, the draw NaN, and the
    /// same token came forever.
    @Test func aRepeatPenaltyThatBreaksTheLogitsIs64() throws {
        let r = try CLI.run(["generate", "--prompt", "hi", "--repeat-penalty", "1e-40", "--repeat-last-n", "8"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("--repeat-penalty"), "\(r.stderr)")
    }

    /// generate's penalties did nothing unless --repeat-last-n was given too.
    @Test(arguments: [["--repeat-penalty", "100"], ["--frequency-penalty", "50"], ["--presence-penalty", "50"]])
    func generatePenaltiesApplyWithoutRepeatLastN(penalty: [String]) throws {
        let base = ["generate", "--prompt", "what did you study in college?", "--chat", "--temperature", "0", "--max-tokens", "40", "--ids"]
        let plain = try CLI.run(base)
        let penalised = try CLI.run(base + penalty)
        #expect(plain.status == 0 && penalised.status == 0, "\(penalised.stderr)")
        #expect(plain.stdout != penalised.stdout)
    }

    @Test func exportToF16RefusesWeightsBeyondItsRangeNamingTheTensor() throws {
        let config = GPTConfig(vocabSize: 300, contextLength: 16, layers: 1, heads: 2, width: 16)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: 1, std: 0.02)
        weights.withMutableTensor(weights.tensor(named: "h.0.mlp.c_fc.weight")!) { $0[7] = 70_000 }
        let dir = try CLI.temporaryDirectory().path
        try GPTModel(weights: weights).save(to: dir + "/big.safetensors", existing: .replace)
        let r = try CLI.run(["export", "--model", dir + "/big.safetensors", "--output", dir + "/half.safetensors", "--dtype", "F16"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("\"h.0.mlp.c_fc.weight\""), "\(r.stderr)")
        #expect(r.stderr.contains("element 7 is 70000.0, beyond F16's largest value 65504"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/half.safetensors"))
        #expect(try CLI.run(["export", "--model", dir + "/big.safetensors", "--output", dir + "/bf.safetensors", "--dtype", "BF16"]).status == 0)
    }

    /// eval read a .jsonl as plain text, so a file train refuses was evaluated anyway.
    @Test func evalReadsJSONLChatsAsTrainDoes() throws {
        let line = #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]}"#
        let data = try TrainCommandTests.corpus(Array(repeating: line, count: 30).joined(separator: "\n") + "\n{not json}\n", name: "chats.jsonl")
        let train = try CLI.run(["train", "--data", data, "--output", try CLI.temporaryDirectory().path] + TrainCommandTests.tiny)
        let eval = try CLI.run(["eval", "--data", data])
        #expect(train.status == 65, "\(train.stderr)")
        #expect(eval.status == 65, "\(eval.stderr)")
        #expect(eval.stderr == train.stderr)
    }
}
