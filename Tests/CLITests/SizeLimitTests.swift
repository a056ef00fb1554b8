import Foundation
import Testing

/// Sizes a user can type are checked against the limits and the memory they allocate before
/// anything runs: a flag is exit 64 naming it, a --config key exit 65 naming the file and key.
@Suite struct SizeLimitTests {
    static let data: String = try! TrainCommandTests.corpus(String(repeating: "hello world, how are you today? fine thanks. ", count: 40))

    @Test func aBatchBeyondMemoryIs64NamingTheFlagBeforeAnythingRuns() throws {
        let out = try CLI.temporaryDirectory().appendingPathComponent("run").path
        let r = try CLI.run(["train", "--data", Self.data, "--output", out, "--batch", "1000000000"])
        #expect(r.status == 64, "\(r.stderr.prefix(300))")
        #expect(r.stderrLines.count == 1, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("attnchat: --batch 1000000000: training needs "), "\(r.stderr)")
        #expect(r.stderr.contains("of memory"))
        #expect(!FileManager.default.fileExists(atPath: out), "the output directory was made before the check")
    }

    @Test func aWidthBeyondMemoryIs64NamingTheFlag() throws {
        let out = try CLI.temporaryDirectory().path
        let r = try CLI.run(["train", "--data", Self.data, "--output", out, "--width", "32768", "--heads", "1", "--layers", "1", "--batch", "4096"])
        #expect(r.status == 64, "\(r.stderr.prefix(300))")
        #expect(r.stderr.contains("--width 32768"), "\(r.stderr)")
    }

    /// 4 × width overflowed in the config's initialiser: a trap (SIGILL) before any check.
    @Test func aWidthThatOverflowsIs64NamingTheFlag() throws {
        let out = try CLI.temporaryDirectory().path
        let r = try CLI.run(["train", "--data", Self.data, "--output", out, "--width", "3000000000000000000", "--heads", "1"])
        #expect(r.status == 64, "\(r.stderr.prefix(300))")
        #expect(r.stderrLines.count == 1 && r.stderr.contains("3000000000000000000"), "\(r.stderr)")
    }

    /// A sparse terabyte as a corpus: refused in one line, not a trap in the allocator.
    @Test func aCorpusLargerThanMemoryIsRefusedNotATrap() throws {
        let dir = try CLI.temporaryDirectory()
        let big = dir.appendingPathComponent("big.txt").path
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: big))
        try handle.truncate(atOffset: 1 << 40)
        try handle.close()
        let r = try CLI.run(["train", "--data", big, "--output", dir.appendingPathComponent("run").path, "--steps", "1"])
        #expect(r.status == 74, "\(r.stderr.prefix(300))")
        #expect(r.stderr.contains("\(big): cannot read: it is 1099511627776 bytes, more than this machine's memory"), "\(r.stderr)")
    }

    @Test func aHugeBatchInTheConfigFileIs65NamingTheKey() throws {
        let dir = try CLI.temporaryDirectory()
        let config = dir.appendingPathComponent("run.json").path
        try #"{"batch": 1000000000}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["train", "--data", Self.data, "--output", dir.appendingPathComponent("run").path, "--config", config])
        #expect(r.status == 65, "\(r.stderr.prefix(300))")
        #expect(r.stderr.hasPrefix("attnchat: \(config): \"batch\": training with batch 1000000000 needs "), "\(r.stderr)")
    }

    /// The shape flags were checked as the config fields they become (exit 65, "n_layer").
    @Test(arguments: [
        (["--layers", "0"], "--layers must be in 1...256 (got 0)"),
        (["--heads", "3"], "--heads must split the width into whole heads: width 256 is not divisible by 3 heads"),
        (["--context", "70000"], "--context must be in 1...65536 (got 70000)"),
        (["--width", "40000"], "--width must be in 1...32768 (got 40000)"),
    ])
    func aShapeFlagOutOfRangeIs64NamingTheFlag(flags: [String], message: String) throws {
        let out = try CLI.temporaryDirectory().path
        let r = try CLI.run(["train", "--data", Self.data, "--output", out] + flags)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr == "attnchat: \(message)\n")
    }

    /// A context of one token trains and evaluates (validation used to trap after step 1).
    @Test func contextOneTrainsAndEvaluates() throws {
        let out = try CLI.temporaryDirectory().path
        let r = try CLI.run(["train", "--data", Self.data, "--output", out, "--context", "1", "--steps", "3", "--eval-every", "1",
                             "--layers", "1", "--heads", "1", "--width", "16", "--batch", "2"])
        #expect(r.status == 0, "\(r.stderr.suffix(300))")
        let eval = try CLI.run(["eval", "--model", out + "/model.safetensors", "--data", Self.data])
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("bits/byte"))
    }

    @Test(arguments: [["--batch", "0"], ["--steps", "0"], ["--batch", "1000000000"]])
    func benchTrainingSizesAre64(flags: [String]) throws {
        let r = try CLI.run(["bench", "--train", "--repeats", "1"] + flags)
        #expect(r.status == 64, "\(r.stderr.prefix(300))")
        #expect(r.stderr.contains(flags[0]), "\(r.stderr)")
    }

    /// attnchat trains GPT-2's architecture only: a Llama shape is refused before anything is allocated.
    @Test func benchTrainingALlamaShapeIs64() throws {
        let r = try CLI.run(["bench", "--train", "--shape", "smollm2-135m", "--repeats", "1"])
        #expect(r.status == 64, "\(r.stderr.prefix(300))")
        #expect(r.stderr.contains("--shape smollm2-135m is a Llama"), "\(r.stderr)")
    }

    /// The SmolLM2-135M shape (issue 11) is a valid config that prefills and decodes.
    @Test func benchSmolLM2ShapeRuns() throws {
        let r = try CLI.run(["bench", "--shape", "smollm2-135m", "--prompt-tokens", "2", "--new-tokens", "2", "--repeats", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr.prefix(300))")
        #expect(r.stdout.contains("\"layers\":30") && r.stdout.contains("\"vocab_size\":49152"), "\(r.stdout)")
    }

    /// 40,000 ids took 55 s to parse (ArgumentParser is quadratic in a repeated argument).
    @Test func decodingFortyThousandIdsTakesUnderTenSeconds() throws {
        let start = Date()
        let r = try CLI.run(["tokenizer", "decode"] + Array(repeating: "15", count: 40_000))
        #expect(r.status == 0, "\(r.stderr.prefix(300))")
        #expect(Date().timeIntervalSince(start) < 10)
        #expect(r.stdout.count > 40_000)
    }

    @Test func decodeReadsIdsFromStdinWithADash() throws {
        let ids = try CLI.run(["tokenizer", "encode", "--ids", "hello there, friend"]).stdout
        let fromArguments = try CLI.run(["tokenizer", "decode"] + ids.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        let fromStdin = try CLI.run(["tokenizer", "decode", "-"], stdin: ids)
        #expect(fromStdin.status == 0, "\(fromStdin.stderr)")
        #expect(fromStdin.stdout == "hello there, friend\n")
        #expect(fromArguments.stdout == fromStdin.stdout)
    }
}
