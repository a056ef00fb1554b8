import FileIO
import JSON

/// Why a safetensors file could not be read or written.
///
/// Every case carries the path and the offending tensor, field or value, and ``description`` is
/// one line meant for stderr, e.g.
/// `model.safetensors: tensor "h.0.attn.c_attn.weight": data_offsets [0, 100] do not match shape [48, 144] x F32 (27648 bytes)`.
/// ``exitCode`` maps the case to sysexits.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    // The file itself
    /// The path names no readable regular file (missing, a directory, a FIFO, …): `InputFile`'s
    /// one classification, shared with every other input.
    case file(InputFile.Failure)
    /// A system call failed while reading; `errno` is kept for the message.
    case readFailed(path: String, operation: String, errno: Int32)
    case fileTooSmall(path: String, size: Int)

    // The header
    case headerLengthOverflow(path: String, length: UInt64)
    case headerTooLarge(path: String, length: UInt64, limit: Int)
    case headerExceedsFile(path: String, length: UInt64, fileSize: Int)
    case headerNotJSON(path: String, JSONError)
    case headerNotObject(path: String, found: String)
    case invalidMetadata(path: String, key: String, reason: String)
    case invalidTensorEntry(path: String, tensor: String, field: String, reason: String)
    case unknownDType(path: String, tensor: String, dtype: String)
    case shapeOverflow(path: String, tensor: String, shape: [Int], dtype: DType)

    // Layout of the data section
    case offsetsReversed(path: String, tensor: String, begin: Int, end: Int)
    case offsetsMismatchShape(path: String, tensor: String, begin: Int, end: Int, shape: [Int], dtype: DType)
    case tensorsOverlap(path: String, tensor: String, previous: String, begin: Int, previousEnd: Int)
    case gapBeforeTensor(path: String, tensor: String, begin: Int, expected: Int)
    case dataSectionTruncated(path: String, expected: Int, actual: Int)
    case trailingBytes(path: String, expected: Int, actual: Int)

    // Access
    case tensorNotFound(path: String, tensor: String)
    /// From ``SafetensorsFile/checkTensors(_:optional:allowExtra:)``; lists are sorted by name.
    case tensorsMismatch(path: String, missing: [String], unexpected: [String], wrongShapes: [ShapeMismatch])
    case notConvertibleToFloat(path: String, tensor: String, dtype: DType)
    case nonFiniteValue(path: String, tensor: String, index: Int, value: Float)

    // Writing
    case invalidTensorToWrite(path: String, tensor: String, reason: String)
    case writeFailed(path: String, operation: String, errno: Int32)
    /// The destination is refused by `AtomicFile`'s policy: a file the caller may not replace, or
    /// a directory, device, FIFO or socket (exit 73).
    case outputRefused(AtomicFile.Failure)

    /// sysexits code: `InputFile.Failure`'s for the path (66 for a missing or non-regular file),
    /// 74 (EX_IOERR) for a failed read or write, 73 (EX_CANTCREAT) for a refused destination,
    /// 65 (EX_DATAERR) for everything malformed.
    public var exitCode: Int32 {
        switch self {
        case .file(let failure): return failure.exitCode
        case .readFailed, .writeFailed: return 74
        case .outputRefused(let failure): return failure.exitCode
        default: return 65
        }
    }

    public var description: String {
        switch self {
        case .file(let failure):
            return failure.description
        case .readFailed(let path, let operation, let errno):
            return "\(path): \(operation) failed: \(errnoDescription(errno))"
        case .outputRefused(let failure):
            return failure.description
        case .fileTooSmall(let path, let size):
            return "\(path): file is \(size) bytes, too small for a safetensors header (at least 8)"
        case .headerLengthOverflow(let path, let length):
            return "\(path): header length \(length) overflows"
        case .headerTooLarge(let path, let length, let limit):
            return "\(path): header length \(length) exceeds the \(limit)-byte limit"
        case .headerExceedsFile(let path, let length, let fileSize):
            return "\(path): header length \(length) runs past the end of the \(fileSize)-byte file"
        case .headerNotJSON(let path, let error):
            return "\(path): header is not valid JSON: \(error)"
        case .headerNotObject(let path, let found):
            return "\(path): header is a JSON \(found), expected an object"
        case .invalidMetadata(let path, let key, let reason):
            return "\(path): __metadata__ \(quoted(key)): \(reason)"
        case .invalidTensorEntry(let path, let tensor, let field, let reason):
            return "\(path): tensor \(quoted(tensor)): \(field) \(reason)"
        case .unknownDType(let path, let tensor, let dtype):
            return "\(path): tensor \(quoted(tensor)): unsupported dtype \(quoted(dtype))"
        case .shapeOverflow(let path, let tensor, let shape, let dtype):
            return "\(path): tensor \(quoted(tensor)): shape \(shape) x \(dtype) overflows"
        case .offsetsReversed(let path, let tensor, let begin, let end):
            return "\(path): tensor \(quoted(tensor)): data_offsets [\(begin), \(end)] end before they begin"
        case .offsetsMismatchShape(let path, let tensor, let begin, let end, let shape, let dtype):
            let expected = checkedByteCount(shape: shape, byteSize: dtype.byteSize).map(String.init) ?? "?"
            return "\(path): tensor \(quoted(tensor)): data_offsets [\(begin), \(end)] do not match shape \(shape) x \(dtype) (\(expected) bytes)"
        case .tensorsOverlap(let path, let tensor, let previous, let begin, let previousEnd):
            return "\(path): tensor \(quoted(tensor)): data_offsets begin at \(begin), inside tensor \(quoted(previous)) which ends at \(previousEnd)"
        case .gapBeforeTensor(let path, let tensor, let begin, let expected):
            return "\(path): tensor \(quoted(tensor)): data_offsets begin at \(begin), leaving a gap after byte \(expected)"
        case .dataSectionTruncated(let path, let expected, let actual):
            return "\(path): data section is \(actual) bytes, tensors need \(expected) (truncated file)"
        case .trailingBytes(let path, let expected, let actual):
            return "\(path): data section is \(actual) bytes, tensors cover \(expected) (\(actual - expected) trailing bytes)"
        case .tensorNotFound(let path, let tensor):
            return "\(path): no tensor named \(quoted(tensor))"
        case .tensorsMismatch(let path, let missing, let unexpected, let wrongShapes):
            var problems: [String] = []
            if !missing.isEmpty { problems.append("missing " + listed(missing.map(quoted))) }
            if !unexpected.isEmpty { problems.append("unexpected " + listed(unexpected.map(quoted))) }
            if !wrongShapes.isEmpty {
                problems.append(listed(wrongShapes.map { "\(quoted($0.name)) has shape \($0.actual), expected \($0.expected)" }))
            }
            return "\(path): tensors do not match the model: " + problems.joined(separator: "; ")
        case .notConvertibleToFloat(let path, let tensor, let dtype):
            return "\(path): tensor \(quoted(tensor)): dtype \(dtype) cannot be read as floats (expected F32, F16 or BF16)"
        case .nonFiniteValue(let path, let tensor, let index, let value):
            return "\(path): tensor \(quoted(tensor)): element \(index) is \(value), weights must be finite"
        case .invalidTensorToWrite(let path, let tensor, let reason):
            return "\(path): cannot write tensor \(quoted(tensor)): \(reason)"
        case .writeFailed(let path, let operation, let errno):
            return "\(path): \(operation) failed: \(errnoDescription(errno))"
        }
    }
}

/// `text` in JSON double quotes, cut to 80 characters, so names with odd bytes stay on one line.
func quoted(_ text: String) -> String {
    let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
    return JSONValue.string(shown).serialized()
}
