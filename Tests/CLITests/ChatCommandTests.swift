import FileIO
import Foundation
@_spi(Training) import GPT
import Testing

/// Models over the default 4,096-token vocabulary, made on the fly and saved as attnchat files.
enum ChatModels {
    /// A small random model.
    static let random: String = {
        let config = GPTConfig(vocabSize: 4096, contextLength: 64, layers: 1, heads: 2, width: 16)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: 4, std: 0.05)
        return save(GPTModel(weights: weights), "random")
    }()

    /// A model that always says ESC (token 27 of the byte alphabet): the final LayerNorm outputs
    /// a constant vector equal to ESC's embedding row, so ESC has by far the largest logit.
    static let escape: String = {
        let config = GPTConfig(vocabSize: 4096, contextLength: 64, layers: 1, heads: 2, width: 16)
        let weights = GPTWeights(config: config)
        let esc = escapeTokenID
        for name in ["ln_f.weight", "h.0.ln_1.weight", "h.0.ln_2.weight"] {
            weights.withMutableTensor(weights.tensor(named: name)!) { $0.update(repeating: 0) }
        }
        weights.withMutableTensor(weights.tensor(named: "ln_f.bias")!) { $0.update(repeating: 1) }
        weights.withMutableTensor(weights.tensor(named: "wte.weight")!) { wte in
            for c in 0..<16 { wte[esc * 16 + c] = 1 }
        }
        return save(GPTModel(weights: weights), "escape")
    }()

    /// A model with 4,100 rows for the 4,096-token tokenizer, whose four padding rows have by
    /// far the largest logits: only masking keeps them out.
    static let padded: String = {
        let config = GPTConfig(vocabSize: 4100, contextLength: 64, layers: 1, heads: 2, width: 16)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: 5, std: 0.05)
        weights.withMutableTensor(weights.tensor(named: "ln_f.weight")!) { $0.update(repeating: 0) }
        weights.withMutableTensor(weights.tensor(named: "ln_f.bias")!) { $0.update(repeating: 1) }
        weights.withMutableTensor(weights.tensor(named: "wte.weight")!) { wte in
            for id in 4096..<4100 { for c in 0..<16 { wte[id * 16 + c] = 5 } }
        }
        return save(GPTModel(weights: weights), "padded")
    }()

    /// The id of the byte 0x1B in Vocab/ (byte-level BPE keeps every byte as a token).
    static var escapeTokenID: Int {
        let r = try! CLI.run(["tokenizer", "encode", "--ids", "\u{1B}"])
        return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))!
    }

    static func save(_ model: GPTModel, _ name: String) -> String {
        let path = try! CLI.temporaryDirectory().appendingPathComponent("\(name).safetensors").path
        try! model.save(to: path, existing: .replace)
        return path
    }
}

