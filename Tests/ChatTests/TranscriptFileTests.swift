import Foundation
import Testing
@testable import Chat

@Suite struct TranscriptFileTests {
    static func path() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("attnchat-tf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent("chat.txt").path
    }

    @Test func anExistingFileIsNeverOverwritten() throws {
        let path = try Self.path()
        try "an earlier conversation\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ChatError.transcriptExists(path: path)) { try TranscriptFile(path: path, modelName: "m") }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "an earlier conversation\n")
    }

    @Test func claimsTheFileThenKeepsResetConversationsBeforeTheCurrentOne() throws {
        let path = try Self.path()
        let file = try TranscriptFile(path: path, modelName: "m")
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("# attnchat transcript"))
        let first = [Turn(role: .user, text: "one"), Turn(role: .bot, text: "reply one")]
        #expect(file.save(first) == nil)
        file.archive(first)
        #expect(file.save([Turn(role: .user, text: "two"), Turn(role: .bot, text: "cut", interrupted: true)]) == nil)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n[user]\none\n\n[bot]\nreply one\n\n[user]\ntwo\n\n[bot, interrupted]\ncut\n"), "\(text)")
    }

    @Test func aFailedSaveIsReportedNotThrown() throws {
        let path = try Self.path()
        let file = try TranscriptFile(path: path, modelName: "m")
        // The directory goes away (a removed USB stick, say): the chat goes on, the reason is told.
        try FileManager.default.removeItem(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path)
        let reason = try #require(file.save([Turn(role: .user, text: "lost")]))
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        #expect(reason == "\(path): cannot write a file there: its directory \(directory) does not exist", "\(reason)")
    }

    /// Any failed save makes the end exit 74: the last one (the file lacks the end), or an
    /// earlier one followed by a good save (the file is whole, the run was not clean).
    @Test func anyFailedSaveIsReportedAtTheEnd() throws {
        let path = try Self.path()
        let file = try TranscriptFile(path: path, modelName: "m")
        #expect(file.save([Turn(role: .user, text: "one")]) == nil)
        try file.checkSaved()
        // A directory where the file was: refused, the save fails (the directory is left alone).
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(file.save([Turn(role: .user, text: "two")]) != nil)
        #expect(throws: ChatError.transcriptIncomplete(path: path)) { try file.checkSaved() }
        try FileManager.default.removeItem(atPath: path)
        #expect(file.save([Turn(role: .user, text: "three")]) == nil)
        #expect(throws: ChatError.transcriptSavesFailed(path: path, count: 1)) { try file.checkSaved() }
        #expect(ChatError.transcriptSavesFailed(path: path, count: 1).exitCode == 74)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix("[user]\nthree\n"))
    }
}

/// The transcript's date, now from glibc's strftime, is what Foundation's DateFormatter wrote.
@Test func transcriptDateIsWhatDateFormatterWrote() {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss Z"
    for seconds in [0, 1_764_500_000.9, 1_741_338_303, 951_782_400, 4_102_444_799] as [Double] {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(Transcript.timestamp(date) == formatter.string(from: date))
    }
    #expect(Transcript.render([], modelName: "m", date: Date(timeIntervalSince1970: 0)).hasPrefix("# attnchat transcript, 19"))
}
