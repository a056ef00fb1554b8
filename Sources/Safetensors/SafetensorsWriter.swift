import FileIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import JSON

/// Writes safetensors files that Python's `safetensors` and ``SafetensorsFile`` load.
///
/// Layout is deterministic: tensors ordered by dtype width (widest first) then name, so each
/// tensor starts aligned to its element size; the header JSON is padded with spaces so the data
/// section starts at a multiple of 8 bytes; `__metadata__` comes first with sorted keys.
///
/// Writing to a path is atomic: the bytes go to a temporary file in the same directory, which
/// is fsynced and renamed over the target, and then the directory is fsynced. A crash or a
/// failure at any point leaves the previous file intact (at worst a stray `.name.tmp-*` file
/// after a crash; a failure that is caught removes it).
public enum SafetensorsWriter {
    /// One tensor to write.
    public struct Tensor: Sendable {
        public let name: String
        public let dtype: DType
        /// Dimensions, outermost first (row-major).
        public let shape: [Int]
        let payload: Payload

        enum Payload: Sendable {
            /// Little-endian bytes written as they are.
            case bytes([UInt8])
            /// Converted to `dtype` (F32, F16 or BF16) while writing.
            case floats([Float])
        }

        /// Raw little-endian element bytes; `bytes.count` must equal product(shape) × dtype size.
        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.payload = .bytes(bytes)
        }

        /// Float values stored as F32, or rounded to nearest-even F16/BF16 while writing.
        /// `floats.count` must equal product(shape).
        /// - Precondition: `dtype` is F32, F16 or BF16.
        public init(name: String, shape: [Int], floats: [Float], storedAs dtype: DType = .F32) {
            precondition(dtype.isFloatConvertible, "floats can be stored as F32, F16 or BF16, not \(dtype)")
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.payload = .floats(floats)
        }

        var payloadByteCount: Int {
            switch payload {
            case .bytes(let bytes): return bytes.count
            case .floats(let floats): return floats.count * dtype.byteSize
            }
        }
    }

    /// Atomically writes a safetensors file holding `tensors` and `metadata` to `path`, under
    /// `AtomicFile`'s destination policy (`existing`: whether a file there may be replaced).
    ///
    /// Throws `.invalidTensorToWrite` (nothing is written) for a duplicate or reserved name, a
    /// payload whose size does not match its shape, or a non-finite float (the reader's policy
    /// is to reject those, so the writer refuses to produce them); `.writeFailed` for a failed
    /// system call, after removing the temporary file; `.outputRefused` (nothing is written) for a
    /// destination that is a directory, device, FIFO or socket, or exists under `.refuse`.
    public static func write(
        to path: String, tensors: [Tensor], metadata: [String: String] = [:], existing: AtomicFile.Existing
    ) throws(SafetensorsError) {
        try write(to: path, tensors: tensors, metadata: metadata, existing: existing, failingAfterBytes: nil)
    }

    /// The file's bytes in memory (for embedding, tests and fuzzing).
    public static func serialize(tensors: [Tensor], metadata: [String: String] = [:], name: String = "<memory>") throws(SafetensorsError) -> [UInt8] {
        let plan = try Plan(tensors: tensors, metadata: metadata, path: name)
        var sink = ArraySink()
        sink.bytes.reserveCapacity(plan.totalByteCount)
        try plan.emit(into: &sink)
        return sink.bytes
    }

    /// `write(to:tensors:metadata:)` with a fault injected after `failingAfterBytes` bytes of
    /// the temporary file, so tests can show that a failed write leaves the old file alone.
    static func write(
        to path: String, tensors: [Tensor], metadata: [String: String], existing: AtomicFile.Existing = .replace, failingAfterBytes: Int?
    ) throws(SafetensorsError) {
        let plan = try Plan(tensors: tensors, metadata: metadata, path: path)
        try AtomicFile.replace(path, existing: existing, failure: { SafetensorsError(path: path, $0) }) { descriptor throws(SafetensorsError) in
            var sink = FileSink(descriptor: descriptor, path: path, failingAfterBytes: failingAfterBytes)
            try plan.emit(into: &sink)
        }
    }
}

// MARK: - The plan: everything validated and laid out before the first byte is written

extension SafetensorsWriter {
    struct Plan {
        /// Header length prefix + padded header.
        var prefix: [UInt8]
        /// Tensors in file order.
        var ordered: [Tensor]
        var totalByteCount: Int

