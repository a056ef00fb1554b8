import Foundation
import Testing

/// The full-screen UI under a flood of keys, on terminals without an alternate screen, and under
/// job control. Part of the serialized end-to-end suite: these measure time, and tmux servers
/// running side by side would slow each other down.
extension TUIEndToEndTests {
    /// A 100 KB bracketed paste lands in the input line within seconds, in the middle of what
    /// was typed (inserting used to copy the whole line for every key: minutes), and the UI
    /// quits as usual afterwards.
    @Test func aHundredKilobytePasteLandsInTheInputLineQuickly() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "4"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("<>")
        try t.keys("Left")
        try t.paste(file: Tmux.hundredKilobytes)
        try t.wait("the whole paste in the input line", seconds: 20) { Tmux.inputLine($0).hasSuffix("cdefEND") && Tmux.inputLine($0).hasPrefix("> ") }
        try t.keys("End")
        try t.wait("what was typed after the cursor, after the paste") { Tmux.inputLine($0).hasSuffix("cdefEND>") }
        try t.keys("C-u", "C-d")
        try t.wait("exit 0") { $0.contains("attnchat-exit=0") }
    }

    /// SIGTERM while the UI works through a 100 KB paste is answered at once (between two keys),
    /// not after the paste: exit 143 with the terminal restored, a few times at random moments.
    @Test func aSignalDuringAHundredKilobytePasteIsAnsweredAtOnce() throws {
        for attempt in 0..<3 {
            let (t, pid) = try Tmux.chatWithPid(model: TUIModels.small, args: [])
            defer { t.kill() }
            try t.paste(file: Tmux.hundredKilobytes)
            usleep(UInt32.random(in: 0...100_000))
            #expect(kill(pid, SIGTERM) == 0)
            // A second at most (the UI answers within 100 ms; the rest is tmux and the shell).
            try t.wait("exit 143 (attempt \(attempt))", seconds: 2) { $0.contains("attnchat-exit=143") }
            try t.waitForACookedTerminal()
        }
    }

    /// A paste's start marker whose end never comes: keys typed after it (one at a time, with
    /// pauses) are typing again, so Enter sends and Ctrl-D quits.
    @Test func aPasteStartWithoutItsEndLeavesEnterAndCtrlDWorking() throws {
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "4"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("\u{1B}[200~")
        for key in ["h", "i"] {
            usleep(200_000)
            try t.type(key)
        }
        usleep(200_000)
        try t.keys("Enter")
        try t.wait("the message sent") { $0.contains("you> hi") && Tmux.statusLine($0).contains("■") && !$0.contains("- tok/s") }
        try t.type("\u{1B}[200~")
        usleep(200_000)
        try t.keys("C-d")
        try t.wait("exit 0") { $0.contains("attnchat-exit=0") && !$0.contains("F1 help") }
    }

    /// TERM=vt100 or linux: terminfo has no alternate screen, so the UI clears the screen on its
    /// way out instead of leaving its last frame under the shell's prompt.
    @Test(arguments: ["vt100", "linux"])
    func aTerminalWithoutAnAlternateScreenIsClearedOnExit(term: String) throws {
        let t = try Tmux.chat(model: TUIModels.small, args: [], environment: "TERM=\(term)")
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") && $0.contains("ctx 0/128") }
        try t.keys("C-d")
        try t.wait("the shell, and no UI left on the screen") { $0.contains("attnchat-exit=0") && !$0.contains("F1 help") && !$0.contains("ctx 0/128") }
    }

    /// Ctrl-Z (or SIGTSTP from outside) suspends the UI: the shell gets a cooked terminal on its
    /// own screen; `fg` brings the UI back as it was, the half-typed message still there.
    @Test(arguments: ["C-z", "SIGTSTP"])
    func suspendingRestoresTheTerminalAndFgBringsTheUIBack(how: String) throws {
        let (t, pid) = try Tmux.chatWithPid(model: TUIModels.small, args: [])
        defer { t.kill() }
        try t.type("a draft message")
        try t.wait("the draft") { Tmux.inputLine($0) == "> a draft message" }
        if how == "SIGTSTP" { #expect(kill(pid, SIGTSTP) == 0) } else { try t.keys(how) }
        try t.wait("the shell, the job stopped") { $0.contains("Stopped") && $0.contains("attnchat-exit=148") && !$0.contains("F1 help") }
        try t.waitForACookedTerminal()
        try t.type("fg >/dev/null; echo fg-exit=$?")
        try t.keys("Enter")
        try t.wait("the UI again, with the draft") { $0.contains("F1 help") && Tmux.inputLine($0) == "> a draft message" }
        try t.keys("C-u", "C-d")
        try t.wait("exit 0") { $0.contains("fg-exit=0") && !$0.contains("F1 help") }
    }
}

extension Tmux {
    /// 102,403 characters: "0123456789abcdef" 6,400 times, then "END".
    static let hundredKilobytes = String(repeating: "0123456789abcdef", count: 6400) + "END"

    /// A shell in tmux with the chat started from it in the background (to learn its pid, which
    /// `chatCommand` writes to a file), then brought to the foreground; returns once the UI shows.
    static func chatWithPid(model: String, args: [String]) throws -> (Tmux, pid_t) {
        let pidFile = try CLI.temporaryDirectory().appendingPathComponent("attnchat.pid").path
        let t = try shell()
        try t.type(chatCommand(model: model, args: args, pidFile: pidFile))
        try t.keys("Enter")
        try t.wait("the UI") { $0.contains("F1 help") && $0.contains("■") }
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        return (t, try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))))
    }

    /// Pastes `text` as a terminal does (bracketed), through a file: too long for a command line.
    func paste(file text: String) throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("paste.txt").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try run(["load-buffer", path])
        try run(["paste-buffer", "-p"])
    }

    /// Asks the shell whether its terminal is in cooked mode again (canonical input).
    func waitForACookedTerminal() throws {
        try type("stty -a | grep -q -- '-icanon' && echo RAW || echo COOKED-$((40+2))")
        try keys("Enter")
        try wait("a cooked terminal") { $0.contains("COOKED-42") }
    }

    /// The input row: the one the prompt starts ("> ", or "paste> " during a paste).
    static func inputLine(_ screen: String) -> String {
        screen.components(separatedBy: "\n").last { $0.hasPrefix("> ") || $0.hasPrefix("paste> ") || $0 == ">" } ?? ""
    }
}
