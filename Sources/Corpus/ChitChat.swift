import FileIO
import FoundationEssentials
import Glibc
import JSON

/// The Chit-Chat Challenge corpus (`chitchat_dataset/dataset.json`, chitchat-dataset 0.9.0 on PyPI)
/// and its rendering with the chat template, exactly as ARCHITECTURE.md states it.
///
/// `dataset.json` is an object of conversation id -> `{"messages": [[{"text": …, "sender": …}, …], …]}`:
/// a conversation is a list of turns, a turn a list of messages by one sender.
///
///     // {"messages": [[{"text": "hi"}, {"text": "you there?"}], [{"text": "yes"}]]}
///     conversation.rendered
///     // "<|user|>hi\nyou there?\n<|bot|>yes\n<|endoftext|>"
public struct ChitChat: Sendable {
    /// One conversation: its id and the text of each turn (messages joined by "\n").
    public struct Conversation: Sendable, Equatable {
        public var id: String
        public var turns: [String]

        public init(id: String, turns: [String]) {
            self.id = id
            self.turns = turns
        }

        /// The conversation as pieces of ordinary text and special tokens, in order: for each turn
        /// `<|user|>` or `<|bot|>` (alternating, user first), the turn's text + "\n"; then `<|endoftext|>`.
        /// Trainers feed `.text` to the tokenizer and insert `.special` ids themselves, so a message
        /// that contains "<|endoftext|>" stays ordinary text.
        public var segments: [Segment] {
            var result: [Segment] = []
            for (index, turn) in turns.enumerated() {
                result.append(.special(index % 2 == 0 ? ChatTemplate.user : ChatTemplate.bot))
                result.append(.text(turn + "\n"))
            }
            result.append(.special(ChatTemplate.endOfText))
            return result
        }

        /// The rendered text: the segments concatenated.
        public var rendered: String {
            segments.map(\.text).joined()
        }
    }

    /// All conversations, ordered by id (compared as strings, by UTF-8 bytes).
    public var conversations: [Conversation]

    /// Conversation `i` is validation when `i % 20 == 19`.
    public static let validationEvery = 20

    /// The training conversations (19 of every 20).
    public var training: [Conversation] {
        conversations.enumerated().filter { $0.offset % Self.validationEvery != Self.validationEvery - 1 }.map(\.element)
    }

    /// The validation conversations (index % 20 == 19).
    public var validation: [Conversation] {
        conversations.enumerated().filter { $0.offset % Self.validationEvery == Self.validationEvery - 1 }.map(\.element)
    }

    public init(conversations: [Conversation]) {
        self.conversations = conversations.sorted { Self.idOrder($0.id, $1.id) }
    }

    /// Reads `dataset.json`.
    /// - Throws: `CorpusError` — 66 when missing, 74 when unreadable, 65 when malformed (with the
    ///   line, column and reason the JSON parser reports, or the conversation id and field at fault).
    public init(path: String) throws(CorpusError) {
        try self.init(data: try CorpusError.read(path), path: path)
    }

    /// Parses `dataset.json` from memory; `path` names it in errors.
    public init(data: Data, path: String = "dataset.json") throws(CorpusError) {
        let root: JSONValue
        do {
            root = try JSONValue.parse(data)
        } catch {
            throw .notJSON(path: path, error)
        }
        guard let object = root.objectValue else {
            throw .badDataset(path: path, reason: "expected an object of conversation id -> conversation")
        }
        var conversations: [Conversation] = []
        conversations.reserveCapacity(object.count)
        for (id, conversation) in object.entries {
            guard let turns = conversation["messages"]?.arrayValue else {
                throw .badDataset(path: path, reason: "conversation \"\(id)\": missing \"messages\" list")
            }
            var texts: [String] = []
            texts.reserveCapacity(turns.count)
            for (turnIndex, turn) in turns.enumerated() {
                guard let messages = turn.arrayValue else {
                    throw .badDataset(path: path, reason: "conversation \"\(id)\" turn \(turnIndex): expected a list of messages")
                }
                var lines: [String] = []
                for (messageIndex, message) in messages.enumerated() {
                    guard let text = message["text"]?.stringValue else {
                        throw .badDataset(path: path,
                            reason: "conversation \"\(id)\" turn \(turnIndex) message \(messageIndex): missing \"text\" string")
                    }
                    lines.append(text)
                }
                texts.append(lines.joined(separator: "\n"))
            }
            conversations.append(Conversation(id: id, turns: texts))
        }
        self.init(conversations: conversations)
    }

    /// Python's `sorted()` on str compares code points; comparing UTF-8 bytes gives the same order.
    static func idOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Whether a file looks like the chit-chat `dataset.json` (a JSON object, by its first byte),
    /// as opposed to a plain text file.
    public static func looksLikeDataset(path: String) -> Bool {
        // InputFile.open never blocks (a FIFO named x.json is refused, not waited on); whatever
        // is wrong with the path is reported by the read that follows.
        guard path.hasSuffix(".json"), let descriptor = try? InputFile.open(path).descriptor else { return false }
        defer { close(descriptor) }
        var head = [UInt8](repeating: 0, count: 64)
        let count = Glibc.read(descriptor, &head, head.count)
        return head.prefix(max(count, 0)).first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{")
    }
}

/// The chat template's special tokens.
public enum ChatTemplate {
    public static let user = "<|user|>"
    public static let bot = "<|bot|>"
    public static let endOfText = "<|endoftext|>"
    /// In id order for a freshly trained vocabulary.
    public static let specialTokens = [endOfText, user, bot]
}

/// A piece of rendered conversation: ordinary text, or a special token the template inserts.
public enum Segment: Sendable, Equatable {
    case text(String)
    case special(String)

    /// The literal text of the segment.
    public var text: String {
        switch self {
        case .text(let text), .special(let text): text
        }
    }
}
