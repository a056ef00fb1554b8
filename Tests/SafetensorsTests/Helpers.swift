import Foundation
import Testing
@testable import Safetensors

/// A fresh directory under the system temp dir, removed by the caller with `remove()`.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let filePath = "\(path)/\(name)"
        try Data(bytes).write(to: URL(fileURLWithPath: filePath))
        return filePath
    }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A safetensors image from a header text and data bytes; `length` overrides the header length.
func image(header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let headerBytes = Array(header.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (length ?? UInt64(headerBytes.count)).littleEndian) { bytes.append(contentsOf: $0) }
    return bytes + headerBytes + data
}

/// The error loading `bytes` throws, or nil when it loads.
func loadError(_ bytes: [UInt8]) -> SafetensorsError? {
    do {
        _ = try SafetensorsFile(bytes: bytes, name: "t.safetensors")
        return nil
    } catch {
        return error
    }
}

func loadError(path: String) -> SafetensorsError? {
    do {
        _ = try SafetensorsFile(path: path)
        return nil
    } catch {
        return error
    }
}

func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    var bytes: [UInt8] = []
    for value in values { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
    return bytes
}

func f32Bytes(_ values: [Float]) -> [UInt8] { littleEndianBytes(values.map(\.bitPattern)) }

/// SplitMix64: a tiny seeded generator so fuzzing is reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
