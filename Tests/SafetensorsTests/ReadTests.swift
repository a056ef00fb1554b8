import Foundation
import Testing
@testable import Safetensors

@Test func whitespacePaddedHeaderLoads() throws {
    let entry = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    for header in ["  \(entry)", "\(entry)      ", "\n\t \(entry) \r\n"] {
        let file = try SafetensorsFile(bytes: image(header: header, data: f32Bytes([1, 2])))
        #expect(try file.floats("w") == [1, 2])
    }
}

@Test func exposesMetadataAndTensorsInOffsetOrder() throws {
    let header = #"""
        {"__metadata__":{"format":"pt","config":"{\"n_layer\":2}"},
         "b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},
         "a":{"dtype":"U8","shape":[2,2],"data_offsets":[0,4]},
         "empty":{"dtype":"F16","shape":[0,3],"data_offsets":[12,12]}}
        """#
    let file = try SafetensorsFile(bytes: image(header: header, data: [1, 2, 3, 4] + f32Bytes([0.5, -1])))
    #expect(file.metadata == ["format": "pt", "config": #"{"n_layer":2}"#])
    #expect(file.tensors.map(\.name) == ["a", "b", "empty"])
    let dataStart = 8 + header.utf8.count
    #expect(file["a"] == TensorInfo(name: "a", dtype: .U8, shape: [2, 2], byteOffset: dataStart, byteCount: 4))
    #expect(file["b"]?.elementCount == 2)
    #expect(file["empty"]?.elementCount == 0)
    #expect(try file.floats("empty") == [])
    #expect(try file.floats("b") == [0.5, -1])
    #expect(try file.withRawBytes(of: "a") { Array($0) } == [1, 2, 3, 4])
}

@Test func scalarTensorHasOneElement() throws {
    let file = try SafetensorsFile(bytes: image(header: #"{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#, data: f32Bytes([7])))
    #expect(file["s"]?.elementCount == 1)
    #expect(try file.floats("s") == [7])
}

@Test func lookupOfAMissingTensorThrows() throws {
    let file = try SafetensorsFile(bytes: image(header: "{}"), name: "m.safetensors")
    #expect(throws: SafetensorsError.tensorNotFound(path: "m.safetensors", tensor: "wte.weight")) {
        try file.floats("wte.weight")
    }
    #expect(file["wte.weight"] == nil)
}

@Test func floatsRefusesIntegerTensors() throws {
    let file = try SafetensorsFile(bytes: image(header: #"{"ids":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: littleEndianBytes([Int64(3)])))
    #expect(throws: SafetensorsError.notConvertibleToFloat(path: "<memory>", tensor: "ids", dtype: .I64)) {
        try file.floats("ids")
    }
}

@Test(arguments: [
    (DType.F32, f32Bytes([1, 2, .nan, 4]), 2),
    (DType.F32, f32Bytes([.infinity, 0]), 0),
    (DType.F16, littleEndianBytes([UInt16(0x3C00), 0x3C00, 0x3C00, 0xFC00]), 3),  // -inf
    (DType.F16, littleEndianBytes([UInt16(0x7E00)]), 0),  // NaN
    (DType.BF16, littleEndianBytes([UInt16(0x3F80), 0x7FC0]), 1),  // NaN
])
func nonFiniteWeightsAreRejectedWithTensorAndIndex(dtype: DType, data: [UInt8], index: Int) throws {
    let count = data.count / dtype.byteSize
    let header = #"{"h.3.mlp.c_fc.weight":{"dtype":"\#(dtype)","shape":[\#(count)],"data_offsets":[0,\#(data.count)]}}"#
    let file = try SafetensorsFile(bytes: image(header: header, data: data), name: "model.safetensors")
    do {
        _ = try file.floats("h.3.mlp.c_fc.weight")
        Issue.record("accepted a non-finite weight")
    } catch {
        guard case .nonFiniteValue(let path, let tensor, let reported, let value) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(path == "model.safetensors")
        #expect(tensor == "h.3.mlp.c_fc.weight")
        #expect(reported == index)
        #expect(!value.isFinite)
        #expect(error.description.contains(#"tensor "h.3.mlp.c_fc.weight": element \#(index) is"#))
    }
}

@Test func copyFloatsFillsCallerMemory() throws {
    let file = try SafetensorsFile(bytes: image(header: #"{"w":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]}}"#, data: littleEndianBytes([UInt16(0x3F80), 0xC020, 0x0000])))
    var destination = [Float](repeating: .nan, count: 3)
    try destination.withUnsafeMutableBufferPointer { try file.copyFloats("w", into: $0) }
    #expect(destination == [1, -2.5, 0])
}

@Test func mappedFileReadsTheSameAsBytes() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let bytes = image(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, data: f32Bytes([1, -2, 3.5]))
    let path = try dir.file("w.safetensors", bytes)
    let file = try SafetensorsFile(path: path)
    #expect(file.path == path)
    #expect(try file.floats("w") == [1, -2, 3.5])
    #expect(try file.withRawBytes(of: "w") { Array($0) } == Array(bytes.suffix(12)))
}
