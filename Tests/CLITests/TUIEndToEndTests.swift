import Foundation
@_spi(Training) import GPT
import Testing

/// The full-screen UI, end to end: the real binary in a tmux pane, driven by send-keys and read
/// back by capture-pane. Every wait polls the screen with a timeout; no fixed sleeps.
@Suite(.serialized, .enabled(if: Tmux.available, "tmux is not installed: the end-to-end UI tests are skipped"))
struct TUIEndToEndTests {
    /// A short reply, a first screen, the attention pane's title.
    @Test func firstScreenThenAMessageAndItsStreamedReply() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "12", "--seed", "5"])
        defer { t.kill() }
        let first = try t.wait("first screen") { $0.contains("F1 help") && $0.contains("(waiting for a reply)") && $0.contains("ctx 0/128") }
        #expect(first.contains("■ small"))
        #expect(first.contains("temp 0.80 top-k 40 top-p 0.95 min-p 0.05"))
        try t.type("hello there")
        try t.keys("Enter")
        let screen = try t.wait("the reply") { $0.contains("you> hello there") && $0.contains("bot> ") && $0.contains("■") && !$0.contains("- tok/s") }
        #expect(screen.contains("L1/2 H1/2 live"))
        let reply = screen.components(separatedBy: "\n").first { $0.hasPrefix("bot> ") } ?? ""
        #expect(reply.count > 6, "a reply: \(reply)")
    }

    /// F3 while a reply streams: the status bar shows the new temperature at once, mid-reply.
    /// Then Ctrl-C stops the reply, which stays, marked interrupted.
    @Test func temperatureChangeDuringAReplyThenCtrlC() throws {
        let t = try Tmux.chat(model: TUIModels.endless, args: ["--max-tokens", "4000", "--temperature", "0.8"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.sendAndWaitForStreaming("hi")
        try t.keys("F3")
        // The status bar spells settings out when it has room ("temp 0.90") and compactly when not ("T0.90").
        let during = try t.wait("the new temperature") { Tmux.statusLine($0).contains("temp 0.90") || Tmux.statusLine($0).contains("T0.90 ") }
        #expect(Tmux.statusLine(during).contains("▶"), "the reply was still streaming: \(Tmux.statusLine(during))")
        // The penalties have keys too: Alt-F and Alt-P raise frequency and presence by 0.1.
        try t.keys("M-F")
        try t.keys("M-P")
        try t.keys("M-P")
        try t.wait("the new penalties") { s in
            let status = Tmux.statusLine(s)
            return (status.contains("freq 0.10 pres 0.20") || status.contains(" f0.10 pr0.20")) && status.contains("▶")
        }
        try t.type("/set top-k 7")
        try t.keys("Enter")
        try t.wait("top-k 7") { Tmux.statusLine($0).contains("top-k 7 ") || Tmux.statusLine($0).contains(" k7 ") }
        try t.keys("C-c")
        let stopped = try t.wait("the interrupted reply") { $0.contains("[interrupted]") && Tmux.statusLine($0).contains("■") }
        #expect(stopped.contains("bot> "))
    }

    /// A Hugging Face Qwen2 directory in the UI: its template, its generation settings, and a pane
    /// that names each query head's key/value group (6 query heads over 2).
    @Test func aHuggingFaceModelWithGroupedQueryAttention() throws {
        let model = CLI.fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ChatTests/Fixtures/qwen2-chat").path
        let t = try Tmux.chat(model: model, args: ["--max-tokens", "6", "--temperature", "0", "--system", "Be brief."])
        defer { t.kill() }
        let first = try t.wait("first screen") { $0.contains("F1 help") && $0.contains("(waiting for a reply)") }
        #expect(first.contains("■ qwen2-chat"), "the status bar names the model directory")
        try t.type("hello there")
        try t.keys("Enter")
        let screen = try t.wait("the reply") { $0.contains("you> hello there") && $0.contains("■") && $0.contains("L1/2 H1/6 kv1/2") && !$0.contains("- tok/s") }
        #expect(screen.contains("bot> "))
        for _ in 0..<3 { try t.keys("M-l") }
        try t.wait("head 4, the second group") { $0.contains("L1/2 H4/6 kv2/2") }
        try t.keys("M-e")
        try t.wait("the explain view of head 4") { $0.contains("H4/6 kv2/2 explain") }
    }

    @Test func steppingLayerAndHeadAndTheGrid() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "8", "--seed", "2"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("what do you see?")
        try t.keys("Enter")
        let before = try t.wait("a reply") { $0.contains("■") && $0.contains("L1/2 H1/2") && !$0.contains("- tok/s") }
        try t.keys("M-l")
        let head2 = try t.wait("head 2") { $0.contains("L1/2 H2/2") }
        #expect(Tmux.pane(head2) != Tmux.pane(before), "another head, other weights")
        try t.keys("M-j")
        let layer2 = try t.wait("layer 2") { $0.contains("L2/2 H2/2") }
        #expect(Tmux.pane(layer2) != Tmux.pane(head2))
        try t.keys("M-g")
        // Wait for the whole frame: a capture can land between the title and the rows.
        let labels = ["L1H1", "L1H2", "L2H1", ">L2H2"]
        try t.wait("the grid") { screen in screen.contains("grid 2x2") && labels.allSatisfy { screen.contains($0) } }
        // Scrub back through the reply's tokens.
        try t.keys("M-g", "M-,")
        try t.wait("scrubbing") { $0.contains("tok 7/8") }
    }

    /// Alt-e switches the pane to the explain view of the selected layer and head; scrubbing
    /// moves it to an earlier token, whose later tokens the mask then removes.
    @Test func explainViewFollowsTheHeadAndTheScrubbedToken() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "8", "--seed", "2"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("what do you see?")
        try t.keys("Enter")
        try t.wait("a reply") { $0.contains("■") && $0.contains("L1/2 H1/2") && !$0.contains("- tok/s") }
        try t.keys("M-e")
        let live = try t.wait("the explain view") { $0.contains("L1/2 H1/2 explain live") }
        #expect(live.contains("q.k → x0.") && live.contains("mask: none (the query is last)") && live.contains("out "), "\(Tmux.pane(live))")
        try t.keys("M-l")
        try t.wait("head 2") { $0.contains("L1/2 H2/2 explain live") }
        try t.keys("M-,", "M-,")
        // The explanation is computed off the UI thread: "computing…" first, then the steps.
        try t.wait("an earlier token, explained") { $0.contains("H2/2 explain tok 6/8") && $0.contains("come later, weight 0") }
        try t.keys("M-e")
        try t.wait("the weights again") { $0.contains("L1/2 H2/2 tok 6/8") }
    }

    /// /regen gives a reply of the same length (the token limit cuts both): the explain view
    /// must explain the new tokens, not show the old reply's numbers.
    @Test func explainViewFollowsARegeneratedReplyOfTheSameLength() throws {
        // The endless model never ends its turn, so both replies stop at exactly 8 tokens.
        let t = try Tmux.chat(model: TUIModels.endless, args: ["--max-tokens", "8", "--seed", "3", "--temperature", "1.5", "--top-k", "0", "--top-p", "1", "--min-p", "0"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("tell me something")
        try t.keys("Enter")
        try t.wait("a reply") { $0.contains("■") && $0.contains("L1/4 H1/4") && !$0.contains("- tok/s") }
        try t.keys("M-e")
        // The numbers only: the token pieces come from the new context either way.
        func numbers(_ screen: String) -> [Substring] { Tmux.pane(screen).matches(of: /-?[0-9]+\.[0-9]+/).map(\.output) }
        let first = numbers(try t.wait("the explain view") { $0.contains("explain live") && $0.contains("q.k →") })
        try t.type("/regen")
        try t.keys("Enter")
        try t.wait("the new reply explained") { numbers($0) != first && $0.contains("q.k →") && Tmux.statusLine($0).contains("■") }
    }

    /// Resizing while a reply streams (to 1x1, too small, narrow, and back) never stops the UI:
    /// the reply goes on streaming and the full layout comes back.
    @Test func resizeWhileAReplyStreams() throws {
        let t = try Tmux.chat(model: TUIModels.endless, args: ["--max-tokens", "4000"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.sendAndWaitForStreaming("go on")
        for (w, h) in [(1, 1), (12, 4), (40, 10), (30, 8)] {
            try t.resize(width: w, height: h)
            usleep(50_000)
        }
        try t.resize(width: 120, height: 30)
        try t.wait("the full layout, still streaming") { $0.contains("┌") && $0.contains("F1 help") && Tmux.statusLine($0).contains("▶") }
        try t.keys("C-c")
        try t.wait("the reply stopped") { $0.contains("[interrupted]") && Tmux.statusLine($0).contains("■") }
    }

    @Test func resizeTo30x8AndBack() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "8"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("hello")
        try t.keys("Enter")
        try t.wait("a reply") { $0.contains("you> hello") && Tmux.statusLine($0).contains("■") && !$0.contains("- tok/s") }
        try t.resize(width: 30, height: 8)
        let small = try t.wait("the 30x8 layout") { s in
            let lines = s.components(separatedBy: "\n")
            return lines.count >= 8 && lines[5].hasPrefix(" ■ T0.80") && lines[6].hasPrefix(">") && lines[7].hasPrefix(" F1 help") && !s.contains("┌")
        }
        #expect(small.components(separatedBy: "\n").allSatisfy { $0.count <= 30 })
        try t.resize(width: 12, height: 4)
        try t.wait("too small") { $0.contains("terminal too") && $0.contains("need 20x5") }
        try t.resize(width: 120, height: 30)
        try t.wait("the full layout again") { $0.contains("┌") && $0.contains("L1/2 H1/2") && $0.contains("you> hello") && $0.contains("F1 help") }
    }

    @Test func saveWritesTheTranscript() throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "6"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("hello there")
        try t.keys("Enter")
        try t.wait("a reply") { Tmux.statusLine($0).contains("■") && !$0.contains("- tok/s") }
        try t.type("/save \(path)")
        try t.keys("Enter")
        try t.wait("saved") { $0.contains("transcript saved") }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasPrefix("# attnchat transcript"))
        #expect(text.contains("[user]\nhello there\n"))
        #expect(text.contains("\n[bot]\n"))
    }

    /// A bracketed paste of several lines is one message, not one per line.
    @Test func aMultiLinePasteIsOneMessage() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "4"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.paste("first line\nsecond line")
        try t.wait("the pasted text in the input line") { $0.contains("> first line↵second line") }
        try t.keys("Enter")
        let screen = try t.wait("one message") { s in
            let lines = s.components(separatedBy: "\n")
            guard let i = lines.firstIndex(where: { $0.hasPrefix("you> first line") }), i + 1 < lines.count else { return false }
            return lines[i + 1].hasPrefix("second line") && Tmux.statusLine(s).contains("■") && s.contains("bot> ")
        }
        #expect(screen.components(separatedBy: "you> ").count == 2)
    }

    /// Pasted text that itself contains the end-of-paste marker ESC[201~ does not end the paste:
    /// the newline after it stays in the message instead of sending half of it.
    @Test func anEmbeddedEndOfPasteMarkerDoesNotEndThePaste() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "4"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.paste("one\u{1B}[201~two\nthree")
        let screen = try t.wait("the whole paste in the input line") { $0.contains("> one[201~two↵three") }
        #expect(!screen.contains("you> "), "nothing was sent: \(screen)")
        try t.keys("Enter")
        try t.wait("one message") { s in
            let lines = s.components(separatedBy: "\n")
            guard let i = lines.firstIndex(where: { $0.hasPrefix("you> one[201~two") }), i + 1 < lines.count else { return false }
            return lines[i + 1].hasPrefix("three")
        }
    }

    /// Ctrl-C stops the reply, Ctrl-D quits, and the shell gets its terminal back (cooked mode,
    /// echo on, the main screen).
    @Test func ctrlCDuringAReplyThenCtrlDLeavesTheShellUsable() throws {
        let t = try Tmux.chat(model: TUIModels.endless, args: ["--max-tokens", "4000"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.sendAndWaitForStreaming("tell me a story")
        try t.keys("C-c")
        try t.wait("the interrupted reply") { $0.contains("[interrupted]") && Tmux.statusLine($0).contains("■") }
        try t.keys("C-d")
        try t.wait("the shell") { $0.contains("attnchat-exit=0") && !$0.contains("F1 help") }
        try t.type("stty -a | grep -q -- '-icanon' && echo RAW || echo COOKED-$((40+2))")
        try t.keys("Enter")
        try t.wait("a cooked terminal") { $0.contains("COOKED-42") }
    }

    /// SIGINT (`kill -INT`, not the Ctrl-C key), SIGTERM or SIGHUP at a random moment of a reply:
    /// the terminal comes back, the exit is 128 + the signal, and the --transcript file holds
    /// the message and the partial reply, marked interrupted. (SIGINT used to exit 1 at once,
    /// through ncurses' own handler, saving nothing.)
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func aSignalDuringAReplySavesTheTranscript(sig: Int32) throws {
        for attempt in 0..<2 {
            let transcript = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
            let (t, pid) = try Tmux.chatWithPid(model: TUIModels.endless, args: ["--max-tokens", "4000", "--transcript", transcript])
            defer { t.kill() }
            try t.sendAndWaitForStreaming("tell me everything")
            usleep(UInt32.random(in: 0...300_000))
            #expect(Foundation.kill(pid, sig) == 0)
            try t.wait("exit \(128 + sig) (attempt \(attempt))") { $0.contains("attnchat-exit=\(128 + sig)") && !$0.contains("F1 help") }
            let text = try String(contentsOfFile: transcript, encoding: .utf8)
            #expect(text.contains("[user]\ntell me everything\n\n[bot, interrupted]\n"), "attempt \(attempt): \(text)")
        }
    }

    /// RELIABILITY 30: stdin from a pipe (stdout still the terminal) is the line mode: the piped
    /// text is a message, never keystrokes for the full-screen UI.
    @Test func pipedStdinOnATerminalIsTheLineMode() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: [])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.keys("C-d")
        try t.wait("the shell") { $0.contains("attnchat-exit=0") }
        try t.type("printf 'hello from a pipe\\n' | '\(CLI.binary)' chat --model '\(TUIModels.small)' --max-tokens 3; echo piped-exit=$?")
        try t.keys("Enter")
        let screen = try t.wait("the line mode's exit") { $0.contains("piped-exit=0") }
        // The line mode prints the reply (and a newline) on the main screen; the full-screen UI
        // would have drawn on the alternate screen and left nothing between command and exit.
        let lines = screen.components(separatedBy: "\n")
        let exitLine = try #require(lines.firstIndex { $0.hasPrefix("piped-exit=0") })
        #expect(exitLine > 0 && !lines[exitLine - 1].contains("piped-exit=$?"), "no reply printed: \(screen)")
    }

    /// F1 (a notice added below the reply) while a reply streams: the reply goes on and is the
    /// one Ctrl-C marks — tokens used to be dropped once any notice followed the reply.
    @Test func aNoticeDuringAReplyLeavesTheReplyStreaming() throws {
        let t = try Tmux.chat(model: TUIModels.endless, args: ["--max-tokens", "4000"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.sendAndWaitForStreaming("hi")
        try t.keys("F1")
        try t.wait("the help notice") { $0.contains("Commands:") }
        let before = try t.wait("the context growing") { Tmux.statusLine($0).contains("▶") }
        try t.keys("C-c")
        let after = try t.wait("the reply stopped") { Tmux.statusLine($0).contains("■") && $0.contains("[interrupted]") }
        func context(_ s: String) -> Int? { Tmux.statusLine(s).firstMatch(of: /ctx (\d+)\//).flatMap { Int($0.1) } }
        #expect((context(after) ?? 0) > (context(before) ?? .max), "the reply went on after the notice")
        #expect(after.contains("Commands:"))
    }

    /// Ctrl-C twice in a row during a reply quits with 130 and leaves a cooked terminal.
    @Test func ctrlCTwiceDuringAReplyQuitsAndRestoresTheTerminal() throws {
        let transcript = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
        let t = try Tmux.chat(model: TUIModels.endless, args: ["--max-tokens", "4000", "--transcript", transcript])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.sendAndWaitForStreaming("hi")
        try t.keys("C-c", "C-c")
        try t.wait("exit 130") { $0.contains("attnchat-exit=130") && !$0.contains("F1 help") }
        // The keys came during the reply: it was cut, not finished.
        #expect(try String(contentsOfFile: transcript, encoding: .utf8).contains("[bot, interrupted]"))
        try t.type("stty -a | grep -q -- '-icanon' && echo RAW || echo COOKED-$((40+2))")
        try t.keys("Enter")
        try t.wait("a cooked terminal") { $0.contains("COOKED-42") }
    }

    /// Ctrl-C at an empty prompt quits with 130; SIGTERM restores the terminal too.
    @Test func ctrlCAtAnEmptyPromptAndSIGTERMRestoreTheTerminal() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: [])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.keys("C-c")
        try t.wait("exit 130") { $0.contains("attnchat-exit=130") }
        // Started in the background to learn its pid, then brought to the foreground.
        let pidFile = try CLI.temporaryDirectory().appendingPathComponent("attnchat.pid").path
        try t.type(Tmux.chatCommand(model: TUIModels.small, args: [], pidFile: pidFile))
        try t.keys("Enter")
        try t.wait("the UI again") { $0.contains("F1 help") && $0.contains("■") }
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let pid = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Foundation.kill(pid, SIGTERM) == 0)
        try t.wait("exit 143") { $0.contains("attnchat-exit=143") }
        try t.type("stty -a | grep -q -- '-echo ' && echo NOECHO || echo ECHO-OK")
        try t.keys("Enter")
        try t.wait("echo on") { $0.contains("ECHO-OK") }
    }

    @Test func langCGivesASCIIBordersAndShades() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "6"], environment: "LANG=C LC_ALL=C")
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("hi")
        try t.keys("Enter")
        let screen = try t.wait("a reply") { Tmux.statusLine($0).contains("-") && $0.contains("+-") && $0.contains("L1/2 H1/2") && !$0.contains("- tok/s") }
        #expect(screen.unicodeScalars.allSatisfy { $0.isASCII }, "\(screen)")
    }

    /// TERM dumb, unset, or without a terminfo entry: the line mode, never garbage.
    @Test(arguments: ["TERM=dumb", "-u TERM", "TERM=no-such-terminal"])
    func aTerminalCursesCannotDriveGetsTheLineMode(environment: String) throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "4"], environment: environment)
        defer { t.kill() }
        try t.wait("the line mode") { $0.contains("/help for commands") }
        try t.type("/quit")
        try t.keys("Enter")
        try t.wait("exit 0") { $0.contains("attnchat-exit=0") }
    }
}

