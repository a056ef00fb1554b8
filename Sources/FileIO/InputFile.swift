import Foundation

/// Whole files read for parsing — a vocabulary, a corpus — with the ways that fails worded once,
/// for every module that reads one.
public enum InputFile {
    /// Why a file could not be read: one line naming the path, and a sysexits code.
    public enum Failure: Error, CustomStringConvertible, Equatable, Sendable {
        /// Nothing at `path` (EX_NOINPUT, 66).
        case notFound(path: String)
        /// A directory where a file was expected (EX_IOERR, 74).
        case isDirectory(path: String)
        /// The file exists but reading it failed (EX_IOERR, 74).
        case unreadable(path: String, reason: String)

        public var path: String {
            switch self {
            case .notFound(let path), .isDirectory(let path), .unreadable(let path, _): path
            }
        }

        /// e.g. `data/chat.txt: no such file`.
        public var description: String {
            switch self {
            case .notFound(let path): "\(path): no such file"
            case .isDirectory(let path): "\(path): is a directory, expected a file"
            case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
            }
        }

        /// sysexits code: 66 missing input, 74 I/O error.
        public var exitCode: Int32 {
            switch self {
            case .notFound: 66
            case .isDirectory, .unreadable: 74
            }
        }
    }

    /// The bytes of the file at `path`.
    public static func read(_ path: String) throws(Failure) -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .notFound(path: path) }
        if isDirectory.boolValue { throw .isDirectory(path: path) }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
    }
}
