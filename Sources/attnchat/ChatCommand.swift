import ArgumentParser
import Chat
import FileIO
import FoundationEssentials
import Glibc
import GPT
import Sampling
import Synchronization
import Tokenizer
import TUI

/// `attnchat chat`: talk to a model. On a terminal this is the full-screen UI (`ChatUI`); with
/// --no-tui, and whenever stdin or stdout is not a terminal or TERM is unset or "dumb" (or has no
/// terminfo entry), it is the line mode: one line in, the streamed reply out, slash commands.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model in the terminal.",
        discussion: "Type a message and press Enter. /help lists the commands; Ctrl-C stops a reply, Ctrl-D quits.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Tokenizer directory (default: the model directory's files, else the embedded one).")
    var vocab: String?
    @OptionGroup var sampling: SamplingOptions
    @Option(name: .customLong("max-tokens"), help: "Longest reply, in tokens.")
    var maxTokens = 256
    @Flag(name: .customLong("no-tui"), help: "Line mode: plain lines in and out.")
    var noTUI = false
    @Option(help: "System prompt, rendered before the conversation as the model's chat template places it (/system changes it).")
    var system: String?
    @Option(help: "Keep the conversation in this new file: rewritten atomically after every reply and on every way out (quit, Ctrl-C, SIGTERM, SIGHUP). An existing file is never overwritten (exit 73); exit 74 if the last save failed.")
    var transcript: String?

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive (got \(maxTokens))") }
    }

    func run() throws {
        let (model, source) = try modelOptions.load()
        let settings = LiveSettings(try sampling.settings(defaults: ChatCommand.defaultSettings(for: source.huggingFace)))
        let session = try chatSession(
            model: model, source: source, modelOptions: modelOptions, vocab: vocab, settings: settings, maxTokens: maxTokens, system: system)
        let name = modelOptions.displayName(source)
        let file = try transcript.map { path throws(ChatError) in try TranscriptFile(path: path, modelName: name) }
        if !noTUI && ChatUI.canRun() {
            if let status = ChatUI(session: session, modelName: name, transcriptFile: file).run() {
                if status != 0 { Glibc.exit(status) }
                try file?.checkSaved()
                return
            }
            printError("attnchat: this terminal (TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "")) cannot run the full-screen UI; using the line mode")
        }
        try LineChat(session: session, modelName: name, transcriptFile: file).run()
        try file?.checkSaved()
    }

    /// Chat defaults: `SamplingSettings()` (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05,
    /// repeat penalty 1.1), seeded from the clock unless --seed is given; a Hugging Face model's
    /// `generation_config.json` replaces the settings it names (`do_sample: false` is greedy).
    /// Flags override both.
    static func defaultSettings(for info: HuggingFaceModelInfo? = nil) -> SamplingSettings {
        var s = SamplingSettings()
        s.seed = UInt64(Date().timeIntervalSince1970 * 1000)
        guard let info else { return s }
        if let t = info.temperature { s.temperature = t }
        if let p = info.topP { s.topP = p }
        if let k = info.topK { s.topK = k }
        if let r = info.repetitionPenalty { s.repeatPenalty = r }
        if info.doSample == false { s.temperature = 0 }
        // A value outside attnchat's ranges keeps attnchat's default rather than refusing the model.
        if (try? s.validate()) == nil { return defaultSettings(for: nil) }
        return s
    }
}

/// The chat of `chat` and `generate --chat`: the model's tokenizer and chat template (attnchat's
/// own, the directory's Jinja template, or turns joined by end-of-text), and the system prompt.
func chatSession(
    model: GPTModel, source: ModelSource, modelOptions: ModelOptions, vocab: String?, settings: LiveSettings, maxTokens: Int, system: String?
) throws -> ChatSession {
    let directory = modelOptions.isDefault ? nil : modelOptions.model
    let tokenizer = try loadTokenizer(vocab: vocab, modelPath: directory)
    let template = try ChatTemplate.forModel(directory: source.huggingFace == nil ? nil : directory, tokenizer: tokenizer, info: source.huggingFace)
    let session = try ChatSession(model: model, template: template, settings: settings, maxReplyTokens: maxTokens)
    session.systemPrompt = system
    return session
}

