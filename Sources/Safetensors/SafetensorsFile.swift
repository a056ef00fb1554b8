#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FileIO
import JSON

/// A validated, read-only safetensors file.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON header, then the data
/// section. Loading checks everything before touching tensor data: the header length against
/// the file size and ``maxHeaderLength`` (with overflow-checked arithmetic), the JSON (strict,
/// duplicate keys rejected), every dtype and shape (overflow-checked products), and that the
/// tensors' `data_offsets` tile the data section exactly: from 0, no gaps, no overlaps, no
/// trailing bytes. Nothing is allocated from a size the file claims until it has been checked
/// against the bytes actually present.
///
/// `@unchecked Sendable` is sound because the storage is a private, read-only mapping (or a
/// private copy) that is never written after `init` and is released only in `deinit`; every
/// stored property is immutable.
///
/// A file mapped from disk must not be truncated by another process while it is open: reading
/// a page past the new end of a mapping raises SIGBUS. attnchat writes its files atomically
/// (see ``SafetensorsWriter``), which replaces the directory entry and never truncates in place.
public final class SafetensorsFile: @unchecked Sendable {
    /// The header may not be longer than this (bytes); the same cap as Python's `safetensors`.
    public static let maxHeaderLength = 100_000_000

    /// The path (or name, for in-memory files) used in error messages.
    public let path: String
    /// The string pairs of the header's `__metadata__` object (empty when absent).
    public let metadata: [String: String]
    /// All tensors, in data-section order.
    public let tensors: [TensorInfo]
    private let tensorIndex: [String: Int]
    /// The whole file.
    private let storage: UnsafeRawBufferPointer
    private let isMapped: Bool

    /// Opens and memory-maps `path` read-only, then validates the header and layout.
    public convenience init(path: String) throws(SafetensorsError) {
        let storage = try Self.map(path: path)
        do {
            let layout = try Layout(validating: storage, path: path)
            self.init(path: path, storage: storage, isMapped: true, layout: layout)
        } catch {
            munmap(UnsafeMutableRawPointer(mutating: storage.baseAddress), storage.count)
            throw error
        }
    }

    /// Validates a file held in memory (an embedded model, a test case); the bytes are copied.
    /// - Parameter name: stands in for the path in error messages.
    public convenience init(bytes: some Collection<UInt8>, name: String = "<memory>") throws(SafetensorsError) {
        // Allocate at least one byte so the buffer always has a base address; 16-byte aligned
        // so F32 data at an aligned offset is aligned in memory too.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        _ = copy.initializeMemory(as: UInt8.self, from: bytes)
        let storage = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(copy)[0..<bytes.count])
        do {
            let layout = try Layout(validating: storage, path: name)
            self.init(path: name, storage: storage, isMapped: false, layout: layout)
        } catch {
            copy.deallocate()
            throw error
        }
    }

    private init(path: String, storage: UnsafeRawBufferPointer, isMapped: Bool, layout: Layout) {
        self.path = path
        self.storage = storage
        self.isMapped = isMapped
        self.metadata = layout.metadata
        self.tensors = layout.tensors
        var index = [String: Int](minimumCapacity: layout.tensors.count)
        for (position, tensor) in layout.tensors.enumerated() { index[tensor.name] = position }
        self.tensorIndex = index
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: storage.baseAddress), storage.count)
        } else {
            storage.deallocate()
        }
    }

    /// The tensor called `name`, or nil.
    public subscript(name: String) -> TensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor called `name`, or `.tensorNotFound`.
    public func tensor(named name: String) throws(SafetensorsError) -> TensorInfo {
        guard let info = self[name] else { throw .tensorNotFound(path: path, tensor: name) }
        return info
    }

    /// Calls `body` with the tensor's bytes, in place (no copy). The pointer is valid only
    /// inside `body` and may be unaligned.
    public func withRawBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try tensor(named: name)
        return try body(bytes(of: info))
    }

    /// The tensor's values as `Float`, converted from F32, F16 or BF16 (exactly: every F16 and
    /// BF16 value is a Float).
    ///
    /// NaN/Inf policy: weights must be finite. A NaN or infinity is rejected with
    /// `.nonFiniteValue` naming the tensor and the first bad element's index, because a model
    /// with one non-finite weight only ever produces non-finite logits.
    /// - Returns: `elementCount` values in row-major order.
    public func floats(_ name: String) throws(SafetensorsError) -> [Float] {
        let info = try tensor(named: name)
        guard info.dtype.isFloatConvertible else {
            throw .notConvertibleToFloat(path: path, tensor: name, dtype: info.dtype)
        }
        var failure: SafetensorsError?
        let values = [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            do throws(SafetensorsError) {
                try convert(info, into: buffer)
            } catch {
                failure = error
            }
            // `convert` writes every element before it checks finiteness.
            initialized = info.elementCount
        }
        if let failure { throw failure }
        return values
    }

    /// ``floats(_:)`` into caller-owned memory, e.g. a slice of one parameter allocation.
    /// - Precondition: `destination.count == elementCount` (check the shape first).
    public func copyFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(SafetensorsError) {
        let info = try tensor(named: name)
        guard info.dtype.isFloatConvertible else {
            throw .notConvertibleToFloat(path: path, tensor: name, dtype: info.dtype)
        }
        precondition(destination.count == info.elementCount, "destination holds \(destination.count) floats, tensor \(name) has \(info.elementCount)")
        try convert(info, into: destination)
    }

    private func bytes(of info: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: storage[info.byteOffset..<(info.byteOffset + info.byteCount)])
    }

    /// Converts every element, then reports the first non-finite one. Checking with a
    /// branch-free OR over exponent bits keeps the common all-finite case fast.
    private func convert(_ info: TensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws(SafetensorsError) {
        let source = bytes(of: info)
        let count = info.elementCount
        var sawNonFinite = false
        switch info.dtype {
        case .F32:
            for i in 0..<count {
                let bits = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
                destination[i] = Float(bitPattern: bits)
                sawNonFinite = sawNonFinite || (bits & 0x7F80_0000 == 0x7F80_0000)
            }
        case .F16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = floatFromHalfBits(bits)
                sawNonFinite = sawNonFinite || (bits & 0x7C00 == 0x7C00)
            }
        case .BF16:
            for i in 0..<count {
                let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = floatFromBFloat16Bits(bits)
                sawNonFinite = sawNonFinite || (bits & 0x7F80 == 0x7F80)
            }
        default:
            preconditionFailure("convert called for \(info.dtype)")
        }
        if sawNonFinite, let index = destination.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteValue(path: path, tensor: info.name, index: index, value: destination[index])
        }
    }

    /// Opens, checks and maps `path`. The descriptor is closed before returning; the mapping
    /// stays valid without it.
    private static func map(path: String) throws(SafetensorsError) -> UnsafeRawBufferPointer {
        let descriptor: Int32, size: Int
        do { (descriptor, size) = try InputFile.open(path) } catch { throw .file(error) }
        defer { close(descriptor) }
        guard size >= 8 else { throw .fileTooSmall(path: path, size: size) }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            let code = errno
            throw .readFailed(path: path, operation: "mmap", errno: code)
        }
        return UnsafeRawBufferPointer(start: address, count: size)
    }
}
