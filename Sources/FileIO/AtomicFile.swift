#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// Files replaced all at once: a crash, a kill or a full disk at any moment leaves either the
/// old file or the new one, never a mix. The new bytes go to a temporary file in the same
/// directory (so the rename cannot cross file systems), which is fsynced, renamed over the
/// target, and then the directory is fsynced so the rename itself survives a power cut.
///
/// Every file attnchat writes goes through here, under one destination policy
/// (`destination(_:existing:)`): a symlink is followed (the link stays, its final target is
/// replaced), anything but a regular file — a directory, a device, a FIFO, a socket — is refused,
/// never replaced, and an existing file is replaced only when the caller says so (`Existing`).
/// Temporary files are named `.NAME.attnchat-PID-RANDOM.tmp`; those of a process that no longer
/// runs (a kill -9 mid-write) are removed by the next write of NAME.
public enum AtomicFile {
    /// What a write does when a regular file is already at its destination.
    public enum Existing: Sendable, Equatable {
        /// Replace it: a checkpoint, a transcript rewritten after each reply, or the user's `--force`.
        case replace
        /// Refuse with `Failure.exists`; `hint` tells the user how to ask for a replacement
        /// (e.g. "--force replaces it").
        case refuse(hint: String)
    }

    /// Why a write did not happen: the destination is refused by the policy, or a system call failed.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// A regular file is there and the caller asked not to replace it (EX_CANTCREAT, 73).
        case exists(path: String, hint: String)
        /// A directory, device, FIFO or socket is there (`kind`, e.g. "a character device"); it
        /// is never replaced (EX_CANTCREAT, 73).
        case notRegularFile(path: String, kind: String)
        /// Something other than a directory is where an output directory goes (`kind`, e.g.
        /// "a regular file") (EX_CANTCREAT, 73).
        case notDirectory(path: String, kind: String)
        /// `mkdir` of an output directory failed with errno `code` (EX_CANTCREAT, 73).
        case cannotCreateDirectory(path: String, code: Int32)
        /// A failed system call: which one (e.g. "rename", "fsync directory runs") and its errno (EX_IOERR, 74).
        case system(operation: String, code: Int32)
        /// Another live process holds `claimDirectory` on it (`holder`: its pid, if known) (EX_CANTCREAT, 73).
        case claimed(path: String, holder: String)
        /// No file can be made at `path`: its directory is missing, a component is not a
        /// directory, its links loop, it ends in "/", or its name is too long (EX_CANTCREAT, 73).
        case unusablePath(path: String, reason: String)

        /// e.g. "rename: No space left on device", "out.st: already exists; --force replaces it".
        public var description: String {
            switch self {
            case .exists(let path, let hint):
                return "\(path): already exists; \(hint)"
            case .notRegularFile(let path, let kind):
                return "\(path): is \(kind), not a regular file; attnchat does not write over it"
            case .notDirectory(let path, let kind):
                return "\(path): is \(kind), not a directory"
            case .cannotCreateDirectory(let path, let code):
                return "\(path): cannot create the directory: \(String(cString: strerror(code)))"
            case .system(let operation, let code):
                guard let text = strerror(code) else { return "\(operation): errno \(code)" }
                return "\(operation): \(String(cString: text))"
            case .unusablePath(let path, let reason):
                return "\(path): cannot write a file there: \(reason)"
            case .claimed(let path, let holder):
                return "\(path): another attnchat run is writing there\(holder.isEmpty ? "" : " (pid \(holder))"); wait for it or choose another directory"
            }
        }

