import Chat
import FileIO
import FoundationEssentials
import Glibc
import GPT
import Sampling

/// The full-screen chat: transcript, input line, status bar, help line and the attention pane.
///
/// `ScreenLoop` runs it on the caller's thread, which owns curses: keys, the generation events,
/// redraws at most every frame. The model runs on `GenerationWorker`'s queue.
public final class ChatUI: ScreenClient {
    /// When stdin and stdout are terminals and TERM names a real one: the condition for the
    /// full-screen UI (otherwise the line mode runs).
    public static func canRun(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return false }
        guard let term = environment["TERM"], !term.isEmpty, term != "dumb" else { return false }
        return true
    }

    /// Why the UI ended: the process's exit status (0, 130 after Ctrl-C, 128+signal).
    public enum Outcome: Sendable { case quit(Int32) }

    private let worker: GenerationWorker
    private var curses: Curses!
    private var transcript: TranscriptView
    private var input = InputLine()
    private var history = InputHistory()
    private var scrolledBack = 0
    private let loop = ScreenLoop()
    // Status
    private var tokensPerSecond: Double?
    private var contextUsed = 0
    private var streaming = false
    // Attention pane
    private var showPane = true
    /// Layer, head, grid, scrubbed token (`PaneSelection`'s keys).
    private var selection: PaneSelection
    /// The explain view: the selected head's attention step by step for the shown token.
    private var explainView = false
    /// Computes the explain view off this thread, with a state of its own (the conversation's
    /// state belongs to the generation thread); made on first use.
    private lazy var explainer = ExplainWorker(model: model)
    private let model: GPTModel
    private var pieceCache: [Int: String] = [:]
    /// The display pieces of the context the pane showed last, kept while the context only grows.
    private var contextIDs: [Int] = []
    private var contextPieces: [String] = []
    private let layers: Int, heads: Int, kvHeads: Int

    /// - Parameter transcriptFile: `--transcript`: kept up to date after every reply and saved
    ///   once more on every way out.
    public init(session: ChatSession, modelName: String, transcriptFile: TranscriptFile? = nil) {
        worker = GenerationWorker(session: session, modelName: modelName, transcriptFile: transcriptFile)
        transcript = TranscriptView(ascii: false)
        layers = session.model.config.layers
        heads = session.model.config.heads
        kvHeads = session.model.config.kvHeads
        selection = PaneSelection(layers: layers, heads: heads)
        model = session.model
    }

    /// Runs until the user quits; nil when curses cannot start on this terminal (the caller
    /// falls back to the line mode). The terminal is restored on every way out.
    ///
    /// Signals: SIGINT, SIGTERM and SIGHUP end the UI within a frame (100 ms), whatever it is
    /// doing — between two keys of a paste too — with the reply kept and marked interrupted, the
    /// transcript saved, the terminal restored and 128 + the signal. SIGTSTP (and Ctrl-Z)
    /// suspends it with the terminal restored; `fg` brings it back as it was.
    public func run() -> Int32? { loop.run(self) }

    var isStreaming: Bool { streaming }

    func start(_ curses: Curses) {
        self.curses = curses
        transcript = TranscriptView(ascii: curses.ascii)
        transcript.add(.notice, "attnchat — \(worker.modelName). Type a message and press Enter; /help or F1 lists the keys.")
    }

    func stop() {
        if let reason = worker.finish() {
            UncheckedOutput.standardError("attnchat: \(reason)\n")
        }
    }

    func paste(_ text: String) { input.insert(text) }

    // MARK: Events from the generation queue

    func pump() -> Bool {
        var dirty = explainView && explainer.hasNews
        // Read before draining: the worker pushes its last event before it clears the flag.
        let busy = worker.isBusy
        for event in worker.events.drain() {
            dirty = true
            switch event {
            case .token(_, let info, let text):
                transcript.appendToken(text, probability: info.probability)
            case .attention:
                break  // the pane reads the reply record
            case .timing(let t):
                tokensPerSecond = t.tokensPerSecond > 0 ? t.tokensPerSecond : tokensPerSecond
                contextUsed = t.contextUsed
            case .promptProcessed(let tokens, _, _):
                contextUsed = tokens
            case .contextTrimmed(let dropped):
                transcript.addNoticeBeforeReply("(the oldest \(dropped) turn\(dropped == 1 ? "" : "s") left the context window)")
            case .finished(let reason, _):
                if reason == .interrupted { transcript.markLastInterrupted() }
                transcript.finishReply()
                if reason == .contextFull { transcript.add(.notice, "(context full: the reply was cut; older turns will leave the window)") }
                streaming = false
            }
        }
        for note in worker.takeNotes() {
            dirty = true
            switch note {
            case .notice(let text): transcript.add(.notice, text)
            case .sendFailed(let text):
                transcript.removeLastReply()
                transcript.add(.notice, text)
                streaming = false
            case .nothingToRegenerate:
                transcript.removeLastReply()
                transcript.add(.notice, "(no reply to regenerate)")
                streaming = false
            }
        }
        if streaming && !busy {
            streaming = false
            dirty = true
        }
        return dirty
    }


    // MARK: Keys

    /// Handles one key; an exit status ends the UI.
    func handle(_ key: Curses.Key) -> Int32? {
        switch key {
        case .character(let c): input.insert(String(c))
        case .enter: return submit()
        case .backspace: input.backspace()
        case .delete: input.deleteForward()
        case .left: input.left()
        case .right: input.right()
        case .home, .control(1): input.home()
        case .end, .control(5): input.end()
        case .up: if let t = history.up(current: input.text) { input.set(t) }
        case .down: if let t = history.down() { input.set(t) }
        case .pageUp: scrolledBack += max(1, pageRows - 1)
        case .pageDown: scrolledBack = max(0, scrolledBack - max(1, pageRows - 1))
        case .control(3): // Ctrl-C
            if streaming {
                if worker.cancel.isCancelled { return 130 }
                worker.cancel.cancel()
            } else if !input.isEmpty {
                input.set("")
            } else {
                return 130
            }
        case .control(4): // Ctrl-D
            if input.isEmpty { return 0 }
            input.deleteForward()
        case .control(11): input.killToEnd()
        case .control(21): input.set("")
        case .control(23): input.deleteWordBack()
        case .control(9): input.insert(" ")
        case .function(let n): functionKey(n)
        case .alt(let c): altKey(c)
        default: break
        }
        return nil
    }

    private var pageRows: Int {
        let (w, h) = curses.size
        return ScreenLayout(width: w, height: h, showPane: showPane).transcript.height
    }

    private func functionKey(_ n: Int) {
        switch n {
        case 1: showHelp()
        case 2: adjust("temperature") { $0.temperature = max(0, ($0.temperature - 0.1)).rounded2 }
        case 3: adjust("temperature") { $0.temperature = ($0.temperature + 0.1).rounded2 }
        case 4: adjust("top-k") { $0.topK = max(0, $0.topK - 5) }
        case 5: adjust("top-k") { $0.topK += 5 }
        case 6: adjust("top-p") { $0.topP = max(0, $0.topP - 0.05).rounded2 }
        case 7: adjust("top-p") { $0.topP = min(1, $0.topP + 0.05).rounded2 }
        case 8: adjust("min-p") { $0.minP = max(0, $0.minP - 0.01).rounded2 }
        case 9: adjust("min-p") { $0.minP = min(1, $0.minP + 0.01).rounded2 }
        case 10: adjust("repeat-penalty") { $0.repeatPenalty = max(0.05, $0.repeatPenalty - 0.05).rounded2 }
        case 11: adjust("repeat-penalty") { $0.repeatPenalty = ($0.repeatPenalty + 0.05).rounded2 }
        case 12: showPane.toggle()
        default: break
        }
    }

    private func adjust(_ name: String, _ change: (inout SamplingSettings) -> Void) {
        do { try worker.live.update { change(&$0) } } catch { transcript.add(.notice, "\(error)") }
    }

    private func altKey(_ c: Character) {
        if selection.apply(alt: c, tokens: worker.record.count) {
            if c == "g" && selection.grid { explainView = false }
            return
        }
        switch c {
        case "f": adjust("frequency-penalty") { $0.frequencyPenalty = max(0, $0.frequencyPenalty - 0.1).rounded2 }
        case "F": adjust("frequency-penalty") { $0.frequencyPenalty = ($0.frequencyPenalty + 0.1).rounded2 }
        case "p": adjust("presence-penalty") { $0.presencePenalty = max(0, $0.presencePenalty - 0.1).rounded2 }
        case "P": adjust("presence-penalty") { $0.presencePenalty = ($0.presencePenalty + 0.1).rounded2 }
        case "e":
            explainView.toggle()
            if explainView { selection.grid = false }
        case "c": transcript.colourByProbability.toggle()
        case "a": showAlternatives()
        default: break
        }
    }

    private func showHelp() {
        transcript.add(.notice, StatusText.helpText)
        scrolledBack = 0
    }

    private func showAlternatives() {
        let info = worker.record.view(at: selection.scrub)?.info ?? worker.record.lastInfo
        guard let info else {
            transcript.add(.notice, "(no token yet)")
            return
        }
        let alts = info.top.map { "\(AttentionPane.quoted(piece($0.id), ascii: curses.ascii)) \(StatusText.f3($0.probability))" }
        transcript.add(.notice, "token \(AttentionPane.quoted(piece(info.id), ascii: curses.ascii)) p \(StatusText.f3(info.probability)), "
            + "entropy \(StatusText.f2(info.entropy)) nats; top: " + alts.joined(separator: ", "))
        scrolledBack = 0
    }

    // MARK: Submitting and commands

    private func submit() -> Int32? {
        let text = input.text
        let trimmed = text.trimmedOfWhitespace()
        guard !trimmed.isEmpty else { return nil }
        if SlashCommand.isCommand(trimmed) && !trimmed.contains("\n") {
            history.add(trimmed)
            input.set("")
            return command(trimmed)
        }
        guard !streaming else {
            transcript.add(.notice, "(a reply is streaming: wait, or Ctrl-C to stop it)")
            return nil
        }
        history.add(text)
        input.set("")
        transcript.add(.user, text)
        startReply { $0.send(text) }
        return nil
    }

    private func startReply(_ go: (GenerationWorker) -> Void) {
        transcript.add(.bot, "")
        streaming = true
        scrolledBack = 0
        selection.scrub = nil
        tokensPerSecond = nil
        go(worker)
    }

    private func command(_ line: String) -> Int32? {
        let busy = "(a reply is streaming: wait, or Ctrl-C to stop it)"
        scrolledBack = 0
        let command: SlashCommand
        do {
            command = try SlashCommand.parse(line)
        } catch {
            transcript.add(.notice, error.description)
            return nil
        }
        switch command {
        case .quit:
            return 0
        case .help:
            showHelp()
        case .set(let name, let value):
            do {
                try worker.live.update { try $0.set(name: name, value: value) }
            } catch {
                transcript.add(.notice, "\(error)")
            }
        case .settings:
            transcript.add(.notice, StatusText.settings(worker.live.value) + " seed \(worker.live.value.seed)")
        case .reset:
            guard !streaming else { transcript.add(.notice, busy); break }
            worker.reset()
            transcript.removeAll()
            contextUsed = 0
            transcript.add(.notice, "(conversation cleared)")
        case .regen:
            guard !streaming else { transcript.add(.notice, busy); break }
            guard transcript.hasReply else {
                transcript.add(.notice, "(no reply to regenerate)")
                break
            }
            transcript.removeLastReply()
            startReply { $0.regenerate() }
        case .save(let path, let replace):
            worker.save(to: path, replace: replace)
        case .system(let text):
            worker.setSystemPrompt(text)
            transcript.add(.notice, text == nil ? "(system prompt removed)" : "(system prompt set)")
        }
        return nil
    }

    // MARK: Drawing

    private func piece(_ id: Int) -> String {
        if let p = pieceCache[id] { return p }
        let bytes = (try? worker.tokenizer.bytes(of: id)) ?? []
        let p = TerminalSafe.inert(String(decoding: bytes, as: UTF8.self))
        pieceCache[id] = p
        return p
    }

    /// Pieces of `ids`, extending the last result when `ids` continues it (a streaming reply).
    private func pieces(of ids: ArraySlice<Int>) -> [String] {
        if ids.count >= contextIDs.count && ids.starts(with: contextIDs) {
            for id in ids.dropFirst(contextIDs.count) {
                contextIDs.append(id)
                contextPieces.append(piece(id))
            }
            return contextPieces
        }
        contextIDs = Array(ids)
        contextPieces = ids.map(piece)
        return contextPieces
    }

    func draw() {
        let (w, h) = curses.size
        let layout = ScreenLayout(width: w, height: h, showPane: showPane)
        curses.erase()
        if layout.tooSmall {
            let notice = layout.tooSmallNotice
            for (i, line) in notice.enumerated() {
                curses.draw([Segment(line, .notice)], row: max(0, (h - notice.count) / 2) + i, col: 0, width: w)
            }
            curses.placeCursor(row: 0, col: 0, visible: false)
            curses.refresh()
            return
        }
        // Transcript
        let t = layout.transcript
        let window = transcript.window(width: t.width, count: t.height, scrolledBack: scrolledBack)
        scrolledBack = window.scrolledBack
        for (i, row) in window.rows.enumerated() {
            curses.draw(row, row: t.row + t.height - window.rows.count + i, col: t.col, width: t.width)
        }
        // Attention pane
        if let p = layout.pane { drawPane(p) }
        // Status, input, help
        let info = StatusInfo(modelName: worker.modelName, settings: worker.live.value, tokensPerSecond: tokensPerSecond,
                              contextUsed: contextUsed, contextLength: worker.contextLength, streaming: streaming, scrolledBack: scrolledBack)
        let statusText = StatusText.statusLine(info, width: w)
        curses.fill(row: layout.status.row, col: 0, width: w, style: .status)
        curses.draw([Segment(curses.ascii ? asciiStatus(statusText) : statusText, .status)], row: layout.status.row, col: 0, width: w)
        let view = input.view(width: w, prompt: loop.pasting ? "paste> " : "> ", ascii: curses.ascii)
        curses.draw([Segment(view.text, .plain)], row: layout.input.row, col: 0, width: w)
        curses.draw([Segment(StatusText.helpLine(width: w), .help)], row: layout.help.row, col: 0, width: w)
        curses.placeCursor(row: layout.input.row, col: min(w - 1, view.cursorColumn), visible: true)
        curses.refresh()
    }

    private func asciiStatus(_ s: String) -> String {
        s.replacing("│", with: "|").replacing("▶", with: ">").replacing("■", with: "-").replacing("↑", with: "^")
    }

    private func drawPane(_ rect: Rect) {
        if explainView { return drawExplanation(rect) }
        let count = worker.record.count
        let view = worker.record.view(at: selection.scrub)
        let shown = view.map { pieces(of: $0.context) } ?? []
        let model = AttentionPane.Model(
            snapshot: view?.snapshot, pieces: shown, layer: selection.layer, head: selection.head, grid: selection.grid,
            scrub: selection.scrubPosition(tokens: count), probability: view?.info?.probability)
        let (title, rows) = AttentionPane.render(model, width: rect.width - 2, height: rect.height - 2, ascii: curses.ascii)
        curses.box(rect, title: title)
        for (i, row) in rows.enumerated() {
            curses.draw(row, row: rect.row + 1 + i, col: rect.col + 1, width: rect.width - 2)
        }
    }
}

