import FileIO
import FoundationEssentials
import JSON

/// `attnchat train --config FILE`: a run's settings as a JSON object, e.g.
///
///     {"layers": 4, "heads": 4, "width": 256, "context": 256, "positional": "learned",
///      "batch": 16, "steps": 4000, "lr": 2e-3, "warmup": 200, "dropout": 0.1, "seed": 1}
///
/// Keys are the train command's flag names with `_` for `-`; every key is optional, and a flag
/// given on the command line wins over the file. An unknown key (a typo would otherwise be
/// ignored silently), a value of the wrong type or out of range is refused, naming the key.
public struct TrainingConfigFile: Sendable, Equatable {
    public var layers, heads, width, context: Int?
    public var positional: String?
    public var batch, accumulation, steps, warmup, evalEvery, checkpointEvery: Int?
    public var lr, weightDecay, clip, dropout: Float?
    public var seed: UInt64?

    public static let keys = [
        "layers", "heads", "width", "context", "positional", "batch", "accumulation", "steps", "lr", "warmup",
        "weight_decay", "clip", "dropout", "seed", "eval_every", "checkpoint_every",
    ]

    /// Reads and checks `path`.
    /// - Throws: `TrainingError.configFile` (exit 66 for a bad path), `.badConfig` (exit 65).
    public init(path: String) throws(TrainingError) {
        let data: Data
        do { data = try InputFile.read(path) } catch { throw .configFile(error) }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw .badConfig(path: "\(path):\(error.line)", key: nil, reason: "column \(error.column): not valid JSON: \(error.reason)")
        }
        try self.init(json: json, path: path)
    }

    public init(json: JSONValue, path: String) throws(TrainingError) {
        guard let object = json.objectValue else { throw .badConfig(path: path, key: nil, reason: "expected a JSON object, got \(json.kindName)") }
        for key in object.keys where !Self.keys.contains(key) {
            throw .badConfig(path: path, key: key, reason: "unknown setting (known: \(Self.keys.joined(separator: ", ")))")
        }
        func integer(_ key: String, minimum: Int) throws(TrainingError) -> Int? {
            guard let value = json[key] else { return nil }
            guard let n = value.intValue else { throw .badConfig(path: path, key: key, reason: "expected an integer, got \(value.kindName)") }
            guard n >= minimum else { throw .badConfig(path: path, key: key, reason: "must be >= \(minimum) (got \(n))") }
            return n
        }
        func number(_ key: String, _ rule: String, _ ok: (Float) -> Bool) throws(TrainingError) -> Float? {
            guard let value = json[key] else { return nil }
            guard let x = value.doubleValue else { throw .badConfig(path: path, key: key, reason: "expected a number, got \(value.kindName)") }
            // Checked as the Float the run will use: 0.99999999999 rounds to 1, 1e-50 to 0.
            let f = Float(x)
            guard f.isFinite, ok(f) else { throw .badConfig(path: path, key: key, reason: "must be \(rule) as a 32-bit float (got \(x))") }
            return f
        }
        layers = try integer("layers", minimum: 1)
        heads = try integer("heads", minimum: 1)
        width = try integer("width", minimum: 1)
        context = try integer("context", minimum: 1)
        batch = try integer("batch", minimum: 1)
        accumulation = try integer("accumulation", minimum: 1)
        steps = try integer("steps", minimum: 1)
        warmup = try integer("warmup", minimum: 0)
        evalEvery = try integer("eval_every", minimum: 0)
        checkpointEvery = try integer("checkpoint_every", minimum: 0)
        seed = try integer("seed", minimum: 0).map { UInt64($0) }
        lr = try number("lr", "positive") { $0 > 0 }
        weightDecay = try number("weight_decay", ">= 0") { $0 >= 0 }
        clip = try number("clip", ">= 0") { $0 >= 0 }
        dropout = try number("dropout", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        if let value = json["positional"] {
            guard let name = value.stringValue else { throw .badConfig(path: path, key: "positional", reason: "expected a string, got \(value.kindName)") }
            guard ["learned", "sinusoidal", "rope"].contains(name) else {
                throw .badConfig(path: path, key: "positional", reason: "must be learned, sinusoidal or rope (got \"\(name)\")")
            }
            positional = name
        }
    }
}
