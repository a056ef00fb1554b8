import Corpus
import Foundation
import Testing

@Suite struct ChitChatTests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path
    static let datasetPath = packageRoot + "/data/chitchat/dataset.json"

    /// A conversation JSON object with the given turns (each a list of message texts).
    func conversation(_ turns: [[String]]) -> String {
        let messages = turns.map { turn in
            "[" + turn.map { "{\"text\": \(String(decoding: try! JSONEncoder().encode($0), as: UTF8.self)), \"sender\": \"s\"}" }
                .joined(separator: ",") + "]"
        }
        return "{\"messages\": [" + messages.joined(separator: ",") + "]}"
    }

    @Test func rendersTurnsWithTheChatTemplate() throws {
        let json = "{\"c1\": " + conversation([["hi", "you there?"], ["yes"], ["ok <|endoftext|>"]]) + "}"
        let corpus = try ChitChat(data: Data(json.utf8))
        let rendered = try #require(corpus.conversations.first).rendered
        #expect(rendered == "<|user|>hi\nyou there?\n<|bot|>yes\n<|user|>ok <|endoftext|>\n<|endoftext|>")
        #expect(corpus.conversations[0].segments == [
            .special("<|user|>"), .text("hi\nyou there?\n"), .special("<|bot|>"), .text("yes\n"),
            .special("<|user|>"), .text("ok <|endoftext|>\n"), .special("<|endoftext|>"),
        ])
    }

    @Test func splitsEveryTwentiethConversationByIdOrderIntoValidation() throws {
        // Ids whose string order differs from their numeric order: "10" < "9".
        let ids = (0..<40).map { String($0) }
        let json = "{" + ids.map { "\"\($0)\": " + conversation([["m\($0)"]]) }.joined(separator: ",") + "}"
        let corpus = try ChitChat(data: Data(json.utf8))
        let sorted = ids.sorted()
        #expect(corpus.conversations.map(\.id) == sorted)
        #expect(corpus.validation.map(\.id) == [sorted[19], sorted[39]])
        #expect(corpus.training.count == 38)
        #expect(!corpus.training.contains { $0.id == sorted[19] })
    }

    @Test func rejectsMalformedJSONWithThePath() {
        do {
            _ = try ChitChat(data: Data("{\"c1\": {\"messages\": [[{\"text\": \"hi\"}]]},\n \"c2\": [".utf8), path: "bad.json")
            Issue.record("parsed malformed JSON")
        } catch {
            #expect(error.exitCode == 65)
            #expect(error.description.hasPrefix("bad.json"), "\(error)")
            #expect(error.description.contains("not valid JSON"), "\(error)")
        }
    }

    @Test func pointsAtTheLineAndColumnOfASyntaxError() throws {
        do {
            _ = try ChitChat(data: Data("{\"c1\": {\"messages\": [\n[{\"text\": \"hi\"}],\n x]}}".utf8), path: "bad.json")
            Issue.record("parsed malformed JSON")
        } catch {
            #expect(error.description.hasPrefix("bad.json:3: column 2: not valid JSON"), "\(error)")
        }
    }

    @Test(arguments: [
        ("[1]", "expected an object"),
        ("{\"c1\": {}}", "conversation \"c1\": missing \"messages\""),
        ("{\"c1\": {\"messages\": [5]}}", "turn 0: expected a list"),
        ("{\"c1\": {\"messages\": [[{\"text\": 5}]]}}", "turn 0 message 0: missing \"text\""),
    ])
    func rejectsWrongShapesNamingTheConversation(json: String, message: String) {
        do {
            _ = try ChitChat(data: Data(json.utf8), path: "d.json")
            Issue.record("parsed \(json)")
        } catch {
            #expect(error.exitCode == 65)
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test func reportsAMissingFile() {
        #expect(throws: CorpusError.file(.notFound(path: "/nonexistent.json"))) {
            try ChitChat(path: "/nonexistent.json")
        }
    }

    @Test func readsInvalidUTF8TextAsReplacementCharacters() throws {
        let path = NSTemporaryDirectory() + "attnchat-corpus-\(UUID().uuidString).txt"
        try Data([0x68, 0x69, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try TextCorpus.read(path: path) == "hi\u{FFFD}\n")
        #expect(!ChitChat.looksLikeDataset(path: path))
    }

    /// ARCHITECTURE.md's numbers for the real corpus (Scripts/fetch-corpus downloads it).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: datasetPath)))
    func splitsTheRealCorpusAsArchitectureMdStates() throws {
        let corpus = try ChitChat(path: Self.datasetPath)
        #expect(ChitChat.looksLikeDataset(path: Self.datasetPath))
        #expect(corpus.conversations.count == 7168)
        let training = corpus.training, validation = corpus.validation
        #expect(training.count == 6810)
        #expect(validation.count == 358)
        #expect(training.reduce(0) { $0 + $1.rendered.utf8.count } == 13_196_775)
        #expect(validation.reduce(0) { $0 + $1.rendered.utf8.count } == 684_380)
    }
}
