import Testing
import JSON

@Test func serializesCompactlyInStoredOrder() {
    let value: JSONValue = ["b": [1, 2.5, "x", nil, true], "a": ["c": false]]
    #expect(value.serialized() == #"{"b":[1,2.5,"x",null,true],"a":{"c":false}}"#)
    #expect(value.serialized(sortedKeys: true) == #"{"a":{"c":false},"b":[1,2.5,"x",null,true]}"#)
}

@Test func writesIntegersWithoutFractionAndDoublesShortest() {
    #expect(JSONValue.integer(4).serialized() == "4")
    #expect(JSONValue.integer(.min).serialized() == "-9223372036854775808")
    #expect(JSONValue.number(4).serialized() == "4.0")
    #expect(JSONValue.number(0.1).serialized() == "0.1")
    #expect(JSONValue.number(1e-5).serialized() == "1e-05")
    #expect(JSONValue.number(.nan).serialized() == "null")
    #expect(JSONValue.number(-.infinity).serialized() == "null")
}

@Test func escapesQuotesBackslashesAndControlCharacters() {
    let value = JSONValue.string("q\"b\\n\nt\tc\u{1}\u{1F}d\u{7F}é😀")
    #expect(value.serialized() == #""q\"b\\n\nt\tc\u0001\u001fd"# + "\u{7F}é😀\"")
}

@Test func sortsKeysByCodePoint() {
    let value: JSONValue = ["é": 1, "z": 2, "Z": 3, "😀": 4, "a": 5]
    #expect(value.serialized(sortedKeys: true) == #"{"Z":3,"a":5,"z":2,"é":1,"😀":4}"#)
}

@Test func roundTripsThroughText() throws {
    let doubles: [Double] = [0.1, 1.0 / 3.0, 1e-300, .leastNonzeroMagnitude, 1.7976931348623157e308, -0.0, 123456789.125, 2e16]
    let value: JSONValue = [
        "ints": .array([0, -1, .integer(.max), .integer(.min)]),
        "doubles": .array(doubles.map(JSONValue.number)),
        "strings": ["", "plain", "quote\" back\\ nl\n", "\u{0}\u{1F}", "é中😀\u{10FFFF}"],
        "nested": [[[]], ["": nil], [true, false]],
    ]
    for sorted in [false, true] {
        let reparsed = try JSONValue.parse(value.serialized(sortedKeys: sorted))
        #expect(reparsed == value)
    }
    // -0.0 == 0.0 for Double, so check the sign survives separately.
    #expect(try JSONValue.parse(JSONValue.number(-0.0).serialized()).doubleValue?.sign == .minus)
}

@Test func roundTripsDeepNesting() throws {
    var value: JSONValue = "leaf"
    for depth in 0..<511 { value = depth.isMultiple(of: 2) ? [value] : ["k": value] }
    #expect(try JSONValue.parse(value.serialized()) == value)
}
