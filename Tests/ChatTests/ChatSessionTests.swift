import FileIO
import Foundation
@_spi(Training) import GPT
import Sampling
import Testing
import Tokenizer
@testable import Chat

enum ChatFixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let tokenizer = try! BPETokenizer(directory: root.appendingPathComponent("Vocab").path)

    /// A small random model over the default vocabulary.
    static func model(context: Int = 64, seed: UInt64 = 3) -> GPTModel {
        let config = GPTConfig(vocabSize: tokenizer.vocabularySize, contextLength: context, layers: 1, heads: 2, width: 16)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: seed, std: 0.05)
        return GPTModel(weights: weights)
    }

    /// Sampling that never ends a reply early: the template's end tokens are banned... by seed
    /// choice is not enough, so the tests use a high token budget and count what they get.
    static func session(context: Int = 64, settings: SamplingSettings = .neutral(seed: 11), maxReply: Int = 8) throws -> ChatSession {
        try ChatSession(model: model(context: context), tokenizer: tokenizer, settings: LiveSettings(settings), maxReplyTokens: maxReply)
    }
}

@Suite struct ChatSessionTests {
    @Test func templateRendersTurnsWithSpecialTokensOnlyFromTheTemplate() throws {
        let template = try ChatTemplate(tokenizer: ChatFixture.tokenizer)
        let tokens = try template.prompt(for: [Turn(role: .user, text: "hi <|endoftext|>"), Turn(role: .bot, text: "hello")])
        let endOfText = try #require(ChatFixture.tokenizer.specialTokenID(ChatTemplate.endOfTextToken))
        #expect(tokens.first == template.userID)
        #expect(tokens.last == template.botID)
        #expect(!tokens.contains(endOfText))  // typed text stays text
        #expect(tokens.filter { $0 == template.botID }.count == 2)
        #expect(try ChatFixture.tokenizer.decode(tokens) == "<|user|>hi <|endoftext|>\n<|bot|>hello\n<|bot|>")
    }

    @Test func replyStreamsTokensAndEndsWithAFinishedEvent() throws {
        let session = try ChatFixture.session()
        var tokens = 0, text = "", finished: StopReason?
        let reply = try session.send("hello there", cancel: CancellationFlag()) { event in
            switch event {
            case .token(_, _, let piece): tokens += 1; text += piece
            case .finished(let reason, _): finished = reason
            default: break
            }
        }
        #expect(tokens > 0 && tokens <= 8)
        #expect(finished != nil)
        #expect(reply.text == text)
        #expect(session.turns.map(\.role) == [.user, .bot])
    }

    /// Cancelling after k tokens leaves exactly those k tokens, marked interrupted.
    @Test func cancellationKeepsThePartialReplyMarked() throws {
        let session = try ChatFixture.session(maxReply: 50)
        let cancel = CancellationFlag()
        var ids: [Int] = []
        let reply = try session.send("tell me a story", cancel: cancel) { event in
            if case .token(let id, _, _) = event {
                ids.append(id)
                if ids.count == 3 { cancel.cancel() }
            }
        }
        #expect(ids.count == 3)
        #expect(reply.interrupted)
        #expect(reply.text == (try ChatFixture.tokenizer.decode(ids)))
        #expect(session.turns.last == reply)
    }

    /// A change made while a reply streams applies from the next token.
    @Test func settingsChangedMidReplyApplyFromTheNextToken() throws {
        let settings = LiveSettings(.neutral(seed: 5))
        let session = try ChatSession(model: ChatFixture.model(), tokenizer: ChatFixture.tokenizer, settings: settings, maxReplyTokens: 6)
        var infos: [TokenInfo] = []
        try session.send("hi", cancel: CancellationFlag()) { event in
            if case .token(_, let info, _) = event {
                infos.append(info)
                if infos.count == 2 { try? settings.update { $0.temperature = 0 } }
            }
        }
        try #require(infos.count >= 4)
        #expect(infos[0].probability < 0.5 && infos[1].probability < 0.5)  // sampled from a flat-ish distribution
        #expect(infos[2...].allSatisfy { $0.probability == 1 })  // greedy from the third token on
        #expect(infos[2].id == infos[2].top.first?.id)
    }

    /// A conversation longer than the context keeps going, dropping whole turns from the front.
    @Test func overflowDropsWholeOldTurns() throws {
        let session = try ChatFixture.session(context: 48, maxReply: 6)
        var trimmed = 0
        for i in 0..<8 {
            try session.send("message number \(i) with a few words", cancel: CancellationFlag()) { event in
                if case .contextTrimmed(let n) = event { trimmed += n }
            }
        }
        #expect(session.turns.count == 16)
        #expect(trimmed > 0 && trimmed == session.windowStart)
        #expect(session.contextUsed <= 48)
    }

