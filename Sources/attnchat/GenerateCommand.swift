import ArgumentParser
import Chat
import Foundation
import GPT
import Sampling
import Tokenizer

/// `attnchat generate`: continue a prompt, streaming only the generated text to stdout.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt and stream the continuation to stdout.",
        discussion: """
            stdout holds only the generated text (control characters made inert); diagnostics go to stderr. \
            With --chat the prompt is one user turn of the chat template and generation stops at the end of the reply.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Tokenizer directory (default: the model directory's files, else the embedded one).")
    var vocab: String?
    @Option(help: "The prompt text.")
    var prompt: String?
    @Option(name: .customLong("prompt-ids"), help: "The prompt as token ids, space- or comma-separated (instead of --prompt).")
    var promptIDs: String?
    @Option(name: .customLong("max-tokens"), help: "How many tokens to generate at most.")
    var maxTokens = 64
    @Flag(help: "Wrap the prompt in the chat template and stop at the end of the reply.")
    var chat = false
    @Flag(help: "Print token ids rather than text.")
    var ids = false
    @OptionGroup var sampling: SamplingOptions

    func validate() throws {
        guard (prompt == nil) != (promptIDs == nil) else { throw ValidationError("give exactly one of --prompt and --prompt-ids") }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0 (got \(maxTokens))") }
        guard !(chat && promptIDs != nil) else { throw ValidationError("--chat needs --prompt text") }
    }

    func run() throws {
        // generate samples plainly from the model unless flags say otherwise (chat has chat defaults).
        let settings = try sampling.settings(defaults: .neutral(seed: 0))
        let (model, _) = try modelOptions.load()
        // Token ids in and out need no tokenizer: that is how models without one are driven.
        let tokenizer: BPETokenizer? = (ids && promptIDs != nil) ? nil : try loadTokenizer(vocab: vocab, modelPath: modelOptions.isDefault ? nil : modelOptions.model)
        if let tokenizer, tokenizer.vocabularySize > model.config.vocabSize {
            throw ChatError.vocabularyMismatch(tokenizer: tokenizer.vocabularySize, model: model.config.vocabSize)
        }
        let output = StreamingOutput()
        if chat, let tokenizer, let prompt {
            let session = try ChatSession(model: model, tokenizer: tokenizer, settings: LiveSettings(settings), maxReplyTokens: maxTokens)
            try session.send(prompt, cancel: CancellationFlag()) { event in
                if case .token(let id, _, let text) = event { output.write(ids ? "\(id) " : TerminalSafe.inert(text)) }
            }
            output.write("\n")
            return
        }
        let promptTokens = try promptIDs.map { try parseTokenIDs($0, flag: "--prompt-ids") } ?? tokenizer!.encode(prompt ?? "")
        guard !promptTokens.isEmpty else { throw ValidationError("the prompt encodes to no tokens") }
        let state = GPTState(model: model)
        var sampler = try Sampler(settings: settings, validCount: tokenizer?.vocabularySize ?? model.config.vocabSize)
        var decoder = tokenizer.map(StreamingDecoder.init)
        var history = promptTokens
        var logits = try state.prefill(promptTokens)
        let budget = min(maxTokens, model.config.contextLength - promptTokens.count)
        for i in 0..<budget {
            let token = try sampler.sample(logits, history: history).id
            history.append(token)
            if ids {
                output.write((i == 0 ? "" : " ") + String(token))
            } else if decoder != nil {
                output.write(TerminalSafe.inert(try decoder!.push(token)))
            }
            if i + 1 < budget { logits = try state.decode(token) }
        }
        if let rest = decoder?.finish() { output.write(TerminalSafe.inert(rest)) }
        output.write("\n")
        if budget < maxTokens {
            FileHandle.standardError.write(Data("attnchat: context full after \(budget) tokens (the model attends over \(model.config.contextLength))\n".utf8))
        }
    }
}

/// Unbuffered writes to stdout, so text appears token by token even through a pipe. A closed
/// pipe ends the program quietly, as `head` users expect.
struct StreamingOutput {
    func write(_ text: String) {
        guard !text.isEmpty else { return }
        do {
            try FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
        } catch {
            exit(0)
        }
    }
}
