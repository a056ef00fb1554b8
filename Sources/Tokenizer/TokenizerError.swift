import FileIO
import FoundationEssentials
import JSON

/// Every failure the tokenizer library reports: bad files, missing files, I/O, bad arguments and
/// unknown token ids. `description` is one line naming the file, line and offending value;
/// `exitCode` is the sysexits code the command line exits with.
public enum TokenizerError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A vocabulary or merges file could not be read (66 missing, 74 unreadable).
    case file(InputFile.Failure)
    /// The vocabulary directory does not exist (66).
    case noSuchDirectory(path: String)
    /// The vocabulary directory is a file (66).
    case notADirectory(path: String)
    /// A JSON file (vocab.json, tokenizer.json) that does not parse (65).
    case notJSON(path: String, JSONError)
    /// A tokenizer.json this byte-level BPE does not implement, e.g. another model type (65).
    case unsupported(path: String, what: String)
    /// A vocabulary entry that is wrong: an id that is not a non-negative integer, a duplicate
    /// id, a missing special token (65). `line` when it is known.
    case badVocabulary(path: String, line: Int?, reason: String)
    /// A merge rule that is wrong: not two fields, or naming a token the vocabulary lacks (65).
    case badMerge(path: String, line: Int?, reason: String)
    /// A token id outside the vocabulary (65).
    case unknownID(Int)
    /// Training settings that cannot work, e.g. a vocabulary size below 256 (64).
    case badTrainingSettings(String)
    /// Saving `path` failed (74) or was refused by `AtomicFile`'s destination policy: a file the
    /// caller may not replace, a device, FIFO or socket, or no directory to write into (73).
    case output(path: String, AtomicFile.Failure)

    /// The 1-based line in the file at fault, when known.
    public var line: Int? {
        switch self {
        case .notJSON(_, let error): error.line
        case .badVocabulary(_, let line, _), .badMerge(_, let line, _): line
        default: nil
        }
    }

    /// sysexits code: 65 bad data, 66 missing input, 73 refused output, 74 I/O error, 64 usage.
    public var exitCode: Int32 {
        switch self {
        case .file(let failure): failure.exitCode
        case .noSuchDirectory, .notADirectory: 66
        case .notJSON, .unsupported, .badVocabulary, .badMerge, .unknownID: 65
        case .badTrainingSettings: 64
        case .output(_, let failure): failure.exitCode
        }
    }

    public var description: String {
        switch self {
        case .file(let failure): failure.description
        case .noSuchDirectory(let path): "\(path): no such vocabulary directory"
        case .notADirectory(let path): "\(path): not a directory"
        case .notJSON(let path, let error): error.located(in: path)
        case .unsupported(let path, let what): "\(path): unsupported tokenizer.json: \(what)"
        case .badVocabulary(let path, let line, let reason), .badMerge(let path, let line, let reason):
            "\(path)\(line.map { ":\($0)" } ?? ""): \(reason)"
        case .unknownID(let id): "unknown token id \(id)"
        case .badTrainingSettings(let reason): reason
        case .output(let path, let failure):
            if case .system = failure { "\(path): cannot write: \(failure)" } else { failure.description }
        }
    }
}

/// Reads a whole vocabulary or merges file.
func readFile(_ path: String) throws(TokenizerError) -> Data {
    do { return try InputFile.read(path) } catch { throw .file(error) }
}

/// Writes a whole file atomically (a crash never leaves half a vocabulary behind), under
/// `AtomicFile`'s destination policy.
func writeFile(_ data: Data, to path: String, existing: AtomicFile.Existing) throws(TokenizerError) {
    do {
        try AtomicFile.write(Array(data), to: path, existing: existing)
    } catch {
        throw .output(path: path, error)
    }
}
