import Foundation
import GPT
import JSON
import Sampling
import Testing
import Tokenizer
@testable import Chat

/// Chat with Hugging Face model directories of each family (Scripts/make-chat-model-fixtures.py):
/// the prompt is the model's own chat template rendered and encoded exactly as transformers'
/// `apply_chat_template` does, and the greedy reply equals transformers' up to the end-of-turn id.
@Suite struct ModelChatTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let names = ["qwen2-chat", "llama3-chat", "tinyllama-chat", "mistral-chat", "dialogpt"]

    struct Conversation {
        let system: String?
        let turns: [Turn]
        let promptIDs: [Int]?
        let refusal: String?
        let replyIDs: [Int]
    }

    static func conversations(_ name: String) throws -> [Conversation] {
        let url = fixtures.appendingPathComponent(name).appendingPathComponent("expected.json")
        let json = try JSONValue.parse(try Data(contentsOf: url))
        return (json["conversations"]?.arrayValue ?? []).map { c in
            Conversation(
                system: c["system"]?.stringValue,
                turns: (c["messages"]?.arrayValue ?? []).map { m in
                    Turn(role: m["role"]?.stringValue == "user" ? .user : .bot, text: m["content"]?.stringValue ?? "")
                },
                promptIDs: c["prompt_ids"]?.arrayValue?.compactMap(\.intValue),
                refusal: c["refusal"]?.stringValue,
                replyIDs: c["reply_ids"]?.arrayValue?.compactMap(\.intValue) ?? [])
        }
    }

    static func load(_ name: String) throws -> (GPTModel, ChatTemplate) {
        let directory = fixtures.appendingPathComponent(name).path
        let (model, source) = try GPTModel.load(path: directory)
        let tokenizer = try BPETokenizer(directory: directory)
        return (model, try ChatTemplate.forModel(directory: directory, tokenizer: tokenizer, info: source.huggingFace))
    }

    @Test(arguments: names)
    func promptIsTheModelsTemplateEncodedAsTransformersDoes(name: String) throws {
        let (_, template) = try Self.load(name)
        for conversation in try Self.conversations(name) {
            if let refusal = conversation.refusal {
                // The template's own raise_exception: a clear error, never another prompt.
                do {
                    _ = try template.prompt(for: conversation.turns, system: conversation.system)
                    Issue.record("\(name): the template accepted a conversation transformers refuses")
                } catch {
                    #expect(error.description.contains(refusal), "\(error.description)")
                    #expect(error.exitCode == 65)
                }
                continue
            }
            let ids = try template.prompt(for: conversation.turns, system: conversation.system)
            #expect(ids == conversation.promptIDs, "\(name): \(conversation.turns.last?.text ?? "")")
        }
    }

    @Test(arguments: names)
    func greedyReplyEqualsTransformers(name: String) throws {
        let (model, template) = try Self.load(name)
        for conversation in try Self.conversations(name) where conversation.refusal == nil {
            var greedy = SamplingSettings.neutral(seed: 1)
            greedy.temperature = 0
            let generator = try TokenGenerator(model: model, tokenizer: template.tokenizer, settings: LiveSettings(greedy))
            try generator.prefill(try template.prompt(for: conversation.turns, system: conversation.system))
            var ids: [Int] = []
            _ = generator.generate(maxTokens: 12, endsAt: template.endsReply, attention: false) { event in
                if case .token(let id, _, _) = event { ids.append(id) }
            }
            #expect(ids == conversation.replyIDs, "\(name)")
        }
    }

    @Test func eachFamilyGetsItsFormatAndEndOfTurnIDs() throws {
        let expectations: [(String, String, Set<String>)] = [
            ("qwen2-chat", "chat_template", ["<|im_end|>", "<|endoftext|>"]),
            ("llama3-chat", "chat_template", ["<|end_of_text|>", "<|eot_id|>"]),
            ("tinyllama-chat", "chat_template", ["</s>"]),
            ("dialogpt", "end-of-text", ["<|endoftext|>"]),
        ]
        for (name, format, ends) in expectations {
            let (_, template) = try Self.load(name)
            #expect(template.formatName == format, "\(name)")
            let expected = Set(ends.compactMap { template.tokenizer.specialTokenID($0) })
            #expect(expected.count == ends.count && template.endOfTurnIDs == expected, "\(name): \(template.endOfTurnIDs)")
        }
    }

    @Test func aTemplateTheInterpreterCannotParseIsRefusedNamingItsLine() throws {
        let directory = NSTemporaryDirectory() + "attnchat-template-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: Self.fixtures.appendingPathComponent("qwen2-chat").path, toPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "{% for m in messages %}\n{{ m.content | frobnicate }}\n{% endfor %}".write(toFile: directory + "/chat_template.jinja", atomically: true, encoding: .utf8)
        let tokenizer = try BPETokenizer(directory: directory)
        let (_, source) = try GPTModel.load(path: directory)
        do {
            let template = try ChatTemplate.forModel(directory: directory, tokenizer: tokenizer, info: source.huggingFace)
            _ = try template.prompt(for: [Turn(role: .user, text: "hi")])
            Issue.record("an unknown filter rendered")
        } catch {
            #expect(error.exitCode == 65)
            #expect(error.description.contains("chat_template.jinja"), "\(error.description)")
            #expect(error.description.contains("line 2"), "\(error.description)")
        }
    }
}
