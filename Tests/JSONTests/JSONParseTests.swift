import Testing
@testable import JSON

/// Parses `text`, returning the error it throws, or nil when it parses.
func parseError(_ text: String) -> JSONError? {
    do {
        _ = try JSONValue.parse(text)
        return nil
    } catch {
        return error
    }
}

@Test func parsesScalarsWithTheirKinds() throws {
    #expect(try JSONValue.parse("null") == .null)
    #expect(try JSONValue.parse("true") == .bool(true))
    #expect(try JSONValue.parse("false") == .bool(false))
    #expect(try JSONValue.parse("0") == .integer(0))
    #expect(try JSONValue.parse("-0") == .integer(0))
    #expect(try JSONValue.parse("42") == .integer(42))
    #expect(try JSONValue.parse("4.0") == .number(4.0))
    #expect(try JSONValue.parse("1e-05") == .number(1e-05))
    #expect(try JSONValue.parse("-2.5E+3") == .number(-2500))
    #expect(try JSONValue.parse(#""hi""#) == .string("hi"))
}

@Test func keepsIntegersExactAtTheInt64Limits() throws {
    #expect(try JSONValue.parse("9223372036854775807") == .integer(.max))
    #expect(try JSONValue.parse("-9223372036854775808") == .integer(.min))
    // One past the limit no longer fits: it becomes a Double instead of trapping.
    #expect(try JSONValue.parse("9223372036854775808") == .number(0x1p63))
    #expect(try JSONValue.parse("-9223372036854775809") == .number(-0x1p63))
}

