import FoundationEssentials
import Glibc

/// Input files — a model, a vocabulary, a corpus, a config — with the ways opening and reading
/// one fails classified and worded once, for every module that reads one.
public enum InputFile {
    /// Why a file could not be read: one line naming the path, and a sysexits code. Every way
    /// the path itself is wrong is EX_NOINPUT (66: "did not exist or was not readable"); a read
    /// that fails on a good file is EX_IOERR (74); an empty path is a usage error (64).
    public enum Failure: Error, CustomStringConvertible, Equatable, Sendable {
        /// The path is "" (a shell variable that was not set): 64.
        case emptyPath
        /// Nothing at `path` (66).
        case notFound(path: String)
        /// The file exists but this user may not read it (66).
        case permissionDenied(path: String)
        /// A symbolic link that (eventually) points at itself (66).
        case symlinkLoop(path: String)
        /// A directory where a file was expected (66).
        case isDirectory(path: String)
        /// A FIFO, device or socket where a file was expected (66): reading one blocks forever
        /// (a FIFO without a writer) or never ends (/dev/zero).
        case notARegularFile(path: String, kind: String)
        /// The file exists but opening or reading it failed otherwise (EIO, …) (74).
        case unreadable(path: String, reason: String)

        public var path: String {
            switch self {
            case .emptyPath: ""
            case .notFound(let path), .permissionDenied(let path), .symlinkLoop(let path), .isDirectory(let path),
                .notARegularFile(let path, _), .unreadable(let path, _):
                path
            }
        }

        /// e.g. `data/chat.txt: no such file`.
        public var description: String {
            switch self {
            case .emptyPath: "a file path is empty (\"\")"
            case .notFound(let path): "\(path): no such file"
            case .permissionDenied(let path): "\(path): permission denied"
            case .symlinkLoop(let path): "\(path): too many levels of symbolic links (a link loop)"
            case .isDirectory(let path): "\(path): is a directory, expected a file"
            case .notARegularFile(let path, let kind): "\(path): is \(kind), expected a regular file"
            case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
            }
        }

        /// sysexits code: 64 empty path, 66 a path that names no readable file, 74 I/O error.
        public var exitCode: Int32 {
            switch self {
            case .emptyPath: 64
            case .notFound, .permissionDenied, .symlinkLoop, .isDirectory, .notARegularFile: 66
            case .unreadable: 74
            }
        }
    }

    /// Opens `path` read-only and checks that it is a regular file; the caller closes the
    /// descriptor. Returns it with the file's size.
    public static func open(_ path: String) throws(Failure) -> (descriptor: Int32, size: Int) {
        guard !path.isEmpty else { throw .emptyPath }
        // O_NONBLOCK so a FIFO without a writer cannot block the open; fstat then refuses it.
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if descriptor < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw .notFound(path: path)
            case EACCES, EPERM: throw .permissionDenied(path: path)
            case ELOOP: throw .symlinkLoop(path: path)
            case EISDIR: throw .isDirectory(path: path)
            default: throw .unreadable(path: path, reason: reason(code))
            }
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let code = errno
            close(descriptor)
            throw .unreadable(path: path, reason: reason(code))
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            return (descriptor, Int(clamping: status.st_size))
        case let type:
            close(descriptor)
            switch type {
            case S_IFDIR: throw .isDirectory(path: path)
            case S_IFIFO: throw .notARegularFile(path: path, kind: "a FIFO")
            case S_IFCHR: throw .notARegularFile(path: path, kind: "a character device")
            case S_IFBLK: throw .notARegularFile(path: path, kind: "a block device")
            case S_IFSOCK: throw .notARegularFile(path: path, kind: "a socket")
            default: throw .notARegularFile(path: path, kind: "a special file")
            }
        }
    }

    /// The bytes of the file at `path`.
    public static func read(_ path: String) throws(Failure) -> Data {
        let (descriptor, size) = try open(path)
        defer { close(descriptor) }
        // Data(count:) of more than the machine holds traps in the allocator: refuse instead.
        guard UInt64(size) <= ProcessInfo.processInfo.physicalMemory else {
            throw .unreadable(path: path, reason: "it is \(size) bytes, more than this machine's memory (\(ProcessInfo.processInfo.physicalMemory) bytes)")
        }
        return try readToEnd(descriptor, expectedSize: size, path: path)
    }

    /// Standard input, read to its end (`tokenizer encode -`); `name` is what a failure calls it.
    public static func readStandardInput(name: String = "standard input") throws(Failure) -> Data {
        try readToEnd(STDIN_FILENO, expectedSize: 0, path: name)
    }

    private static func readToEnd(_ descriptor: Int32, expectedSize size: Int, path: String) throws(Failure) -> Data {
        var data = Data(count: size)
        var filled = 0
        while true {
            if filled == data.count { data.count += max(4096, data.count / 2) }  // the file grew
            let got = data.withUnsafeMutableBytes { buffer in
                Glibc.read(descriptor, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if got > 0 {
                filled += got
            } else if got == 0 {
                break
            } else if errno != EINTR {
                throw .unreadable(path: path, reason: reason(errno))
            }
        }
        data.count = filled
        return data
    }

    /// strerror's wording with the number, e.g. "Input/output error (errno 5)".
    public static func reason(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
