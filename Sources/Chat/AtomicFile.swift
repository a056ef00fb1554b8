#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes a whole file so that a crash, a kill or a full disk at any moment leaves either the old
/// file or the new one, never a mix: temp file in the same directory, write, fsync, rename over
/// the target, fsync the directory.
enum AtomicFile {
    /// - Throws: a one-line reason (the errno text); the temp file is removed on failure.
    static func write(_ bytes: [UInt8], to path: String) throws(ChatError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        func fail(_ operation: String) -> ChatError {
            let reason = "\(operation): \(String(cString: strerror(errno)))"
            unlink(temporary)
            return .transcript(path: path, reason: reason)
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fail("open") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { close(fd); throw fail("write") }
            written += n
        }
        guard fsync(fd) == 0 else { close(fd); throw fail("fsync") }
        guard close(fd) == 0 else { throw fail("close") }
        guard rename(temporary, path) == 0 else { throw fail("rename") }
        let dirFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirFD >= 0 {
            fsync(dirFD)
            close(dirFD)
        }
    }
}
