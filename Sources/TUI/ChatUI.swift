import Chat
import Dispatch
import FileIO
import FoundationEssentials
import Glibc
import GPT
import Sampling

/// The full-screen chat: transcript, input line, status bar, help line and the attention pane.
///
/// One thread (the caller's) owns curses: it waits for a key (at most 20 ms when idle, one
/// frame while a reply streams), drains the generation events, and redraws at most every
/// `frameInterval` — ncurses then sends only the cells that changed. A key is handled and drawn
/// at once. The model runs on `GenerationWorker`'s queue.
public final class ChatUI {
    /// When stdin and stdout are terminals and TERM names a real one: the condition for the
    /// full-screen UI (otherwise the line mode runs).
    public static func canRun(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return false }
        guard let term = environment["TERM"], !term.isEmpty, term != "dumb" else { return false }
        return true
    }

    /// Why the UI ended: the process's exit status (0, 130 after Ctrl-C, 128+signal).
    public enum Outcome: Sendable { case quit(Int32) }

    /// Redraws for streamed tokens come at most this often (ns). 10 a second reads as smooth
    /// streaming; every wake-up of this thread can preempt the model's threads on a small
    /// machine, so while a reply streams the thread sleeps a whole frame unless a key arrives.
    static let frameInterval: UInt64 = 100_000_000

    private let worker: GenerationWorker
    private var curses: Curses!
    private var transcript: TranscriptView
    private var input = InputLine()
    private var history = InputHistory()
    private var scrolledBack = 0
    private var pasting = false
    private var lastKeyAt: UInt64 = 0
    private var dirty = true
    private var lastDraw: UInt64 = 0
    private var lastHangupCheck: UInt64 = 0
    // Status
    private var tokensPerSecond: Double?
    private var contextUsed = 0
    private var streaming = false
    // Attention pane
    private var showPane = true
    private var layer = 0, head = 0
    private var grid = false
    /// The explain view: the selected head's attention step by step for the shown token.
    private var explainView = false
    /// Computes the explain view off this thread, with a state of its own (the conversation's
    /// state belongs to the generation thread); made on first use.
    private lazy var explainer = ExplainWorker(model: model)
    private let model: GPTModel
    /// Generated token shown in the pane (0-based); nil follows the latest.
    private var scrubIndex: Int?
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
        model = session.model
    }

    /// Runs until the user quits; nil when curses cannot start on this terminal (the caller
    /// falls back to the line mode). The terminal is restored on every way out.
    ///
    /// Signals: SIGINT, SIGTERM and SIGHUP end the UI within a frame (100 ms), whatever it is
    /// doing — between two keys of a paste too — with the reply kept and marked interrupted, the
    /// transcript saved, the terminal restored and 128 + the signal. SIGTSTP (and Ctrl-Z)
    /// suspends it with the terminal restored; `fg` brings it back as it was.
    public func run() -> Int32? {
        // A parent may hand down a blocked SIGWINCH; curses learns of resizes through it.
        var winch = sigset_t()
        sigemptyset(&winch)
        sigaddset(&winch, SIGWINCH)
        pthread_sigmask(SIG_UNBLOCK, &winch, nil)
        // Caught before curses starts, so that ncurses installs none of its own handlers for
        // them: its SIGINT and SIGTERM handlers exit(1) at once, saving nothing.
        StopSignals.catchSignals()
        let jobControl = StopSignals.catchSignals([SIGTSTP, SIGCONT])
        canSuspend = jobControl.contains(SIGTSTP)
        // The line mode (after this UI, or instead of it) suspends the ordinary way, by the tty.
        defer { for sig in jobControl { StopSignals.restoreDefault(sig) } }
        guard let c = Curses() else { return nil }
        curses = c
        transcript = TranscriptView(ascii: c.ascii)
        defer {
            curses.stop()
            if let reason = worker.finish() {
                UncheckedOutput.standardError("attnchat: \(reason)\n")
            }
            StopSignals.exitOnArrival()
        }
        transcript.add(.notice, "attnchat — \(worker.modelName). Type a message and press Enter; /help or F1 lists the keys.")
        while true {
            if let code = answerSignals() { return code }
            let now0 = DispatchTime.now().uptimeNanoseconds
            if now0 - lastHangupCheck > 250_000_000 {
                lastHangupCheck = now0
                if curses.terminalGone { return 128 + SIGHUP }
            }
            var typed = false
            let wait: Int32 = streaming ? Int32(Self.frameInterval / 1_000_000) : 20
            curses.setTimeout(milliseconds: wait)
            if pasting && now0 - lastKeyAt > 500_000_000 {
                // A terminal sends a paste in one burst: half a second of silence means its end
                // marker was lost, and the keys that follow are typed again.
                pasting = false
                dirty = true
            }
            if let key = curses.readKey() {
                let now = DispatchTime.now().uptimeNanoseconds
                if pasting && now - lastKeyAt > Self.typedKeyPause {
                    // A key alone after a pause was typed, not pasted: a paste's start marker
                    // came without its end, and Enter must send again rather than add a line.
                    if let next = curses.readKey(waiting: 0) { curses.unread(next) } else { pasting = false }
                }
                lastKeyAt = now
                typed = true
                if let code = handle(key) { return code }
                // Take every key already typed before drawing (a paste arrives as many keys),
                // answering signals between them: a paste can be hundreds of thousands of keys.
                curses.setTimeout(milliseconds: 0)
                while let more = curses.readKey() {
                    if let code = answerSignals() { return code }
                    if let code = handle(more) { return code }
                }
                curses.setTimeout(milliseconds: wait)
            }
            pump()
            let now = DispatchTime.now().uptimeNanoseconds
            if dirty && (typed || now - lastDraw >= Self.frameInterval) {
                draw()
                lastDraw = now
                dirty = false
            }
        }
    }

    /// A key that arrives alone this long after the one before it was typed by a person (ns).
    /// Within a paste, even one over a slow link, keys come in bursts: each read brings many.
    static let typedKeyPause: UInt64 = 100_000_000

    /// Whether Ctrl-Z and SIGTSTP suspend: not when SIGTSTP was ignored on entry (no job control).
    private var canSuspend = false

    /// The exit status for a stop signal that arrived (128 + it); suspends on SIGTSTP and repaints
    /// after SIGCONT (a stop by SIGSTOP, which cannot be caught, may have left the screen to the shell).
    private func answerSignals() -> Int32? {
        if let sig = StopSignals.takeAny() { return 128 + sig }
        if StopSignals.take(SIGTSTP) { suspend() }
        if StopSignals.take(SIGCONT) {
            curses.resume()
            dirty = true
        }
        return nil
    }

    /// Ctrl-Z or SIGTSTP: the terminal as the shell had it, the process group stopped (a
    /// streaming reply with it); on `fg` the screen as it was, the half-typed input included.
    private func suspend() {
        guard canSuspend else { return }
        curses.leave()
        StopSignals.restoreDefault(SIGTSTP)
        kill(0, SIGTSTP)  // stops here until SIGCONT
        StopSignals.catchSignals([SIGTSTP])
        _ = StopSignals.take(SIGCONT)
        curses.resume()
        dirty = true
    }

    // MARK: Events from the generation queue

    private func pump() {
        if explainView && explainer.hasNews { dirty = true }
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
    }


    // MARK: Keys

    /// Handles one key; an exit status ends the UI.
    private func handle(_ key: Curses.Key) -> Int32? {
        dirty = true
        if pasting {
            switch key {
            case .pasteEnd:
                // Pasted text may itself hold ESC[201~. The terminal sends a paste in one burst, so
                // input right behind an end marker means it was content: keep it (without the ESC,
                // as every control inside a paste is dropped) and go on pasting. A person cannot
                // type the next key within 10 ms of a paste's end.
                // Only a printable character counts as content: a key the user pressed after the
                // paste (Enter, Ctrl-C) while the UI was busy ends the paste and acts normally.
                if let next = curses.readKey(waiting: 10) {
                    if case .character = next {
                        input.insert("[201~")
                        return handle(next)
                    }
                    pasting = false
                    return handle(next)
                }
                pasting = false
            case .control(3), .control(4):
                // Ctrl-C and Ctrl-D always work, even if a paste's end marker never came.
                pasting = false
                return handle(key)
            case .enter, .control(10), .control(13): input.insert("\n")
            case .character(let c): input.insert(String(c))
            case .control(9): input.insert("\t")
            default: break  // other controls inside a paste are dropped
            }
            return nil
        }
        switch key {
        case .pasteStart: pasting = true
        case .pasteEnd: break
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
        case .resize: curses.repaintAll()
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
        case .control(26): suspend()  // Ctrl-Z: raw mode makes it a key, not SIGTSTP
        case .control(11): input.killToEnd()
        case .control(12): curses.repaintAll()
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
        switch c {
        case "h": head = (head + heads - 1) % heads
        case "l": head = (head + 1) % heads
        case "j": layer = (layer + 1) % layers
        case "k": layer = (layer + layers - 1) % layers
        case "f": adjust("frequency-penalty") { $0.frequencyPenalty = max(0, $0.frequencyPenalty - 0.1).rounded2 }
        case "F": adjust("frequency-penalty") { $0.frequencyPenalty = ($0.frequencyPenalty + 0.1).rounded2 }
        case "p": adjust("presence-penalty") { $0.presencePenalty = max(0, $0.presencePenalty - 0.1).rounded2 }
        case "P": adjust("presence-penalty") { $0.presencePenalty = ($0.presencePenalty + 0.1).rounded2 }
        case "g":
            grid.toggle()
            if grid { explainView = false }
        case "e":
            explainView.toggle()
            if explainView { grid = false }
        case "c": transcript.colourByProbability.toggle()
        case "a": showAlternatives()
        case ",":
            let count = worker.record.count
            guard count > 0 else { break }
            scrubIndex = max(0, (scrubIndex ?? count - 1) - 1)
        case ".":
            let count = worker.record.count
            if let i = scrubIndex { scrubIndex = i + 1 >= count - 1 ? nil : i + 1 }
        case "/": scrubIndex = nil
        default: break
        }
    }

    private func showHelp() {
        transcript.add(.notice, StatusText.helpText)
        scrolledBack = 0
    }

    private func showAlternatives() {
        let info = worker.record.view(at: scrubIndex)?.info ?? worker.record.lastInfo
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
        scrubIndex = nil
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

    private func draw() {
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
        let view = input.view(width: w, prompt: pasting ? "paste> " : "> ", ascii: curses.ascii)
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
        let view = worker.record.view(at: scrubIndex)
        let shown = view.map { pieces(of: $0.context) } ?? []
        let model = AttentionPane.Model(
            snapshot: view?.snapshot, pieces: shown, layer: layer, head: head, grid: grid,
            scrub: scrubIndex.map { (min($0, count - 1) + 1, count) }, probability: view?.info?.probability)
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
        let scrub = scrubIndex.map { (min($0, count - 1) + 1, count) }
        var pending = "(waiting for a reply)"
        var shown: [String] = []
        var explanation: AttentionExplanation?
        if let view = worker.record.view(at: scrubIndex) {
            let context = worker.record.context
            shown = pieces(of: context[...])
            let position = view.snapshot.length - 1
            switch explainer.outcome(for: .init(context: context, layer: layer, head: head, position: position), start: !streaming) {
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
