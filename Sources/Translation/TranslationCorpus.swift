import FileIO
import FoundationEssentials

/// One sentence pair of a translation corpus: the source (English) sentence, its target
/// (Spanish) translation, and the line's attribution, which the Tatoeba licence (CC-BY 2.0
/// France) requires wherever the line is redistributed.
public struct TranslationPair: Sendable, Equatable, Hashable {
    public var source: String
    public var target: String
    public var attribution: String

    public init(source: String, target: String, attribution: String) {
        self.source = source
        self.target = target
        self.attribution = attribution
    }
}

/// A tab-separated translation corpus: `source<TAB>target<TAB>attribution` per line, as the
/// Tatoeba English–Spanish file `data/tatoeba/spa.tsv` (`Scripts/fetch-translation-corpus`) is.
///
/// The reading is strict, so a damaged file is one clear error rather than pairs that are
/// silently wrong:
/// - every non-empty line has exactly 3 columns, none of them empty (a pair without text is not
///   a pair; a line without attribution may not be redistributed);
/// - every column is valid UTF-8;
/// - a line may end in CRLF (the CR is dropped with the LF, as a file saved on Windows has it);
///   a CR anywhere else is an error, since it would end up inside a sentence;
/// - empty lines are skipped (a file ending in a blank line reads the same), and a UTF-8 byte
///   order mark at the very start is skipped (it would otherwise be part of the first sentence
///   and change which split it falls in).
///
/// Lines are numbered from 1, counting empty lines, as an editor shows them.
public struct TranslationCorpus: Sendable, Equatable {
    /// The pairs in file order.
    public var pairs: [TranslationPair]

    public init(pairs: [TranslationPair]) {
        self.pairs = pairs
    }

    /// Reads a corpus file.
    /// - Throws: `TranslationError` — 66 when missing, 74 when unreadable, 65 for a malformed line.
    public init(path: String) throws(TranslationError) {
        let data: Data
        do { data = try InputFile.read(path) } catch { throw .file(error) }
        try self.init(data: data, path: path)
    }

    /// Parses a corpus from memory; `path` names it in errors.
    public init(data: Data, path: String = "spa.tsv") throws(TranslationError) {
        let parsed = data.withUnsafeBytes { raw in
            Result { () throws(TranslationError) in try Self.parse(raw.bindMemory(to: UInt8.self), path: path) }
        }
        self.init(pairs: try parsed.get())
    }

    private static let tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
    static let columnNames = ["source", "target", "attribution"]

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, path: String) throws(TranslationError) -> [TranslationPair] {
        var pairs: [TranslationPair] = []
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var lineNumber = 0
        while start < bytes.count {
            lineNumber += 1
            var end = start
            while end < bytes.count && bytes[end] != newline { end += 1 }
            let next = end + 1
            if end > start && bytes[end - 1] == carriageReturn { end -= 1 }
            if end > start {
                let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                pairs.append(try pair(line, path: path, lineNumber: lineNumber))
            }
            start = next
        }
        return pairs
    }

    /// One non-empty line (its line ending removed) as a pair, or the first thing wrong with it.
    private static func pair(_ line: UnsafeBufferPointer<UInt8>, path: String, lineNumber: Int) throws(TranslationError) -> TranslationPair {
        func bad(_ reason: String) -> TranslationError { .badLine(path: path, line: lineNumber, reason: reason) }
        // A tab byte never occurs inside a multi-byte UTF-8 sequence, so columns can be cut
        // before the bytes are decoded.
        let columns = line.split(separator: tab, omittingEmptySubsequences: false)
        guard columns.count == 3 else {
            throw bad("expected 3 tab-separated columns (source, target, attribution), found \(columns.count)")
        }
        if let position = line.firstIndex(of: carriageReturn) {
            throw bad("carriage return (\\r) at byte \(position + 1) of the line; only a CRLF line ending is accepted")
        }
        var texts: [String] = []
        for (index, column) in columns.enumerated() {
            guard !column.isEmpty else { throw bad("empty \(columnNames[index]) (column \(index + 1))") }
            guard let text = String(validating: column, as: UTF8.self) else {
                let offset = column.startIndex + invalidUTF8Offset(UnsafeBufferPointer(rebasing: column))
                throw bad("invalid UTF-8 at byte \(offset + 1) of the line (0x\(hex(line[offset])))")
            }
            texts.append(text)
        }
        return TranslationPair(source: texts[0], target: texts[1], attribution: texts[2])
    }

    /// The offset of the first byte of the first ill-formed sequence in `bytes`.
    private static func invalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .error: return offset
            case .emptyInput: return offset  // not reached: the caller saw the bytes fail to decode
            }
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return digits.count == 1 ? "0" + digits : digits
    }
}

/// A translation corpus that cannot be read: one line naming the file (and the line at fault)
/// and what is wrong, and a sysexits code.
public enum TranslationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read (66 missing, 74 unreadable; 64 for an empty path).
    case file(InputFile.Failure)
    /// A line that is not `source<TAB>target<TAB>attribution` in UTF-8 (65); `line` counts from 1.
    case badLine(path: String, line: Int, reason: String)

    /// sysexits code: 65 bad data, 66 missing input, 74 I/O error.
    public var exitCode: Int32 {
        switch self {
        case .file(let failure): failure.exitCode
        case .badLine: 65
        }
    }

    /// e.g. `data/tatoeba/spa.tsv:7: expected 3 tab-separated columns (source, target, attribution), found 2`.
    public var description: String {
        switch self {
        case .file(let failure): failure.description
        case .badLine(let path, let line, let reason): "\(path):\(line): \(reason)"
        }
    }
}
