import Corpus
import JSON
import Tokenizer

/// A corpus as the two token streams training needs.
///
/// Sources, by file:
/// - the Chit-Chat Challenge `dataset.json`: rendered with the chat template, split as ARCHITECTURE.md states
///   (conversation i is validation when i % 20 == 19);
/// - `.jsonl` chats, one `{"messages": [{"role": "user"|"assistant"|"bot", "content": …}, …]}`
///   per line: rendered the same way; line i is validation when i % 20 == 19;
/// - any other file: plain UTF-8 text (invalid bytes become U+FFFD); its last 10% of tokens
///   are validation.
/// Special tokens come only from the template, never from the text.
public struct TrainingCorpus: Sendable {
    public var train: [Int32] = []
    public var validation: [Int32] = []

    public init(train: [Int32], validation: [Int32]) {
        self.train = train
        self.validation = validation
    }

    /// Reads and tokenizes every file.
    /// - Throws: `TrainingError.corpus` or `.badCorpus`, naming the file (and line and column for JSON).
    public init(paths: [String], tokenizer: BPETokenizer) throws(TrainingError) {
        for path in paths {
            if ChitChat.looksLikeDataset(path: path) {
                let corpus: ChitChat
                do { corpus = try ChitChat(path: path) } catch { throw .corpus(error) }
                train += Self.render(corpus.training.map(\.segments), tokenizer)
                validation += Self.render(corpus.validation.map(\.segments), tokenizer)
            } else if path.hasSuffix(".jsonl") {
                let chats = try Self.readJSONL(path: path)
                for (i, chat) in chats.enumerated() {
                    let tokens = Self.render([chat], tokenizer)
                    if i % ChitChat.validationEvery == ChitChat.validationEvery - 1 { validation += tokens } else { train += tokens }
                }
            } else {
                let tokens = tokenizer.encode(try Self.readText(path: path)).map(Int32.init)
                let cut = tokens.count - tokens.count / 10
                train += tokens[..<cut]
                validation += tokens[cut...]
            }
        }
    }

    static func render(_ conversations: [[Segment]], _ tokenizer: BPETokenizer) -> [Int32] {
        var out: [Int32] = []
        for segments in conversations {
            for segment in segments {
                switch segment {
                case .special(let name): out.append(Int32(tokenizer.specialTokenID(name) ?? 0))
                case .text(let text): out += tokenizer.encode(text).map(Int32.init)
                }
            }
        }
        return out
    }

    /// A text file (invalid UTF-8 becomes U+FFFD); a failure to read it is `TrainingError.corpus`.
    static func readText(path: String) throws(TrainingError) -> String {
        do { return try TextCorpus.read(path: path) } catch { throw .corpus(error) }
    }

    /// Parses JSONL chats into template segments.
    static func readJSONL(path: String) throws(TrainingError) -> [[Segment]] {
        let text = try readText(path: path)
        var chats: [[Segment]] = []
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            func bad(_ reason: String) -> TrainingError { .badCorpus(path: path, line: lineNumber, reason: reason) }
            let value: JSONValue
            do { value = try JSONValue.parse(Array(line)) } catch { throw bad("\(error)") }
            guard let messages = value["messages"]?.arrayValue else { throw bad("expected {\"messages\": [...]}") }
            var segments: [Segment] = []
            for message in messages {
                guard let role = message["role"]?.stringValue, let content = message["content"]?.stringValue else {
                    throw bad("every message needs string \"role\" and \"content\"")
                }
                switch role {
                case "user": segments.append(.special(Corpus.ChatTemplate.user))
                case "assistant", "bot": segments.append(.special(Corpus.ChatTemplate.bot))
                case "system": continue
                default: throw bad("unknown role \"\(role)\"")
                }
                segments.append(.text(content + "\n"))
            }
            segments.append(.special(Corpus.ChatTemplate.endOfText))
            chats.append(segments)
        }
        return chats
    }
}
