import Dispatch
import GPT
import Tokenizer

/// A conversation with a model: the turns, the KV cache that holds them, and each reply
/// generated token by token by the token loop (`TokenGenerator`), every step reported as a
/// `ChatEvent`.
///
/// Context: a reply needs room. When the turns plus `replyReserve` tokens would not fit the
/// model's window, the oldest whole turns leave the window (they stay in `turns` and in the
/// transcript). Whatever prefix of the new prompt is already in the KV cache is reused; with
/// absolute positions (learned, sinusoidal) and with rotary keys cached at their positions,
/// dropping a turn shifts every position, so the cache is rebuilt from there.
///
/// Not thread-safe: one thread runs the session; others talk to it through `LiveSettings` and
/// `CancellationFlag`.
public final class ChatSession {
    public let model: GPTModel
    public let template: ChatTemplate
    public let settings: LiveSettings
    /// The longest reply, in tokens.
    public var maxReplyTokens: Int
    /// Every turn so far, including those that left the context window.
    public private(set) var turns: [Turn] = []
    /// Index of the first turn still inside the context window.
    public private(set) var windowStart = 0
    /// The system prompt (`chat --system`, `/system`), rendered before the turns as the
    /// template puts it; nil for none. It never leaves the window.
    public var systemPrompt: String?

    /// The KV cache, the sampler and the token loop (shared with `attnchat generate`).
    private let generator: TokenGenerator

    /// A chat with attnchat's own template.
    /// - Throws: `ChatError` if the tokenizer cannot render the template or does not fit the model.
    public convenience init(model: GPTModel, tokenizer: BPETokenizer, settings: LiveSettings, maxReplyTokens: Int = 256) throws(ChatError) {
        try self.init(model: model, template: try ChatTemplate(tokenizer: tokenizer), settings: settings, maxReplyTokens: maxReplyTokens)
    }

    /// A chat in `template`'s format (see `ChatTemplate.forModel`).
    /// - Throws: `ChatError` if the tokenizer does not fit the model.
    public init(model: GPTModel, template: ChatTemplate, settings: LiveSettings, maxReplyTokens: Int = 256) throws(ChatError) {
        self.template = template
        let tokenizer = template.tokenizer
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw .vocabularyMismatch(tokenizer: tokenizer.vocabularySize, model: model.config.vocabSize)
        }
        self.model = model
        self.settings = settings
        self.maxReplyTokens = maxReplyTokens
        do {
            generator = try TokenGenerator(model: model, tokenizer: tokenizer, settings: settings)
        } catch {
            throw .invalidSettings(error.description)
        }
    }

    /// Tokens reserved for the reply when deciding which turns fit.
    var replyReserve: Int { min(maxReplyTokens, model.config.contextLength / 2) }

    /// Tokens in the context window now.
    public var contextUsed: Int { generator.contextUsed }

    /// The token ids in the context window now (prompt and reply so far), oldest first: what an
    /// attention snapshot's positions refer to.
    public var contextTokens: [Int] { generator.context }

    /// Forgets the conversation (`/reset`).
    public func reset() {
        turns = []
        windowStart = 0
        generator.reset()
    }

    /// Adds the user's message and generates the reply.
    /// - Throws: `ChatError.messageTooLong` (the message is not kept) or `.nonFiniteLogits`
    ///   (the partial reply is kept, marked interrupted).
    @discardableResult
    public func send(_ text: String, cancel: CancellationFlag, onEvent: (ChatEvent) -> Void) throws(ChatError) -> Turn {
        turns.append(Turn(role: .user, text: text))
        do {
            return try generateReply(cancel: cancel, onEvent: onEvent)
        } catch {
            // Refused before any reply began (too long, or the template would not render it):
            // the message is not kept. A reply that failed later is kept, marked interrupted.
            switch error {
            case .messageTooLong, .chatTemplate: turns.removeLast()
            default: break
            }
            throw error
        }
    }

    /// Replaces the last reply with a new one (`/regen`); nil when there is no reply yet.
    public func regenerate(cancel: CancellationFlag, onEvent: (ChatEvent) -> Void) throws(ChatError) -> Turn? {
        guard let last = turns.last, last.role == .bot else { return nil }
        turns.removeLast()
        do {
            return try generateReply(cancel: cancel, onEvent: onEvent)
        } catch {
            if case .chatTemplate = error { turns.append(last) }  // nothing was generated: the reply stays
            throw error
        }
    }

    private func generateReply(cancel: CancellationFlag, onEvent: (ChatEvent) -> Void) throws(ChatError) -> Turn {
        let start = DispatchTime.now().uptimeNanoseconds
        let contextLength = model.config.contextLength

        // Fit the window: drop whole turns from the front, never the new message.
        var prompt = try template.prompt(for: turns[windowStart...], system: systemPrompt)
        var dropped = 0
        while prompt.count + replyReserve > contextLength && windowStart < turns.count - 1 {
            windowStart += 1
            dropped += 1
            prompt = try template.prompt(for: turns[windowStart...], system: systemPrompt)
        }
        guard prompt.count < contextLength else { throw .messageTooLong(tokens: prompt.count, context: contextLength) }
        if dropped > 0 { onEvent(.contextTrimmed(droppedTurns: dropped)) }

        // Reuse the cached prefix, compute the rest.
        let reused: Int
        do {
            reused = try generator.prefill(prompt)
        } catch {
            throw .messageTooLong(tokens: prompt.count, context: contextLength)  // unreachable: checked above
        }
        let promptDone = DispatchTime.now().uptimeNanoseconds
        onEvent(.promptProcessed(tokens: prompt.count, reusedTokens: reused, seconds: Double(promptDone - start) / 1e9))

        let outcome = generator.generate(
            maxTokens: maxReplyTokens, endsAt: template.endsReply, attention: true, cancel: cancel, startedAt: start, onEvent: onEvent)
        var text = outcome.text
        if let failure = outcome.failure {
            let turn = Turn(role: .bot, text: text, interrupted: true)
            turns.append(turn)
            onEvent(.finished(.interrupted, turn))
            throw .nonFiniteLogits(detail: "\(failure)")
        }
        let reason = outcome.reason
        // attnchat's models end a turn with "\n" before <|user|>, as the template renders it;
        // the template adds that newline back, so the turn's text does not keep it.
        if case .attnchat = template.format, reason == .endOfTurn, text.hasSuffix("\n") { text.removeLast() }
        let turn = Turn(role: .bot, text: text, interrupted: reason == .interrupted)
        turns.append(turn)
        onEvent(.finished(reason, turn))
        return turn
    }
}
