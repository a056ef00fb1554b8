import FileIO
import Foundation
import Testing
@testable import Safetensors

// One defect per test; each must be an error naming the file, never a trap.

@Test func emptyFileIsTooSmall() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = try dir.file("empty.safetensors", [])
    let error = loadError(path: path)
    #expect(error == .fileTooSmall(path: path, size: 0))
    #expect(error?.exitCode == 65)
    #expect(error?.description.hasPrefix(path + ": ") == true)
}

@Test func threeByteFileIsTooSmall() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = try dir.file("short.safetensors", [1, 2, 3])
    #expect(loadError(path: path) == .fileTooSmall(path: path, size: 3))
    #expect(loadError([1, 2, 3]) == .fileTooSmall(path: "t.safetensors", size: 3))
}

@Test func directoryIsNotAFile() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let error = loadError(path: dir.path)
    #expect(error == .file(.isDirectory(path: dir.path)))
    #expect(error?.exitCode == 66)
}

@Test func fifoIsRejectedWithoutBlocking() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/pipe.safetensors"
    try #require(mkfifo(path, 0o600) == 0)
    #expect(loadError(path: path) == .file(.notARegularFile(path: path, kind: "a FIFO")))
}

@Test func missingFileIsReportedAsMissing() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = dir.path + "/nope/model.safetensors"
    let error = loadError(path: path)
    #expect(error == .file(.notFound(path: path)))
    #expect(error?.exitCode == 66)
    #expect(error?.description == "\(path): no such file")
}

// Root reads anything, so the permission check only means something for other users (CI runs
// as root: the test shows as skipped there, not as passed).
@Test(.enabled(if: getuid() != 0, "root reads files whatever their permissions"))
func unreadableFileIsMissingInput() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    let path = try dir.file("locked.safetensors", image(header: "{}"))
    try #require(chmod(path, 0) == 0)
    let error = loadError(path: path)
    #expect(error == .file(.permissionDenied(path: path)))
    #expect(error?.exitCode == 66)
}

@Test func headerLongerThanTheFileIsRejected() {
    #expect(loadError(image(header: "{}", length: 3)) == .headerExceedsFile(path: "t.safetensors", length: 3, fileSize: 10))
}

@Test func headerOverTheCapIsRejectedBeforeAllocation() {
    let error = loadError(image(header: "{}", length: 100_000_001))
    #expect(error == .headerTooLarge(path: "t.safetensors", length: 100_000_001, limit: 100_000_000))
}

@Test func headerLengthThatOverflowsIsRejected() {
    #expect(loadError(image(header: "{}", length: .max)) == .headerLengthOverflow(path: "t.safetensors", length: .max))
    #expect(loadError(image(header: "{}", length: .max - 7)) == .headerLengthOverflow(path: "t.safetensors", length: .max - 7))
    // The largest length that does not overflow still trips the cap.
    #expect(loadError(image(header: "{}", length: .max - 8))?.exitCode == 65)
}

