import GPT
import Sampling

/// Why a reply ended.
public enum StopReason: String, Sendable, Equatable {
    /// The model produced `<|user|>` or `<|endoftext|>`.
    case endOfTurn
    /// The reply reached its token limit.
    case tokenLimit
    /// The context window filled up mid-reply; the next turn drops old turns.
    case contextFull
    /// Cancelled (Ctrl-C); the partial reply is kept, marked interrupted.
    case interrupted
}

/// What one generation loop reports, in order, while a reply streams.
public enum ChatEvent: Sendable {
    /// Old turns were dropped so the next reply fits the context.
    case contextTrimmed(droppedTurns: Int)
    /// The prompt was processed; `reusedTokens` of it came from the KV cache.
    case promptProcessed(tokens: Int, reusedTokens: Int, seconds: Double)
    /// One generated token: its id, the sampler's report, and the whole UTF-8 characters it
    /// completed (possibly empty while a multi-byte character is still split across tokens).
    case token(id: Int, info: TokenInfo, text: String)
    /// Where the new token attended, every layer and head.
    case attention(AttentionSnapshot)
    /// Speed so far and context use.
    case timing(ReplyTiming)
    /// The reply ended.
    case finished(StopReason, Turn)
}

/// Speed and context use of the reply so far.
public struct ReplyTiming: Sendable, Equatable {
    /// Seconds from the start of the turn to the first generated token.
    public var timeToFirstToken: Double
    /// Generated tokens per second, after the first.
    public var tokensPerSecond: Double
    public var generatedTokens: Int
    /// Tokens in the context window now, and its size.
    public var contextUsed: Int
    public var contextLength: Int
}
