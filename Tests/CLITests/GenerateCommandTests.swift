import Foundation
import Testing

@Suite struct GenerateCommandTests {
    static let prompt = "43 131 135 233 216"
    /// tiny-odd's greedy continuation according to transformers (Fixtures/tiny-odd/expected.json).
    static let pytorchGreedy = "48 187 280 280 280 280 280 280 280 280 280 280 194 194 194 280 280 280 280 280"

    /// Whether this CPU can run OpenBLAS's AVX-512 (SkylakeX) kernels: forcing them elsewhere
    /// is an illegal instruction inside OpenBLAS, whatever attnchat does.
    static let cpuHasAVX512: Bool = {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").contains("avx512f") ?? false
    }()
    static let coreTypes: [String?] = [nil, "Haswell", "Prescott"] + (cpuHasAVX512 ? ["SkylakeX"] : [])

    /// OpenBLAS picks different kernels with and without OPENBLAS_CORETYPE; all must be right.
    @Test(arguments: coreTypes)
    func greedyMatchesPyTorchWithEveryBlasKernel(coreType: String?) throws {
        let r = try CLI.run(
            ["generate", "--model", CLI.fixture("tiny-odd"), "--prompt-ids", Self.prompt, "--max-tokens", "20", "--temperature", "0", "--ids"],
            environment: ["OPENBLAS_CORETYPE": coreType])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == Self.pytorchGreedy + "\n")
        #expect(r.stderr.isEmpty)
    }

    /// A family that needs AVX-512, forced on a CPU without it, would be an illegal instruction in
    /// OpenBLAS's first GEMM: attnchat says so in one line and uses the kernels it would pick.
    @Test(.enabled(if: !cpuHasAVX512))
    func anAVX512KernelFamilyOnACPUWithoutItFallsBackWithOneLine() throws {
        let r = try CLI.run(
            ["generate", "--model", CLI.fixture("tiny-odd"), "--prompt-ids", Self.prompt, "--max-tokens", "20", "--temperature", "0", "--ids"],
            environment: ["OPENBLAS_CORETYPE": "SkylakeX"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == Self.pytorchGreedy + "\n")
        #expect(r.stderr == "attnchat: OPENBLAS_CORETYPE=SkylakeX needs AVX-512, which this CPU lacks; using Haswell kernels\n")
    }

    /// One thread or all: the same numbers.
    @Test func threadCountDoesNotChangeTheResult() throws {
        let r = try CLI.run(
            ["generate", "--model", CLI.fixture("small"), "--prompt-ids", Self.prompt, "--max-tokens", "20", "--temperature", "0", "--ids"],
            environment: ["ATTNCHAT_THREADS": "1"])
        let all = try CLI.run(["generate", "--model", CLI.fixture("small"), "--prompt-ids", Self.prompt, "--max-tokens", "20", "--temperature", "0", "--ids"])
        #expect(r.status == 0 && r.stdout == all.stdout)
    }

    /// --timings adds one line on stderr and leaves stdout as it was, in both modes.
    @Test func timingsGoToStderrOnly() throws {
        let plain = ["generate", "--model", CLI.fixture("tiny-odd"), "--prompt-ids", Self.prompt, "--max-tokens", "20", "--temperature", "0", "--ids"]
        let r = try CLI.run(plain + ["--timings"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == Self.pytorchGreedy + "\n")
        #expect(r.stderr.contains(/^prompt 5 tokens in [0-9.]+ ms; 20 tokens at [0-9.]+ tok\/s\n$/), "\(r.stderr)")
        let chat = try CLI.run(["generate", "--chat", "--prompt", "hi", "--max-tokens", "6", "--temperature", "0", "--timings"])
        #expect(chat.status == 0, "\(chat.stderr)")
        #expect(chat.stderr.contains(/^prompt [0-9]+ tokens in [0-9.]+ ms; [0-9]+ tokens at [0-9.]+ tok\/s\n$/), "\(chat.stderr)")
    }

    @Test func sameSeedSameTokensOtherSeedOtherTokens() throws {
        func sample(_ seed: Int) throws -> String {
            try CLI.run(["generate", "--model", CLI.fixture("small"), "--prompt-ids", "1 2 3", "--max-tokens", "30", "--temperature", "1", "--seed", "\(seed)", "--ids"]).stdout
        }
        let a = try sample(7)
        #expect(a.split(separator: " ").count == 30)
        #expect(try sample(7) == a)
        #expect(try sample(8) != a)
    }

    /// RELIABILITY 23: a prompt longer than the context is one line and exit 64, naming both sizes.
    @Test func aPromptLongerThanTheContextIs64() throws {
        let ids = (1...70).map(String.init).joined(separator: " ")
        let r = try CLI.run(["generate", "--model", CLI.fixture("tiny-odd"), "--prompt-ids", ids, "--max-tokens", "3", "--ids"])
        #expect(r.status == 64)
        #expect(r.stderrLines.count == 1 && r.stderr.contains("the prompt is 70 tokens; the model attends over at most 64"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test func stopsAtTheContextWithANotice() throws {
        let r = try CLI.run(["generate", "--model", CLI.fixture("tiny-odd"), "--prompt-ids", Array(repeating: "5", count: 60).joined(separator: " "), "--max-tokens", "10", "--temperature", "0", "--ids"])
        #expect(r.status == 0)
        #expect(r.stdout.split(separator: " ").count == 4)
        #expect(r.stderr.contains("context full"))
    }

    @Test(arguments: [
        ["--temperature=-1"], ["--temperature", "nan"], ["--max-tokens=-3"], ["--prompt-ids", "1 x 3"], ["--prompt-ids", ""],
        ["--prompt-ids", "99999"],
    ])
    func badArgumentsExit64(extra: [String]) throws {
        var args = ["generate", "--model", CLI.fixture("tiny-odd"), "--ids"]
        if !extra.contains("--prompt-ids") { args += ["--prompt-ids", "1 2"] }
        let r = try CLI.run(args + extra)
        #expect(r.status == 64, "\(extra): \(r.stderr)")
        #expect(r.stdout.isEmpty)
    }
}

@Suite struct InfoCommandTests {
    @Test func jsonDescribesTheModel() throws {
        let r = try CLI.run(["info", "--model", CLI.fixture("tiny-odd-f16"), "--json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("\"parameters\":74160"))
        #expect(r.stdout.contains("\"dtypes\":[\"F16\"]"))
        #expect(r.stdout.contains("\"n_head\":3"))
    }

    @Test func textNamesFileAndShape() throws {
        let r = try CLI.run(["info", "--model", CLI.fixture("small")])
        #expect(r.status == 0)
        #expect(r.stdout.contains("model.safetensors"))
        #expect(r.stdout.contains("layers      3"))
    }
}
