import FileIO
import Foundation
import Testing
@testable import Safetensors

private let sampleTensors: [SafetensorsWriter.Tensor] = [
    .init(name: "wte.weight", shape: [3, 2], floats: [1, -2.5, 0.1, 65504, 0x1p-24, -0.0]),
    .init(name: "h.0.ln_1.weight", shape: [2], floats: [1, -2.5], storedAs: .F16),
    .init(name: "h.0.ln_1.bias", shape: [3], floats: [1, -2.5, 3e38], storedAs: .BF16),
    .init(name: "ids", dtype: .I64, shape: [2], bytes: littleEndianBytes([Int64(-1), 7])),
    .init(name: "mask", dtype: .BOOL, shape: [3], bytes: [1, 0, 1]),
    .init(name: "empty", shape: [0, 4], floats: []),
    .init(name: "scalar", shape: [], floats: [42]),
]

@Test func writerOutputReadsBackWithMetadata() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/model.safetensors"
    let metadata = ["format": "pt", "attnchat": #"{"version":1,"n_layer":2}"#]
    try SafetensorsWriter.write(to: path, tensors: sampleTensors, metadata: metadata, existing: .replace)

    let file = try SafetensorsFile(path: path)
    #expect(file.metadata == metadata)
    #expect(Set(file.tensors.map(\.name)) == Set(sampleTensors.map(\.name)))
    #expect(try file.floats("wte.weight") == [1, -2.5, 0.1, 65504, 0x1p-24, -0.0])
    #expect(try file.floats("h.0.ln_1.weight") == [1, -2.5])
    #expect(file["h.0.ln_1.weight"]?.dtype == .F16)
    // 3e38 is not a BF16 value: it comes back rounded to the nearest one.
    #expect(try file.floats("h.0.ln_1.bias") == [1, -2.5, floatFromBFloat16Bits(bfloat16Bits(from: 3e38))])
    #expect(try file.withRawBytes(of: "ids") { Array($0) } == littleEndianBytes([Int64(-1), 7]))
    #expect(try file.withRawBytes(of: "mask") { Array($0) } == [1, 0, 1])
    #expect(file["empty"]?.shape == [0, 4])
    #expect(file["scalar"]?.shape == [])
    #expect(try file.floats("scalar") == [42])
    #expect(try dir.contents() == ["model.safetensors"])
}

@Test func writerAlignsDataAndOrdersTensorsDeterministically() throws {
    let bytes = try SafetensorsWriter.serialize(tensors: sampleTensors, metadata: ["b": "2", "a": "1"])
    let shuffled = try SafetensorsWriter.serialize(tensors: sampleTensors.reversed(), metadata: ["a": "1", "b": "2"])
    #expect(bytes == shuffled)

    let file = try SafetensorsFile(bytes: bytes)
    let dataStart = 8 + Int(bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    #expect(dataStart % 8 == 0)
    for tensor in file.tensors {
        #expect((tensor.byteOffset - dataStart) % tensor.dtype.byteSize == 0, "\(tensor.name) misaligned")
    }
    // Widest dtype first, then by name.
    #expect(file.tensors.map(\.name) == ["ids", "empty", "scalar", "wte.weight", "h.0.ln_1.bias", "h.0.ln_1.weight", "mask"])
    // The header is padded with spaces, and __metadata__ comes first with sorted keys.
    let header = String(decoding: bytes[8..<dataStart], as: UTF8.self)
    #expect(header.hasPrefix(#"{"__metadata__":{"a":"1","b":"2"},"ids":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}"#))
    #expect(header.last == " " || header.last == "}")
}

@Test func writerRejectsInvalidTensorsWithoutTouchingTheTarget() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = try dir.file("model.safetensors", [1, 2, 3])
    let invalid: [([SafetensorsWriter.Tensor], String)] = [
        ([.init(name: "w", shape: [2], floats: [1]), ], "needs 8 bytes, got 4"),
        ([.init(name: "w", shape: [1], floats: [1]), .init(name: "w", shape: [1], floats: [2])], "used twice"),
        ([.init(name: "__metadata__", shape: [1], floats: [1])], "reserved"),
        ([.init(name: "w", shape: [3], floats: [1, .nan, 2])], "element 1 is nan"),
        ([.init(name: "w", dtype: .U8, shape: [-1], bytes: [])], "negative"),
        ([.init(name: "w", dtype: .U8, shape: [1 << 62, 4], bytes: [])], "overflows"),
    ]
    for (tensors, reason) in invalid {
        do {
            try SafetensorsWriter.write(to: path, tensors: tensors, existing: .replace)
            Issue.record("wrote \(tensors.map(\.name))")
        } catch {
            guard case .invalidTensorToWrite(path, _, let message) = error else {
                Issue.record("unexpected \(error)")
                continue
            }
            #expect(message.contains(reason), "\(message)")
        }
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3]))
    #expect(try dir.contents() == ["model.safetensors"])
}

@Test func failedWriteLeavesThePreviousFileIntact() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/model.safetensors"
    try SafetensorsWriter.write(to: path, tensors: sampleTensors, metadata: ["step": "1"], existing: .replace)
    let before = try Data(contentsOf: URL(fileURLWithPath: path))

    let bigger = sampleTensors + [.init(name: "new", shape: [1000], floats: Array(repeating: 1, count: 1000))]
    // Fail in the header, in the data, and one byte before the end.
    for failingAfter in [0, 5, 300, 4000] {
        #expect(throws: SafetensorsError.writeFailed(path: path, operation: "write", errno: EIO)) {
            try SafetensorsWriter.write(to: path, tensors: bigger, metadata: ["step": "2"], failingAfterBytes: failingAfter)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try SafetensorsFile(path: path).metadata == ["step": "1"])
        #expect(try dir.contents() == ["model.safetensors"], "temporary file left behind")
    }
    try SafetensorsWriter.write(to: path, tensors: bigger, metadata: ["step": "2"], existing: .replace)
    #expect(try SafetensorsFile(path: path).metadata == ["step": "2"])
}

/// A missing directory is a refused output (73) naming the path, not a failed create of the
/// temporary file (74).
@Test func writeIntoAMissingDirectoryIsRefusedNamingThePath() {
    let path = "/nonexistent-\(UInt32.random(in: 0...UInt32.max))/model.safetensors"
    do {
        try SafetensorsWriter.write(to: path, tensors: sampleTensors, existing: .replace)
        Issue.record("wrote into a missing directory")
    } catch {
        guard case .outputRefused(.unusablePath(path, _)) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(error.exitCode == 73)
    }
}

@Test func pathSplitsIntoDirectoryAndName() {
    #expect(AtomicFile.split("model.safetensors") == (".", "model.safetensors"))
    #expect(AtomicFile.split("/m.st") == ("/", "m.st"))
    #expect(AtomicFile.split("a/b/m.st") == ("a/b", "m.st"))
}
