import Foundation
import Testing

/// stdout that cannot be written: a reader that has gone (EPIPE) ends a command quietly with
/// exit 0; a full disk (ENOSPC) is one stderr line naming stdout and exit 74 — for every command
/// that prints, never a trap and never exit 0 with the output lost.
@Suite struct StdoutTests {
    /// What a run with a given stdout left behind.
    struct Outcome {
        let status: Int32
        let stderr: String
        let timedOut: Bool
    }

    /// Runs `attnchat args` with `stdout` as its standard output and `stdin` fed from a thread
    /// (`endless` repeats it until the child stops reading). Killed after `timeout` seconds so
    /// that a hang fails the test instead of hanging CI.
    static func run(_ args: [String], stdout: FileHandle, stdin: String = "", endless: Bool = false, timeout: Double = 60) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = args
        let err = Pipe(), input = Pipe()
        process.standardOutput = stdout
        process.standardError = err
        process.standardInput = input
        // Feeding a child that has exited must fail with EPIPE, not kill the test runner.
        signal(SIGPIPE, SIG_IGN)
        try process.run()
        let writer = input.fileHandleForWriting
        let feeder = Thread {
            repeat {
                if (try? writer.write(contentsOf: Data(stdin.utf8))) == nil { break }
            } while endless && process.isRunning
            try? writer.close()
        }
        feeder.start()
        nonisolated(unsafe) var errData = Data()
        let reader = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        let timedOut = process.isRunning
        // SIGKILL: the child inherits the test thread's signal mask, in which SIGTERM is blocked.
        if timedOut { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        while !reader.isFinished { usleep(1000) }
        return Outcome(status: process.terminationStatus, stderr: String(decoding: errData, as: UTF8.self), timedOut: timedOut)
    }

    /// A pipe whose read end is already closed: every write to it fails with EPIPE.
    static func closedPipe() -> FileHandle {
        let pipe = Pipe()
        try? pipe.fileHandleForReading.close()
        return pipe.fileHandleForWriting
    }

    /// Linux's makedev (a C macro Swift does not import) for small major and minor numbers.
    static func device(_ major: UInt64, _ minor: UInt64) -> dev_t { dev_t((minor & 0xFF) | (major & 0xFFF) << 8) }

    /// A full device made in a temporary directory (`mknod c 1 7`, what /dev/full is): every
    /// write fails with ENOSPC.
    static func fullDevice() throws -> FileHandle {
        let path = try CLI.temporaryDirectory().appendingPathComponent("full").path
        try #require(mknod(path, S_IFCHR | 0o666, StdoutTests.device(1, 7)) == 0, "mknod: \(String(cString: strerror(errno)))")
        return try #require(FileHandle(forWritingAtPath: path))
    }

    static let text = String(repeating: "Hello there, how are you doing today? ", count: 2_000)  // one argument: under 128 kB

    /// Every command that prints to stdout, each printing enough to need more than one write.
    static let printing: [[String]] = [
        ["tokenizer", "encode", "--ids", text],
        ["tokenizer", "encode", text],
        ["tokenizer", "decode"] + Array(repeating: "15", count: 100),
        ["generate", "--prompt", "hi", "--max-tokens", "50", "--seed", "1"],
        ["info", "--model", CLI.fixture("tiny-odd")],
        ["info", "--model", CLI.fixture("tiny-odd"), "--json"],
        ["explain", "--prompt", "hi there"],
        ["--help"],
    ]

    @Test(.enabled(if: getuid() == 0, "mknod needs root (CI runs the tests as root)"), arguments: printing)
    func aFullDiskOnStdoutIs74NamingStdout(args: [String]) throws {
        let r = try Self.run(args, stdout: try Self.fullDevice())
        #expect(!r.timedOut)
        #expect(r.status == 74, "\(args.prefix(2)): \(r.stderr.prefix(300))")
        #expect(r.stderr == "attnchat: cannot write to stdout: No space left on device (errno 28)\n", "\(r.stderr.prefix(300))")
    }

    @Test(.enabled(if: getuid() == 0, "mknod needs root (CI runs the tests as root)"))
    func evalToAFullDiskIs74() throws {
        let data = try TrainCommandTests.corpus(String(repeating: "hello world, how are you today? fine thanks. ", count: 40))
        let r = try Self.run(["eval", "--model", "default", "--data", data], stdout: try Self.fullDevice())
        #expect(r.status == 74, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write to stdout: No space left on device"))
    }

    /// The chat's replies to a full disk: the reply stops, the transcript keeps it, exit 74.
    @Test(.enabled(if: getuid() == 0, "mknod needs root (CI runs the tests as root)"))
    func chatToAFullDiskSavesTheTranscriptAndIs74() throws {
        let transcript = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
        let r = try Self.run(["chat", "--no-tui", "--model", ChatModels.random, "--max-tokens", "5", "--transcript", transcript],
                             stdout: try Self.fullDevice(), stdin: "hello\nagain\n")
        #expect(r.status == 74, "\(r.stderr)")
        #expect(r.stderr.contains("attnchat: cannot write to stdout: No space left on device"), "\(r.stderr)")
        let text = try String(contentsOfFile: transcript, encoding: .utf8)
        #expect(text.contains("[user]\nhello\n"), "\(text)")
    }

    /// `attnchat tokenizer encode --ids … | head`: the reader leaves; no trap, no stack dump,
    /// no message, exit 0 (every command writes through the same `Stdout`).
    @Test func aClosedPipeEndsQuietlyWithExit0() throws {
        let r = try Self.run(["tokenizer", "encode", "--ids", Self.text], stdout: Self.closedPipe())
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.stderr.prefix(300))")
        #expect(r.stderr.isEmpty, "\(r.stderr.prefix(300))")
    }

    /// `yes hi | attnchat chat --no-tui | head -c 10`: the chat ends when its reader does (it
    /// used to reply forever), with the conversation so far in the transcript.
    @Test func chatWithEndlessInputEndsWhenTheReaderLeaves() throws {
        let transcript = try CLI.temporaryDirectory().appendingPathComponent("chat.txt").path
        let r = try Self.run(["chat", "--no-tui", "--model", ChatModels.random, "--max-tokens", "5", "--transcript", transcript],
                             stdout: Self.closedPipe(), stdin: "hi\n", endless: true, timeout: 30)
        #expect(!r.timedOut, "still replying after 30 s to a closed pipe")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: transcript, encoding: .utf8).contains("[user]\nhi\n"))
    }
}
