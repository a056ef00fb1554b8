import Foundation
import Testing

/// Every file attnchat writes goes through one destination policy (`AtomicFile`): devices, FIFOs
/// and directories are refused and stay; a symlink stays and its target is replaced; an existing
/// file is replaced only when the user says so (`--force`, `--resume`, `/save!`); a failed save
/// of the transcript ends in exit 74 and never leaves a file that blocks the next run.
@Suite struct OutputFileTests {
    /// Whether this process may make device nodes (root, outside a restricted container).
    static let canMakeDevices: Bool = {
        guard let dir = try? CLI.temporaryDirectory().path else { return false }
        return mknod(dir + "/probe", S_IFCHR | 0o666, nullDevice) == 0
    }()

    /// Linux's `makedev(1, 3)`: the null device, made in a temporary directory, never /dev's.
    static let nullDevice = dev_t((1 << 8) | 3)

    static func kind(_ path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : nil
    }

    static func text(_ path: String) -> String? { try? String(contentsOfFile: path, encoding: .utf8) }

    static let chat = ["chat", "--model", ChatModels.random, "--max-tokens", "3", "--seed", "3"]

    // MARK: Outputs that are not regular files

    @Test(.enabled(if: canMakeDevices, "mknod needs root"))
    func slashSaveToADeviceIsRefusedAndTheDeviceStays() throws {
        let device = try CLI.temporaryDirectory().path + "/null"
        #expect(mknod(device, S_IFCHR | 0o666, Self.nullDevice) == 0)
        let r = try CLI.run(Self.chat, stdin: "hi\n/save \(device)\n")
        #expect(r.stderr.contains("\(device): is a character device, not a regular file"), "\(r.stderr)")
        #expect(Self.kind(device) == S_IFCHR)
    }

