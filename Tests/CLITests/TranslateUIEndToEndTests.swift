import Foundation
import Testing

/// `attnchat translate` on a terminal, end to end: the real binary in a tmux pane, driven by
/// send-keys and read back by capture-pane, with a tiny model trained for the test (2 decoder
/// layers, 2 heads, context 24) on the made-up pairs. Every wait polls the screen with a timeout.
/// Part of the serialized end-to-end suite: tmux servers side by side would slow the ones that
/// measure time.
extension TUIEndToEndTests {
    /// The source and its streamed translation in the transcript, the newest target token's
    /// cross-attention over the source in the pane; the grid of the whole matrix; layer, head and
    /// scrub keys; Ctrl-D quits and gives the shell a cooked terminal back.
    @Test func translateViewShowsASentenceItsTranslationAndItsAlignment() throws {
        let model = try TranslateView.model.get()
        let name = URL(fileURLWithPath: model).deletingLastPathComponent().lastPathComponent
        let t = try Tmux.translate(model: model, args: [])
        defer { t.kill() }
        let first = try t.wait("first screen") { $0.contains("F1 help") && $0.contains("(type a sentence and press Enter)") }
        #expect(TranslateView.statusLine(first).contains("■ \(name) │ en→es │ greedy │ L2/2 H1/2 │ - tok/s"), "\(TranslateView.statusLine(first))")
        #expect(first.contains("cross-attention L2/2 H1/2"))
        try t.type("I see the red cat.")
        try t.keys("Enter")
        let screen = try t.wait("the translation") { s in
            s.contains("en> I see the red cat.") && s.contains("es> ") && TranslateView.statusLine(s).contains("■") && TranslateView.statusLine(s).contains(" tokens")
        }
        // The pane: the title, the shown target token, a row per source token with its weight.
        let pane = Tmux.pane(screen)
        #expect(pane.contains("L2/2 H1/2 live") && pane.contains("target \""), "\(pane)")
        for piece in [#""I""#, #"" see""#, #"" cat""#] { #expect(pane.contains(piece), "\(piece) in \(pane)") }
        #expect(pane.matches(of: /0\.\d\d\d/).count >= 5, "a weight per source token: \(pane)")
        let status = TranslateView.statusLine(screen)
        #expect(!status.contains("- tok/s") && status.contains("tok/s"), "\(status)")
        let counts = try #require(status.firstMatch(of: /(\d+) → (\d+) tokens/), "\(status)")
        let (sourceTokens, targetTokens) = (Int(counts.1)!, Int(counts.2)!)
        #expect(sourceTokens >= 5 && targetTokens >= 2)
        #expect(pane.contains("\(targetTokens)/\(targetTokens) p "), "the newest token is shown: \(pane)")
        // The grid: the legend, the column numbers up to the source's length, a row per target
        // token with the newest marked.
        try t.keys("M-g")
        let grid = try t.wait("the grid") { Tmux.pane($0).contains("grid L2/2 H1/2 live") && Tmux.pane($0).contains(">\"") }
        #expect(Tmux.pane(grid).contains("source  1 \"I\""), "\(Tmux.pane(grid))")
        #expect(Tmux.pane(grid).contains(" \(sourceTokens)\n") || Tmux.pane(grid).contains(" \(sourceTokens) "), "column numbers to \(sourceTokens): \(Tmux.pane(grid))")
        #expect(Tmux.pane(grid).contains("█"), "the shades")
        // Head, layer, scrubbing: the title follows, and the grid marks the scrubbed token.
        try t.keys("M-l")
        try t.wait("head 2") { $0.contains("grid L2/2 H2/2 live") }
        try t.keys("M-j")
        try t.wait("layer 1 (after the last)") { $0.contains("grid L1/2 H2/2 live") }
        try t.keys("M-,")
        try t.wait("scrubbed back one token") { $0.contains("grid L1/2 H2/2 tok \(targetTokens - 1)/\(targetTokens)") }
        try t.keys("M-g")
        let single = try t.wait("the bars again, for the scrubbed token") { $0.contains("L1/2 H2/2 tok \(targetTokens - 1)/\(targetTokens)") && !$0.contains("grid L") }
        #expect(Tmux.pane(single).contains("\(targetTokens - 1)/\(targetTokens) p "))
        try t.keys("M-/")
        try t.wait("live again") { $0.contains("L1/2 H2/2 live") }
        // A second sentence: both stay in the transcript.
        try t.type("We see it.")
        try t.keys("Enter")
        try t.wait("the second translation") { s in
            s.contains("en> We see it.") && s.contains("en> I see the red cat.") && s.components(separatedBy: "es> ").count == 3 && TranslateView.statusLine(s).contains("■")
        }
        try t.keys("C-d")
        try t.wait("the shell") { $0.contains("attnchat-exit=0") && !$0.contains("F1 help") }
        try t.type("stty -a | grep -q -- '-icanon' && echo RAW || echo COOKED-$((40+2))")
        try t.keys("Enter")
        try t.wait("a cooked terminal") { $0.contains("COOKED-42") }
    }

    /// A line longer than the model's context is refused with a message and the view goes on;
    /// a blank line does nothing; beam search shows in the status bar; /q quits with 0.
    @Test func translateViewRefusesATooLongLineAndNamesBeamSearch() throws {
        let model = try TranslateView.model.get()
        let t = try Tmux.translate(model: model, args: ["--beam", "2"])
        defer { t.kill() }
        let first = try t.wait("first screen") { $0.contains("F1 help") }
        #expect(TranslateView.statusLine(first).contains("│ beam 2 │"), "\(TranslateView.statusLine(first))")
        try t.type(Array(repeating: "cat", count: 40).joined(separator: " "))
        try t.keys("Enter")
        let refused = try t.wait("the refusal") { $0.contains("too long:") && $0.contains("context holds 24") }
        #expect(!refused.contains("es> "), "nothing was translated")
        try t.type("   ")
        try t.keys("Enter")
        try t.type("I see the cat.")
        try t.keys("Enter")
        let done = try t.wait("a translation by beam search") { $0.contains("en> I see the cat.") && $0.contains("es> ") && TranslateView.statusLine($0).contains("■") && $0.contains("target \"") }
        #expect(done.components(separatedBy: "en> ").count == 3, "the long line and this one; the blank line sent nothing")
        try t.type("/q")
        try t.keys("Enter")
        try t.wait("exit 0") { $0.contains("attnchat-exit=0") }
    }

    /// Resizes (to too small, narrow without the pane, and back) keep the view; Ctrl-C at an
    /// empty prompt quits with 130; SIGTERM ends it with 143; the terminal is restored each time.
    @Test func translateViewResizesAndRestoresTheTerminalOnCtrlCAndSIGTERM() throws {
        let model = try TranslateView.model.get()
        let t = try Tmux.translate(model: model, args: [])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") && $0.contains("┌") }
        try t.type("I see the cat.")
        try t.keys("Enter")
        try t.wait("the translation") { $0.contains("es> ") && TranslateView.statusLine($0).contains("■") && $0.contains("target \"") }
        try t.resize(width: 12, height: 4)
        try t.wait("too small") { $0.contains("terminal too") }
        try t.resize(width: 40, height: 10)
        try t.wait("narrow: no pane") { $0.contains("en> I see") && !$0.contains("┌") && $0.contains(" F1 help") }
        try t.resize(width: 120, height: 30)
        try t.wait("the pane again") { $0.contains("┌") && $0.contains("L2/2 H1/2 live") && $0.contains("en> I see the cat.") }
        try t.keys("C-c")
        try t.wait("exit 130") { $0.contains("attnchat-exit=130") && !$0.contains("F1 help") }
        let pidFile = try CLI.temporaryDirectory().appendingPathComponent("attnchat.pid").path
        try t.type(Tmux.translateCommand(model: model, args: [], pidFile: pidFile))
        try t.keys("Enter")
        try t.wait("the view again") { $0.contains("F1 help") && $0.contains("■") }
        let pid = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Foundation.kill(pid, SIGTERM) == 0)
        try t.wait("exit 143") { $0.contains("attnchat-exit=143") }
        try t.type("stty -a | grep -q -- '-echo ' && echo NOECHO || echo ECHO-OK")
        try t.keys("Enter")
        try t.wait("echo on") { $0.contains("ECHO-OK") }
    }
}

