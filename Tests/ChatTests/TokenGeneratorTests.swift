import GPT
import Sampling
import Testing
import Tokenizer
@testable import Chat

/// The token loop that a chat reply and `attnchat generate` share.
@Suite struct TokenGeneratorTests {
    static func generator(seed: UInt64 = 11) throws -> TokenGenerator {
        try TokenGenerator(model: ChatFixture.model(), tokenizer: ChatFixture.tokenizer, settings: LiveSettings(.neutral(seed: seed)))
    }

    static func run(_ generator: TokenGenerator, maxTokens: Int, attention: Bool = false) -> (ids: [Int], events: Int, outcome: TokenGenerator.Outcome) {
        var ids: [Int] = [], snapshots = 0
        let outcome = generator.generate(maxTokens: maxTokens, attention: attention) { event in
            if case .token(let id, _, _) = event { ids.append(id) }
            if case .attention = event { snapshots += 1 }
        }
        return (ids, snapshots, outcome)
    }

    /// A reply is the loop run on the template's prompt, stopping at the template's end tokens:
    /// the same seed gives the same tokens either way.
    @Test func aChatReplyIsTheLoopOnTheTemplatesPrompt() throws {
        let session = try ChatFixture.session(maxReply: 12)
        var replyIDs: [Int] = []
        try session.send("hello there", cancel: CancellationFlag()) { event in
            if case .token(let id, _, _) = event { replyIDs.append(id) }
        }
        let generator = try Self.generator()
        try generator.prefill(try session.template.prompt(for: [Turn(role: .user, text: "hello there")]))
        var ids: [Int] = []
        let outcome = generator.generate(maxTokens: 12, endsAt: session.template.endsReply, attention: false) { event in
            if case .token(let id, _, _) = event { ids.append(id) }
        }
        #expect(!ids.isEmpty && ids == replyIDs)
        #expect(outcome.text == session.turns[1].text || outcome.text == session.turns[1].text + "\n")
    }

    @Test func stopsAtTheTokenLimitOrWhenTheContextIsFull() throws {
        let prompt = Array(repeating: 5, count: 60)  // the fixture's context is 64
        let limited = try Self.generator()
        try limited.prefill(prompt)
        let a = Self.run(limited, maxTokens: 3)
        #expect(a.ids.count == 3 && a.outcome.tokens == 3 && a.outcome.reason == .tokenLimit)
        let full = try Self.generator()
        try full.prefill(prompt)
        let b = Self.run(full, maxTokens: 10)
        #expect(b.ids.count == 4 && b.outcome.reason == .contextFull)
        #expect(full.contextUsed == 64 && full.context.count == 64)
        #expect(b.ids.prefix(3) == a.ids[...])  // the same draws up to the stop
    }

    @Test func attentionIsCopiedOnlyWhenAskedFor() throws {
        for attention in [false, true] {
            let generator = try Self.generator()
            try generator.prefill([1, 2, 3])
            let r = Self.run(generator, maxTokens: 4, attention: attention)
            #expect(r.events == (attention ? r.ids.count : 0))
        }
    }

    /// The cached prefix of a longer prompt is kept; at least the last token is computed again.
    @Test func prefillReusesTheCachedPrefix() throws {
        let generator = try Self.generator()
        #expect(try generator.prefill([1, 2, 3]) == 0)
        #expect(try generator.prefill([1, 2, 3, 4, 5]) == 3)
        #expect(try generator.prefill([1, 2, 3, 4, 5]) == 4)
        #expect(try generator.prefill([1, 9]) == 1)
        #expect(generator.context == [1, 9] && generator.contextUsed == 2)
        #expect(throws: GPTError.self) { try generator.prefill(Array(repeating: 1, count: 65)) }
    }

    @Test func cancellingStopsBeforeTheNextToken() throws {
        let generator = try Self.generator()
        try generator.prefill([1, 2, 3])
        let cancel = CancellationFlag()
        var count = 0
        let outcome = generator.generate(maxTokens: 50, attention: false, cancel: cancel) { event in
            if case .token = event { count += 1; if count == 2 { cancel.cancel() } }
        }
        #expect(count == 2 && outcome.tokens == 2 && outcome.reason == .interrupted && outcome.failure == nil)
    }
}
