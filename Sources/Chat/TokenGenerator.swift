import Dispatch
import GPT
import Sampling
import Tokenizer

/// The token loop, the one both a chat reply (`ChatSession`) and `attnchat generate` run: the
/// model's KV cache, the tokens in it and the sampler, and `generate`, which turns the logits of
/// the last position into tokens one at a time — sample, stop checks, decode the text, report,
/// run the model one position on — until a stop.
///
/// The sampler lives as long as the generator, so a seeded conversation draws its random numbers
/// in one sequence across replies. Not thread-safe: one thread runs it; others talk to it through
/// `LiveSettings` and `CancellationFlag`.
public final class TokenGenerator {
    public let model: GPTModel
    /// Read before every token: a change made while tokens stream applies from the next one.
    public let settings: LiveSettings
    /// Turns ids into text; nil when only ids are wanted (a model without a tokenizer).
    public let tokenizer: BPETokenizer?
    /// The tokens whose keys and values are in the cache, oldest first: what an attention
    /// snapshot's positions refer to and what the repetition penalties look back over.
    public private(set) var context: [Int] = []

    private let state: GPTState
    private var sampler: Sampler
    private var appliedSettings: SamplingSettings

    /// How a `generate` call ended.
    public struct Outcome: Sendable {
        public var reason: StopReason
        /// Everything generated, as text (empty without a tokenizer), the tail included.
        public var text: String
        /// What `finish()` of the streaming decoder returned: text not yet in any `.token` event
        /// (an incomplete UTF-8 character at the end becomes U+FFFD).
        public var tail: String
        /// Tokens generated (reported as `.token` events).
        public var tokens: Int
        /// Why sampling failed, when it did (NaN logits); `reason` is then `.interrupted`.
        public var failure: SamplingError?
    }

    /// - Throws: `SamplingSettingsError` when `settings` does not validate.
    public init(model: GPTModel, tokenizer: BPETokenizer?, settings: LiveSettings) throws(SamplingSettingsError) {
        self.model = model
        self.settings = settings
        self.tokenizer = tokenizer
        state = GPTState(model: model)
        appliedSettings = settings.value
        // Ids the tokenizer cannot decode (the rows a model is padded with) are never drawn.
        sampler = try Sampler(settings: appliedSettings, validCount: tokenizer?.vocabularySize ?? model.config.vocabSize)
    }

    /// Tokens in the context window now.
    public var contextUsed: Int { state.length }

    /// Empties the cache.
    public func reset() {
        context = []
        state.reset()
    }

    /// Makes `prompt` the context: the longest prefix already in the cache is kept, the rest is
    /// computed (at least the last token, whose logits the next token is drawn from).
    /// - Returns: How many tokens came from the cache.
    /// - Throws: `GPTError.tokenOutOfRange` or `.contextFull`; the cache then holds only the
    ///   reused prefix.
    @discardableResult
    public func prefill(_ prompt: [Int]) throws(GPTError) -> Int {
        var reused = 0
        while reused < min(context.count, prompt.count - 1) && context[reused] == prompt[reused] { reused += 1 }
        state.truncate(to: reused)
        context.removeSubrange(reused...)
        try state.prefill(Array(prompt[reused...]))
        context = prompt
        return reused
    }

    /// Generates tokens after the context until a stop, reporting each as `.token`, then
    /// `.attention` (when `attention` is true) and `.timing`.
    ///
    /// Stops, checked in this order: `cancel` raised (`.interrupted`); `maxTokens` reached
    /// (`.tokenLimit`); the drawn token is one `endsAt` accepts (`.endOfTurn`, not reported);
    /// the context is full (`.contextFull`, the drawn token is not reported). A token is drawn
    /// before the last two checks, so its random number is spent whatever they say.
    /// - Parameters:
    ///   - attention: whether to copy every layer and head's attention for each token (the
    ///     chat's attention pane); `L·H·length` floats a token.
    ///   - startedAt: when the turn began (`DispatchTime` ns), for the time to the first token.
    public func generate(
        maxTokens: Int, endsAt: (Int) -> Bool = { _ in false }, attention: Bool, cancel: CancellationFlag? = nil,
        startedAt: UInt64 = DispatchTime.now().uptimeNanoseconds, onEvent: (ChatEvent) -> Void
    ) -> Outcome {
        let contextLength = model.config.contextLength
        var decoder = tokenizer.map(StreamingDecoder.init)
        var outcome = Outcome(reason: .tokenLimit, text: "", tail: "", tokens: 0, failure: nil)
        var firstTokenAt: UInt64 = 0
        var logits = state.logits
        while true {
            if cancel?.isCancelled == true { outcome.reason = .interrupted; break }
            if outcome.tokens >= maxTokens { outcome.reason = .tokenLimit; break }
            let current = settings.value
            if current != appliedSettings {
                // LiveSettings only ever holds validated settings, so this cannot fail.
                try? sampler.update(current)
                appliedSettings = current
            }
            let info: TokenInfo
            do {
                info = try sampler.sample(logits, history: context)
            } catch {
                outcome.reason = .interrupted
                outcome.failure = error
                break
            }
            if endsAt(info.id) { outcome.reason = .endOfTurn; break }
            if state.length >= contextLength { outcome.reason = .contextFull; break }
            // The sampler draws only ids below the tokenizer's size, which all decode.
            var piece = ""
            if decoder != nil { piece = (try? decoder!.push(info.id)) ?? "" }
            outcome.text += piece
            outcome.tokens += 1
            if outcome.tokens == 1 { firstTokenAt = DispatchTime.now().uptimeNanoseconds }
            onEvent(.token(id: info.id, info: info, text: piece))
            do { logits = try state.decode(info.id) } catch { outcome.reason = .contextFull; break }
            context.append(info.id)
            if attention { onEvent(.attention(state.attentionSnapshot())) }
            let now = DispatchTime.now().uptimeNanoseconds
            let generated = outcome.tokens
            onEvent(.timing(ReplyTiming(
                timeToFirstToken: Double(firstTokenAt - startedAt) / 1e9,
                tokensPerSecond: generated > 1 ? Double(generated - 1) / (Double(now - firstTokenAt) / 1e9) : 0,
                generatedTokens: generated, contextUsed: state.length, contextLength: contextLength)))
        }
        outcome.tail = decoder?.finish() ?? ""
        outcome.text += outcome.tail
        return outcome
    }
}
