import JSON

/// The validated contents of a header: what ``SafetensorsFile`` keeps after loading.
struct Layout {
    var metadata: [String: String] = [:]
    /// Sorted by byte offset.
    var tensors: [TensorInfo] = []

    /// One header entry before the layout check. Offsets are relative to the data section.
    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// Validates a whole file image: header length, header JSON, entries, then the data layout.
    init(validating file: UnsafeRawBufferPointer, path: String) throws(SafetensorsError) {
        guard file.count >= 8 else { throw .fileTooSmall(path: path, size: file.count) }
        let headerLength = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        let (headerEnd, overflow) = headerLength.addingReportingOverflow(8)
        guard !overflow else { throw .headerLengthOverflow(path: path, length: headerLength) }
        guard headerLength <= UInt64(SafetensorsFile.maxHeaderLength) else {
            throw .headerTooLarge(path: path, length: headerLength, limit: SafetensorsFile.maxHeaderLength)
        }
        guard headerEnd <= UInt64(file.count) else {
            throw .headerExceedsFile(path: path, length: headerLength, fileSize: file.count)
        }
        // Both bounds are now known to lie inside the file, so the conversion cannot trap.
        let dataStart = Int(headerEnd)

        let header: JSONValue
        do {
            header = try JSONValue.parse(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
        } catch {
            throw .headerNotJSON(path: path, error)
        }
        guard case .object(let members) = header else {
            throw .headerNotObject(path: path, found: header.kindName)
        }

        var entries: [Entry] = []
        for (name, value) in members.entries {
            if name == "__metadata__" {
                metadata = try Self.metadata(from: value, path: path)
            } else {
                entries.append(try Self.entry(name: name, value: value, path: path))
            }
        }

        // Tiling: sorted by (begin, end), each tensor must start exactly where the last ended.
        // Ties are broken by name only to make the error deterministic.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: String?
        for entry in entries {
            if entry.begin < covered, let previous {
                throw .tensorsOverlap(path: path, tensor: entry.name, previous: previous, begin: entry.begin, previousEnd: covered)
            }
            if entry.begin > covered {
                throw .gapBeforeTensor(path: path, tensor: entry.name, begin: entry.begin, expected: covered)
            }
            covered = entry.end
            previous = entry.name
        }
        let dataLength = file.count - dataStart
        if covered > dataLength { throw .dataSectionTruncated(path: path, expected: covered, actual: dataLength) }
        if covered < dataLength { throw .trailingBytes(path: path, expected: covered, actual: dataLength) }

        // Every end is now <= dataLength, so dataStart + begin stays inside the file.
        tensors = entries.map { entry in
            TensorInfo(name: entry.name, dtype: entry.dtype, shape: entry.shape,
                       byteOffset: dataStart + entry.begin, byteCount: entry.end - entry.begin)
        }
    }

    private static func metadata(from value: JSONValue, path: String) throws(SafetensorsError) -> [String: String] {
        guard case .object(let members) = value else {
            throw .invalidMetadata(path: path, key: "__metadata__", reason: "is a \(value.kindName), expected an object of strings")
        }
        var metadata = [String: String](minimumCapacity: members.count)
        for (key, value) in members.entries {
            guard case .string(let text) = value else {
                throw .invalidMetadata(path: path, key: key, reason: "value is a \(value.kindName), expected a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    /// Checks one tensor entry on its own: field types, dtype, shape arithmetic, and that its
    /// offsets span exactly `shape × dtype` bytes. Unknown extra fields are ignored, as the
    /// reference implementation does.
    private static func entry(name: String, value: JSONValue, path: String) throws(SafetensorsError) -> Entry {
        func invalid(_ field: String, _ reason: String) -> SafetensorsError {
            .invalidTensorEntry(path: path, tensor: name, field: field, reason: reason)
        }
        guard case .object(let fields) = value else {
            throw invalid("entry", "is a \(value.kindName), expected an object")
        }

        guard let dtypeValue = fields["dtype"] else { throw invalid("dtype", "is missing") }
        guard case .string(let dtypeName) = dtypeValue else {
            throw invalid("dtype", "is a \(dtypeValue.kindName), expected a string")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw .unknownDType(path: path, tensor: name, dtype: dtypeName)
        }

        guard let shapeValue = fields["shape"] else { throw invalid("shape", "is missing") }
        guard let shape = nonNegativeInts(shapeValue) else {
            throw invalid("shape", "\(clipped(shapeValue)) is not an array of non-negative integers")
        }
        guard let byteCount = checkedByteCount(shape: shape, byteSize: dtype.byteSize) else {
            throw .shapeOverflow(path: path, tensor: name, shape: shape, dtype: dtype)
        }

        guard let offsetsValue = fields["data_offsets"] else { throw invalid("data_offsets", "is missing") }
        guard let offsets = nonNegativeInts(offsetsValue), offsets.count == 2 else {
            throw invalid("data_offsets", "\(clipped(offsetsValue)) is not [begin, end] with non-negative integers")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw .offsetsReversed(path: path, tensor: name, begin: begin, end: end)
        }
        guard end - begin == byteCount else {
            throw .offsetsMismatchShape(path: path, tensor: name, begin: begin, end: end, shape: shape, dtype: dtype)
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The array's elements when all are integers in `0...Int.max`, else nil.
    private static func nonNegativeInts(_ value: JSONValue) -> [Int]? {
        guard case .array(let elements) = value else { return nil }
        var result: [Int] = []
        result.reserveCapacity(elements.count)  // bounded by the parsed header, not a claimed size
        for element in elements {
            guard let number = element.intValue, number >= 0 else { return nil }
            result.append(number)
        }
        return result
    }

    /// A JSON rendering short enough for a one-line message.
    private static func clipped(_ value: JSONValue) -> String {
        let text = value.serialized()
        return text.count > 60 ? String(text.prefix(60)) + "…" : text
    }
}
