import Foundation
import Testing

/// `attnchat` with Hugging Face directories of the Llama family and DialoGPT
/// (Tests/ChatTests/Fixtures, made by Scripts/make-chat-model-fixtures.py).
@Suite struct HuggingFaceModelTests {
    static func model(_ name: String) -> String {
        CLI.fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ChatTests/Fixtures/\(name)").path
    }

    /// A private copy of a fixture directory, removed by the caller.
    static func copy(_ name: String) throws -> String {
        let directory = try CLI.temporaryDirectory().appendingPathComponent(name).path
        try FileManager.default.copyItem(atPath: model(name), toPath: directory)
        return directory
    }

    @Test func infoNamesTheFamilyTheGroupsAndTheMemory() throws {
        let r = try CLI.run(["info", "--model", Self.model("qwen2-chat")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("model type  qwen2"), "\(r.stdout)")
        #expect(r.stdout.contains("RMSNorm, SwiGLU, 6 query heads over 2 key/value heads, rotary (half-split, θ 1000000), biases on q/k/v, tied head"), "\(r.stdout)")
        #expect(r.stdout.contains("memory "), "\(r.stdout)")
        let json = try CLI.run(["info", "--model", Self.model("llama3-chat"), "--json"])
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"model_type\":\"llama\"") && json.stdout.contains("\"num_key_value_heads\":2"), "\(json.stdout)")
    }

    /// The same greedy reply transformers gives, streamed to stdout.
    @Test func greedyChatReplyIsTransformersReply() throws {
        let r = try CLI.run(["generate", "--model", Self.model("qwen2-chat"), "--chat", "--prompt", "Hello! How are you today?", "--temperature", "0", "--max-tokens", "12"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "Hellonbu((((((((((\n")
    }

    /// The Hugging Face cache's layout: `snapshots/REV/NAME` are symlinks into `blobs/`.
    @Test func aSnapshotOfSymlinksIntoTheHubCacheLoads() throws {
        let root = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let blobs = root.appendingPathComponent("blobs"), snapshot = root.appendingPathComponent("snapshots/0123abc")
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        for (i, name) in try FileManager.default.contentsOfDirectory(atPath: Self.model("qwen2-chat")).enumerated() where name != "expected.json" {
            try FileManager.default.copyItem(atPath: Self.model("qwen2-chat") + "/" + name, toPath: blobs.appendingPathComponent("blob\(i)").path)
            try FileManager.default.createSymbolicLink(atPath: snapshot.appendingPathComponent(name).path, withDestinationPath: "../../blobs/blob\(i)")
        }
        let r = try CLI.run(["generate", "--model", snapshot.path, "--chat", "--prompt", "Hello! How are you today?", "--temperature", "0", "--max-tokens", "12"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "Hellonbu((((((((((\n")
    }

    @Test func lineModeChatRunsWithTheModelsTemplateAndSystemPrompt() throws {
        let r = try CLI.run(
            ["chat", "--model", Self.model("llama3-chat"), "--no-tui", "--temperature", "0", "--max-tokens", "4", "--system", "Be brief."],
            stdin: "hello\n/system\nhello again\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("(system prompt removed)") || r.stdout.contains("(system prompt removed)"), "\(r.stdout)\n\(r.stderr)")
    }

    /// Mistral-7B-Instruct-v0.1's template refuses a system role with raise_exception: the
    /// chat says so (exit 65) rather than prompt the model with something else.
    @Test func aConversationTheTemplateRefusesIsExit65WithItsMessage() throws {
        let r = try CLI.run(["generate", "--model", Self.model("mistral-chat"), "--chat", "--system", "Be brief.", "--prompt", "hi", "--max-tokens", "2"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("Conversation roles must alternate"), "\(r.stderr)")
        #expect(r.stderr.contains("chat_template.jinja"), "\(r.stderr)")
        #expect(r.stdout.isEmpty || r.stdout == "\n")
    }

    @Test func aTemplateFeatureTheInterpreterLacksIsExit65NamingTheLine() throws {
        let directory = try Self.copy("qwen2-chat")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "{{ bos_token }}\n{% for m in messages %}{{ m.content | wordwrap(5) }}{% endfor %}".write(
            toFile: directory + "/chat_template.jinja", atomically: true, encoding: .utf8)
        let r = try CLI.run(["generate", "--model", directory, "--chat", "--prompt", "hi", "--max-tokens", "2"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("chat_template.jinja") && r.stderr.contains("line 2"), "\(r.stderr)")
        #expect(r.stderrLines.count == 1, "\(r.stderr)")
    }

    @Test func anUnknownTokenizerComponentIsExit65NamingIt() throws {
        let directory = try Self.copy("qwen2-chat")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tokenizer.json"
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "\"NFC\"", with: "\"NFKD\"")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try CLI.run(["generate", "--model", directory, "--chat", "--prompt", "hi", "--max-tokens", "2"])
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("NFKD") && r.stderr.contains("tokenizer.json"), "\(r.stderr)")
    }

    /// explain says which key/value head a grouped query head reads (llama3-chat: 4 heads over 2).
    @Test func explainNamesTheKeyValueHeadOfAGroupedQueryHead() throws {
        let text = try CLI.run(["explain", "--model", Self.model("llama3-chat"), "--prompt", "hello there", "--head", "4"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("those of key/value head 2/2 of W_k and W_v"), "\(text.stdout)")
        let json = try CLI.run(["explain", "--model", Self.model("llama3-chat"), "--prompt", "hello there", "--head", "3", "--json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect(json.stdout.contains("\"kv_head\":2"), "\(json.stdout.prefix(200))")
    }

    @Test func dialoGPTJoinsTurnsWithEndOfText() throws {
        let r = try CLI.run(["generate", "--model", Self.model("dialogpt"), "--chat", "--prompt", "Hello! How are you today?", "--temperature", "0", "--max-tokens", "12"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.isEmpty)
    }
}
