import Chat
import FileIO
import Sampling
import Seq2Seq
import Tokenizer

/// The full-screen translation view (`attnchat translate` on a terminal): the transcript of
/// sentences and their translations, the input line, the status bar, the help line, and the
/// alignment pane — for the newest (or scrubbed) target token, the selected decoder layer and
/// head's cross-attention over the source tokens, or (M-g) the whole source × target matrix.
///
/// The chat's machinery throughout: `ScreenLoop` runs it (keys, paste, signals, resizes, frame
/// pacing), `PaneSelection` holds the pane's keys, `TranscriptView` and `InputLine` the text.
/// The model runs on `TranslationWorker`'s queue; each token's event carries its step's
/// cross-attention in every layer and head, kept in a `TranslationRecord`.
public final class TranslateUI: ScreenClient {
    private let worker: TranslationWorker
    private let modelName: String
    private let languages: (source: String, target: String)?
    private let loop = ScreenLoop()
    private var curses: Curses!
    private var transcript = TranscriptView(ascii: false)
    private var input = InputLine()
    private var history = InputHistory()
    private var scrolledBack = 0
    private var streaming = false
    private var tokensPerSecond: Double?
    private var showPane = true
    private var selection: PaneSelection
    /// The latest translation (the one being streamed, or the last one), for the pane.
    private var record: TranslationRecord?
    private var pieceCache: [Int32: String] = [:]

    /// - Parameters:
    ///   - source, target: the languages the model's file records, when it does.
    ///   - maxLength: the most target tokens for a source of n tokens.
    public init(
        model: Seq2SeqModel, tokenizer: BPETokenizer, modelName: String, source: String?, target: String?,
        decoding: TranslationDecoding, maxLength: @escaping @Sendable (Int) -> Int
    ) {
        worker = TranslationWorker(model: model, tokenizer: tokenizer, decoding: decoding, maxLength: maxLength)
        self.modelName = modelName
        // File metadata is text from anywhere: one short inert line each.
        func name(_ s: String?) -> String? { s.map { TextWidth.prefix(TerminalSafe.oneLine($0), fitting: 12) }.flatMap { $0.isEmpty ? nil : $0 } }
        if let s = name(source), let t = name(target) { languages = (s, t) } else { languages = nil }
        // The last layer first: the one `translate --alignment` shows unless told otherwise.
        selection = PaneSelection(layers: model.config.decoderLayers, heads: model.config.heads, layer: model.config.decoderLayers - 1)
    }

    /// Runs until the user quits; nil when curses cannot start on this terminal. The terminal is
    /// restored on every way out; SIGINT, SIGTERM and SIGHUP end it with 128 + the signal
    /// (`ScreenLoop`).
    public func run() -> Int32? { loop.run(self) }

    var isStreaming: Bool { streaming }

    func start(_ curses: Curses) {
        self.curses = curses
        transcript = TranscriptView(ascii: curses.ascii, userLabel: "\(languages?.source ?? "in")> ", botLabel: "\(languages?.target ?? "out")> ")
        let pair = languages.map { "\($0.source) → \($0.target), " } ?? ""
        transcript.add(.notice, "attnchat translate — \(modelName) (\(pair)\(worker.decoding.name)). Type a sentence and press Enter; F1 lists the keys.")
    }

    func stop() { worker.finish() }

    func paste(_ text: String) { input.insert(text) }

    // MARK: Events from the translation queue

    func pump() -> Bool {
        var dirty = false
        // Read before draining: the worker pushes its last event before it clears the flag.
        let busy = worker.isBusy
        for event in worker.drain() {
            dirty = true
            switch event {
            case .began(let text, let source):
                transcript.add(.user, text)
                transcript.add(.bot, "")
                record = TranslationRecord(layers: selection.layers, heads: selection.heads, source: source.map(piece))
                selection.scrub = nil
                tokensPerSecond = nil
            case .refused(let text, let reason):
                transcript.add(.user, text)
                transcript.add(.notice, reason)
            case .token(let id, let text, let probability, let attention):
                transcript.appendToken(text, probability: probability)
                record?.append(piece: piece(id), probability: probability, attention: attention)
            case .timing(let rate):
                tokensPerSecond = rate
            case .finished(let interrupted, let rest):
                transcript.appendToken(rest, probability: record?.probabilities.last ?? 1)
                if interrupted { transcript.markLastInterrupted() }
                transcript.finishReply()
            case .failed(let message):
                transcript.add(.notice, message)
            }
        }
        if streaming && !busy {
            streaming = false
            dirty = true
        }
        return dirty
    }

