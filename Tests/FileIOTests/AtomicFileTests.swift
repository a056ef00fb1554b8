import Foundation
import Testing
import FileIO

@Suite struct AtomicFileTests {
    static func directory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attnchat-fileio-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    struct Abandoned: Error {}

    @Test func writeReplacesTheWholeFileAndLeavesNoTemporaryFile() throws {
        let dir = try Self.directory()
        let path = dir + "/f.txt"
        try AtomicFile.write(Array("old, and longer than the new one".utf8), to: path)
        try AtomicFile.write(Array("new".utf8), to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f.txt"])
    }

    @Test func aFailingWriterLeavesTheOldFileAndNoTemporaryFile() throws {
        let dir = try Self.directory()
        let path = dir + "/f.txt"
        try AtomicFile.write(Array("old".utf8), to: path)
        #expect(throws: Abandoned.self) {
            try AtomicFile.replace(path, failure: { _ in Abandoned() }) { descriptor throws(Abandoned) in
                try? AtomicFile.writeAll(descriptor, UnsafeRawBufferPointer(start: "half", count: 4))
                throw Abandoned()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f.txt"])
    }

    @Test func aMissingDirectoryNamesTheCallAndTheReason() throws {
        let path = try Self.directory() + "/gone/f.txt"
        do {
            try AtomicFile.write([1, 2, 3], to: path)
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.code == ENOENT)
            #expect(error.description.hasPrefix("create "))
            #expect(error.description.hasSuffix(": No such file or directory"))
        }
    }

    @Test func splitsPathsIntoDirectoryAndName() {
        #expect(AtomicFile.split("model.safetensors") == (".", "model.safetensors"))
        #expect(AtomicFile.split("/m.st") == ("/", "m.st"))
        #expect(AtomicFile.split("a/b/m.st") == ("a/b", "m.st"))
    }
}
