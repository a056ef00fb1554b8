import Foundation

/// A corpus that cannot be read: one line naming the file and what is wrong, and a sysexits code.
public struct CorpusError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        case badData, missingInput, io
    }

    public var kind: Kind
    public var path: String
    public var message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// sysexits code: 65 bad data, 66 missing input, 74 I/O error.
    public var exitCode: Int32 {
        switch kind {
        case .badData: 65
        case .missingInput: 66
        case .io: 74
        }
    }

    public var description: String { "\(path): \(message)" }

    static func read(_ path: String) throws -> Data {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CorpusError(.missingInput, path: path, "no such file")
        }
        if isDirectory.boolValue { throw CorpusError(.io, path: path, "is a directory, expected a file") }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw CorpusError(.io, path: path, "cannot read: \(error.localizedDescription)")
        }
    }
}

/// Plain text corpora.
public enum TextCorpus {
    /// Reads a UTF-8 text file. Policy for invalid UTF-8: each maximal invalid sequence becomes
    /// U+FFFD (the file still trains; a byte-level tokenizer could not round-trip it anyway).
    public static func read(path: String) throws -> String {
        String(decoding: try CorpusError.read(path), as: UTF8.self)
    }
}
