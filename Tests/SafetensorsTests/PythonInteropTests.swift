import Testing
@testable import Safetensors

// Written by Python `safetensors` 0.8.0 (torch 2.13) with:
//   save_file({"wte.weight": tensor([1, -2.5, 0.1, 65504, 2**-24, -0.0]).reshape(3, 2),
//              "h.0.ln_1.weight": tensor([1, -2.5, 0.1]).half(), "h.0.ln_1.bias": tensor([1, -2.5, 0.1]).bfloat16(),
//              "ids": tensor([-1, 7]), "mask": tensor([True, False, True]),
//              "empty": zeros(0, 4), "scalar": tensor(42.0)}, path, metadata={"format": "pt"})
private let pythonFixtureHex = """
d8010000000000007b225f5f6d657461646174615f5f223a7b22666f726d6174223a227074227d2c22696473223a7b22
6474797065223a22493634222c227368617065223a5b325d2c22646174615f6f666673657473223a5b302c31365d7d2c
22656d707479223a7b226474797065223a22463332222c227368617065223a5b302c345d2c22646174615f6f66667365
7473223a5b31362c31365d7d2c227363616c6172223a7b226474797065223a22463332222c227368617065223a5b5d2c
22646174615f6f666673657473223a5b31362c32305d7d2c227774652e776569676874223a7b226474797065223a2246
3332222c227368617065223a5b332c325d2c22646174615f6f666673657473223a5b32302c34345d7d2c22682e302e6c
6e5f312e62696173223a7b226474797065223a2242463136222c227368617065223a5b335d2c22646174615f6f666673
657473223a5b34342c35305d7d2c22682e302e6c6e5f312e776569676874223a7b226474797065223a22463136222c22
7368617065223a5b335d2c22646174615f6f666673657473223a5b35302c35365d7d2c226d61736b223a7b2264747970
65223a22424f4f4c222c227368617065223a5b335d2c22646174615f6f666673657473223a5b35362c35395d7d7d2020
ffffffffffffffff0700000000000000000028420000803f000020c0cdcccc3d00e07f470000803300000080803f20c0
cd3d003c00c1662e010001
"""

private let pythonFixture: [UInt8] = {
    let hex = Array(pythonFixtureHex.utf8.filter { $0 != UInt8(ascii: "\n") })
    return stride(from: 0, to: hex.count, by: 2).map { i in
        UInt8(String(decoding: hex[i..<(i + 2)], as: UTF8.self), radix: 16) ?? 0
    }
}()

@Test func readsAFileWrittenByPythonSafetensors() throws {
    let file = try SafetensorsFile(bytes: pythonFixture, name: "python.safetensors")
    #expect(file.metadata == ["format": "pt"])
    #expect(try file.floats("wte.weight") == [1, -2.5, 0.1, 65504, 0x1p-24, -0.0])
    #expect(file["wte.weight"]?.shape == [3, 2])
    // torch rounds 0.1 to F16 and BF16 the same way our writer does.
    #expect(try file.floats("h.0.ln_1.weight") == [1, -2.5, floatFromHalfBits(halfBits(from: 0.1))])
    #expect(try file.floats("h.0.ln_1.bias") == [1, -2.5, floatFromBFloat16Bits(bfloat16Bits(from: 0.1))])
    #expect(try file.withRawBytes(of: "ids") { Array($0) } == littleEndianBytes([Int64(-1), 7]))
    #expect(try file.withRawBytes(of: "mask") { Array($0) } == [1, 0, 1])
    #expect(file["empty"]?.shape == [0, 4])
    #expect(file["scalar"]?.shape == [])
}

@Test func writerOutputIsByteIdenticalToPythonSafetensors() throws {
    let tensors: [SafetensorsWriter.Tensor] = [
        .init(name: "wte.weight", shape: [3, 2], floats: [1, -2.5, 0.1, 65504, 0x1p-24, -0.0]),
        .init(name: "h.0.ln_1.weight", shape: [3], floats: [1, -2.5, 0.1], storedAs: .F16),
        .init(name: "h.0.ln_1.bias", shape: [3], floats: [1, -2.5, 0.1], storedAs: .BF16),
        .init(name: "ids", dtype: .I64, shape: [2], bytes: littleEndianBytes([Int64(-1), 7])),
        .init(name: "mask", dtype: .BOOL, shape: [3], bytes: [1, 0, 1]),
        .init(name: "empty", shape: [0, 4], floats: []),
        .init(name: "scalar", shape: [], floats: [42]),
    ]
    #expect(try SafetensorsWriter.serialize(tensors: tensors, metadata: ["format": "pt"]) == pythonFixture)
}
