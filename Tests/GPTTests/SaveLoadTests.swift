import FileIO
import Foundation
import Safetensors
import Testing
@_spi(Training) @testable import GPT

@Suite struct SaveLoadTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("attnchat-\(UUID().uuidString)-\(name)").path
    }

    @Test(arguments: GPTConfig.Positional.allCases)
    func attnchatFileRoundTripsExactly(positional: GPTConfig.Positional) throws {
        let model = ForwardConsistencyTests.model(positional)
        let path = Self.temporaryPath("m.safetensors")
        try model.save(to: path, existing: .replace)
        let (loaded, source) = try GPTModel.load(path: path)
        #expect(loaded.config == model.config)
        #expect(source.dtypes == ["F32"])
        for t in model.weights.tensors {
            #expect(model.weights.withTensor(t) { Array($0) } == loaded.weights.withTensor(t) { Array($0) })
        }
    }

    @Test func huggingFaceExportLoadsBack() throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path("tiny-odd"))
        let dir = Self.temporaryPath("hf")
        try model.saveHuggingFace(directory: dir, existing: .replace)
        let (loaded, _) = try GPTModel.load(path: dir)
        let (stateA, stateB) = (GPTState(model: model), GPTState(model: loaded))
        let a = Array(try stateA.prefill([1, 2, 3]))
        let b = Array(try stateB.prefill([1, 2, 3]))
        #expect(a == b)
    }

    /// The F16 copy of a model predicts nearly the same logits.
    @Test func f16FileLoadsWithinRounding() throws {
        let model = ForwardConsistencyTests.model(.learned)
        let path = Self.temporaryPath("m16.safetensors")
        try model.save(to: path, dtype: .F16, existing: .replace)
        let (loaded, source) = try GPTModel.load(path: path)
        #expect(source.dtypes == ["F16"])
        let (stateA, stateB) = (GPTState(model: model), GPTState(model: loaded))
        let a = Array(try stateA.prefill([4, 5, 6]))
        let b = Array(try stateB.prefill([4, 5, 6]))
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 0.05 })
    }

    /// Random byte flips, truncations and insertions of a small valid file: every load either
    /// succeeds or throws, and nothing traps or hangs.
    /// Each kind of file: F32, half-width (kept packed), and both quantized schemes (width 32, so
    /// every matrix is quantized and the packing loaders see the mutations).
    @Test(arguments: ["F32", "F16", "Q8", "Q4"])
    func mutatedFilesNeverTrap(kind: String) throws {
        let path = Self.temporaryPath("small.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let width = kind.hasPrefix("Q") ? 32 : 4
        let config = GPTConfig(vocabSize: 11, contextLength: 8, layers: 1, heads: 2, width: width)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: 2)
        let model = GPTModel(weights: weights)
        switch kind {
        case "F16": try model.save(to: path, dtype: .F16, existing: .replace)
        case "Q8": try model.saveQuantized(to: path, scheme: .q8, existing: .replace)
        case "Q4": try model.saveQuantized(to: path, scheme: .q4, existing: .replace)
        default: try model.save(to: path, existing: .replace)
        }
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var rng = SplitMix64(seed: 99)
        var loaded = 0, rejected = 0
        for iteration in 0..<3000 {
            var bytes = original
            switch iteration % 4 {
            case 0, 1:  // flip 1–4 random bytes, biased toward the header where the structure is
                for _ in 0...(Int(rng.next() % 4)) {
                    let limit = rng.next() % 2 == 0 ? min(bytes.count, 400) : bytes.count
                    bytes[Int(rng.next() % UInt64(limit))] = UInt8(truncatingIfNeeded: rng.next())
                }
            case 2:  // truncate
                bytes.removeLast(Int(rng.next() % UInt64(bytes.count)))
            default:  // insert a byte
                bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: Int(rng.next() % UInt64(bytes.count)))
            }
            do {
                let (model, _) = try GPTModel.load(bytes: bytes, name: "mutant-\(iteration)")
                _ = try GPTState(model: model).prefill([0])
                loaded += 1
            } catch {
                rejected += 1
            }
        }
        #expect(loaded + rejected == 3000)
        #expect(rejected > 1000)
    }
}