    @Test func aMessageLongerThanTheContextIsRefusedAndNotKept() throws {
        let session = try ChatFixture.session(context: 32)
        let long = String(repeating: "word ", count: 60)
        #expect(throws: ChatError.self) { try session.send(long, cancel: CancellationFlag()) { _ in } }
        #expect(session.turns.isEmpty)
        try session.send("short", cancel: CancellationFlag()) { _ in }
        #expect(session.turns.count == 2)
    }

    /// A model whose logits favour one template token above all others (the final LayerNorm
    /// outputs its bias, and that token's embedding points along it); `favoured` nil pushes the
    /// three special tokens far below everything instead.
    static func steeredModel(favouring favoured: Int?) -> GPTModel {
        let model = ChatFixture.model()
        let w = model.weights
        let C = model.config.width
        w.withMutableTensor(w.tensor(named: "ln_f.weight")!) { $0.update(repeating: 0) }
        w.withMutableTensor(w.tensor(named: "ln_f.bias")!) { $0.update(repeating: 1) }
        w.withMutableTensor(w.tensor(named: "wte.weight")!) { wte in
            for id in 0..<3 {
                let value: Float = id == favoured ? 10 : (favoured == nil ? -10 : 0)
                for c in 0..<C { wte[id * C + c] = value }
            }
        }
        return model
    }

    static func reply(_ model: GPTModel, maxReply: Int) throws -> (reason: StopReason?, tokens: Int, turn: Turn) {
        let session = try ChatSession(model: model, tokenizer: ChatFixture.tokenizer, settings: LiveSettings(.neutral(seed: 2)), maxReplyTokens: maxReply)
        var reason: StopReason?, tokens = 0
        let turn = try session.send("hi", cancel: CancellationFlag()) { event in
            if case .token = event { tokens += 1 }
            if case .finished(let r, _) = event { reason = r }
        }
        return (reason, tokens, turn)
    }

    /// RELIABILITY 25: the end-of-turn token ends the reply (and is not shown); the token budget
    /// ends a reply that would go on.
    @Test(arguments: [0, 1])  // <|endoftext|>, <|user|>
    func aReplyEndsAtAnEndOfTurnToken(token: Int) throws {
        let r = try Self.reply(Self.steeredModel(favouring: token), maxReply: 20)
        #expect(r.reason == .endOfTurn)
        #expect(r.tokens == 0 && r.turn.text.isEmpty && !r.turn.interrupted)
    }

    @Test func aReplyThatWouldGoOnStopsAtTheTokenLimit() throws {
        let r = try Self.reply(Self.steeredModel(favouring: nil), maxReply: 5)
        #expect(r.reason == .tokenLimit)
        #expect(r.tokens == 5 && !r.turn.text.isEmpty)
    }

    /// RELIABILITY 27: NaN logits abort the turn with a message; the session goes on.
    @Test func nonFiniteLogitsAbortTheTurnAndTheSessionGoesOn() throws {
        let model = ChatFixture.model()
        let session = try ChatSession(model: model, tokenizer: ChatFixture.tokenizer, settings: LiveSettings(.neutral(seed: 2)), maxReplyTokens: 5)
        let bias = model.weights.tensor(named: "ln_f.bias")!
        model.weights.withMutableTensor(bias) { $0[0] = .nan }
        let error = #expect(throws: ChatError.self) { try session.send("hi", cancel: CancellationFlag()) { _ in } }
        #expect(error?.description.contains("non-finite logits") == true, "\(String(describing: error))")
        #expect(error?.exitCode == 65)
        #expect(session.turns.map(\.role) == [.user, .bot] && session.turns[1].interrupted)
        model.weights.withMutableTensor(bias) { $0[0] = 0 }
        try session.send("hello again", cancel: CancellationFlag()) { _ in }
        #expect(session.turns.count == 4 && !session.turns[3].interrupted)
    }

    /// RELIABILITY 14: a tokenizer with ids beyond the model's embedding rows is refused.
    @Test func aTokenizerLargerThanTheModelIsRefused() throws {
        let config = GPTConfig(vocabSize: 4000, contextLength: 32, layers: 1, heads: 2, width: 16)
        let model = GPTModel(weights: GPTWeights(config: config))
        #expect(throws: ChatError.vocabularyMismatch(tokenizer: 4096, model: 4000)) {
            try ChatSession(model: model, tokenizer: ChatFixture.tokenizer, settings: LiveSettings(.neutral(seed: 1)))
        }
    }

    @Test func regenerateReplacesTheLastReply() throws {
        let session = try ChatFixture.session()
        try session.send("hi", cancel: CancellationFlag()) { _ in }
        #expect(try session.regenerate(cancel: CancellationFlag()) { _ in } != nil)
        #expect(session.turns.count == 2)
        session.reset()
        #expect(session.turns.isEmpty && session.contextUsed == 0)
        #expect(try session.regenerate(cancel: CancellationFlag()) { _ in } == nil)
    }

    @Test func attentionSnapshotsArriveForEveryToken() throws {
        let session = try ChatFixture.session()
        var tokens = 0, snapshots: [Int] = []
        try session.send("hi", cancel: CancellationFlag()) { event in
            if case .token = event { tokens += 1 }
            if case .attention(let s) = event { snapshots.append(s.length) }
        }
        #expect(snapshots.count == tokens)
        #expect(zip(snapshots, snapshots.dropFirst()).allSatisfy { $1 == $0 + 1 })
    }
}

