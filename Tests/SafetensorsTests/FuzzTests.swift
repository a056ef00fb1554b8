import Foundation
import Testing
@testable import Safetensors

/// Loads `bytes` and reads every tensor; any outcome but a trap or a hang is fine.
private func exercise(_ bytes: [UInt8]) -> Bool {
    do {
        let file = try SafetensorsFile(bytes: bytes, name: "fuzz")
        for tensor in file.tensors {
            if tensor.dtype.isFloatConvertible {
                _ = try? file.floats(tensor.name)
            }
            _ = try file.withRawBytes(of: tensor.name) { $0.count }
        }
        return true
    } catch {
        // Every error must render as one line.
        #expect(!"\(error)".contains("\n"), "\(error)")
        return false
    }
}

private let seedFile: [UInt8] = {
    let tensors: [SafetensorsWriter.Tensor] = [
        .init(name: "wte.weight", shape: [4, 3], floats: (0..<12).map { Float($0) / 7 }),
        .init(name: "h.0.ln_1.weight", shape: [3], floats: [1, 2, 3], storedAs: .F16),
        .init(name: "h.0.ln_1.bias", shape: [3], floats: [0, -1, 1], storedAs: .BF16),
        .init(name: "ids", dtype: .I32, shape: [2], bytes: [1, 0, 0, 0, 2, 0, 0, 0]),
    ]
    // A force-try is fine here: the fixture is constant and valid by construction.
    return try! SafetensorsWriter.serialize(tensors: tensors, metadata: ["config": #"{"n_layer":1}"#])
}()

@Test func seedFileForFuzzingLoads() {
    #expect(exercise(seedFile))
}

/// The process's peak resident set so far, in KiB.
private func peakResidentKiB() -> Int {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return usage.ru_maxrss
}

@Test func randomByteMutationsNeverTrap() {
    let peakBefore = peakResidentKiB()
    var rng = SplitMix64(state: 0x5AFE_7E25)
    var loaded = 0
    for _ in 0..<3000 {
        var bytes = seedFile
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1:  // flip bits of one byte, header-biased so JSON gets exercised
                let limit = Bool.random(using: &rng) ? min(bytes.count, 200) : bytes.count
                guard limit > 0 else { continue }
                bytes[Int.random(in: 0..<limit, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 2:  // truncate
                bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng))
            case 3:  // insert random bytes
                let at = Int.random(in: 0...bytes.count, using: &rng)
                bytes.insert(contentsOf: (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }, at: at)
            case 4:  // delete a range
                guard !bytes.isEmpty else { continue }
                let from = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.removeSubrange(from..<min(bytes.count, from + Int.random(in: 1...16, using: &rng)))
            default:  // overwrite the length prefix with an interesting value
                let lengths: [UInt64] = [0, 1, 7, 8, .max, .max - 7, 1 << 63, 100_000_000, 100_000_001, UInt64(bytes.count)]
                var length = lengths[Int.random(in: 0..<lengths.count, using: &rng)].littleEndian
                withUnsafeBytes(of: &length) { raw in
                    for i in 0..<min(8, bytes.count) { bytes[i] = raw[i] }
                }
            }
        }
        if exercise(bytes) { loaded += 1 }
    }
    // Some mutations (in float data) keep the file valid; most do not.
    #expect(loaded > 0 && loaded < 3000)
    // Header lengths and shapes claiming gigabytes must not turn into allocations.
    #expect(peakResidentKiB() - peakBefore < 64 * 1024)
}

@Test func structureAwareHeaderMutationsNeverTrap() throws {
    // Rewrite numbers and strings inside the header: the mutations a hand-edited or
    // buggy exporter would produce, which random flips rarely reach.
    let headerLength = Int(seedFile.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    let header = String(decoding: seedFile[8..<(8 + headerLength)], as: UTF8.self)
    let data = Array(seedFile[(8 + headerLength)...])
    let replacements = [
        "0", "1", "-1", "3", "12", "48", "4611686018427387904", "9223372036854775807", "9223372036854775808",
        "1e400", "1.5", "null", "[]", "{}", "\"F32\"", "\"F64\"", "\"BOOL\"", "\"X\"", "[0,0]", "[1,2,3]", "\"\\uD800\"",
    ]
    var rng = SplitMix64(state: 42)
    let tokens = header.split(omittingEmptySubsequences: false) { ",:[]{}".contains($0) }
    var tried = 0, loaded = 0
    for _ in 0..<1500 {
        var mutated = header
        let target = tokens[Int.random(in: 0..<tokens.count, using: &rng)]
        guard !target.isEmpty, let range = mutated.range(of: target) else { continue }
        mutated.replaceSubrange(range, with: replacements[Int.random(in: 0..<replacements.count, using: &rng)])
        guard mutated != header else { continue }  // replaced a token by itself
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(mutated.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        tried += 1
        if exercise(bytes + Array(mutated.utf8) + data) { loaded += 1 }
    }
    // The fuzz really ran: most draws mutated the header, and both outcomes occurred.
    #expect(tried > 750, "only \(tried) mutations applied")
    #expect(loaded > 0 && loaded < tried, "\(loaded) of \(tried) loaded")
}

@Test func mutatedFilesOnDiskNeverTrap() throws {
    let dir = try TemporaryDirectory()
    defer { dir.remove() }
    var rng = SplitMix64(state: 7)
    for i in 0..<200 {
        var bytes = seedFile
        bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
        if i.isMultiple(of: 3) { bytes.removeLast(Int.random(in: 0...bytes.count, using: &rng)) }
        let path = try dir.file("fuzz.safetensors", bytes)
        if let file = try? SafetensorsFile(path: path) {
            for tensor in file.tensors where tensor.dtype.isFloatConvertible { _ = try? file.floats(tensor.name) }
        }
    }
}
