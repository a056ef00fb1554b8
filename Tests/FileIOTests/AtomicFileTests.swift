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
        try AtomicFile.write(Array("old, and longer than the new one".utf8), to: path, existing: .replace)
        try AtomicFile.write(Array("new".utf8), to: path, existing: .replace)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f.txt"])
    }

    @Test func aFailingWriterLeavesTheOldFileAndNoTemporaryFile() throws {
        let dir = try Self.directory()
        let path = dir + "/f.txt"
        try AtomicFile.write(Array("old".utf8), to: path, existing: .replace)
        #expect(throws: Abandoned.self) {
            try AtomicFile.replace(path, existing: .replace, failure: { _ in Abandoned() }) { descriptor throws(Abandoned) in
                try? AtomicFile.writeAll(descriptor, UnsafeRawBufferPointer(start: "half", count: 4))
                throw Abandoned()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f.txt"])
    }

    /// Paths where no file can be made are refused (73) naming the path the user gave, not the
    /// temporary file (a missing directory was "create …/.f.txt.attnchat-…tmp: No such file", 74).
    @Test func pathsWhereNoFileCanBeMadeAreRefusedNamingThePath() throws {
        let dir = try Self.directory()
        try AtomicFile.write([1], to: dir + "/plain", existing: .replace)
        try FileManager.default.createSymbolicLink(atPath: dir + "/a", withDestinationPath: dir + "/b")
        try FileManager.default.createSymbolicLink(atPath: dir + "/b", withDestinationPath: dir + "/a")
        let cases: [(String, String)] = [
            (dir + "/gone/f.txt", "its directory \(dir)/gone does not exist"),
            (dir + "/plain/f.txt", "a part of it is not a directory"),
            (dir + "/a", "too many levels of symbolic links (a link loop)"),
            (dir + "/new/", "it ends in \"/\", so it names a directory"),
            (dir + "/" + String(repeating: "x", count: 230), "the file name is 230 bytes; attnchat's temporary file beside it needs it at most 215"),
        ]
        for (path, reason) in cases {
            do {
                try AtomicFile.write([1, 2, 3], to: path, existing: .replace)
                Issue.record("wrote \(path)")
            } catch {
                #expect(error == .unusablePath(path: path, reason: reason), "\(error)")
                #expect(error.exitCode == 73)
                #expect(error.description == "\(path): cannot write a file there: \(reason)")
            }
        }
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: dir)) == ["plain", "a", "b"], "no temporary file left")
    }

    /// A Unix socket bound at `path` (its descriptor is left open for the test's life).
    static func bindSocket(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard descriptor >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    static func kind(_ path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : nil
    }

    @Test func directoriesFIFOsSocketsAndDevicesAreRefusedAndStay() throws {
        let dir = try Self.directory()
        #expect(mkdir(dir + "/directory", 0o755) == 0)
        #expect(mkfifo(dir + "/fifo", 0o644) == 0)
        #expect(Self.bindSocket(dir + "/socket"))
        var cases: [(String, String, mode_t)] = [("directory", "a directory", S_IFDIR), ("fifo", "a FIFO", S_IFIFO), ("socket", "a socket", S_IFSOCK)]
        // The null device (makedev(1, 3)), made here when allowed (root), never /dev's own.
        if mknod(dir + "/null", S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0 { cases.append(("null", "a character device", S_IFCHR)) }
        for (name, kind, mode) in cases {
            #expect(throws: AtomicFile.Failure.notRegularFile(path: dir + "/" + name, kind: kind)) {
                try AtomicFile.write(Array("new".utf8), to: dir + "/" + name, existing: .replace)
            }
            #expect(Self.kind(dir + "/" + name) == mode, "\(name) was replaced")
        }
        #expect(AtomicFile.Failure.notRegularFile(path: "p", kind: "a FIFO").exitCode == 73)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).allSatisfy { !$0.hasSuffix(".tmp") })
    }

    @Test func aSymlinkStaysAndItsTargetIsReplaced() throws {
        let dir = try Self.directory()
        try AtomicFile.write(Array("old".utf8), to: dir + "/target", existing: .replace)
        #expect(symlink("target", dir + "/link") == 0)
        #expect(symlink("link", dir + "/link2") == 0)
        try AtomicFile.write(Array("new".utf8), to: dir + "/link2", existing: .replace)
        #expect(Self.kind(dir + "/link2") == S_IFLNK)
        #expect(Self.kind(dir + "/link") == S_IFLNK)
        #expect(try String(contentsOfFile: dir + "/target", encoding: .utf8) == "new")
        // A link to a FIFO is refused like the FIFO, naming both.
        #expect(mkfifo(dir + "/fifo", 0o644) == 0)
        #expect(symlink(dir + "/fifo", dir + "/to-fifo") == 0)
        #expect(throws: AtomicFile.Failure.notRegularFile(path: dir + "/to-fifo", kind: "a FIFO (the symlink's target \(dir)/fifo)")) {
            try AtomicFile.write([1], to: dir + "/to-fifo", existing: .replace)
        }
    }

    @Test func refuseKeepsAnExistingFileAndCreatesAMissingOne() throws {
        let dir = try Self.directory()
        try AtomicFile.write(Array("mine".utf8), to: dir + "/f", existing: .refuse(hint: "--force replaces it"))
        #expect(throws: AtomicFile.Failure.exists(path: dir + "/f", hint: "--force replaces it")) {
            try AtomicFile.write(Array("new".utf8), to: dir + "/f", existing: .refuse(hint: "--force replaces it"))
        }
        #expect(try String(contentsOfFile: dir + "/f", encoding: .utf8) == "mine")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"])
        #expect(AtomicFile.Failure.exists(path: "f", hint: "h").description == "f: already exists; h")
    }

    @Test func aReplacedFileKeepsItsPermissions() throws {
        let path = try Self.directory() + "/private"
        try AtomicFile.write(Array("old".utf8), to: path, existing: .replace)
        #expect(chmod(path, 0o600) == 0)
        try AtomicFile.write(Array("new".utf8), to: path, existing: .replace)
        var status = stat()
        #expect(stat(path, &status) == 0 && status.st_mode & 0o777 == 0o600)
    }

    @Test func staleTemporaryFilesOfDeadProcessesAreRemovedAndOthersKept() throws {
        let dir = try Self.directory()
        // PIDs above Linux's maximum (2^22) never run; PID 1 always does.
        let names = [".f.attnchat-99999999-1.tmp", ".f.attnchat-1-2.tmp", ".f.tmp-99999999-3", ".g.attnchat-99999999-4.tmp", ".f.attnchat-x-5.tmp"]
        for name in names { try AtomicFile.write([0], to: dir + "/" + name, existing: .replace) }
        try AtomicFile.write(Array("new".utf8), to: dir + "/f", existing: .replace)
        #expect(try Set(FileManager.default.contentsOfDirectory(atPath: dir)) == Set(names.dropFirst() + ["f"]))
        #expect(AtomicFile.removeStaleTemporaryFiles(for: dir + "/g") == [dir + "/.g.attnchat-99999999-4.tmp"])
    }

    @Test func makeDirectoryRefusesAFileAndMakesParents() throws {
        let dir = try Self.directory()
        try AtomicFile.makeDirectory(dir + "/a/b/c")
        #expect(Self.kind(dir + "/a/b/c") == S_IFDIR)
        try AtomicFile.makeDirectory(dir + "/a/b/c")
        try AtomicFile.write([1], to: dir + "/file", existing: .replace)
        #expect(throws: AtomicFile.Failure.notDirectory(path: dir + "/file", kind: "a regular file")) { try AtomicFile.makeDirectory(dir + "/file") }
        #expect(throws: AtomicFile.Failure.notDirectory(path: dir + "/file", kind: "a regular file")) { try AtomicFile.makeDirectory(dir + "/file/sub") }
    }

    @Test func splitsPathsIntoDirectoryAndName() {
        #expect(AtomicFile.split("model.safetensors") == (".", "model.safetensors"))
        #expect(AtomicFile.split("/m.st") == ("/", "m.st"))
        #expect(AtomicFile.split("a/b/m.st") == ("a/b", "m.st"))
    }
}
