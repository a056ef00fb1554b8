import FileIO

/// What can stop a chat turn or a chat command. One line each; `exitCode` follows sysexits.
public enum ChatError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The tokenizer lacks `<|user|>`, `<|bot|>` or `<|endoftext|>`.
    case templateTokensMissing([String])
    /// The model's chat template (or its tokenizer config) cannot be read, parsed or rendered:
    /// `path` and the template's own line are named, never a different prompt used.
    case chatTemplate(path: String, String)
    /// The tokenizer's vocabulary does not fit the model's embedding.
    case vocabularyMismatch(tokenizer: Int, model: Int)
    /// The model produced NaN or infinite logits; the turn is aborted, the session survives.
    case nonFiniteLogits(detail: String)
    /// A single message longer than the whole context window.
    case messageTooLong(tokens: Int, context: Int)
    /// Sampling settings that do not validate.
    case invalidSettings(String)
    /// Writing a transcript failed; the previous file, if any, is intact.
    case transcript(path: String, reason: String)
    /// `chat --transcript FILE` where FILE exists: it is never overwritten.
    case transcriptExists(path: String)
    /// A transcript path `AtomicFile`'s policy refuses: an existing file `/save` may not
    /// replace, or a directory, device, FIFO or socket (exit 73).
    case outputRefused(AtomicFile.Failure)
    /// `chat --transcript FILE` ended with the last save failed: FILE holds an earlier version
    /// of the conversation, or only its header (exit 74).
    case transcriptIncomplete(path: String)
    /// `chat --transcript FILE` had `count` saves fail, the last save succeeded: FILE is whole,
    /// the run still ends with exit 74.
    case transcriptSavesFailed(path: String, count: Int)

    public var description: String {
        switch self {
        case .templateTokensMissing(let names):
            return "the tokenizer has no \(names.joined(separator: ", ")) token: it cannot render the chat template"
        case .chatTemplate(let path, let reason):
            return "\(path): \(reason)"
        case .vocabularyMismatch(let tokenizer, let model):
            return "the tokenizer has \(tokenizer) tokens but the model's embedding has \(model) rows"
        case .nonFiniteLogits(let detail):
            return "non-finite logits (\(detail)): the reply was aborted"
        case .messageTooLong(let tokens, let context):
            return "the message is \(tokens) tokens long; the model's context holds \(context)"
        case .invalidSettings(let reason):
            return reason
        case .transcript(let path, let reason):
            return "\(path): cannot save the transcript: \(reason)"
        case .transcriptExists(let path):
            return "\(path): the file already exists; attnchat never overwrites one (choose a new name)"
        case .outputRefused(let failure):
            return failure.description
        case .transcriptIncomplete(let path):
            return "\(path): the last save of the transcript failed (see above); the file lacks the end of the conversation"
        case .transcriptSavesFailed(let path, let count):
            return "\(path): \(count) save\(count == 1 ? "" : "s") of the transcript failed during the chat (see above); the last one succeeded, so the file holds the whole conversation"
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .templateTokensMissing, .chatTemplate, .vocabularyMismatch, .nonFiniteLogits: return 65
        case .messageTooLong, .invalidSettings: return 64
        case .transcript, .transcriptIncomplete, .transcriptSavesFailed: return 74
        case .transcriptExists: return 73  // EX_CANTCREAT
        case .outputRefused(let failure): return failure.exitCode
        }
    }
}