/// The line-mode loop. Generation runs on this thread; Ctrl-C arrives through a signal source
/// on another and only raises the cancellation flag (or exits, at the prompt).
struct LineChat {
    let session: ChatSession
    let modelName: String
    let transcriptFile: TranscriptFile?
    let interactive = isatty(STDIN_FILENO) == 1
    /// The stop signals, answered on a queue and, before each token and at each turn's end, on
    /// this thread too (`deliverPending`): a signal is never overtaken by a reply ending or by
    /// the exit after the last line.
    let signalsHolder = WatchHolder()
    private var signals: StopSignals.Watch? {
        get { signalsHolder.watch }
        nonmutating set { signalsHolder.watch = newValue }
    }

    /// Set once by `run`, read on its thread only.
    final class WatchHolder { var watch: StopSignals.Watch? }
    /// Raised by Ctrl-C, the other stop signals and a failed write to stdout: each stops the reply.
    private let cancel = CancellationFlag()
    /// The reply's text to stdout; a closed pipe or a full disk stops the reply (kept, marked
    /// interrupted, saved) and then ends the chat (exit 0 or 74, `Stdout`).
    private let output: StreamingOutput

    init(session: ChatSession, modelName: String, transcriptFile: TranscriptFile?) {
        self.session = session
        self.modelName = modelName
        self.transcriptFile = transcriptFile
        self.output = StreamingOutput(stop: cancel)
    }

    /// `/help`: the commands (one table with the full-screen UI's), then the keys of this mode.
    static let help = SlashCommand.helpText + "\nCtrl-C stops a reply; Ctrl-C at the prompt quits."

    func run() throws {
        let cancel = self.cancel  // the signal handlers capture the flag, not the whole chat
        let turn = TurnState()
        // Ctrl-C during a reply stops it (kept, marked interrupted); a second Ctrl-C, or SIGTERM
        // or SIGHUP, during a reply also stops it and quits once the transcript is saved. At the
        // prompt every reply is already saved, so they exit at once.
        StopSignals.catchSignals()
        let source = StopSignals.watch { sig in
            if sig == SIGINT && turn.isBusy && !cancel.isCancelled {
                cancel.cancel()
                return
            }
            turn.quitAfterTurn(signal: sig) {
                if sig == SIGINT { UncheckedOutput.standardError("\n") }
            }
            cancel.cancel()
        }
        signals = source
        defer { source.cancel() }
        if interactive {
            note("attnchat — \(modelName). /help for commands, Ctrl-D to quit.")
        }
        while true {
            if interactive { try write("> ") }
            guard let line = readLine(strippingNewline: true) else { break }
            let text = line.trimmedOfWhitespace()
            if text.isEmpty { continue }
            if SlashCommand.isCommand(text) {
                if !command(text, cancel: cancel, turn: turn) { break }
                try output.check()
                continue
            }
            runTurn(turn, cancel: cancel) {
                do {
                    try session.send(text, cancel: cancel, onEvent: show)
                } catch {
                    note("attnchat: \(error)")
                }
            }
            try output.check()
        }
        // The way out: one more save, in case the last one failed.
        runTurn(turn, cancel: cancel) {}
        StopSignals.exitOnArrival()
        if interactive { try write("\n") }
    }

    /// Runs `body` (a reply) and saves the transcript as one turn that signals cannot cut in
    /// two; exits afterwards if a signal asked to quit meanwhile.
    private func runTurn(_ turn: TurnState, cancel: CancellationFlag, _ body: () -> Void) {
        cancel.reset()
        turn.begin()
        body()
        saveTranscript()
        signals?.deliverPending()
        let sig = turn.end()
        if sig != 0 { exit(128 + sig) }
    }

