#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Files replaced all at once: a crash, a kill or a full disk at any moment leaves either the
/// old file or the new one, never a mix. The new bytes go to a temporary file in the same
/// directory (so the rename cannot cross file systems), which is fsynced, renamed over the
/// target, and then the directory is fsynced so the rename itself survives a power cut.
public enum AtomicFile {
    /// A failed system call: which one (e.g. "rename", "fsync directory runs") and its errno.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var operation: String
        public var code: Int32
        public init(operation: String, code: Int32) {
            self.operation = operation
            self.code = code
        }
        /// e.g. "rename: No space left on device".
        public var description: String {
            guard let text = strerror(code) else { return "\(operation): errno \(code)" }
            return "\(operation): \(String(cString: text))"
        }
    }

    /// Replaces `path` with what `body` writes to the temporary file's descriptor.
    ///
    /// - Parameters:
    ///   - body: writes the new contents (use `writeAll`); a throw abandons the new version.
    ///   - failure: turns a failed system call into the caller's error type.
    ///   - requireDirectorySync: whether a failed fsync of the directory after the rename is an
    ///     error. The new file is in place by then; only its survival of a power cut is in doubt,
    ///     and some file systems refuse directory fsync altogether.
    /// - Throws: `body`'s error or `failure(...)`; the temporary file is removed and `path` is as
    ///   it was, except after the rename, when only the directory's fsync failed.
    public static func replace<E: Error>(
        _ path: String, requireDirectorySync: Bool = true, failure: (Failure) -> E, _ body: (Int32) throws(E) -> Void
    ) throws(E) {
        let (directory, fileName) = split(path)
        let temporaryPath = "\(directory)/.\(fileName).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // errno is read before the message is built: building a string may call malloc.
        func fail(_ code: Int32, _ operation: @autoclosure () -> String) -> E { failure(Failure(operation: operation(), code: code)) }
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fail(errno, "create \(temporaryPath)") }
        do throws(E) {
            try body(descriptor)
            guard fsync(descriptor) == 0 else { throw fail(errno, "fsync") }
        } catch {
            close(descriptor)
            unlink(temporaryPath)
            throw error
        }
        guard close(descriptor) == 0 else {
            let error = fail(errno, "close")
            unlink(temporaryPath)
            throw error
        }
        guard rename(temporaryPath, path) == 0 else {
            let error = fail(errno, "rename")
            unlink(temporaryPath)
            throw error
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else {
            if requireDirectorySync { throw fail(errno, "open directory \(directory)") }
            return
        }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 || !requireDirectorySync else { throw fail(errno, "fsync directory \(directory)") }
    }

    /// Replaces `path` with `bytes`.
    public static func write(_ bytes: [UInt8], to path: String, requireDirectorySync: Bool = true) throws(Failure) {
        try replace(path, requireDirectorySync: requireDirectorySync, failure: { $0 }) { descriptor throws(Failure) in
            // withUnsafeBytes rethrows untyped errors; carry the typed one out by hand.
            var failed: Failure?
            bytes.withUnsafeBytes { buffer in
                do throws(Failure) { try writeAll(descriptor, buffer) } catch { failed = error }
            }
            if let failed { throw failed }
        }
    }

    /// Writes every byte of `buffer` to `descriptor`, retrying interrupted and short writes.
    public static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) throws(Failure) {
        var remaining = buffer
        while let base = remaining.baseAddress, !remaining.isEmpty {
            let result = writeToDescriptor(descriptor, base, remaining.count)
            if result < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "write", code: errno)
            }
            // A regular file never accepts zero bytes of a non-empty write; retrying could spin.
            if result == 0 { throw Failure(operation: "write", code: EIO) }
            remaining = UnsafeRawBufferPointer(rebasing: remaining[result...])
        }
    }

    /// ("dir", "name") for "dir/name"; (".", "name") for a bare name; ("/", "name") for "/name".
    public static func split(_ path: String) -> (directory: String, fileName: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

/// `write(2)`, under a name that methods called `write` do not shadow.
private func writeToDescriptor(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