/// Models for the UI tests, over the default 4,096-token vocabulary.
enum TUIModels {
    /// Quick: 2 layers, 2 heads.
    static let small: String = {
        let config = GPTConfig(vocabSize: 4096, contextLength: 128, layers: 2, heads: 2, width: 32)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: 11, std: 0.05)
        return ChatModels.save(GPTModel(weights: weights), "small")
    }()

    /// A reply that lasts seconds even in a release build on a fast machine (up to 4,000 tokens
    /// over a growing 4,096-token context), so keys can be pressed mid-reply; it never ends its
    /// turn: the special tokens' embeddings point away from the final LayerNorm's bias, so their
    /// logits are far below the rest.
    static let endless: String = {
        let config = GPTConfig(vocabSize: 4096, contextLength: 4096, layers: 4, heads: 4, width: 256)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: 12, std: 0.02)
        weights.withMutableTensor(weights.tensor(named: "ln_f.bias")!) { $0.update(repeating: 1) }
        weights.withMutableTensor(weights.tensor(named: "wte.weight")!) { wte in
            for id in 0..<3 { for c in 0..<256 { wte[id * 256 + c] = -0.5 } }
        }
        return ChatModels.save(GPTModel(weights: weights), "endless")
    }()
}

/// One tmux server per test, running a plain shell in a 120x30 window.
final class Tmux {
    static let path: String? = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/opt/homebrew/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static var available: Bool { path != nil }

