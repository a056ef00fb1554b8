import FileIO
import Foundation
import Testing

/// The one reader of input files (models, vocabularies, corpora, configs) and its one
/// classification of a bad path.
@Suite struct InputFileTests {
    @Test func readsTheBytes() throws {
        let path = NSTemporaryDirectory() + "attnchat-input-\(UUID().uuidString)"
        try Data([0x68, 0x69, 0xFF]).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try InputFile.read(path) == Data([0x68, 0x69, 0xFF]))
    }

    @Test func aMissingFileAndADirectoryAre66AndAFailedRead74() {
        #expect(throws: InputFile.Failure.notFound(path: "/nonexistent/x.txt")) { try InputFile.read("/nonexistent/x.txt") }
        #expect(InputFile.Failure.notFound(path: "/nonexistent/x.txt").description == "/nonexistent/x.txt: no such file")
        #expect(InputFile.Failure.notFound(path: "x").exitCode == 66)
        let directory = NSTemporaryDirectory()
        #expect(throws: InputFile.Failure.isDirectory(path: directory)) { try InputFile.read(directory) }
        #expect(InputFile.Failure.isDirectory(path: "d").description == "d: is a directory, expected a file")
        #expect(InputFile.Failure.isDirectory(path: "d").exitCode == 66)
        #expect(InputFile.Failure.unreadable(path: "f", reason: "denied").description == "f: cannot read: denied")
        #expect(InputFile.Failure.unreadable(path: "f", reason: "denied").exitCode == 74)
    }
}

/// `Path.join` replaced NSString's `appendingPathComponent`: the same paths.
@Test func pathJoinIsWhatNSStringWrote() {
    for directory in ["dir", "dir/", "dir//", "a//b", "", "/", "./a", "/abs/dir"] {
        for name in ["x", "", "sub/y", "/y", "config.json"] {
            #expect(Path.join(directory, name) == (directory as NSString).appendingPathComponent(name), "\(directory) + \(name)")
        }
    }
}
