import ArgumentParser
import Chat
import FileIO
import Dispatch
import FoundationEssentials
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
    @Option(help: "With --chat: the system prompt.")
    var system: String?
    @Flag(help: "Print token ids rather than text.")
    var ids = false
    @Flag(help: "Print the prompt time and the generation speed to stderr at the end (the speed counts from the first generated token, as the chat UI's status bar does).")
    var timings = false
    @OptionGroup var sampling: SamplingOptions

    func validate() throws {
        guard (prompt == nil) != (promptIDs == nil) else { throw ValidationError("give exactly one of --prompt and --prompt-ids") }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0 (got \(maxTokens))") }
        guard !(chat && promptIDs != nil) else { throw ValidationError("--chat needs --prompt text") }
        guard chat || system == nil else { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        // generate samples plainly from the model unless flags say otherwise (chat has chat defaults).
        let settings = try sampling.settings(defaults: .neutral(seed: 0))
        let (model, source) = try modelOptions.load()
        // Token ids in and out need no tokenizer: that is how models without one are driven.
        let tokenizer: BPETokenizer? = (ids && promptIDs != nil) ? nil : try loadTokenizer(vocab: vocab, modelPath: modelOptions.isDefault ? nil : modelOptions.model)
        if let tokenizer { try checkVocabulary(tokenizer, fits: model) }
        // Both modes run the chat's token loop (`TokenGenerator`); one handler prints what it reports.
        // A failed write (a closed pipe, a full disk) stops the loop through `stop`.
        let stop = CancellationFlag()
        let output = StreamingOutput(stop: stop)
        var printed = 0
        var promptTokens = 0, promptSeconds = 0.0
        var last: ReplyTiming?
        func show(_ event: ChatEvent) {
            switch event {
            case .token(let id, _, let text):
                output.write(ids ? (printed == 0 ? "" : " ") + String(id) : TerminalSafe.inert(text))
                printed += 1
            case .promptProcessed(let tokens, _, let seconds): (promptTokens, promptSeconds) = (tokens, seconds)
            case .timing(let t): last = t
            default: break
            }
        }
        func finish() throws(StdoutError) {
            output.write("\n")
            try output.check()
            if timings { reportTimings(promptTokens: promptTokens, promptSeconds: promptSeconds, generated: last?.generatedTokens ?? 0, tokensPerSecond: last?.tokensPerSecond ?? 0) }
        }
        if chat, tokenizer != nil, let prompt {
            let session = try chatSession(
                model: model, source: source, modelOptions: modelOptions, vocab: vocab, settings: LiveSettings(settings), maxTokens: maxTokens,
                system: system)
            try session.send(prompt, cancel: stop, onEvent: show)
            try finish()
            return
        }
        // A Llama-family tokenizer puts its BOS before a text (its post-processor); the model
        // was trained to see it. Suffixes (an EOS after the text) would end the text instead.
        let prompt = try promptIDs.map { try parseTokenIDs($0, flag: "--prompt-ids") } ?? (tokenizer!.prefixIDs + tokenizer!.encode(prompt ?? ""))
        guard !prompt.isEmpty else { throw ValidationError("the prompt encodes to no tokens") }
        guard prompt.count <= model.config.contextLength else {
            throw UsageError(description: "the prompt is \(prompt.count) tokens; the model attends over at most \(model.config.contextLength)")
        }
        let generator = try TokenGenerator(model: model, tokenizer: tokenizer, settings: LiveSettings(settings))
        let start = DispatchTime.now().uptimeNanoseconds
        try generator.prefill(prompt)
        (promptTokens, promptSeconds) = (prompt.count, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        let outcome = generator.generate(maxTokens: maxTokens, attention: false, cancel: stop, startedAt: start, onEvent: show)
        try output.check()
        if let failure = outcome.failure { throw failure }
        if !ids { output.write(TerminalSafe.inert(outcome.tail)) }
        try finish()
        if outcome.reason == .contextFull {
            UncheckedOutput.standardError("attnchat: context full after \(outcome.tokens) tokens (the model attends over \(model.config.contextLength))\n")
        }
    }
}

/// Token-by-token writes to stdout (`Stdout`, unbuffered, so text appears as it is generated
/// even through a pipe) from a handler that cannot throw: the first failure raises `stop`, which
/// ends the token loop, and `check` then throws it (a closed pipe exits 0, a full disk 74).
final class StreamingOutput {
    let stop: CancellationFlag
    private(set) var failure: StdoutError?

    init(stop: CancellationFlag) { self.stop = stop }

    func write(_ text: String) {
        guard !text.isEmpty, failure == nil else { return }
        do throws(StdoutError) {
            try Stdout.write(text)
        } catch {
            failure = error
            stop.cancel()
        }
    }

    func check() throws(StdoutError) {
        if let failure { throw failure }
    }
}

/// `--timings`: one line on stderr, e.g. `prompt 12 tokens in 3.1 ms; 500 tokens at 1234.5 tok/s`.
private func reportTimings(promptTokens: Int, promptSeconds: Double, generated: Int, tokensPerSecond: Double) {
    let line = "prompt \(promptTokens) tokens in \(NumberText.fixed(promptSeconds * 1000, 1)) ms; \(generated) tokens at \(NumberText.fixed(tokensPerSecond, 1)) tok/s\n"
    UncheckedOutput.standardError(line)
}