    let socket = "attnchat-e2e-\(UUID().uuidString.prefix(8))"

    /// The shell line that starts the chat and then prints its exit status; with `pidFile`, in
    /// the background first, writing its pid there, then in the foreground.
    static func chatCommand(model: String, args: [String], environment: String = "", pidFile: String? = nil) -> String {
        let quoted = ([CLI.binary, "chat", "--model", model] + args).map { "'\($0)'" }.joined(separator: " ")
        if let pidFile { return "env \(environment) \(quoted) & echo $! > '\(pidFile)'; fg >/dev/null; echo attnchat-exit=$?" }
        return "env \(environment) \(quoted); echo attnchat-exit=$?"
    }

    /// A shell in tmux, with the chat started from it.
    static func chat(model: String, args: [String], environment: String = "") throws -> Tmux {
        let t = try shell()
        try t.type(chatCommand(model: model, args: args, environment: environment))
        try t.keys("Enter")
        return t
    }

    /// A shell (bash, with job control) in tmux, ready for keys.
    static func shell() throws -> Tmux {
        let t = Tmux()
        try t.run(["new-session", "-d", "-x", "120", "-y", "30", "env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 TERM=screen PS1='$ ' bash --norc --noprofile"])
        try t.run(["set-option", "-g", "status", "off"])  // the pane is the whole window
        // Keys sent before the shell reads its terminal may be dropped: wait for the prompt.
        try t.wait("the shell prompt", seconds: 10) { $0.hasPrefix("$") }
        return t
    }

