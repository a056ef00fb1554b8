import Tokenizer

/// Who said a turn.
public enum Role: String, Sendable, Codable {
    case user, bot
}

/// One turn of a conversation: a user message or a bot reply.
public struct Turn: Sendable, Equatable {
    public var role: Role
    public var text: String
    /// A reply stopped by the user (Ctrl-C) before the model ended it.
    public var interrupted: Bool

    public init(role: Role, text: String, interrupted: Bool = false) {
        self.role = role
        self.text = text
        self.interrupted = interrupted
    }
}

/// The chat template (ARCHITECTURE.md): every turn is `<|user|>` or `<|bot|>` + its text + "\n";
/// a finished conversation ends with `<|endoftext|>`; a reply is generated after `<|bot|>` and
/// ends when the model produces `<|user|>` or `<|endoftext|>`.
///
/// Special tokens come only from here: the turns' text is encoded as plain text, so a user who
/// types `<|endoftext|>` gets those characters, not the control token.
public struct ChatTemplate: Sendable {
    public let tokenizer: BPETokenizer
    public let userID: Int
    public let botID: Int
    public let endOfTextID: Int
    /// "\n" as tokens, appended to every turn.
    let newline: [Int]

    public static let userToken = "<|user|>", botToken = "<|bot|>", endOfTextToken = "<|endoftext|>"

    /// - Throws: `ChatError.templateTokensMissing` when the tokenizer lacks the special tokens.
    public init(tokenizer: BPETokenizer) throws(ChatError) {
        let needed = [Self.userToken, Self.botToken, Self.endOfTextToken]
        let missing = needed.filter { tokenizer.specialTokenID($0) == nil }
        guard missing.isEmpty, let user = tokenizer.specialTokenID(Self.userToken), let bot = tokenizer.specialTokenID(Self.botToken),
            let end = tokenizer.specialTokenID(Self.endOfTextToken)
        else { throw .templateTokensMissing(missing) }
        self.tokenizer = tokenizer
        userID = user
        botID = bot
        endOfTextID = end
        newline = tokenizer.encode("\n")
    }

    /// The tokens of one turn: role marker, text, newline.
    public func tokens(of turn: Turn) -> [Int] {
        [turn.role == .user ? userID : botID] + tokenizer.encode(turn.text) + newline
    }

    /// The prompt for the next reply: every turn, then `<|bot|>`.
    public func prompt(for turns: some Sequence<Turn>) -> [Int] {
        turns.flatMap(tokens(of:)) + [botID]
    }

    /// Whether `id` ends a reply.
    public func endsReply(_ id: Int) -> Bool { id == userID || id == endOfTextID }
}