    /// Runs a slash command; false means quit.
    private func command(_ text: String, cancel: CancellationFlag, turn: TurnState) -> Bool {
        let command: SlashCommand
        do {
            command = try SlashCommand.parse(text)
        } catch {
            note(error.description)
            return true
        }
        switch command {
        case .quit:
            return false
        case .help:
            note(Self.help)
        case .reset:
            transcriptFile?.archive(session.turns)
            session.reset()
            note("(conversation cleared)")
        case .settings:
            note(describe(session.settings.value))
        case .set(let name, let value):
            do {
                try session.settings.update { try $0.set(name: name, value: value) }
                note("(\(name) = \(value))")
            } catch {
                note("attnchat: \(error)")
            }
        case .save(let path, let replace):
            note(Transcript.saveCommand(session.turns, modelName: modelName, to: path, replace: replace))
        case .system(let text):
            session.systemPrompt = text
            note(text == nil ? "(system prompt removed)" : "(system prompt set)")
        case .regen:
            runTurn(turn, cancel: cancel) {
                do {
                    if try session.regenerate(cancel: cancel, onEvent: show) == nil { note("(no reply to regenerate)") }
                } catch {
                    note("attnchat: \(error)")
                }
            }
        }
        return true
    }

    private func show(_ event: ChatEvent) {
        switch event {
        case .token(_, _, let text):
            output.write(TerminalSafe.inert(text))
            signals?.deliverPending()  // a signal stops the reply at the next token, not later
        case .contextTrimmed(let dropped):
            note("(dropped the oldest \(dropped) turn\(dropped == 1 ? "" : "s") to fit the context)")
        case .finished(let reason, _):
            output.write(reason == .interrupted ? " [interrupted]\n" : "\n")
            if reason == .contextFull { note("(context full: the reply was cut; older turns will be dropped)") }
        case .promptProcessed, .attention, .timing:
            break
        }
    }

    private func saveTranscript() {
        if let reason = transcriptFile?.save(session.turns) { note("attnchat: \(reason)") }
    }

    private func describe(_ s: SamplingSettings) -> String {
        "temperature \(s.temperature), top-k \(s.topK), top-p \(s.topP), min-p \(s.minP), typical-p \(s.typicalP), "
            + "repeat-penalty \(s.repeatPenalty) over \(s.repeatLastN), frequency-penalty \(s.frequencyPenalty), "
            + "presence-penalty \(s.presencePenalty), seed \(s.seed)"
    }

    private func write(_ text: String) throws(StdoutError) {
        try Stdout.write(text)
    }

    /// Notices go to stderr so that stdout holds only the conversation. They quote what was
    /// typed (`/set` values, `/save` paths) and errors: inert, with the help's lines kept (a
    /// typed line holds no newline).
    private func note(_ text: String) {
        UncheckedOutput.standardError(TerminalSafe.inert(text) + "\n")
    }
}

/// What the signal handlers need to know about the line-mode loop, under one lock: whether a
/// turn (a reply and its transcript save) is running, and which signal asked to quit during it.
final class TurnState: Sendable {
    private let state = Mutex<(busy: Bool, quit: Int32)>((false, 0))

    var isBusy: Bool { state.withLock { $0.busy } }
    func begin() { state.withLock { $0.busy = true } }
    /// Ends the turn; returns the signal that asked to quit during it, or 0.
    func end() -> Int32 { state.withLock { $0.busy = false; return $0.quit } }

    /// From a signal handler: during a turn, records `sig` for `end` to return; between turns,
    /// runs `beforeExit` and exits with 128 + sig, holding the lock so no turn can start.
    func quitAfterTurn(signal sig: Int32, beforeExit: () -> Void) {
        state.withLock { s in
            if s.busy {
                s.quit = sig
            } else {
                beforeExit()
                exit(128 + sig)
            }
        }
    }
}