extension ChatUI {
    /// The explain view of the shown token: computed by `ExplainWorker` with the model's ordinary
    /// forward over the whole context (so the mask visibly removes a scrubbed token's later
    /// tokens), one prefill per shown token (stepping the layer or head reads that prefill's
    /// cache). Not started while a reply streams: it would compete with the reply for the cores.
    private func drawExplanation(_ rect: Rect) {
        let count = worker.record.count
        let scrub = selection.scrubPosition(tokens: count)
        var pending = "(waiting for a reply)"
        var shown: [String] = []
        var explanation: AttentionExplanation?
        if let view = worker.record.view(at: selection.scrub) {
            let context = worker.record.context
            shown = pieces(of: context[...])
            let position = view.snapshot.length - 1
            switch explainer.outcome(for: .init(context: context, layer: selection.layer, head: selection.head, position: position), start: !streaming) {
            case .done(let e): explanation = e
            case .failed(let reason): pending = "(cannot explain: \(reason))"
            case nil: pending = streaming ? "(explain shows the token when the reply ends)" : "(computing…)"
            }
        }
        let (title, rows) = ExplainPane.render(
            explanation, pending: pending, pieces: shown, layers: layers, heads: heads, kvHeads: kvHeads,
            scrub: scrub,
            width: rect.width - 2, height: rect.height - 2, ascii: curses.ascii)
        curses.box(rect, title: title)
        for (i, row) in rows.enumerated() {
            curses.draw(row, row: rect.row + 1 + i, col: rect.col + 1, width: rect.width - 2)
        }
    }
}

extension Double {
    /// Rounded to two decimals, so that repeated +0.1 steps read 0.9, not 0.9000000000000001.
    var rounded2: Double { (self * 100).rounded() / 100 }
}
