import ArgumentParser
import Chat
import FoundationEssentials
import GPT
import JSON
import Seq2Seq
import Tokenizer
import Training

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
    @Option(help: "Encoder–decoder models: encoder (the source's self-attention), decoder (the target's, causal) or cross (a target token over the source; the default).")
    var attention: String?
    @Option(help: "Encoder–decoder models: the target sentence the decoder reads (default: the model's own greedy translation of --prompt).")
    var target: String?

    func validate() throws {
        guard layer >= 1 else { throw ValidationError("--layer counts from 1 (got \(layer))") }
        guard head >= 1 else { throw ValidationError("--head counts from 1 (got \(head))") }
        if let position { guard position >= 1 else { throw ValidationError("--position counts from 1 (got \(position))") } }
        guard dims >= 1 else { throw ValidationError("--dims must be >= 1 (got \(dims))") }
        if let attention, Seq2SeqAttention(rawValue: attention) == nil {
            throw ValidationError("--attention must be encoder, decoder or cross (got \(attention))")
        }
    }

    func run() throws {
        if TranslationModel.isTranslationModel(path: modelOptions.model) { return try runTranslation() }
        if attention != nil || target != nil {
            throw UsageError(description: "--attention and --target take apart an encoder–decoder (e.g. --model \(TranslationModel.embeddedName)); \(modelOptions.model) is a GPT")
        }
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
    /// - Parameters:
    ///   - pieces: the tokens the keys come from.
    ///   - queryPieces: the tokens the queries come from, when they differ (cross-attention: the target's).
    ///   - kind: nil for a GPT's self-attention, else which of an encoder–decoder's attentions.
    static func text(
        _ e: AttentionExplanation, pieces: [String], queryPieces: [String]? = nil, kind: Seq2SeqAttention? = nil, model: String, layers: Int,
        heads: Int, kvHeads: Int? = nil, dims: Int
    ) -> String {
        let hs = e.query.count
        let shown = min(dims, hs)
        let more = shown < hs ? " …" : ""
        func quoted(_ i: Int, _ from: [String]? = nil) -> String { "\"" + (from ?? pieces)[i].replacing("\n", with: "↵") + "\"" }
        func f(_ x: Float, _ width: Int = 8, _ digits: Int = 4) -> String {
            NumberText.right(NumberText.fixed(x, digits, plus: true), width)
        }
        func head(_ v: [Float]) -> String { v.prefix(shown).map { f($0) }.joined(separator: " ") + more }
        let queries = queryPieces ?? pieces
        let labelWidth = min(24, (pieces.indices.map { quoted($0).count } + queries.indices.map { quoted($0, queries).count }).max() ?? 0)
        func label(_ i: Int, _ from: [String]? = nil) -> String {
            let q = quoted(i, from)
            let cut = q.count > labelWidth ? String(q.prefix(labelWidth - 1)) + "…" : q
            return NumberText.right(String(i + 1), 4) + " " + NumberText.left(cut, labelWidth)
        }
        let visible = 0..<e.keys.count
        let right = NumberText.right
        let header = NumberText.left("pos", 5 + labelWidth) + " " + right("score", 10) + " "
            + right("scaled", 9) + " " + right("weight", 9)
        let title: String, tokensLine: String, step1: String, step4: String
        let masked = e.maskedPositions
        let causal = "A decoder never looks ahead: " + (masked.isEmpty
            ? "the query is the last token, so no later position exists to remove."
            : "positions \(masked.lowerBound + 1)–\(masked.upperBound) come after the query; their scores become −∞ and their weights 0.")
        let projections = """
            Each position's normalised stream is multiplied by W_q, W_k and W_v; this head reads \
            \(shared(kvHeads ?? heads, heads, e, hs)) (the first \(shown) shown). The query asks what to look for, a key says \
            what a position holds, a value is what it hands over.
            """
        func line(_ from: [String]) -> String { from.indices.map { "\($0 + 1) \(quoted($0, from))" }.joined(separator: "  ") }
        switch kind {
        case nil, .decoder?:
            title = kind == nil ? "Self-attention" : "Decoder self-attention"
            tokensLine = "Tokens: \(line(pieces))"
            step1 = projections
            step4 = causal
        case .encoder?:
            title = "Encoder self-attention"
            tokensLine = "Source tokens: \(line(pieces))"
            step1 = projections
            step4 = "The encoder reads the whole sentence in both directions: no position is masked (in a batch, a shorter sentence's padding would be)."
        case .cross?:
            title = "Cross-attention"
            tokensLine = "Source tokens (keys, values): \(line(pieces))\nTarget tokens (queries): \(line(queries))"
            step1 = """
                The query is the decoder's normalised stream at target position \(e.position + 1) times W_q; the keys and \
                values are the encoder's output (the memory) times W_kv, computed once per sentence for every source token. \
                This head reads its own \(hs) columns of each (the first \(shown) shown): the target token asks which source \
                tokens to read.
                """
            step4 = "A target token may read every source token: nothing is masked (in a batch, a shorter sentence's padding would be)."
        }
        var out = """
            \(title) step by step: model \(model), layer \(e.layer + 1)/\(layers), head \(e.head + 1)/\(heads), \
            query at position \(e.position + 1)/\(queries.count) \(quoted(e.position, queries)), head size \(hs).

            \(tokensLine)

            1. Q, K, V. \(step1)
              q \(label(e.position, queries)) \(head(e.query))

            """
        for j in visible { out += "  k \(label(j)) \(head(e.keys[j]))\n" }
        for j in visible { out += "  v \(label(j)) \(head(e.values[j]))\n" }
        out += """

            2. Scores. score_j = q·k_j, the dot product of the query with each key: how well position j matches.
            3. Scale. scaled_j = score_j × 1/√\(hs) = score_j × \(NumberText.fixed(e.scale, 4)), so the spread of the scores \
            does not grow with the head size and the softmax stays soft.
            4. Mask. \(step4)
            5. Softmax. weight_j = exp(scaled_j − max) / Σ exp(scaled − max): positive weights that sum to 1.

              \(header)

            """
        for j in visible {
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

    /// `explain` of an encoder–decoder: one of its three attentions for one sentence pair.
    private func runTranslation() throws {
        let loaded = try TranslationModel(path: modelOptions.model, vocab: vocab)
        let (model, tokenizer) = (loaded.model, loaded.tokenizer)
        let c = model.config
        let kind = attention.flatMap(Seq2SeqAttention.init(rawValue:)) ?? .cross
        let source = tokenizer.encode(prompt).map(Int32.init)
        guard !source.isEmpty else { throw UsageError(description: "--prompt is empty: there is no sentence to explain") }
        guard source.count <= c.contextLength else {
            throw UsageError(description: "--prompt has \(source.count) tokens; the encoder reads at most \(c.contextLength)")
        }
        let targetIDs: [Int32]
        if let target {
            targetIDs = tokenizer.encode(target).map(Int32.init)
        } else {
            targetIDs = try TranslationEvaluation.greedy(model: model, sources: [source])[0]
        }
        // The decoder reads BOS + the target: one more position than the target has tokens.
        guard targetIDs.count + 1 <= c.contextLength else {
            throw UsageError(description: "--target has \(targetIDs.count) tokens; the decoder reads at most \(c.contextLength - 1) after its start token")
        }
        let layers = kind == .encoder ? c.encoderLayers : c.decoderLayers
        guard layer <= layers else {
            throw UsageError(description: "--layer \(layer) is out of range: the \(kind == .encoder ? "encoder" : "decoder") has \(layers) layers (1–\(layers))")
        }
        guard head <= c.heads else { throw UsageError(description: "--head \(head) is out of range: the model has \(c.heads) heads (1–\(c.heads))") }
        func piece(_ id: Int32) -> String { TerminalSafe.inert(String(decoding: (try? tokenizer.bytes(of: Int(id))) ?? [], as: UTF8.self)) }
        let sourcePieces = source.map(piece)
        let decoderPieces = [piece(c.beginID)] + targetIDs.map(piece)
        let queryPieces = kind == .encoder ? sourcePieces : decoderPieces
        let keyPieces = kind == .decoder ? decoderPieces : sourcePieces
        let position = self.position ?? queryPieces.count
        guard position <= queryPieces.count else {
            let what = kind == .encoder ? "the source has" : "the decoder reads"
            throw UsageError(description: "--position \(position) is out of range: \(what) \(queryPieces.count) tokens (1–\(queryPieces.count))")
        }
        let explanation = try model.explainAttention(
            source: source, target: targetIDs, attention: kind, layer: layer - 1, head: head - 1, position: position - 1)
        if json {
            guard case .object(var object) = Self.json(explanation, pieces: keyPieces) else { preconditionFailure("an object") }
            object["attention"] = .string(kind.rawValue)
            object["queries"] = .array(queryPieces.map(JSONValue.string))
            try Stdout.write(JSONValue.object(object).serialized() + "\n")
        } else {
            let translation = try tokenizer.decode(targetIDs.map(Int.init))
            try Stdout.write("Source: \(TerminalSafe.oneLine(prompt))\nTarget: \(TerminalSafe.oneLine(translation))\(target == nil ? " (the model's greedy translation)" : "")\n\n")
            try Stdout.write(Self.text(
                explanation, pieces: keyPieces, queryPieces: queryPieces, kind: kind, model: TerminalSafe.oneLine(modelOptions.model), layers: layers,
                heads: c.heads, dims: dims))
        }
    }
}
