import Foundation
import JSON
import Testing
@testable import Training

@Suite struct TrainingConfigFileTests {
    static func parse(_ text: String) throws(TrainingError) -> TrainingConfigFile {
        let json: JSONValue
        do { json = try JSONValue.parse(text) } catch { fatalError("test JSON: \(error)") }
        return try TrainingConfigFile(json: json, path: "run.json")
    }

    @Test func readsEveryKey() throws {
        let c = try Self.parse("""
            {"layers": 6, "heads": 6, "width": 384, "context": 128, "positional": "rope", "batch": 8, "accumulation": 2,
             "steps": 900, "lr": 0.002, "warmup": 50, "weight_decay": 0.05, "clip": 0.5, "dropout": 0.1, "seed": 7,
             "eval_every": 100, "checkpoint_every": 300}
            """)
        #expect(c.layers == 6 && c.heads == 6 && c.width == 384 && c.context == 128 && c.positional == "rope")
        #expect(c.batch == 8 && c.accumulation == 2 && c.steps == 900 && c.warmup == 50 && c.seed == 7)
        #expect(c.lr == 0.002 && c.weightDecay == 0.05 && c.clip == 0.5 && c.dropout == 0.1)
        #expect(c.evalEvery == 100 && c.checkpointEvery == 300)
        let empty = try Self.parse("{}")
        #expect(empty.layers == nil && empty.lr == nil && empty.positional == nil && empty.seed == nil && empty.dropout == nil)
    }

    @Test(arguments: [
        (#"{"layer": 4}"#, #"run.json: "layer": unknown setting"#),
        (#"{"layers": "4"}"#, #"run.json: "layers": expected an integer, got string"#),
        (#"{"layers": 2.5}"#, #"run.json: "layers": expected an integer"#),
        (#"{"heads": 0}"#, #"run.json: "heads": must be >= 1 (got 0)"#),
        (#"{"dropout": 1}"#, #"run.json: "dropout": must be in [0, 1) as a 32-bit float (got 1.0)"#),
        (#"{"dropout": 0.99999999999}"#, #"run.json: "dropout": must be in [0, 1) as a 32-bit float"#),
        (#"{"lr": -1}"#, #"run.json: "lr": must be positive as a 32-bit float (got -1.0)"#),
        (#"{"lr": 1e-50}"#, #"run.json: "lr": must be positive as a 32-bit float"#),
        (#"{"lr": 1e39}"#, #"run.json: "lr": must be positive as a 32-bit float"#),
        (#"{"positional": "alibi"}"#, #"run.json: "positional": must be learned, sinusoidal or rope (got "alibi")"#),
        (#"[1, 2]"#, #"run.json: expected a JSON object, got array"#),
    ])
    func aBadValueIsRefusedNamingTheKey(text: String, message: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
            #expect(error.exitCode == 65)
        }
    }

    @Test func malformedJSONNamesLineAndColumnAndAMissingFileIs66() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attnchat-cfg-\(UUID().uuidString).json").path
        try "{\n  \"layers\": 4,\n  oops\n}".write(toFile: path, atomically: true, encoding: .utf8)
        let malformed = #expect(throws: TrainingError.self) { try TrainingConfigFile(path: path) }
        #expect(malformed?.description.hasPrefix("\(path):3: column 3: not valid JSON") == true, "\(String(describing: malformed))")
        #expect(malformed?.exitCode == 65)
        let missing = #expect(throws: TrainingError.self) { try TrainingConfigFile(path: path + ".missing") }
        #expect(missing?.exitCode == 66)
    }
}
