import Foundation
import Testing

/// Text from outside — paths, typed values, a vocabulary's tokens — is echoed with control
/// characters made inert (ESC → ␛, BEL → ␇, and in one-line errors newline → ␊), as model
/// output already was: no escape sequence reaches the terminal, no newline splits a line.
@Suite struct OutsideTextTests {
    static let controls: Set<Character> = ["\u{1B}", "\u{07}", "\r"]

    static func hasControls(_ text: String) -> Bool { text.contains { controls.contains($0) } }

    @Test func aPathWithControlCharactersIsInertInTheOneLineError() throws {
        let path = try CLI.temporaryDirectory().path + "/\u{1B}[2J\nmodel.safetensors"
        let r = try CLI.run(["generate", "--model", path, "--prompt", "hi"])
        #expect(r.status == 66, "\(r.stderr)")
        #expect(r.stderrLines.count == 1, "\(r.stderr)")
        #expect(!Self.hasControls(r.stderr))
        #expect(r.stderr.contains("/␛[2J␊model.safetensors: no such file"), "\(r.stderr)")
    }

    @Test func slashSetAndSaveEchoWhatWasTypedInert() throws {
        let dir = try CLI.temporaryDirectory().path
        let input = "/set temperature \u{1B}[31mx\n/save \(dir)/\u{1B}]0;pwned\u{07}.txt\n"
        let r = try CLI.run(["chat", "--no-tui", "--model", ChatModels.random], stdin: input)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!Self.hasControls(r.stderr), "\(r.stderr.debugDescription)")
        #expect(r.stderr.contains("␛[31mx"), "\(r.stderr)")
        #expect(r.stderr.contains("(transcript saved to \(dir)/␛]0;pwned␇.txt)"), "\(r.stderr)")
    }

    @Test func decodedTokenTextIsInert() throws {
        let ids = try CLI.run(["tokenizer", "encode", "--ids", "\u{1B}[2J\u{07}"]).stdout
        let r = try CLI.run(["tokenizer", "decode", "-"], stdin: ids)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "␛[2J␇\n")
    }

    @Test func aTypedFlagValueIsInertInTheUsageError() throws {
        let r = try CLI.run(["generate", "--prompt", "hi", "--max-tokens", "\u{1B}[2J"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(!Self.hasControls(r.stderr), "\(r.stderr.debugDescription)")
        #expect(r.stderr.contains("␛[2J"))
    }

    @Test func infoShowsAModelPathInert() throws {
        let dir = try CLI.temporaryDirectory().appendingPathComponent("\u{1B}[2Jmodel")
        try FileManager.default.copyItem(atPath: CLI.fixture("tiny-odd"), toPath: dir.path)
        let r = try CLI.run(["info", "--model", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!Self.hasControls(r.stdout))
        #expect(r.stdout.contains("␛[2Jmodel/model.safetensors"))
    }
}
