import FoundationEssentials
import JSON

/// A model's chat template (the Jinja text from `tokenizer_config.json`'s `chat_template` or a
/// `chat_template.jinja` file), parsed once and rendered per conversation exactly as
/// transformers' `apply_chat_template(messages, add_generation_prompt=...)` renders it.
///
/// The interpreter implements the Jinja subset chat templates use, under transformers'
/// environment: `trim_blocks` and `lstrip_blocks` on, the loop controls extension, the
/// `generation` tag, `tojson` as `json.dumps(ensure_ascii=False)`, and the globals
/// `raise_exception`, `strftime_now`, `namespace`, `dict` and `range`. Anything else fails with
/// a ``JinjaError`` naming the template line, never with different text.
///
/// Named `JinjaTemplate` so it does not clash with the `Chat` module's own `ChatTemplate`.
public struct JinjaTemplate: Sendable {
    let nodes: [Node]

    /// Parses `source`.
    /// - Throws: ``JinjaError`` (`.syntax` or `.unsupported`) with the line of the problem.
    public init(_ source: String) throws(JinjaError) {
        nodes = try Parser.parse(source)
    }

    /// Renders one conversation.
    ///
    /// Like `apply_chat_template`, keys whose value is null are dropped from each message first,
    /// `tools` and `documents` are passed (as none when not given), and a message carrying
    /// `reasoning_content`, `thinking` or `reasoning` also gets the first two of those names.
    ///
    /// - Parameters:
    ///   - messages: the conversation, each message an object such as `{"role": "user", "content": "Hi"}`.
    ///   - addGenerationPrompt: end with the header that starts the assistant's reply.
    ///   - bosToken, eosToken: the tokenizer's special tokens as text; left undefined when nil.
    ///   - tools, documents: passed to the template as `tools` / `documents`.
    ///   - variables: any further template variables (`date_string`, `enable_thinking`, ...);
    ///     they override the ones above, as transformers' keyword arguments do.
    ///   - now: the time `strftime_now` formats (local time zone), injectable for tests.
    /// - Throws: ``JinjaError``: `.raised` for the template's own `raise_exception`, `.runtime`
    ///   or `.unsupported` otherwise, with the template line.
    public func render(
        messages: [JSONObject],
        addGenerationPrompt: Bool,
        bosToken: String? = nil,
        eosToken: String? = nil,
        tools: [JSONValue]? = nil,
        documents: [JSONValue]? = nil,
        variables: JSONObject = JSONObject(),
        now: Date = Date()
    ) throws(JinjaError) -> String {
        let root = Scope(parent: nil)
        for name in Renderer.globalNames { root.variables[name] = .builtin(name) }
        let context = Scope(parent: root)
        context.variables["messages"] = .list(messages.map { Self.normalized($0) })
        context.variables["add_generation_prompt"] = .bool(addGenerationPrompt)
        context.variables["tools"] = tools.map { .list($0.map(Value.init)) } ?? Value.none
        context.variables["documents"] = documents.map { .list($0.map(Value.init)) } ?? Value.none
        if let bosToken { context.variables["bos_token"] = .string(bosToken) }
        if let eosToken { context.variables["eos_token"] = .string(eosToken) }
        for (key, value) in variables.entries { context.variables[key] = Value(value) }
        let renderer = Renderer(root: context, now: now)
        do {
            _ = try renderer.execute(nodes, in: context)
        } catch let error as JinjaError {
            throw error
        } catch {
            throw JinjaError(.runtime, "\(error)", line: 0, column: 0)
        }
        return renderer.output
    }

    /// What transformers does to a message before the template sees it.
    static func normalized(_ message: JSONObject) -> Value {
        var dict = OrderedDict()
        for (key, value) in message.entries where !value.isNull { dict[key] = Value(value) }
        let reasoningNames = ["reasoning_content", "thinking", "reasoning"]
        if let reasoning = reasoningNames.lazy.compactMap({ dict[$0] }).first {
            // transformers' `{"thinking": r, **message, "reasoning_content": r}`.
            var aliased = OrderedDict()
            aliased["thinking"] = reasoning
            for (key, value) in dict.pairs { aliased[key] = value }
            aliased["reasoning_content"] = reasoning
            dict = aliased
        }
        return .dict(dict)
    }

    /// The template text of a parsed `tokenizer_config.json`: its `chat_template` string, or the
    /// entry named `default` when it is a list of named templates; nil when there is none.
    public static func source(fromTokenizerConfig config: JSONValue) -> String? {
        switch config["chat_template"] {
        case .string(let text)?:
            return text
        case .array(let entries)?:
            for entry in entries where entry["name"]?.stringValue == "default" {
                return entry["template"]?.stringValue
            }
            return nil
        default:
            return nil
        }
    }
}

extension Value {
    /// A JSON value as the Python object `json.load` would give a template.
    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = Int(exactly: i).map { .int($0) } ?? .float(Double(i))
        case .number(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .list(items.map(Value.init))
        case .object(let object): self = .dict(OrderedDict(object.entries.map { ($0.key, Value($0.value)) }))
        }
    }
}