/// The translation view's model and status bar, for the tests above.
enum TranslateView {
    /// The model file; its directory's name is what the status bar calls it.
    static let model: Result<String, any Error> = Result {
        let out = try CLI.temporaryDirectory().path
        let r = try CLI.run([
            "train", "--task", "translate", "--data", TranslateCommandTests.pairs, "--output", out, "--layers", "2", "--heads", "2",
            "--width", "16", "--context", "24", "--batch-tokens", "200", "--steps", "3", "--eval-every", "3", "--checkpoint-every", "3",
        ])
        guard r.status == 0 else { throw Tmux.CommandFailed(args: ["train: \(r.stderr)"], status: r.status) }
        return out + "/model.safetensors"
    }

    /// The status bar: the row with the decoding's name.
    static func statusLine(_ screen: String) -> String {
        screen.components(separatedBy: "\n").last { $0.contains("greedy") || $0.contains("beam ") } ?? ""
    }
}

extension Tmux {
    /// The shell line that starts the translation view and then prints its exit status; with
    /// `pidFile`, in the background first, writing its pid there, then in the foreground.
    static func translateCommand(model: String, args: [String], pidFile: String? = nil) -> String {
        let quoted = ([CLI.binary, "translate", "--model", model] + args).map { "'\($0)'" }.joined(separator: " ")
        if let pidFile { return "\(quoted) & echo $! > '\(pidFile)'; fg >/dev/null; echo attnchat-exit=$?" }
        return "\(quoted); echo attnchat-exit=$?"
    }

    /// A shell in tmux, with the translation view started from it.
    static func translate(model: String, args: [String]) throws -> Tmux {
        let t = try shell()
        try t.type(translateCommand(model: model, args: args))
        try t.keys("Enter")
        return t
    }
}
