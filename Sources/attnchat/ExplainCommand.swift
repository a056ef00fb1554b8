import ArgumentParser
import Chat
import FoundationEssentials
import GPT
import JSON
import Tokenizer

/// `attnchat explain`: one head's self-attention taken apart on real numbers — Q, K, V, the
/// scores, the scaling, the mask, the softmax and the weighted sum — from the same forward
/// that generation runs.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show self-attention step by step for one layer, head and position of a prompt.",
        discussion: """
            Layers, heads and positions count from 1, as the chat UI shows them; the position defaults to the \
            prompt's last token. --json prints one object with the full vectors.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Tokenizer directory (default: the model directory's files, else the embedded one).")
    var vocab: String?
    @Option(help: "The prompt text.")
    var prompt: String
    @Option(help: "The layer, from 1.")
    var layer = 1
    @Option(help: "The head, from 1.")
    var head = 1
    @Option(help: "The query's position in the prompt, from 1 (default: the last token).")
    var position: Int?
    @Option(help: "How many dimensions of q, k, v and the output the text form shows.")
    var dims = 6
    @Flag(help: "Print one JSON object with every vector in full.")
    var json = false

    func validate() throws {
        guard layer >= 1 else { throw ValidationError("--layer counts from 1 (got \(layer))") }
        guard head >= 1 else { throw ValidationError("--head counts from 1 (got \(head))") }
        if let position { guard position >= 1 else { throw ValidationError("--position counts from 1 (got \(position))") } }
        guard dims >= 1 else { throw ValidationError("--dims must be >= 1 (got \(dims))") }
    }

    func run() throws {
        let (model, _) = try modelOptions.load()
        let c = model.config
        let tokenizer = try loadTokenizer(vocab: vocab, modelPath: modelOptions.isDefault ? nil : modelOptions.model)
        try checkVocabulary(tokenizer, fits: model)
        let tokens = tokenizer.encode(prompt)
        guard !tokens.isEmpty else { throw UsageError(description: "--prompt is empty: there is no token to explain") }
        guard tokens.count <= c.contextLength else {
            throw UsageError(description: "--prompt has \(tokens.count) tokens; the model attends over at most \(c.contextLength)")
        }
        guard layer <= c.layers else { throw UsageError(description: "--layer \(layer) is out of range: the model has \(c.layers) layers (1–\(c.layers))") }
        guard head <= c.heads else { throw UsageError(description: "--head \(head) is out of range: the model has \(c.heads) heads (1–\(c.heads))") }
        let position = self.position ?? tokens.count
        guard position <= tokens.count else {
            throw UsageError(description: "--position \(position) is out of range: the prompt has \(tokens.count) tokens (1–\(tokens.count))")
        }
        let explanation = try GPTState(model: model).explainAttention(tokens: tokens, layer: layer - 1, head: head - 1, position: position - 1)
        let pieces = tokens.map { TerminalSafe.inert(String(decoding: (try? tokenizer.bytes(of: $0)) ?? [], as: UTF8.self)) }
        if json {
            try Stdout.write(Self.json(explanation, pieces: pieces).serialized() + "\n")
        } else {
            try Stdout.write(Self.text(
                explanation, pieces: pieces, model: TerminalSafe.oneLine(modelOptions.model), layers: c.layers, heads: c.heads, kvHeads: c.kvHeads,
                dims: dims))
        }
    }

    /// The JSON form: 1-based layer, head and position, every vector in full.
    static func json(_ e: AttentionExplanation, pieces: [String]) -> JSONValue {
        func number(_ x: Float) -> JSONValue { .number(Double("\(x)") ?? Double(x)) }
        func vector(_ v: [Float]) -> JSONValue { .array(v.map(number)) }
        return .object([
            "tokens": .array(pieces.map(JSONValue.string)),
            "layer": .integer(Int64(e.layer + 1)), "head": .integer(Int64(e.head + 1)), "kv_head": .integer(Int64(e.keyValueHead + 1)),
            "position": .integer(Int64(e.position + 1)), "head_size": .integer(Int64(e.query.count)),
            "query": vector(e.query), "keys": .array(e.keys.map(vector)), "values": .array(e.values.map(vector)),
            "scores": vector(e.scores), "scale": number(e.scale), "scaled": vector(e.scaled),
            "masked": .array(e.maskedPositions.map { .integer(Int64($0 + 1)) }),
            "weights": vector(e.weights), "output": vector(e.output),
        ])
    }

    /// Which columns of W_q, W_k and W_v a head reads: its own, or under grouped-query attention
    /// its own of W_q and its group's of W_k and W_v.
    private static func shared(_ kvHeads: Int, _ heads: Int, _ e: AttentionExplanation, _ hs: Int) -> String {
        guard kvHeads < heads else { return "its own \(hs) columns of each" }
        return "its own \(hs) columns of W_q and those of key/value head \(e.keyValueHead + 1)/\(kvHeads) of W_k and W_v, "
            + "which it shares with the other \(heads / kvHeads - 1) query heads of its group (grouped-query attention)"
    }

    /// The text form: each step in order, one sentence saying what it does, then its numbers.
    static func text(_ e: AttentionExplanation, pieces: [String], model: String, layers: Int, heads: Int, kvHeads: Int? = nil, dims: Int) -> String {
        let hs = e.query.count
        let shown = min(dims, hs)
        let more = shown < hs ? " …" : ""
        func quoted(_ i: Int) -> String { "\"" + pieces[i].replacing("\n", with: "↵") + "\"" }
        func f(_ x: Float, _ width: Int = 8, _ digits: Int = 4) -> String {
            NumberText.right(NumberText.fixed(x, digits, plus: true), width)
        }
        func head(_ v: [Float]) -> String { v.prefix(shown).map { f($0) }.joined(separator: " ") + more }
        let labelWidth = min(24, (0..<e.tokenCount).map { quoted($0).count }.max() ?? 0)
        func label(_ i: Int) -> String {
            let q = quoted(i)
            let cut = q.count > labelWidth ? String(q.prefix(labelWidth - 1)) + "…" : q
            return NumberText.right(String(i + 1), 4) + " " + NumberText.left(cut, labelWidth)
        }
        let right = NumberText.right
        let header = NumberText.left("pos", 5 + labelWidth) + " " + right("score", 10) + " "
            + right("scaled", 9) + " " + right("weight", 9)
        var out = """
            Self-attention step by step: model \(model), layer \(e.layer + 1)/\(layers), head \(e.head + 1)/\(heads), \
            query at position \(e.position + 1)/\(e.tokenCount) \(quoted(e.position)), head size \(hs).

            Tokens: \((0..<e.tokenCount).map { "\($0 + 1) \(quoted($0))" }.joined(separator: "  "))

            1. Q, K, V. Each position's normalised stream is multiplied by W_q, W_k and W_v; this head reads \
            \(shared(kvHeads ?? heads, heads, e, hs)) (the first \(shown) shown). The query asks what to look for, a key says \
            what a position holds, a value is what it hands over.
              q \(label(e.position)) \(head(e.query))

            """
        for j in 0...e.position { out += "  k \(label(j)) \(head(e.keys[j]))\n" }
        for j in 0...e.position { out += "  v \(label(j)) \(head(e.values[j]))\n" }
        let masked = e.maskedPositions
        out += """

            2. Scores. score_j = q·k_j, the dot product of the query with each key: how well position j matches.
            3. Scale. scaled_j = score_j × 1/√\(hs) = score_j × \(NumberText.fixed(e.scale, 4)), so the spread of the scores \
            does not grow with the head size and the softmax stays soft.
            4. Mask. A decoder never looks ahead: \
            \(masked.isEmpty ? "the query is the last token, so no later position exists to remove." : "positions \(masked.lowerBound + 1)–\(masked.upperBound) come after the query; their scores become −∞ and their weights 0.")
            5. Softmax. weight_j = exp(scaled_j − max) / Σ exp(scaled − max): positive weights that sum to 1.

              \(header)

            """
        for j in 0...e.position {
            out += "  \(label(j)) \(f(e.scores[j], 10)) \(f(e.scaled[j], 9)) \(right(NumberText.fixed(e.weights[j], 4), 9))\n"
        }
        for j in masked { out += "  \(label(j)) \(right("masked", 10)) \(right("−∞", 9)) \(right("0.0000", 9))\n" }
        out += """

            6. Weighted sum. output = Σ_j weight_j · v_j: what this head passes on for position \(e.position + 1) \
            (the first \(shown) of \(hs)); the heads' outputs are then concatenated and projected back to the stream.
              out \(head(e.output))

            """
        return out
    }
}