@Suite struct ChatSupportTests {
    @Test func controlCharactersBecomeVisibleAndInert() {
        #expect(TerminalSafe.inert("a\u{1B}[2Jb\u{07}\r\nok\t\u{9B}\u{7F}") == "a\u{241B}[2Jb\u{2407}\u{240D}\nok\t\u{FFFD}\u{2421}")
        #expect(TerminalSafe.inert("plain 🙂 text\n") == "plain 🙂 text\n")
    }

    /// Every C0 control but newline and tab, DEL and every C1 control is replaced, alone and
    /// inside text (RELIABILITY 36).
    @Test func noControlCharacterSurvives() {
        let controls = (0..<0x20).filter { $0 != 0x0A && $0 != 0x09 } + [0x7F] + Array(0x80...0x9F)
        for value in controls {
            let c = Character(Unicode.Scalar(UInt32(value))!)
            let out = TerminalSafe.inert("a\(c)b")
            #expect(out.count == 3 && out.first == "a" && out.last == "b", "U+\(String(value, radix: 16))")
            #expect(!out.unicodeScalars.contains { TerminalSafe.isControl($0) }, "U+\(String(value, radix: 16))")
        }
    }

    @Test func eventBufferKeepsTextAndCoalescesSnapshots() {
        let buffer = EventBuffer()
        let snapshot = { (n: Int) in ChatEvent.attention(AttentionSnapshot(layers: 1, heads: 1, length: n, weights: [Float](repeating: 1 / Float(n), count: n))) }
        buffer.push(snapshot(1))
        buffer.push(.contextTrimmed(droppedTurns: 1))
        buffer.push(snapshot(2))
        buffer.push(snapshot(3))
        let events = buffer.drain()
        #expect(events.count == 2)
        if case .attention(let s) = events[0] { #expect(s.length == 3) } else { Issue.record("snapshot not first") }
        #expect(buffer.droppedSnapshots == 2)
        #expect(buffer.drain().isEmpty)
    }

    @Test func transcriptIsReadableAndWrittenAtomically() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnchat-tx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("chat.txt").path
        let turns = [Turn(role: .user, text: "hi"), Turn(role: .bot, text: "hel\u{1B}lo", interrupted: true)]
        try Transcript.save(turns, modelName: "m", to: path, existing: .replace)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\n[user]\nhi\n"))
        #expect(text.contains("\n[bot, interrupted]\nhel\u{241B}lo\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["chat.txt"])  // no temp file left
        // A failed save is an error, not a crash (that the old file survives a failed write is
        // AtomicFileTests' aFailingWriterLeavesTheOldFileAndNoTemporaryFile).
        #expect(throws: ChatError.self) { try Transcript.save(turns, modelName: "m", to: dir.path + "/missing/x.txt", existing: .replace) }
    }
}

@Suite struct SystemPromptTests {
    /// attnchat's own template has no system role: the system prompt is plain text before the
    /// first turn, and removing it gives the old prompt back.
    @Test func systemPromptComesBeforeTheTurnsAndCanBeRemoved() throws {
        let template = try ChatTemplate(tokenizer: ChatFixture.tokenizer)
        let turns = [Turn(role: .user, text: "hi")]
        let plain = try template.prompt(for: turns)
        let withSystem = try template.prompt(for: turns, system: "Be kind.")
        #expect(try ChatFixture.tokenizer.decode(withSystem) == "Be kind.\n<|user|>hi\n<|bot|>")
        #expect(withSystem.suffix(plain.count) == plain[...])
    }

    @Test func theSessionRendersItsSystemPromptIntoEveryReply() throws {
        let session = try ChatFixture.session(maxReply: 2)
        session.systemPrompt = "Be kind."
        var prompt = 0
        try session.send("hello", cancel: CancellationFlag()) { event in
            if case .promptProcessed(let tokens, _, _) = event { prompt = tokens }
        }
        let expected = try session.template.prompt(for: [Turn(role: .user, text: "hello")], system: "Be kind.")
        #expect(prompt == expected.count)
        #expect(Array(session.contextTokens.prefix(expected.count)) == expected)
    }
}