        init(tensors: [Tensor], metadata: [String: String], path: String) throws(SafetensorsError) {
            var seen = Set<String>()
            for tensor in tensors {
                func invalid(_ reason: String) -> SafetensorsError {
                    .invalidTensorToWrite(path: path, tensor: tensor.name, reason: reason)
                }
                guard tensor.name != "__metadata__" else { throw invalid("the name is reserved") }
                guard seen.insert(tensor.name).inserted else { throw invalid("the name is used twice") }
                guard let expected = checkedByteCount(shape: tensor.shape, byteSize: tensor.dtype.byteSize) else {
                    throw invalid("shape \(tensor.shape) x \(tensor.dtype) overflows or has a negative dimension")
                }
                guard expected == tensor.payloadByteCount else {
                    throw invalid("shape \(tensor.shape) x \(tensor.dtype) needs \(expected) bytes, got \(tensor.payloadByteCount)")
                }
                if case .floats(let floats) = tensor.payload, let index = floats.firstIndex(where: { !$0.isFinite }) {
                    throw invalid("element \(index) is \(floats[index]), weights must be finite")
                }
                // A finite float above the stored type's range would be written as infinity,
                // which the reader then refuses: refuse here, where the fix (another dtype) is known.
                if case .floats(let floats) = tensor.payload, tensor.dtype == .F16 || tensor.dtype == .BF16 {
                    let overflows: (Float) -> Bool = tensor.dtype == .F16
                        ? { halfBits(from: $0) & 0x7FFF == 0x7C00 } : { bfloat16Bits(from: $0) & 0x7FFF == 0x7F80 }
                    if let index = floats.firstIndex(where: overflows) {
                        let largest = tensor.dtype == .F16 ? "65504" : "3.39e38"
                        throw invalid("element \(index) is \(floats[index]), beyond \(tensor.dtype)'s largest value \(largest) (it would be stored as infinity); use a wider dtype such as F32")
                    }
                }
            }
            ordered = tensors.sorted { ($0.dtype, $0.name) < ($1.dtype, $1.name) }

            var header = JSONObject()
            if !metadata.isEmpty {
                let sorted = metadata.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
                header["__metadata__"] = .object(JSONObject(uniqueKeysWithValues: sorted.map { ($0.key, JSONValue.string($0.value)) }))
            }
            var offset = 0
            for tensor in ordered {
                let end = offset + tensor.payloadByteCount
                header[tensor.name] = [
                    "dtype": .string(tensor.dtype.rawValue),
                    "shape": .array(tensor.shape.map { .integer(Int64($0)) }),
                    "data_offsets": [.integer(Int64(offset)), .integer(Int64(end))],
                ]
                offset = end
            }
            var headerBytes = JSONValue.object(header).serializedBytes()
            let padding = (8 - (8 + headerBytes.count) % 8) % 8
            headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))

            var prefix: [UInt8] = []
            Self.appendLittleEndian(UInt64(headerBytes.count), to: &prefix)
            prefix.append(contentsOf: headerBytes)
            self.prefix = prefix
            totalByteCount = prefix.count + offset
        }

        func emit<Sink: ByteSink>(into sink: inout Sink) throws(SafetensorsError) {
            try sink.write(contentsOf: prefix)
            for tensor in ordered {
                switch tensor.payload {
                case .bytes(let bytes):
                    try sink.write(contentsOf: bytes)
                case .floats(let floats):
                    try Self.emit(floats, as: tensor.dtype, into: &sink)
                }
            }
        }

        /// Converts in fixed-size chunks so a large tensor never needs a second full-size copy.
        static func emit<Sink: ByteSink>(_ floats: [Float], as dtype: DType, into sink: inout Sink) throws(SafetensorsError) {
            let chunkLength = 16_384
            var chunk: [UInt8] = []
            chunk.reserveCapacity(chunkLength * 4)
            var start = 0
            while start < floats.count {
                let end = min(start + chunkLength, floats.count)
                chunk.removeAll(keepingCapacity: true)
                for value in floats[start..<end] {
                    switch dtype {
                    case .F32: appendLittleEndian(value.bitPattern, to: &chunk)
                    case .F16: appendLittleEndian(halfBits(from: value), to: &chunk)
                    case .BF16: appendLittleEndian(bfloat16Bits(from: value), to: &chunk)
                    default: preconditionFailure("floats stored as \(dtype)")
                    }
                }
                try sink.write(contentsOf: chunk)
                start = end
            }
        }

        static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
    }
}

// MARK: - Sinks

protocol ByteSink {
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws(SafetensorsError)
}

extension ByteSink {
    mutating func write(contentsOf bytes: [UInt8]) throws(SafetensorsError) {
        // Array.withUnsafeBytes rethrows untyped errors, so the typed error rides in a Result.
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(SafetensorsError) in try write(buffer) }
        }
        try result.get()
    }
}

struct ArraySink: ByteSink {
    var bytes: [UInt8] = []
    mutating func write(_ buffer: UnsafeRawBufferPointer) throws(SafetensorsError) {
        bytes.append(contentsOf: buffer)
    }
}

extension SafetensorsError {
    /// `AtomicFile`'s failure as this module's: a failed system call is `.writeFailed`, a refused
    /// destination `.outputRefused`.
    init(path: String, _ failure: AtomicFile.Failure) {
        if case .system(let operation, let code) = failure {
            self = .writeFailed(path: path, operation: operation, errno: code)
        } else {
            self = .outputRefused(failure)
        }
    }
}

/// Writes everything, retrying short writes and EINTR; ENOSPC and the rest become `.writeFailed`.
struct FileSink: ByteSink {
    let descriptor: Int32
    let path: String
    /// Test hook: pretend the disk fails (EIO) once this many bytes are written.
    let failingAfterBytes: Int?
    var written = 0

    mutating func write(_ buffer: UnsafeRawBufferPointer) throws(SafetensorsError) {
        var chunk = buffer
        var injectFault = false
        if let limit = failingAfterBytes, written + chunk.count > limit {
            chunk = UnsafeRawBufferPointer(rebasing: chunk[0..<max(0, limit - written)])
            injectFault = true
        }
        do {
            try AtomicFile.writeAll(descriptor, chunk)
        } catch {
            throw SafetensorsError(path: path, error)
        }
        written += chunk.count
        if injectFault {
            throw .writeFailed(path: path, operation: "write", errno: EIO)
        }
    }
}