    // MARK: Keys

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
        case .function(1): showHelp()
        case .function(12): showPane.toggle()
        case .alt(let c):
            if !selection.apply(alt: c, tokens: record?.target.count ?? 0), c == "c" { transcript.colourByProbability.toggle() }
        default: break
        }
        return nil
    }

    private var pageRows: Int {
        let (w, h) = curses.size
        return ScreenLayout(width: w, height: h, showPane: showPane).transcript.height
    }

    private func showHelp() {
        transcript.add(.notice, StatusText.translationHelpText)
        scrolledBack = 0
    }

    /// Enter: each non-blank line of the input is translated in turn; /help and /quit (/q,
    /// /exit) are the chat's; nothing happens on a blank line.
    private func submit() -> Int32? {
        let text = input.text
        let trimmed = text.trimmedOfWhitespace()
        guard !trimmed.isEmpty else { return nil }
        if SlashCommand.isCommand(trimmed) && !trimmed.contains("\n") {
            history.add(trimmed)
            input.set("")
            scrolledBack = 0
            switch try? SlashCommand.parse(trimmed) {
            case .quit: return 0
            case .help: showHelp()
            default: transcript.add(.notice, "(the translation view knows /help and /quit; \(trimmed) is not one of them)")
            }
            return nil
        }
        guard !streaming else {
            transcript.add(.notice, "(a translation is streaming: wait, or Ctrl-C to stop it)")
            return nil
        }
        history.add(text)
        input.set("")
        let lines = text.split(whereSeparator: \.isNewline).map { String($0).trimmedOfWhitespace() }.filter { !$0.isEmpty }
        streaming = true
        scrolledBack = 0
        worker.translate(lines)
        return nil
    }

    // MARK: Drawing

    /// A token's display text: its bytes (a piece of a character shows as U+FFFD), made inert.
    private func piece(_ id: Int32) -> String {
        if let p = pieceCache[id] { return p }
        let bytes = (try? worker.tokenizer.bytes(of: Int(id))) ?? []
        let p = TerminalSafe.inert(String(decoding: bytes, as: UTF8.self))
        pieceCache[id] = p
        return p
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
        let t = layout.transcript
        let window = transcript.window(width: t.width, count: t.height, scrolledBack: scrolledBack)
        scrolledBack = window.scrolledBack
        for (i, row) in window.rows.enumerated() {
            curses.draw(row, row: t.row + t.height - window.rows.count + i, col: t.col, width: t.width)
        }
        if let p = layout.pane {
            let pending = streaming ? "(translating…)" : "(type a sentence and press Enter)"
            let (title, rows) = TranslationPane.render(record, selection: selection, pending: pending, width: p.width - 2, height: p.height - 2, ascii: curses.ascii)
            curses.box(p, title: title)
            for (i, row) in rows.enumerated() {
                curses.draw(row, row: p.row + 1 + i, col: p.col + 1, width: p.width - 2)
            }
        }
        let status = TranslationStatus(
            modelName: modelName, languages: languages, decoding: worker.decoding.name,
            layer: selection.layer, layers: selection.layers, head: selection.head, heads: selection.heads,
            tokensPerSecond: tokensPerSecond, tokens: record.map { ($0.source.count, $0.target.count) }, streaming: streaming, scrolledBack: scrolledBack)
        curses.fill(row: layout.status.row, col: 0, width: w, style: .status)
        curses.draw([Segment(StatusText.translationLine(status, width: w, ascii: curses.ascii), .status)], row: layout.status.row, col: 0, width: w)
        let view = input.view(width: w, prompt: loop.pasting ? "paste> " : "> ", ascii: curses.ascii)
        curses.draw([Segment(view.text, .plain)], row: layout.input.row, col: 0, width: w)
        curses.draw([Segment(StatusText.helpLine(width: w, hints: StatusText.translationKeyHints), .help)], row: layout.help.row, col: 0, width: w)
        curses.placeCursor(row: layout.input.row, col: min(w - 1, view.cursorColumn), visible: true)
        curses.refresh()
    }
}