    @Test func exportOverAFIFOExits73AndTheFIFOStays() throws {
        let fifo = try CLI.temporaryDirectory().path + "/out.safetensors"
        #expect(mkfifo(fifo, 0o644) == 0)
        let r = try CLI.run(["export", "--model", ChatModels.random, "--output", fifo, "--force"])
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderr == "attnchat: \(fifo): is a FIFO, not a regular file; attnchat does not write over it\n")
        #expect(Self.kind(fifo) == S_IFIFO)
    }

    @Test func slashSaveThroughASymlinkReplacesTheTargetAndKeepsTheLink() throws {
        let dir = try CLI.temporaryDirectory().path
        try "old".write(toFile: dir + "/target.txt", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.txt", withDestinationPath: "target.txt")
        let r = try CLI.run(Self.chat, stdin: "hi\n/save! \(dir)/link.txt\n")
        #expect(r.stderr.contains("(transcript saved to \(dir)/link.txt)"), "\(r.stderr)")
        #expect(Self.kind(dir + "/link.txt") == S_IFLNK)
        #expect(Self.text(dir + "/target.txt")?.contains("[user]\nhi\n") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["link.txt", "target.txt"])
    }

    @Test func trainOutputOnAFileExits73InOneLine() throws {
        let file = try CLI.temporaryDirectory().path + "/file"
        try "mine".write(toFile: file, atomically: false, encoding: .utf8)
        let data = try TrainCommandTests.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        let r = try CLI.run(["train", "--data", data, "--output", file, "--steps", "1"] + TrainCommandTests.tiny)
        #expect(r.status == 73, "\(r.stderr)")
        #expect(r.stderr == "attnchat: \(file): is a regular file, not a directory\n")
        #expect(Self.text(file) == "mine")
    }

    // MARK: Outputs that already exist

    @Test func exportOverAnExistingFileExits73UnlessForced() throws {
        let path = try CLI.temporaryDirectory().path + "/out.safetensors"
        try "mine".write(toFile: path, atomically: false, encoding: .utf8)
        let refused = try CLI.run(["export", "--model", ChatModels.random, "--output", path])
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr == "attnchat: \(path): already exists; --force replaces it\n")
        #expect(Self.text(path) == "mine")
        let forced = try CLI.run(["export", "--model", ChatModels.random, "--output", path, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(Self.text(path) != "mine")
    }

    @Test func huggingFaceExportIntoADirectoryWithItsFilesExits73AndChangesNothing() throws {
        let dir = try CLI.temporaryDirectory().path
        try "{\"mine\": true}".write(toFile: dir + "/config.json", atomically: false, encoding: .utf8)
        let refused = try CLI.run(["export", "--model", ChatModels.random, "--hugging-face", "--output", dir])
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr.contains("\(dir)/config.json: already exists; --force replaces it"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["config.json"])
        #expect(Self.text(dir + "/config.json") == "{\"mine\": true}")
        let forced = try CLI.run(["export", "--model", ChatModels.random, "--hugging-face", "--output", dir, "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(Self.text(dir + "/config.json")?.contains("GPT2LMHeadModel") == true)
    }

    @Test func tokenizerTrainOverExistingFilesExits73BeforeTraining() throws {
        let dir = try CLI.temporaryDirectory().path
        try "mine".write(toFile: dir + "/merges.txt", atomically: false, encoding: .utf8)
        let corpus = try TrainCommandTests.corpus(String(repeating: "hello world ", count: 50))
        let refused = try CLI.run(["tokenizer", "train", "--vocab-size", "260", "--output", dir, corpus])
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr.contains("\(dir)/merges.txt: already exists; --force replaces it"), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["merges.txt"])
        let forced = try CLI.run(["tokenizer", "train", "--vocab-size", "260", "--output", dir, "--force", corpus])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(Self.text(dir + "/merges.txt")?.hasPrefix("#version: 0.2") == true)
    }

    @Test func trainOverACheckpointWithoutResumeExits73UnlessForced() throws {
        let out = try CLI.temporaryDirectory().path
        try "an earlier run".write(toFile: out + "/checkpoint.safetensors", atomically: false, encoding: .utf8)
        let data = try TrainCommandTests.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        let refused = try CLI.run(["train", "--data", data, "--output", out, "--steps", "1"] + TrainCommandTests.tiny)
        #expect(refused.status == 73, "\(refused.stderr)")
        #expect(refused.stderr.contains("\(out)/checkpoint.safetensors: already exists; --resume continues that run; --force starts a new one over it"), "\(refused.stderr)")
        #expect(Self.text(out + "/checkpoint.safetensors") == "an earlier run")
        let forced = try CLI.run(["train", "--data", data, "--output", out, "--steps", "1", "--force"] + TrainCommandTests.tiny)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(Self.text(out + "/checkpoint.safetensors") != "an earlier run")
    }

    @Test func slashSaveRefusesAnExistingFileAndSaveBangReplacesIt() throws {
        let dir = try CLI.temporaryDirectory().path
        for name in ["kept.txt", "replaced.txt"] { try "mine".write(toFile: dir + "/" + name, atomically: false, encoding: .utf8) }
        let r = try CLI.run(Self.chat, stdin: "hi\n/save \(dir)/kept.txt\n/save! \(dir)/replaced.txt\n")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("attnchat: \(dir)/kept.txt: already exists; /save! \(dir)/kept.txt replaces it"), "\(r.stderr)")
        #expect(Self.text(dir + "/kept.txt") == "mine")
        #expect(Self.text(dir + "/replaced.txt")?.contains("[user]\nhi\n") == true)
    }

    /// The full-screen UI parses and saves with the line mode's code: the same refusal, the same `/save!`.
    @Test(.enabled(if: Tmux.available, "tmux is not installed"))
    func slashSaveInTheFullScreenUIRefusesAnExistingFileToo() throws {
        let path = try CLI.temporaryDirectory().path + "/kept.txt"
        try "mine".write(toFile: path, atomically: false, encoding: .utf8)
        let t = try Tmux.chat(model: TUIModels.small, args: ["--max-tokens", "4"])
        defer { t.kill() }
        try t.wait("first screen") { $0.contains("F1 help") }
        try t.type("/save \(path)")
        try t.keys("Enter")
        try t.wait("the refusal") { $0.contains("already exists") }
        #expect(Self.text(path) == "mine")
        try t.type("/save! \(path)")
        try t.keys("Enter")
        try t.wait("saved") { $0.contains("transcript saved") }
        #expect(Self.text(path)?.hasPrefix("# attnchat transcript") == true)
    }

    // MARK: Disk full, stale temporary files, damaged optimizer state

    /// Runs attnchat with files limited to `blocks` 512-byte blocks (RLIMIT_FSIZE, SIGXFSZ
    /// ignored): writes past it fail with EFBIG, as on a full disk; pipes are not limited.
    static func runWithFileSizeLimit(_ blocks: Int, _ args: [String], stdin: String) throws -> CLI.Result {
        let quoted = ([CLI.binary] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let sh = Process()
        sh.executableURL = URL(fileURLWithPath: "/bin/sh")
        sh.arguments = ["-c", "trap '' XFSZ; ulimit -f \(blocks) && exec \(quoted)"]
        let input = Pipe(), err = Pipe()
        sh.standardInput = input
        sh.standardOutput = FileHandle.nullDevice
        sh.standardError = err
        try sh.run()
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        sh.waitUntilExit()
        return CLI.Result(status: sh.terminationStatus, stdout: "", stderr: String(decoding: errData, as: UTF8.self))
    }

    @Test func transcriptOnADiskFullFromTheStartExits74AndLeavesNoFile() throws {
        let path = try CLI.temporaryDirectory().path + "/chat.txt"
        let r = try Self.runWithFileSizeLimit(0, Self.chat + ["--transcript", path], stdin: "hi\n")
        #expect(r.status == 74, "\(r.stderr)")
        #expect(r.stderr.contains(path), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path), "a file is left that would block the next run")
    }

    @Test func transcriptSavesFailingMidSessionEndInExit74() throws {
        let path = try CLI.temporaryDirectory().path + "/chat.txt"
        // Conversations ended by /reset stay in the file, so it grows past the limit.
        let rounds = String(repeating: "the quick brown fox jumps over the lazy dog again\n/reset\n", count: 20)
        let r = try Self.runWithFileSizeLimit(1, Self.chat + ["--transcript", path], stdin: rounds)
        #expect(r.status == 74, "\(r.stderr)")
        #expect(r.stderr.contains("\(path): the last save of the transcript failed"), "\(r.stderr)")
        #expect(Self.text(path)?.hasPrefix("# attnchat transcript") == true)
    }

    @Test func staleTemporaryFilesOfKilledRunsAreRemovedOnTheNextRunAndLiveOnesKept() throws {
        let out = try CLI.temporaryDirectory().path
        let data = try TrainCommandTests.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        let first = try CLI.run(["train", "--data", data, "--output", out, "--steps", "2"] + TrainCommandTests.tiny)
        #expect(first.status == 0, "\(first.stderr)")
        // The PID of a process that has exited, as a kill -9 mid-checkpoint leaves it.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let dead = ".checkpoint.safetensors.attnchat-\(gone.processIdentifier)-12345.tmp"
        let alive = ".checkpoint.safetensors.attnchat-1-678.tmp"  // PID 1 runs: another writer's
        for name in [dead, alive] { try Data(count: 1000).write(to: URL(fileURLWithPath: out + "/" + name)) }
        let resumed = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--steps", "3"] + TrainCommandTests.tiny)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("removed 1 temporary file left by killed runs in \(out)"), "\(resumed.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(!names.contains(dead))
        #expect(names.contains(alive))
    }

    @Test func aNegativeAdamSecondMomentIsRefusedOnResumeNamingTheTensor() throws {
        let out = try CLI.temporaryDirectory().path
        let data = try TrainCommandTests.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        #expect(try CLI.run(["train", "--data", data, "--output", out, "--steps", "2"] + TrainCommandTests.tiny).status == 0)
        // adam.v's element 3 becomes -1 (a flipped sign bit, as a bad disk or memory leaves it).
        let path = out + "/checkpoint.safetensors"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<8 + headerLength)) as! [String: Any]
        let begin = ((header["adam.v"] as! [String: Any])["data_offsets"] as! [Int])[0]
        let element = 8 + headerLength + begin + 3 * 4
        bytes.replaceSubrange(element..<element + 4, with: [0x00, 0x00, 0x80, 0xBF])
        try bytes.write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["train", "--data", data, "--output", out, "--resume", "--steps", "3"] + TrainCommandTests.tiny)
        #expect(r.status == 65, "\(r.stderr)")
        #expect(r.stderr.contains("\(path): tensor \"adam.v\": element 3 is -1.0; AdamW's second moment must be finite and not negative"), "\(r.stderr)")
    }

    /// Two runs started together into one directory both passed the per-file checks and then
    /// rewrote each other's checkpoint: the running one's claim refuses the second, even with
    /// --force, and a run that ended (however) leaves the directory free.
    @Test func aSecondTrainIntoADirectoryARunIsWritingIsRefused() throws {
        let out = try CLI.temporaryDirectory().path
        let data = try TrainCommandTests.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        let first = try Child(["train", "--data", data, "--output", out, "--steps", "100000", "--checkpoint-every", "0"] + TrainCommandTests.tiny)
        defer { first.kill() }
        try first.waitForStderr("the first run under way") { $0.contains("model: ") }
        let second = try CLI.run(["train", "--data", data, "--output", out, "--force", "--steps", "2"] + TrainCommandTests.tiny)
        #expect(second.status == 73, "\(second.stderr)")
        #expect(second.stderr.contains("\(out): another attnchat run is writing there (pid \(first.pid))"), "\(second.stderr)")
        first.kill()
        _ = try first.exitStatus(within: 20)
        let third = try CLI.run(["train", "--data", data, "--output", out, "--force", "--steps", "2"] + TrainCommandTests.tiny)
        #expect(third.status == 0, "a killed run's claim ends with it: \(third.stderr)")
    }

    @Test func resumeWithoutACheckpointExits66() throws {
        let out = try CLI.temporaryDirectory().path
        let data = try TrainCommandTests.corpus(String(repeating: "abc def ghi jkl ", count: 60))
        let r = try CLI.run(["train", "--data", data, "--output", out, "--resume"] + TrainCommandTests.tiny)
        #expect(r.status == 66, "\(r.stderr)")
        #expect(r.stderr == "attnchat: \(out)/checkpoint.safetensors: no checkpoint to resume from\n")
    }
}