    struct CommandFailed: Error { let args: [String]; let status: Int32 }

    /// Runs `tmux args...` and returns its stdout. Not through `Process`: on Linux it learns of
    /// the child's exit from a pipe the child inherits, and the tmux server forked by
    /// new-session keeps that pipe open, so `waitUntilExit` would never return.
    @discardableResult
    func run(_ args: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("\(socket)-\(UUID().uuidString).out").path
        defer { unlink(output) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([Self.path!, "-L", socket, "-f", "/dev/null"] + args).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        // A clean signal mask: test threads block signals, and tmux would pass the mask on to
        // the shell and the chat (which would then never hear of a resize).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))
        var pid: pid_t = 0
        guard posix_spawn(&pid, Self.path!, &actions, &attributes, argv, environ) == 0 else { throw CommandFailed(args: args, status: -1) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    func type(_ text: String) throws { try run(["send-keys", "-l", text]) }
    /// Sends a message and waits until its reply streams (▶ in the status bar).
    func sendAndWaitForStreaming(_ text: String) throws {
        try type(text)
        try keys("Enter")
        try wait("streaming") { $0.contains("▶") && $0.contains("bot> ") }
    }
    func keys(_ keys: String...) throws { for k in keys { try run(["send-keys", k]) } }
    func paste(_ text: String) throws {
        try run(["set-buffer", text])
        try run(["paste-buffer", "-p"])
    }
    func resize(width: Int, height: Int) throws { try run(["resize-window", "-x", "\(width)", "-y", "\(height)"]) }
    func capture() -> String { (try? run(["capture-pane", "-p"])) ?? "" }
    /// Ends the server and removes its socket file.
    func kill() {
        _ = try? run(["kill-server"])
        let dir = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        unlink("\(dir)/tmux-\(getuid())/\(socket)")
    }

    struct Timeout: Error, CustomStringConvertible {
        let what: String, screen: String
        var description: String { "timed out waiting for \(what); the screen:\n\(screen)" }
    }

    /// Polls the screen until `ok` holds; throws (with the screen) after `seconds`.
    @discardableResult
    func wait(_ what: String, seconds: Double = 30, _ ok: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var screen = ""
        while Date() < deadline {
            screen = capture()
            if ok(screen) { return screen }
            usleep(50_000)
        }
        throw Timeout(what: what, screen: screen)
    }

    /// The status bar: the row with the context count.
    static func statusLine(_ screen: String) -> String {
        screen.components(separatedBy: "\n").last { $0.contains("ctx ") } ?? ""
    }

    /// The attention pane's columns (right of the transcript) of a 120-column screen.
    static func pane(_ screen: String) -> String {
        screen.components(separatedBy: "\n").map { String($0.dropFirst(72)) }.joined(separator: "\n")
    }
}
