import FileIO
import FoundationEssentials
import JSON

/// A corpus that cannot be read: one line naming the file and what is wrong, and a sysexits code.
public enum CorpusError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read (66 missing, 74 unreadable).
    case file(InputFile.Failure)
    /// `dataset.json` does not parse (65).
    case notJSON(path: String, JSONError)
    /// `dataset.json` parses but is not shaped as the dataset is, naming the conversation,
    /// turn and field at fault (65).
    case badDataset(path: String, reason: String)

    /// sysexits code: 65 bad data, 66 missing input, 74 I/O error.
    public var exitCode: Int32 {
        switch self {
        case .file(let failure): failure.exitCode
        case .notJSON, .badDataset: 65
        }
    }

    public var description: String {
        switch self {
        case .file(let failure): failure.description
        case .notJSON(let path, let error): error.located(in: path)
        case .badDataset(let path, let reason): "\(path): \(reason)"
        }
    }

    /// The bytes of a corpus file.
    static func read(_ path: String) throws(CorpusError) -> Data {
        do { return try InputFile.read(path) } catch { throw .file(error) }
    }
}

/// Plain text corpora.
public enum TextCorpus {
    /// Reads a UTF-8 text file. Policy for invalid UTF-8: each maximal invalid sequence becomes
    /// U+FFFD (the file still trains; a byte-level tokenizer could not round-trip it anyway).
    public static func read(path: String) throws(CorpusError) -> String {
        String(decoding: try CorpusError.read(path), as: UTF8.self)
    }
}