@Test func parsesNestedDocumentsInOrder() throws {
    let value = try JSONValue.parse(#" { "b": [1, 2.5, "x", null], "a": {"c": true} } "#)
    #expect(value.objectValue?.keys == ["b", "a"])
    #expect(value["b"]?[0]?.intValue == 1)
    #expect(value["b"]?[1]?.doubleValue == 2.5)
    #expect(value["b"]?[2]?.stringValue == "x")
    #expect(value["b"]?[3]?.isNull == true)
    #expect(value["a"]?["c"]?.boolValue == true)
    #expect(value["missing"] == nil)
    #expect(value["b"]?[4] == nil)
}

@Test func allowsWhitespaceAroundTheDocument() throws {
    #expect(try JSONValue.parse(" \t\r\n[ ]\n  ") == .array([]))
    #expect(try JSONValue.parse("{}") == .object(JSONObject()))
}

@Test func decodesEscapesAndSurrogatePairs() throws {
    #expect(try JSONValue.parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
    #expect(try JSONValue.parse(#""\u00e9\u4E2D""#) == .string("é中"))
    #expect(try JSONValue.parse(#""\uD83D\uDE00!""#) == .string("😀!"))
    #expect(try JSONValue.parse(#""\u0000""#) == .string("\u{0}"))
    #expect(try JSONValue.parse("\"é😀中\"") == .string("é😀中"))
}

@Test(arguments: [
    ("[1,]", "expected a value"),
    ("{\"a\":1,}", "expected a string key"),
    ("01", "leading zero"),
    ("-01", "leading zero"),
    ("1.", "expected a digit after '.'"),
    (".5", "expected a value"),
    ("1e", "expected a digit in the exponent"),
    ("+1", "expected a value"),
    ("-", "expected a digit"),
    ("1e999", "out of range"),
    ("\"a\u{1}b\"", "control character 0x01"),
    ("\"tab\tin string\"", "control character 0x09"),
    ("\"abc", "unterminated string"),
    (#""\x""#, "invalid escape"),
    (#""\u12G4""#, "expected a hex digit"),
    (#""\uD800""#, "lone high surrogate"),
    (#""\uD800\u0041""#, "not followed by a low surrogate"),
    (#""\uDC00""#, "lone low surrogate"),
    ("tru", "invalid literal"),
    ("nul", "invalid literal"),
    ("[1 2]", "expected ',' or ']'"),
    ("{\"a\" 1}", "expected ':'"),
    ("{\"a\":1 \"b\":2}", "expected ',' or '}'"),
    ("{1:2}", "expected a string key"),
    ("[1]]", "after the JSON value"),
    ("1 2", "after the JSON value"),
    ("", "unexpected end of input"),
    ("   ", "unexpected end of input"),
    ("[", "unexpected end of input"),
    ("{\"a\":", "unexpected end of input"),
    ("NaN", "expected a value"),
    ("'a'", "expected a value"),
])
func rejectsMalformedInput(text: String, reason: String) {
    let error = parseError(text)
    #expect(error?.reason.contains(reason) == true, "\(text.debugDescription): \(String(describing: error))")
}

@Test func rejectsInvalidUTF8WithItsByteOffset() {
    let cases: [([UInt8], Int)] = [
        ([0x22, 0x61, 0xFF, 0x22], 2),  // never valid
        ([0x22, 0xC0, 0x80, 0x22], 1),  // overlong NUL
        ([0x22, 0xE0, 0x80, 0x80, 0x22], 2),  // overlong 3-byte
        ([0x22, 0xED, 0xA0, 0x80, 0x22], 2),  // encoded surrogate
        ([0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], 2),  // above U+10FFFF
        ([0x22, 0x61, 0x62, 0xC3, 0x22], 4),  // continuation missing
        ([0x22, 0x5C, 0x6E, 0x80, 0x22], 3),  // stray continuation after an escape
        ([0x5B, 0xC3, 0xA9, 0x5D], 1),  // non-ASCII outside a string
    ]
    for (bytes, offset) in cases {
        do {
            _ = try JSONValue.parse(bytes)
            Issue.record("accepted \(bytes)")
        } catch {
            #expect(error.offset == offset, "\(bytes): \(error)")
        }
    }
}

@Test func rejectsDuplicateKeysNamingTheKey() {
    let error = parseError(#"{"a": 1, "b": 2, "a": 3}"#)
    #expect(error?.reason == #"duplicate key "a""#)
    #expect(error?.offset == 17)
    // Past the size where lookups switch to a hash index, too.
    let many = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ",")
    #expect(parseError("{\(many), \"k33\": 0}")?.reason == #"duplicate key "k33""#)
    // The same key in different objects is fine.
    #expect(parseError(#"{"a": {"a": 1}, "b": {"a": 2}}"#) == nil)
}

@Test func reportsLineAndColumn() {
    let error = parseError("{\n  \"a\": 1,\n  \"b\" 2\n}")
    #expect(error?.line == 3)
    #expect(error?.column == 7)
    #expect(error?.offset == 18)
    #expect(error?.description == "line 3, column 7 (byte 18): unexpected '2', expected ':'")
}

@Test func limitsNestingDepthWithAnErrorNotACrash() throws {
    let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
    #expect(parseError(ok) == nil)
    let tooDeep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
    #expect(parseError(tooDeep)?.reason == "nesting deeper than 512 levels")
    // Far deeper than any call stack would survive: still just an error.
    let absurd = String(repeating: "{\"a\":", count: 200_000)
    #expect(parseError(absurd)?.offset == 512 * 5)
    #expect(parseError(String(repeating: "[", count: 10), maxDepth: 4)?.reason == "nesting deeper than 4 levels")
}

func parseError(_ text: String, maxDepth: Int) -> JSONError? {
    do {
        _ = try JSONValue.parse(text, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

@Test func parsesFromAnyByteCollection() throws {
    let bytes = Array(#"{"x": [1, 2]}"#.utf8)
    let expected: JSONValue = ["x": [1, 2]]
    #expect(try JSONValue.parse(bytes) == expected)
    #expect(try JSONValue.parse(bytes[...]) == expected)
    #expect(try bytes.withUnsafeBytes { try JSONValue.parse($0) } == expected)
    // Not contiguous: goes through the copying path.
    #expect(try JSONValue.parse(bytes.lazy.map { $0 }) == expected)
}

@Test func objectEqualityIgnoresKeyOrder() throws {
    #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) == JSONValue.parse(#"{"b":2,"a":1}"#))
    #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) != JSONValue.parse(#"{"a":1,"b":3}"#))
    #expect(try JSONValue.parse(#"{"a":1}"#) != JSONValue.parse(#"{"a":1,"b":2}"#))
    #expect(JSONValue.integer(1) != JSONValue.number(1))
}

@Test func objectSubscriptSetsAppendsAndRemoves() {
    var object: JSONObject = ["a": 1]
    object["b"] = 2
    object["a"] = 3
    #expect(object.keys == ["a", "b"])
    #expect(object["a"] == 3)
    object["a"] = nil
    #expect(object.keys == ["b"])
    for i in 0..<30 { object["k\(i)"] = .integer(Int64(i)) }
    object["k3"] = nil
    #expect(object["k29"] == 29)
    #expect(object["k3"] == nil)
    #expect(object.count == 30)
}
