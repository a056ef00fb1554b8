import Chat
import Dispatch
import Glibc

/// What a full-screen front end (`ChatUI`, `TranslateUI`) gives `ScreenLoop`: its keys, its
/// workers' news and its frames. Everything is called on the loop's thread, the one that owns
/// curses.
protocol ScreenClient: AnyObject {
    /// While a worker streams, the loop sleeps a whole frame between wake-ups (every wake-up can
    /// preempt the model's threads on a small machine); otherwise 20 ms.
    var isStreaming: Bool { get }
    /// Curses has started: the client learns `ascii` and keeps `curses` for drawing.
    func start(_ curses: Curses)
    /// One key; paste markers and the keys every front end answers alike (resize, ^L, ^Z) never
    /// reach it. An exit status ends the UI.
    func handle(_ key: Curses.Key) -> Int32?
    /// Text typed inside a bracketed paste, for the input line.
    func paste(_ text: String)
    /// Takes what the workers produced since the last turn; true when the screen changed.
    func pump() -> Bool
    /// Draws the whole screen (ncurses sends only the cells that changed).
    func draw()
    /// The terminal is restored: stop the workers and save what is to be saved.
    func stop()
}

/// The curses loop every full-screen front end runs: signals, hang-ups, keys (bracketed paste
/// included), the workers' events and coalesced redraws.
///
/// One thread (the caller's) owns curses: it waits for a key (at most 20 ms when idle, one frame
/// while a worker streams), drains the events, and redraws at most every `frameInterval`. A key
/// is handled and drawn at once.
///
/// Signals: SIGINT, SIGTERM and SIGHUP end the loop within a frame (100 ms), whatever it is
/// doing — between two keys of a paste too — with 128 + the signal, after the client's `stop`
/// and the terminal restored. SIGTSTP (and Ctrl-Z) suspends it with the terminal restored; `fg`
/// brings it back as it was.
final class ScreenLoop {
    /// Redraws for streamed tokens come at most this often (ns). 10 a second reads as smooth
    /// streaming; every wake-up of this thread can preempt the model's threads on a small
    /// machine, so while a reply streams the thread sleeps a whole frame unless a key arrives.
    static let frameInterval: UInt64 = 100_000_000

    /// A key that arrives alone this long after the one before it was typed by a person (ns).
    /// Within a paste, even one over a slow link, keys come in bursts: each read brings many.
    static let typedKeyPause: UInt64 = 100_000_000

    private var curses: Curses!
    /// Inside a bracketed paste: the input line's prompt says so.
    private(set) var pasting = false
    private var lastKeyAt: UInt64 = 0
    private var dirty = true
    private var lastDraw: UInt64 = 0
    private var lastHangupCheck: UInt64 = 0
    /// Whether Ctrl-Z and SIGTSTP suspend: not when SIGTSTP was ignored on entry (no job control).
    private var canSuspend = false

    /// Runs until the client returns an exit status or a signal ends it; nil when curses cannot
    /// start on this terminal. The terminal is restored on every way out.
    func run(_ client: ScreenClient) -> Int32? {
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
        client.start(c)
        defer {
            curses.stop()
            client.stop()
            StopSignals.exitOnArrival()
        }
        while true {
            if let code = answerSignals() { return code }
            let now0 = DispatchTime.now().uptimeNanoseconds
            if now0 - lastHangupCheck > 250_000_000 {
                lastHangupCheck = now0
                if curses.terminalGone { return 128 + SIGHUP }
            }
            var typed = false
            let wait: Int32 = client.isStreaming ? Int32(Self.frameInterval / 1_000_000) : 20
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
                if let code = handle(key, client) { return code }
                // Take every key already typed before drawing (a paste arrives as many keys),
                // answering signals between them: a paste can be hundreds of thousands of keys.
                curses.setTimeout(milliseconds: 0)
                while let more = curses.readKey() {
                    if let code = answerSignals() { return code }
                    if let code = handle(more, client) { return code }
                }
                curses.setTimeout(milliseconds: wait)
            }
            if client.pump() { dirty = true }
            let now = DispatchTime.now().uptimeNanoseconds
            if dirty && (typed || now - lastDraw >= Self.frameInterval) {
                client.draw()
                lastDraw = now
                dirty = false
            }
        }
    }

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

    /// One key: a paste's keys become text, the shared keys are answered here, the rest go to
    /// the client. An exit status ends the UI.
    private func handle(_ key: Curses.Key, _ client: ScreenClient) -> Int32? {
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
                        client.paste("[201~")
                        return handle(next, client)
                    }
                    pasting = false
                    return handle(next, client)
                }
                pasting = false
            case .control(3), .control(4):
                // Ctrl-C and Ctrl-D always work, even if a paste's end marker never came.
                pasting = false
                return handle(key, client)
            case .enter, .control(10), .control(13): client.paste("\n")
            case .character(let c): client.paste(String(c))
            case .control(9): client.paste("\t")
            default: break  // other controls inside a paste are dropped
            }
            return nil
        }
        switch key {
        case .pasteStart: pasting = true
        case .pasteEnd: break
        case .resize, .control(12): curses.repaintAll()  // ^L
        case .control(26): suspend()  // Ctrl-Z: raw mode makes it a key, not SIGTSTP
        default: return client.handle(key)
        }
        return nil
    }
}
