import GPT
import JSON
import Safetensors

/// Everything needed to continue a run exactly where it stopped: the weights, AdamW's moments,
/// the step, and the run's settings (seed and step determine the data, see `TokenWindows`).
/// One safetensors file, written atomically: model tensors under their GPT-2 names,
/// `adam.m` and `adam.v` flat, the rest in `__metadata__`.
public struct Checkpoint {
    public static let format = "attnchat-checkpoint", version = 1

    /// Saves `model`, `optimizer` and `run` (with its step) to `path`, atomically.
    /// - Parameter bestBitsPerByte: the best validation so far, so a resumed run does not replace
    ///   the best model file with a worse one.
    ///   - lossAverage: the running average of the training loss that loss spikes are judged by.
    public static func save(
        to path: String, model: GPTModel, optimizer: AdamW, run: RunSettings, tokenizerHash: String,
        bestBitsPerByte: Double? = nil, lossAverage: Float? = nil, skippedInARow: Int = 0
    ) throws(SafetensorsError) {
        var tensors = model.weights.tensors.map { t in
            SafetensorsWriter.Tensor(name: t.name, shape: t.shape, floats: model.weights.withTensor(t) { Array($0) })
        }
        tensors.append(SafetensorsWriter.Tensor(name: "adam.m", shape: [optimizer.m.count], floats: optimizer.m))
        tensors.append(SafetensorsWriter.Tensor(name: "adam.v", shape: [optimizer.v.count], floats: optimizer.v))
        var metadata = [
            "format": format, "format_version": String(version),
            "config": JSONValue.object(model.config.jsonObject).serialized(),
            "run": run.json.serialized(), "step": String(optimizer.step), "tokenizer": tokenizerHash,
        ]
        if let bestBitsPerByte { metadata["best_bits_per_byte"] = String(bestBitsPerByte) }
        if let lossAverage { metadata["loss_average"] = String(lossAverage) }
        if skippedInARow > 0 { metadata["skipped_in_a_row"] = String(skippedInARow) }
        // A run rewrites its own checkpoint; whether it may start over an old one is decided
        // before training (`train --resume`, `--force`).
        try SafetensorsWriter.write(to: path, tensors: tensors, metadata: metadata, existing: .replace)
    }

    /// What a checkpoint holds.
    public struct Loaded {
        public let model: GPTModel
        public let m: [Float], v: [Float]
        public let step: Int
        public let run: RunSettings
        public let tokenizerHash: String
        /// The best validation bits/byte of the run so far, if it validated.
        public let bestBitsPerByte: Double?
        /// The running average of the training loss (absent in checkpoints of older versions).
        public let lossAverage: Float?
        /// Spiking updates skipped in a row when the checkpoint was written.
        public let skippedInARow: Int
    }

    /// Reads a checkpoint; every defect is a `TrainingError` naming the file and field.
    public static func load(path: String) throws(TrainingError) -> Loaded {
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw .checkpoint(path: path, reason: error.description) }
        let meta = file.metadata
        guard meta["format"] == format else { throw .checkpoint(path: path, reason: "not an attnchat checkpoint (format \(meta["format"] ?? "missing"))") }
        guard meta["format_version"] == String(version) else {
            throw .checkpoint(path: path, reason: "unsupported version \(meta["format_version"] ?? "missing") (expected \(version))")
        }
        guard let stepText = meta["step"], let step = Int(stepText), step >= 0 else { throw .checkpoint(path: path, reason: "bad step") }
        guard let runText = meta["run"], let runJSON = try? JSONValue.parse(runText), let run = RunSettings(json: runJSON) else {
            throw .checkpoint(path: path, reason: "bad run settings in __metadata__")
        }
        // The model part is an ordinary attnchat file: reuse its loader with the extra tensors set aside.
        var modelMeta = meta
        modelMeta["format"] = GPTModel.formatName
        let model: GPTModel
        do {
            model = try GPTModel.load(file: file, metadata: modelMeta, ignoring: ["adam.m", "adam.v"])
        } catch {
            throw .checkpoint(path: path, reason: error.description)
        }
        let (m, v) = try moments(file: file, parameters: model.weights.count)
        var lossAverage: Float?
        if let text = meta["loss_average"] {
            guard let value = Float(text), value.isFinite, value > 0 else { throw .checkpoint(path: path, reason: "bad loss_average \"\(text)\"") }
            lossAverage = value
        }
        var skipped = 0
        if let text = meta["skipped_in_a_row"] {
            guard let value = Int(text), value >= 0 else { throw .checkpoint(path: path, reason: "bad skipped_in_a_row \"\(text)\"") }
            skipped = value
        }
        return Loaded(model: model, m: m, v: v, step: step, run: run, tokenizerHash: meta["tokenizer"] ?? "",
                      bestBitsPerByte: meta["best_bits_per_byte"].flatMap(Double.init),
                      lossAverage: lossAverage, skippedInARow: skipped)
    }

    /// Reads and checks AdamW's moments `adam.m` and `adam.v` (any model's checkpoint).
    static func moments(file: SafetensorsFile, parameters: Int) throws(TrainingError) -> (m: [Float], v: [Float]) {
        let m: [Float], v: [Float]
        do {
            m = try file.floats("adam.m")
            v = try file.floats("adam.v")
        } catch {
            throw .checkpoint(path: file.path, reason: error.description)
        }
        try checkMoments(m: m, v: v, parameters: parameters, path: file.path)
        return (m, v)
    }

    /// Checks AdamW's saved moments (any model's checkpoint): one value per parameter, finite,
    /// and the second moment not negative.
    static func checkMoments(m: [Float], v: [Float], parameters: Int, path: String) throws(TrainingError) {
        guard m.count == parameters, v.count == parameters else {
            throw .checkpoint(path: path, reason: "optimizer state has \(m.count) values for \(parameters) parameters")
        }
        // AdamW divides by √v: a negative second moment (a flipped sign bit) would turn the
        // weights into NaN on the first update of the resumed run.
        if let index = v.firstIndex(where: { !($0 >= 0 && $0.isFinite) }) {
            throw .checkpoint(path: path, reason: "tensor \"adam.v\": element \(index) is \(v[index]); AdamW's second moment must be finite and not negative")
        }
        if let index = m.firstIndex(where: { !$0.isFinite }) {
            throw .checkpoint(path: path, reason: "tensor \"adam.m\": element \(index) is \(m[index]); AdamW's first moment must be finite")
        }
    }
}