        /// sysexits code: 73 for a refused destination, 74 for a failed system call.
        public var exitCode: Int32 {
            switch self {
            case .exists, .notRegularFile, .notDirectory, .cannotCreateDirectory, .claimed, .unusablePath: 73
            case .system: 74
            }
        }
    }

    /// The file a write to `path` lands in, under the destination policy: symlinks followed to
    /// their final target (which may not exist yet), and whether a regular file is there now.
    /// Also the check commands make before long work, so a refused output fails at once.
    /// - Throws: `.notRegularFile` for a directory, device, FIFO or socket (at `path` or at the
    ///   end of its links); `.exists` for a regular file under `.refuse`; `.unusablePath` when no
    ///   file can be made there (a missing directory, ENOTDIR, a link loop, a trailing "/", a name
    ///   too long for the temporary file); `.system` when `lstat` or `readlink` fails otherwise.
    public static func destination(_ path: String, existing: Existing) throws(Failure) -> (path: String, exists: Bool) {
        guard !path.hasSuffix("/") else { throw .unusablePath(path: path, reason: "it ends in \"/\", so it names a directory") }
        var current = path
        var links = 0
        while true {
            var status = stat()
            guard lstat(current, &status) == 0 else {
                let code = errno
                switch code {
                case ENOENT:
                    // The file may be new, but its directory must be there: otherwise the error
                    // would name the temporary file instead of the path the user gave.
                    let (directory, fileName) = split(current)
                    var parent = stat()
                    guard stat(directory, &parent) == 0, parent.st_mode & S_IFMT == S_IFDIR else {
                        throw .unusablePath(path: path, reason: "its directory \(directory) does not exist")
                    }
                    // The temporary file beside it adds about 30 bytes to the name.
                    guard fileName.utf8.count <= Int(NAME_MAX) - 40 else {
                        throw .unusablePath(path: path, reason: "the file name is \(fileName.utf8.count) bytes; attnchat's temporary file beside it needs it at most \(Int(NAME_MAX) - 40)")
                    }
                    return (current, false)
                case ENOTDIR: throw .unusablePath(path: path, reason: "a part of it is not a directory")
                case ELOOP: throw .unusablePath(path: path, reason: "too many levels of symbolic links (a link loop)")
                case ENAMETOOLONG: throw .unusablePath(path: path, reason: "the name is too long")
                default: throw .system(operation: "stat \(current)", code: code)
                }
            }
            switch status.st_mode & S_IFMT {
            case S_IFREG:
                if case .refuse(let hint) = existing { throw .exists(path: path, hint: hint) }
                guard split(current).fileName.utf8.count <= Int(NAME_MAX) - 40 else {
                    throw .unusablePath(path: path, reason: "the file name is \(split(current).fileName.utf8.count) bytes; attnchat's temporary file beside it needs it at most \(Int(NAME_MAX) - 40)")
                }
                return (current, true)
            case S_IFLNK:
                links += 1
                guard links <= 40 else { throw .unusablePath(path: path, reason: "too many levels of symbolic links (a link loop)") }
                var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let count = readlink(current, &buffer, buffer.count - 1)
                guard count >= 0 else { throw .system(operation: "readlink \(current)", code: errno) }
                let target = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                current = target.hasPrefix("/") ? target : split(current).directory + "/" + target
                continue
            default:
                let kind = kindName(status.st_mode)
                throw .notRegularFile(path: path, kind: current == path ? kind : kind + " (the symlink's target \(current))")
            }
        }
    }

    /// "a directory", "a character device", … for a `st_mode`.
    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFIFO: "a FIFO"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symlink"
        default: "a special file"
        }
    }

    /// Makes the output directory `path` and its missing parents (`mkdir -p`); an existing
    /// directory, or a symlink to one, is fine.
    /// - Throws: `.notDirectory` when a file or device is there, `.cannotCreateDirectory` when
    ///   `mkdir` fails (read-only file system, no permission).
    public static func makeDirectory(_ path: String) throws(Failure) {
        var status = stat()
        if stat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFDIR else { throw .notDirectory(path: path, kind: kindName(status.st_mode)) }
            return
        }
        let parent = split(path).directory
        if parent != path && parent != "." && parent != "/" { try makeDirectory(parent) }
        guard mkdir(path, 0o755) == 0 else {
            let code = errno
            // Made meanwhile by someone else (fine if a directory), or a dangling symlink.
            if code == EEXIST && stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR { return }
            if code == EEXIST && lstat(path, &status) == 0 { throw .notDirectory(path: path, kind: kindName(status.st_mode)) }
            throw .cannotCreateDirectory(path: path, code: code)
        }
    }

    /// Writes `path` with what `body` writes to the temporary file's descriptor, under the
    /// destination policy (`destination(_:existing:)`).
    ///
    /// - Parameters:
    ///   - existing: whether a regular file already at `path` may be replaced.
    ///   - body: writes the new contents (use `writeAll`); a throw abandons the new version.
    ///   - failure: turns a refusal or a failed system call into the caller's error type.
    ///   - requireDirectorySync: whether a failed fsync of the directory after the rename is an
    ///     error. The new file is in place by then; only its survival of a power cut is in doubt,
    ///     and some file systems refuse directory fsync altogether.
    /// - Throws: `body`'s error or `failure(...)`; the temporary file is removed and `path` is as
    ///   it was, except after the rename, when only the directory's fsync failed.
    public static func replace<E: Error>(
        _ path: String, existing: Existing, requireDirectorySync: Bool = true, failure: (Failure) -> E,
        _ body: (Int32) throws(E) -> Void
    ) throws(E) {
        let target: (path: String, exists: Bool)
        do { target = try destination(path, existing: existing) } catch { throw failure(error) }
        let (directory, fileName) = split(target.path)
        removeStaleTemporaryFiles(directory: directory, fileName: fileName)
        let temporaryPath = "\(directory)/\(temporaryPrefix(fileName))\(getpid())-\(UInt32.random(in: 0...UInt32.max))\(temporarySuffix)"
        // errno is read before the message is built: building a string may call malloc.
        func fail(_ code: Int32, _ operation: @autoclosure () -> String) -> E { failure(.system(operation: operation(), code: code)) }
        let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw fail(errno, "create \(temporaryPath)") }
        do throws(E) {
            // A replaced file keeps its permissions (a private transcript stays private).
            var old = stat()
            if target.exists && stat(target.path, &old) == 0 { _ = fchmod(descriptor, old.st_mode & 0o777) }
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
        if case .refuse = existing {
            // link(2) never replaces: a file that appeared since `destination` was checked wins.
            try linkWithoutReplacing(temporaryPath, target.path, userPath: path, existing: existing, failure: failure)
        } else {
            guard rename(temporaryPath, target.path) == 0 else {
                let error = fail(errno, "rename")
                unlink(temporaryPath)
                throw error
            }
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else {
            if requireDirectorySync { throw fail(errno, "open directory \(directory)") }
            return
        }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 || !requireDirectorySync else { throw fail(errno, "fsync directory \(directory)") }
    }

    /// Moves the finished temporary file to `target` only if nothing is there: link, then unlink
    /// the temporary name. File systems without hard links fall back to a fresh check and rename.
    private static func linkWithoutReplacing<E: Error>(
        _ temporaryPath: String, _ target: String, userPath: String, existing: Existing, failure: (Failure) -> E
    ) throws(E) {
        if link(temporaryPath, target) == 0 {
            unlink(temporaryPath)
            return
        }
        let code = errno
        guard code == EPERM || code == EOPNOTSUPP || code == ENOSYS || code == EMLINK else {
            unlink(temporaryPath)
            if code == EEXIST, case .refuse(let hint) = existing { throw failure(.exists(path: userPath, hint: hint)) }
            throw failure(.system(operation: "link", code: code))
        }
        do {
            _ = try destination(target, existing: existing)
        } catch {
            unlink(temporaryPath)
            throw failure(error)
        }
        guard rename(temporaryPath, target) == 0 else {
            let error = failure(.system(operation: "rename", code: errno))
            unlink(temporaryPath)
            throw error
        }
    }

    /// `.NAME.attnchat-`: every temporary file of NAME starts so; then `PID-RANDOM.tmp`.
    static func temporaryPrefix(_ fileName: String) -> String { ".\(fileName).attnchat-" }
    static let temporarySuffix = ".tmp"

    /// Removes the temporary files that writes of `path` (its final target, when a symlink) left
    /// behind in processes that no longer run (killed mid-write). Only names of attnchat's own
    /// scheme with a PID that is not running are touched: another attnchat writing the same file
    /// right now is alive, and its file stays. Every write does this first; `train` also at its
    /// start, before the first checkpoint.
    /// - Returns: the paths removed.
    @discardableResult
    public static func removeStaleTemporaryFiles(for path: String) -> [String] {
        guard let target = try? destination(path, existing: .replace) else { return [] }
        let (directory, fileName) = split(target.path)
        return removeStaleTemporaryFiles(directory: directory, fileName: fileName).map { directory + "/" + $0 }
    }

    /// `removeStaleTemporaryFiles(for:)` for the file `fileName` in `directory`; the names removed.
    @discardableResult
    static func removeStaleTemporaryFiles(directory: String, fileName: String) -> [String] {
        let prefix = temporaryPrefix(fileName)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var removed: [String] = []
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(temporarySuffix) {
            let parts = name.dropFirst(prefix.count).dropLast(temporarySuffix.count).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let pid = Int32(parts[0]), pid > 0, UInt32(parts[1]) != nil, pid != getpid() else { continue }
            guard kill(pid, 0) != 0 && errno == ESRCH else { continue }
            let path = directory + "/" + name
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Writes `bytes` to `path` under the destination policy (`replace(_:existing:...)`).
    public static func write(_ bytes: [UInt8], to path: String, existing: Existing, requireDirectorySync: Bool = true) throws(Failure) {
        try replace(path, existing: existing, requireDirectorySync: requireDirectorySync, failure: { $0 }) { descriptor throws(Failure) in
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
        let code = Descriptor.writeAll(descriptor, buffer)
        if code != 0 { throw .system(operation: "write", code: code) }
    }

    /// ("dir", "name") for "dir/name"; (".", "name") for a bare name; ("/", "name") for "/name".
    public static func split(_ path: String) -> (directory: String, fileName: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }
}

extension AtomicFile {
    /// Claims `directory` for this process until it exits: an exclusive `flock` on
    /// `directory/.attnchat.lock` (the file holds the pid, for the message). The per-file checks
    /// run before a long job, so two runs started together into one directory both passed them
    /// and then rewrote each other's files; the claim makes the second one stop at once. The
    /// kernel drops the lock when the process ends, however it ends, so a killed run never
    /// leaves the directory blocked.
    /// - Throws: `.claimed` (73) when another live process holds it; `.system` (74) when the
    ///   lock file cannot be made.
    public static func claimDirectory(_ directory: String) throws(Failure) {
        let path = directory + "/.attnchat.lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .system(operation: "open \(path)", code: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var bytes = [UInt8](repeating: 0, count: 32)
            let got = pread(descriptor, &bytes, bytes.count, 0)
            close(descriptor)
            if code == EWOULDBLOCK {
                let holder = String(decoding: bytes.prefix(max(0, got)).prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
                throw .claimed(path: directory, holder: !holder.isEmpty && holder.allSatisfy(\.isNumber) ? holder : "")
            }
            throw .system(operation: "flock \(path)", code: code)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        // The descriptor stays open on purpose: the lock lives as long as the process.
    }
}
