import Foundation

/// Every failure the tokenizer library reports: bad files, missing files, I/O, bad arguments and
/// unknown token ids. `description` is one line naming the file, line and offending value;
/// `exitCode` is the sysexits code the command line exits with.
public struct TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// Malformed or unsupported content (sysexits EX_DATAERR, 65).
        case badData
        /// A file or directory that does not exist (EX_NOINPUT, 66).
        case missingInput
        /// Reading or writing failed (EX_IOERR, 74).
        case io
        /// A bad argument from the caller, e.g. a vocabulary size below 256 (EX_USAGE, 64).
        case usage
    }

    public var kind: Kind
    /// The file concerned, if any.
    public var path: String?
    /// 1-based line in that file, if known.
    public var line: Int?
    /// What is wrong, naming the value (e.g. `merge "a zz" names unknown token "zz"`).
    public var message: String

    public init(_ kind: Kind, path: String? = nil, line: Int? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.message = message
    }

    /// sysexits code: 65 bad data, 66 missing input, 74 I/O error, 64 usage.
    public var exitCode: Int32 {
        switch kind {
        case .badData: 65
        case .missingInput: 66
        case .io: 74
        case .usage: 64
        }
    }

    public var description: String {
        var location = path ?? ""
        if let line { location += location.isEmpty ? "line \(line)" : ":\(line)" }
        return location.isEmpty ? message : "\(location): \(message)"
    }

    static func unknownID(_ id: Int) -> TokenizerError {
        TokenizerError(.badData, "unknown token id \(id)")
    }
}

/// Reads a whole file, mapping failures to `TokenizerError` (66 when absent, 74 otherwise).
func readFile(_ path: String) throws -> Data {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw TokenizerError(.missingInput, path: path, "no such file")
    }
    if isDirectory.boolValue { throw TokenizerError(.io, path: path, "is a directory, expected a file") }
    do {
        return try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw TokenizerError(.io, path: path, "cannot read: \(error.localizedDescription)")
    }
}

/// Writes a whole file atomically (a crash never leaves half a vocabulary behind).
func writeFile(_ data: Data, to path: String) throws {
    do {
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw TokenizerError(.io, path: path, "cannot write: \(error.localizedDescription)")
    }
}
