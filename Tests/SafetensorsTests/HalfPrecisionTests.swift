import Testing
@testable import Safetensors

@Test func f16ReadsKnownValuesExactly() throws {
    let cases: [(UInt16, Float)] = [
        (0x3C00, 1.0), (0xC100, -2.5), (0x7BFF, 65504), (0x0001, 0x1p-24),
        (0x03FF, 1023 * 0x1p-24), (0x0400, 0x1p-14), (0x0000, 0), (0x3555, 0.333251953125),
    ]
    let data = littleEndianBytes(cases.map(\.0))
    let file = try SafetensorsFile(bytes: image(header: #"{"w":{"dtype":"F16","shape":[\#(cases.count)],"data_offsets":[0,\#(data.count)]}}"#, data: data))
    #expect(try file.floats("w") == cases.map(\.1))
    #expect(floatFromHalfBits(0x8000).sign == .minus)
}

@Test func bf16ReadsKnownValuesExactly() throws {
    let cases: [(UInt16, Float)] = [
        (0x3F80, 1.0), (0xC020, -2.5), (0x477F, 65280), (0x0001, 0x1p-133), (0x7F7F, 0x1.FEp127), (0x0000, 0),
    ]
    let data = littleEndianBytes(cases.map(\.0))
    let file = try SafetensorsFile(bytes: image(header: #"{"w":{"dtype":"BF16","shape":[\#(cases.count)],"data_offsets":[0,\#(data.count)]}}"#, data: data))
    #expect(try file.floats("w") == cases.map(\.1))
}

@Test func f16EncodingRoundsToNearestEven() {
    #expect(halfBits(from: 1.0) == 0x3C00)
    #expect(halfBits(from: -2.5) == 0xC100)
    #expect(halfBits(from: 65504) == 0x7BFF)
    #expect(halfBits(from: 65519) == 0x7BFF)  // just below the halfway point to 65536
    #expect(halfBits(from: 65520) == 0x7C00)  // halfway, ties to even: infinity
    #expect(halfBits(from: 1 + 0x1p-11) == 0x3C00)  // tie between 1 and 1+2^-10 goes to even
    #expect(halfBits(from: 1 + 3 * 0x1p-11) == 0x3C02)  // tie between odd and even goes up
    #expect(halfBits(from: 0x1p-24) == 0x0001)  // smallest subnormal
    #expect(halfBits(from: 0x1p-25) == 0x0000)  // tie to even: zero
    #expect(halfBits(from: 0x1.8p-25) == 0x0001)
    #expect(halfBits(from: 1023 * 0x1p-24) == 0x03FF)  // largest subnormal
    #expect(halfBits(from: 0x1p-14 - 0x1p-26) == 0x0400)  // rounds up into the normal range
    #expect(halfBits(from: -0.0) == 0x8000)
    #expect(halfBits(from: 1e-30) == 0x0000)
    #expect(halfBits(from: .infinity) == 0x7C00)
    #expect(floatFromHalfBits(halfBits(from: .nan)).isNaN)
}

@Test func bf16EncodingRoundsToNearestEven() {
    #expect(bfloat16Bits(from: 1.0) == 0x3F80)
    #expect(bfloat16Bits(from: -2.5) == 0xC020)
    #expect(bfloat16Bits(from: 1 + 0x1p-8) == 0x3F80)  // tie goes to even
    #expect(bfloat16Bits(from: 1 + 3 * 0x1p-8) == 0x3F82)  // tie goes up to even
    #expect(bfloat16Bits(from: 1 + 0x1.2p-8) == 0x3F81)  // above the tie
    #expect(bfloat16Bits(from: .greatestFiniteMagnitude) == 0x7F80)  // rounds up to infinity
    #expect(floatFromBFloat16Bits(bfloat16Bits(from: .nan)).isNaN)
}

@Test func everyHalfAndBFloat16ValueRoundTripsThroughFloat() {
    for bits in UInt16.min...UInt16.max {
        let half = floatFromHalfBits(bits)
        if half.isNaN {
            #expect(floatFromHalfBits(halfBits(from: half)).isNaN)
        } else if halfBits(from: half) != bits {
            Issue.record("F16 \(bits) -> \(half) -> \(halfBits(from: half))")
        }
        let brain = floatFromBFloat16Bits(bits)
        if !brain.isNaN && bfloat16Bits(from: brain) != bits {
            Issue.record("BF16 \(bits) -> \(brain) -> \(bfloat16Bits(from: brain))")
        }
    }
}