@Test func headerThatIsNotUTF8IsRejectedWithItsOffset() {
    var bytes = image(header: #"{"a?": 1}"#)
    bytes[11] = 0xBF  // a lone continuation byte inside the key
    guard case .headerNotJSON(_, let error) = loadError(bytes) else {
        Issue.record("accepted a header with invalid UTF-8")
        return
    }
    #expect(error.offset == 3)
    #expect(error.reason.contains("invalid UTF-8"))
    // Outside a string as well.
    var broken = image(header: "{}")
    broken[8] = 0xFE
    guard case .headerNotJSON = loadError(broken) else {
        Issue.record("accepted a header starting with 0xFE")
        return
    }
}

@Test func headerThatIsNotJSONIsRejected() {
    let error = loadError(image(header: "{not json}"))
    guard case .headerNotJSON(let path, let json) = error else {
        Issue.record("expected headerNotJSON, got \(String(describing: error))")
        return
    }
    #expect(path == "t.safetensors")
    #expect(json.column == 2)
    #expect(error?.description == "t.safetensors: header is not valid JSON: line 1, column 2 (byte 1): unexpected 'n', expected a string key")
}

@Test func headerThatIsNotAnObjectIsRejected() {
    #expect(loadError(image(header: "[]")) == .headerNotObject(path: "t.safetensors", found: "array"))
    #expect(loadError(image(header: "\"x\"")) == .headerNotObject(path: "t.safetensors", found: "string"))
}

@Test func duplicateTensorNamesAreRejected() {
    let entry = #"{"dtype":"U8","shape":[1],"data_offsets":[0,1]}"#
    let error = loadError(image(header: #"{"w":\#(entry),"w":\#(entry)}"#, data: [7]))
    guard case .headerNotJSON(_, let json) = error else {
        Issue.record("expected a duplicate key error, got \(String(describing: error))")
        return
    }
    #expect(json.reason == #"duplicate key "w""#)
}

@Test func metadataValuesMustBeStrings() {
    #expect(loadError(image(header: #"{"__metadata__":{"format":"pt","layers":4}}"#))
        == .invalidMetadata(path: "t.safetensors", key: "layers", reason: "value is a integer, expected a string"))
    #expect(loadError(image(header: #"{"__metadata__":["pt"]}"#))
        == .invalidMetadata(path: "t.safetensors", key: "__metadata__", reason: "is a array, expected an object of strings"))
}

@Test func unknownDTypeNamesTensorAndDType() {
    let error = loadError(image(header: #"{"w":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0]))
    #expect(error == .unknownDType(path: "t.safetensors", tensor: "w", dtype: "F8_E4M3"))
    #expect(error?.description == #"t.safetensors: tensor "w": unsupported dtype "F8_E4M3""#)
}

@Test func shapeProductOverflowIsAnErrorNotATrap() {
    // 2 x 2^62 overflows Int once multiplied (and x 4 bytes overflows sooner).
    let error = loadError(image(header: #"{"w":{"dtype":"F32","shape":[2,4611686018427387904],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)))
    #expect(error == .shapeOverflow(path: "t.safetensors", tensor: "w", shape: [2, 1 << 62], dtype: .F32))
    // 2^63 does not even fit an Int: still a plain error.
    let huge = loadError(image(header: #"{"w":{"dtype":"U8","shape":[2,9223372036854775808],"data_offsets":[0,8]}}"#))
    guard case .invalidTensorEntry(_, "w", "shape", _) = huge else {
        Issue.record("expected a shape error, got \(String(describing: huge))")
        return
    }
    // Each factor fits, the product does not.
    let product = loadError(image(header: #"{"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#))
    #expect(product == .shapeOverflow(path: "t.safetensors", tensor: "w", shape: [1 << 32, 1 << 32], dtype: .U8))
}

@Test(arguments: [
    (#"{"w":{"shape":[1],"data_offsets":[0,1]}}"#, "dtype"),
    (#"{"w":{"dtype":1,"shape":[1],"data_offsets":[0,1]}}"#, "dtype"),
    (#"{"w":{"dtype":"U8","data_offsets":[0,1]}}"#, "shape"),
    (#"{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}"#, "shape"),
    (#"{"w":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}}"#, "shape"),
    (#"{"w":{"dtype":"U8","shape":1,"data_offsets":[0,1]}}"#, "shape"),
    (#"{"w":{"dtype":"U8","shape":[1]}}"#, "data_offsets"),
    (#"{"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}"#, "data_offsets"),
    (#"{"w":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}"#, "data_offsets"),
    (#"{"w":{"dtype":"U8","shape":[1],"data_offsets":"0-1"}}"#, "data_offsets"),
    (#"{"w":[1,2]}"#, "entry"),
])
func malformedTensorEntryNamesTheField(header: String, field: String) {
    let error = loadError(image(header: header, data: [0]))
    guard case .invalidTensorEntry(let path, let tensor, let reportedField, _) = error else {
        Issue.record("expected invalidTensorEntry, got \(String(describing: error))")
        return
    }
    #expect(path == "t.safetensors")
    #expect(tensor == "w")
    #expect(reportedField == field)
}

@Test func reversedOffsetsAreRejected() {
    let error = loadError(image(header: #"{"w":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#, data: [0, 0, 0, 0]))
    #expect(error == .offsetsReversed(path: "t.safetensors", tensor: "w", begin: 4, end: 0))
}

@Test func overlappingTensorsAreRejected() {
    let header = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#
    #expect(loadError(image(header: header, data: Array(repeating: 0, count: 6)))
        == .tensorsOverlap(path: "t.safetensors", tensor: "b", previous: "a", begin: 2, previousEnd: 4))
    // Two tensors on exactly the same bytes overlap too.
    let same = #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#
    #expect(loadError(image(header: same, data: Array(repeating: 0, count: 4)))
        == .tensorsOverlap(path: "t.safetensors", tensor: "b", previous: "a", begin: 0, previousEnd: 4))
}

@Test func gapBetweenTensorsIsRejected() {
    let header = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}"#
    #expect(loadError(image(header: header, data: Array(repeating: 0, count: 5)))
        == .gapBeforeTensor(path: "t.safetensors", tensor: "b", begin: 3, expected: 2))
    // A data section that does not start at 0 is a gap as well.
    let late = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}"#
    #expect(loadError(image(header: late, data: [0, 0, 0]))
        == .gapBeforeTensor(path: "t.safetensors", tensor: "a", begin: 1, expected: 0))
}

@Test func offsetsThatDoNotMatchShapeTimesDTypeAreRejected() {
    let header = #"{"h.0.attn.c_attn.weight":{"dtype":"F32","shape":[48,144],"data_offsets":[0,100]}}"#
    let error = loadError(image(header: header, data: Array(repeating: 0, count: 100)))
    #expect(error?.description
        == #"t.safetensors: tensor "h.0.attn.c_attn.weight": data_offsets [0, 100] do not match shape [48, 144] x F32 (27648 bytes)"#)
    #expect(error?.exitCode == 65)
}

@Test func trailingBytesAfterTheLastTensorAreRejected() {
    let header = #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
    #expect(loadError(image(header: header, data: [1, 2, 3])) == .trailingBytes(path: "t.safetensors", expected: 2, actual: 3))
    // With no tensors at all, any data is trailing.
    #expect(loadError(image(header: "{}", data: [1])) == .trailingBytes(path: "t.safetensors", expected: 0, actual: 1))
}

@Test func truncatedDataSectionIsRejected() {
    let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    #expect(loadError(image(header: header, data: [1, 2, 3])) == .dataSectionTruncated(path: "t.safetensors", expected: 8, actual: 3))
}

@Test func everyErrorDescriptionIsOneLine() {
    let errors: [SafetensorsError] = [
        .file(.notFound(path: "m")), .readFailed(path: "m", operation: "open", errno: EACCES),
        .headerNotJSON(path: "m", .init(line: 2, column: 3, offset: 9, reason: "x")),
        .invalidTensorEntry(path: "m", tensor: "line\nbreak", field: "shape", reason: "bad"),
        .nonFiniteValue(path: "m", tensor: "w", index: 3, value: .nan),
        .writeFailed(path: "m", operation: "write", errno: ENOSPC),
    ]
    for error in errors {
        #expect(!error.description.contains("\n"), "\(error)")
        #expect(error.description.hasPrefix("m: "))
    }
    #expect(SafetensorsError.writeFailed(path: "m", operation: "write", errno: ENOSPC).exitCode == 74)
}
