import ChatTemplates
import FileIO
import FoundationEssentials
import GPT
import JSON
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

/// How a conversation becomes the model's prompt, and which tokens end a reply. Three formats:
///
/// - **attnchat** (its own models, ARCHITECTURE.md): every turn is `<|user|>` or `<|bot|>` +
///   its text + "\n"; a reply is generated after `<|bot|>` and ends at `<|user|>` or
///   `<|endoftext|>`. A system prompt is plain text before the first turn.
/// - **the model's Jinja template** (`chat_template` in `tokenizer_config.json`, or
///   `chat_template.jinja`): rendered as transformers' `apply_chat_template(messages,
///   add_generation_prompt=True)` renders it, with the tokenizer config's `bos_token` and
///   `eos_token`, then encoded with the added tokens recognised (transformers'
///   `add_special_tokens=False`). A reply ends at any of the model's end-of-turn ids.
/// - **end-of-text joined** (GPT-2, DialoGPT: no template): each turn's text followed by the
///   end-of-text token; the reply ends at it.
///
/// In the attnchat and end-of-text formats the turns' text is encoded as plain text, so a user
/// who types `<|endoftext|>` gets those characters, not the control token. A Jinja template's
/// output is the model's own prompt format, where transformers recognises added tokens too.
public struct ChatTemplate: Sendable {
    public enum Format: Sendable {
        case attnchat(user: Int, bot: Int, endOfText: Int)
        /// `path` names the template's file in error messages.
        case jinja(JinjaTemplate, path: String, bosToken: String?, eosToken: String?)
        case endOfTextJoined(endOfText: Int)
    }

    public let tokenizer: BPETokenizer
    public let format: Format
    /// Every id that ends a reply.
    public let endOfTurnIDs: Set<Int>
    /// "\n" as tokens, appended to every turn (attnchat format).
    let newline: [Int]

    public static let userToken = "<|user|>", botToken = "<|bot|>", endOfTextToken = "<|endoftext|>"

    /// attnchat's own template.
    /// - Throws: `ChatError.templateTokensMissing` when the tokenizer lacks the special tokens.
    public init(tokenizer: BPETokenizer) throws(ChatError) {
        let needed = [Self.userToken, Self.botToken, Self.endOfTextToken]
        let missing = needed.filter { tokenizer.specialTokenID($0) == nil }
        guard missing.isEmpty, let user = tokenizer.specialTokenID(Self.userToken), let bot = tokenizer.specialTokenID(Self.botToken),
            let end = tokenizer.specialTokenID(Self.endOfTextToken)
        else { throw .templateTokensMissing(missing) }
        self.init(tokenizer: tokenizer, format: .attnchat(user: user, bot: bot, endOfText: end), endOfTurnIDs: [user, end])
    }

    /// A template of any format; `endOfTurnIDs` must not be empty.
    public init(tokenizer: BPETokenizer, format: Format, endOfTurnIDs: Set<Int>) {
        precondition(!endOfTurnIDs.isEmpty, "a reply must be able to end")
        self.tokenizer = tokenizer
        self.format = format
        self.endOfTurnIDs = endOfTurnIDs
        newline = tokenizer.encode("\n")
    }

    /// The template for a model: attnchat's own when the tokenizer has `<|user|>`, `<|bot|>`
    /// and `<|endoftext|>`; else the chat template of the model directory `directory`; else,
    /// with an end-of-text token, turns joined by it (DialoGPT).
    ///
    /// - Parameters:
    ///   - directory: the Hugging Face model directory, or nil (embedded or attnchat file).
    ///   - info: what the model's config says about end-of-turn ids.
    /// - Throws: `ChatError.chatTemplate` (exit 65) for a template that does not parse or a
    ///   tokenizer config that cannot be read; `.templateTokensMissing` when nothing can end a reply.
    public static func forModel(directory: String?, tokenizer: BPETokenizer, info: HuggingFaceModelInfo?) throws(ChatError) -> ChatTemplate {
        if let own = try? ChatTemplate(tokenizer: tokenizer) { return own }
        var endOfTurn = Set(info?.endOfTurnIDs ?? [])
        if let directory, let files = try TemplateFiles(directory: directory) {
            if let eos = files.eosToken, let id = tokenizer.specialTokenID(eos) { endOfTurn.insert(id) }
            if let source = files.template {
                let template: JinjaTemplate
                do { template = try JinjaTemplate(source.text) } catch { throw .chatTemplate(path: source.path, error.description) }
                guard !endOfTurn.isEmpty else { throw .templateTokensMissing(["eos_token_id"]) }
                let format = Format.jinja(template, path: source.path, bosToken: files.bosToken, eosToken: files.eosToken)
                return ChatTemplate(tokenizer: tokenizer, format: format, endOfTurnIDs: endOfTurn)
            }
        }
        if let end = tokenizer.specialTokenID(endOfTextToken) { endOfTurn.insert(end) }
        // Turns are joined by the first end-of-turn token the model's config names.
        guard let joiner = info?.endOfTurnIDs.first ?? tokenizer.specialTokenID(endOfTextToken) ?? endOfTurn.min() else {
            throw .templateTokensMissing([endOfTextToken, "eos_token_id"])
        }
        return ChatTemplate(tokenizer: tokenizer, format: .endOfTextJoined(endOfText: joiner), endOfTurnIDs: endOfTurn)
    }