@Suite struct ChatCommandTests {
    /// Line mode through a pipe: two turns, a /set, a /save; the transcript holds both turns.
    @Test func lineModeThroughAPipe() throws {
        let transcript = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
        let input = "hello there\n/set temperature 0.5\n/settings\nhow are you?\n/save \(transcript)\n"
        let r = try CLI.run(["chat", "--model", ChatModels.random, "--max-tokens", "5", "--seed", "3"], stdin: input)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("temperature = 0.5") || r.stderr.contains("(temperature"))
        #expect(r.stderr.contains("temperature 0.5,"))
        let text = try String(contentsOfFile: transcript, encoding: .utf8)
        #expect(text.contains("[user]\nhello there\n"))
        #expect(text.contains("[user]\nhow are you?\n"))
        #expect(text.components(separatedBy: "[bot").count == 3)
        #expect(r.stdout.split(separator: "\n", omittingEmptySubsequences: false).count >= 2)
    }

    /// --transcript keeps every reply on disk, the conversation before a /reset included, and
    /// never overwrites an existing file.
    @Test func transcriptFileKeepsEveryTurnAcrossAReset() throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("kept.txt").path
        let r = try CLI.run(["chat", "--model", ChatModels.random, "--max-tokens", "4", "--seed", "3", "--transcript", path],
                            stdin: "first message\n/reset\nsecond message\n")
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("[user]\nfirst message\n"))
        #expect(text.contains("[user]\nsecond message\n"))
        #expect(text.components(separatedBy: "[bot").count == 3, "\(text)")
        let again = try CLI.run(["chat", "--model", ChatModels.random, "--transcript", path], stdin: "hi\n")
        #expect(again.status == 73)
        #expect(again.stderr.contains("\(path): the file already exists; attnchat never overwrites one"), "\(again.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    /// Line mode: SIGTERM in the middle of a reply stops it, saves the transcript with the
    /// partial reply marked interrupted, and exits 143.
    @Test(arguments: [SIGTERM, SIGHUP])
    func aSignalDuringALineModeReplySavesTheTranscript(sig: Int32) throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["chat", "--model", TUIModels.endless, "--max-tokens", "4000", "--transcript", path]
        let out = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = input
        try process.run()
        input.fileHandleForWriting.write(Data("tell me everything\n".utf8))
        _ = out.fileHandleForReading.availableData  // the reply has begun
        #expect(kill(process.processIdentifier, sig) == 0)
        _ = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + sig)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("[user]\ntell me everything\n\n[bot, interrupted]\n"), "\(text)")
    }

    /// RELIABILITY 22: a model padded beyond the tokenizer never yields a padding id, even where
    /// those ids have the largest logits and the temperature is high.
    @Test func paddingIdsAreNeverSampled() throws {
        let r = try CLI.run(["generate", "--model", ChatModels.padded, "--prompt", "hi", "--max-tokens", "40", "--temperature", "5", "--seed", "2", "--ids"])
        #expect(r.status == 0, "\(r.stderr)")
        let ids = r.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        #expect(ids.count == 40)
        #expect(ids.allSatisfy { $0 < 4096 }, "\(ids)")
    }

    /// RELIABILITY 19: invalid UTF-8 typed into the chat becomes U+FFFD; the chat goes on.
    @Test func invalidUTF8InputBecomesReplacementCharacters() throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
        let input = Data([0x68, 0x69, 0xFF, 0xC3, 0x0A]) + Data("/save \(path)\n".utf8)
        let r = try CLI.run(["chat", "--model", ChatModels.random, "--max-tokens", "3", "--seed", "1"], stdinBytes: input)
        #expect(r.status == 0, "\(r.stderr)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("[user]\nhi\u{FFFD}"), "\(text)")
        #expect(text.contains("[bot]"))
    }

    /// The line mode parses with the full-screen UI's table: /q quits there too (it did not
    /// before), and an unknown command gets the same line in both.
    @Test(arguments: ["/q", "/quit", "/exit"])
    func everySpellingOfQuitEndsTheLineMode(quit: String) throws {
        let r = try CLI.run(["chat", "--model", ChatModels.random, "--max-tokens", "3", "--seed", "1"], stdin: "/frobnicate\n\(quit)\nhello\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.isEmpty, "\(r.stdout)")  // the message after the quit got no reply
        #expect(r.stderr.contains("unknown command /frobnicate; /help lists them\n"), "\(r.stderr)")
    }

    @Test func badSetValueIsReportedAndTheChatGoesOn() throws {
        let r = try CLI.run(["chat", "--model", ChatModels.random, "--max-tokens", "3"], stdin: "/set top-p 7\n/set bogus 1\nhi\n")
        #expect(r.status == 0)
        #expect(r.stderr.contains("--top-p"))
        #expect(r.stderr.contains("bogus"))
    }

    @Test(arguments: [["--temperature=-1"], ["--top-p", "2"], ["--top-k=-5"], ["--min-p", "nan"], ["--repeat-penalty", "0"]])
    func badSamplingFlagsExit64NamingTheFlag(flag: [String]) throws {
        let r = try CLI.run(["chat", "--model", ChatModels.random] + flag, stdin: "")
        #expect(r.status == 64, "\(flag): \(r.stderr)")
        #expect(r.stderr.contains(flag[0].split(separator: "=")[0]))
    }

    /// No escape sequence from the model reaches the terminal.
    @Test func modelOutputIsMadeInert() throws {
        let r = try CLI.run(["generate", "--model", ChatModels.escape, "--prompt", "hi", "--max-tokens", "3", "--temperature", "0"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("\u{1B}"))
        #expect(r.stdout == "\u{241B}\u{241B}\u{241B}\n")
        let chat = try CLI.run(["chat", "--model", ChatModels.escape, "--max-tokens", "2", "--temperature", "0"], stdin: "hi\n")
        #expect(!chat.stdout.contains("\u{1B}") && chat.stdout.contains("\u{241B}"))
    }

    @Test func generateWithTheChatTemplateIsReproducible() throws {
        let args = ["generate", "--model", ChatModels.random, "--prompt", "hi!", "--chat", "--max-tokens", "12", "--temperature", "0.9", "--seed", "42"]
        let a = try CLI.run(args), b = try CLI.run(args)
        #expect(a.status == 0)
        #expect(a.stdout == b.stdout)
        #expect(!a.stdout.contains("<|"))
    }
}

@Suite struct TokenizerCommandTests {
    @Test func encodeDecodeRoundTripWithTheEmbeddedVocabulary() throws {
        let text = "Hi there! <|endoftext|> 🙂"
        let ids = try CLI.run(["tokenizer", "encode", "--ids", text])
        #expect(ids.status == 0)
        let list = ids.stdout.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(!list.contains("0"))  // the special token's id never comes from user text
        let back = try CLI.run(["tokenizer", "decode"] + list)
        #expect(back.stdout.trimmingCharacters(in: .newlines) == text)
    }

    @Test func decodeOfAnUnknownIdExits65() throws {
        let r = try CLI.run(["tokenizer", "decode", "999999"])
        #expect(r.status == 65)
        #expect(r.stderrLines.count == 1)
    }

    @Test func trainWritesFilesThatEncodeTheSameWay() throws {
        let dir = try CLI.temporaryDirectory()
        let corpus = dir.appendingPathComponent("text.txt")
        try String(repeating: "the quick brown fox jumps over the lazy dog. ", count: 200).write(to: corpus, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("vocab").path
        let r = try CLI.run(["tokenizer", "train", "--vocab-size", "300", "--special", "<|endoftext|>", "--output", out, corpus.path])
        #expect(r.status == 0, "\(r.stderr)")
        for file in ["vocab.json", "merges.txt", "tokenizer.json"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + file))
        }
        let ids = try CLI.run(["tokenizer", "encode", "--vocab", out, "--ids", "the lazy fox"])
        #expect(ids.stdout.split(separator: " ").count <= 4)
    }

    @Test func badVocabularyDirectoryExits66() throws {
        let r = try CLI.run(["tokenizer", "encode", "--vocab", "/nonexistent", "hi"])
        #expect(r.status == 66)
    }
}