    /// attnchat's `<|user|>` id (attnchat format only).
    public var userID: Int? { if case .attnchat(let user, _, _) = format { user } else { nil } }
    /// attnchat's `<|bot|>` id (attnchat format only).
    public var botID: Int? { if case .attnchat(_, let bot, _) = format { bot } else { nil } }

    /// A name for the format, for the status bar and `info`.
    public var formatName: String {
        switch format {
        case .attnchat: "attnchat"
        case .jinja: "chat_template"
        case .endOfTextJoined: "end-of-text"
        }
    }

    /// The prompt for the next reply: the system prompt, every turn, then what starts a reply.
    /// - Throws: `ChatError.chatTemplate` when the template refuses the conversation (its own
    ///   `raise_exception`, e.g. roles that do not alternate) or fails.
    public func prompt(for turns: some Sequence<Turn>, system: String? = nil) throws(ChatError) -> [Int] {
        switch format {
        case .attnchat(let user, let bot, _):
            let preamble = system.map { tokenizer.encode($0) + newline } ?? []
            return preamble + turns.flatMap { [$0.role == .user ? user : bot] + tokenizer.encode($0.text) + newline } + [bot]
        case .endOfTextJoined(let end):
            let texts = (system.map { [$0] } ?? []) + turns.map(\.text)
            return texts.flatMap { tokenizer.encode($0) + [end] }
        case .jinja(let template, let path, let bos, let eos):
            var messages: [JSONObject] = []
            if let system { messages.append(["role": .string("system"), "content": .string(system)]) }
            for turn in turns {
                messages.append(["role": .string(turn.role == .user ? "user" : "assistant"), "content": .string(turn.text)])
            }
            let text: String
            do {
                text = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bos, eosToken: eos)
            } catch {
                throw .chatTemplate(path: path, error.description)
            }
            return tokenizer.encode(text, allowingSpecialTokens: true)
        }
    }

    /// Whether `id` ends a reply.
    public func endsReply(_ id: Int) -> Bool { endOfTurnIDs.contains(id) }
}

/// The chat template and special tokens of a Hugging Face directory: `chat_template.jinja`
/// (newer transformers) or `tokenizer_config.json`'s `chat_template`, and its `bos_token` /
/// `eos_token`, each a string or an `AddedToken` object with `content`.
struct TemplateFiles {
    var template: (text: String, path: String)?
    var bosToken: String?
    var eosToken: String?

    /// nil when the directory has neither file.
    init?(directory: String) throws(ChatError) {
        let configPath = Path.join(directory, "tokenizer_config.json")
        let jinjaPath = Path.join(directory, "chat_template.jinja")
        let fm = FileManager.default
        guard fm.fileExists(atPath: configPath) || fm.fileExists(atPath: jinjaPath) else { return nil }
        func read(_ path: String) throws(ChatError) -> Data {
            do { return try InputFile.read(path) } catch { throw .chatTemplate(path: path, error.description) }
        }
        if fm.fileExists(atPath: configPath) {
            let data = try read(configPath)
            let config: JSONValue
            do { config = try JSONValue.parse(data) } catch { throw .chatTemplate(path: configPath, "\(error)") }
            func token(_ key: String) throws(ChatError) -> String? {
                switch config[key] {
                case nil, .null?: return nil
                case .string(let text)?: return text
                case .object(let object)?:
                    guard let content = object["content"]?.stringValue else { throw .chatTemplate(path: configPath, "\"\(key)\" has no \"content\" string") }
                    return content
                default: throw .chatTemplate(path: configPath, "\"\(key)\" is neither a string nor a token object")
                }
            }
            bosToken = try token("bos_token")
            eosToken = try token("eos_token")
            if let text = JinjaTemplate.source(fromTokenizerConfig: config) { template = (text, configPath) }
        }
        // transformers prefers the separate file when both exist.
        if fm.fileExists(atPath: jinjaPath) {
            template = (String(decoding: try read(jinjaPath), as: UTF8.self), jinjaPath)
        }
    }
}
