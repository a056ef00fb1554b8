import Corpus
import FileIO
import GPT
import JSON

/// The settings of a training run. Saved in every checkpoint; a resumed run uses the saved ones,
/// which is what makes k steps + resume + (n − k) steps equal n steps.
///
/// `RunSettings()` holds the defaults of `attnchat train`: the command and its help read them
/// from here (as they read the model's from `ModelShape()`).
public struct RunSettings: Sendable, Equatable {
    /// Sequences per micro-batch (B); positions per sequence is the model's context length.
    public var batch = 16
    /// Micro-batches whose gradients are summed into one update.
    public var accumulation = 1
    /// Updates in the whole run.
    public var steps = 2000
    /// Peak learning rate, warmup updates, then a cosine down to `floor` × peak at `steps`.
    public var schedule: LearningRateSchedule
    public var adam = AdamW.Hyperparameters()
    /// Global gradient-norm limit; 0 turns clipping off.
    public var clip: Float = 1.0
    /// Dropout probability on the embeddings and on each block's attention and MLP outputs
    /// (0: none). The masks derive from `seed` and the micro-batch's number.
    public var dropout: Float = 0
    public var seed: UInt64 = 1
    /// Validate every this many updates (and at the end); 0 only at the end.
    public var evalEvery = 250
    /// Checkpoint every this many updates (and at the end, and on Ctrl-C).
    public var checkpointEvery = 250

    public init() {
        schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 100, totalSteps: steps)
    }

    var json: JSONValue {
        .object([
            "batch": .integer(Int64(batch)), "accumulation": .integer(Int64(accumulation)), "steps": .integer(Int64(steps)),
            "lr": .number(Double(schedule.peak)), "warmup": .integer(Int64(schedule.warmupSteps)), "lr_floor": .number(Double(schedule.floor)),
            "beta1": .number(Double(adam.beta1)), "beta2": .number(Double(adam.beta2)), "eps": .number(Double(adam.eps)),
            "weight_decay": .number(Double(adam.weightDecay)), "clip": .number(Double(clip)), "dropout": .number(Double(dropout)), "seed": .integer(Int64(bitPattern: seed)),
            "eval_every": .integer(Int64(evalEvery)), "checkpoint_every": .integer(Int64(checkpointEvery)),
        ])
    }

    init?(json: JSONValue) {
        guard let b = json["batch"]?.intValue, let a = json["accumulation"]?.intValue, let s = json["steps"]?.intValue,
            let lr = json["lr"]?.doubleValue, let w = json["warmup"]?.intValue, let floor = json["lr_floor"]?.doubleValue,
            let b1 = json["beta1"]?.doubleValue, let b2 = json["beta2"]?.doubleValue, let eps = json["eps"]?.doubleValue,
            let wd = json["weight_decay"]?.doubleValue, let clip = json["clip"]?.doubleValue, let seed = json["seed"]?.int64Value,
            let ev = json["eval_every"]?.intValue, let ck = json["checkpoint_every"]?.intValue
        else { return nil }
        batch = b
        accumulation = a
        steps = s
        schedule = LearningRateSchedule(peak: Float(lr), warmupSteps: w, totalSteps: s, floor: Float(floor))
        adam.beta1 = Float(b1)
        adam.beta2 = Float(b2)
        adam.eps = Float(eps)
        adam.weightDecay = Float(wd)
        self.clip = Float(clip)
        // Checkpoints written before dropout existed trained without it.
        dropout = Float(json["dropout"]?.doubleValue ?? 0)
        guard dropout >= 0 && dropout < 1 else { return nil }
        self.seed = UInt64(bitPattern: seed)
        evalEvery = ev
        checkpointEvery = ck
    }
}

extension RunSettings {
    /// Bytes a run of `config` with these settings allocates, counted before anything is, so a
    /// batch or shape that cannot fit is refused with its flag named rather than trapping in the
    /// allocator: the parameters four times (weights, gradients, AdamW's two moments), the
    /// training pass for (batch, context), validation's pass (`Evaluation.defaultBatch` windows),
    /// and the dropout masks. A Double, because sizes a user can type overflow `Int`.
    public func memoryBytes(config: GPTConfig) -> Double {
        func floats(_ n: Int?) -> Double { n.map(Double.init) ?? .infinity }
        let T = config.contextLength
        let training = floats(GPTTrainingPass.arenaFloats(config: config, B: batch, T: T))
        let validation = floats(GPTTrainingPass.arenaFloats(config: config, B: Evaluation.defaultBatch, T: max(1, T - 1)))
        let masks = dropout > 0 ? Double(2 * config.layers + 1) * Double(batch) * Double(T) * Double(config.width) : 0
        return 4 * (4 * Double(config.parameterCount) + training + validation + masks)
    }
}

/// The shape of the model a new run trains (`--layers`, `--heads`, `--width`, `--context`,
/// `--positional`); `ModelShape()` is the default, the default chat model's shape.
public struct ModelShape: Sendable, Equatable {
    /// Transformer blocks.
    public var layers = 4
    /// Attention heads per block.
    public var heads = 4
    /// Residual width (C).
    public var width = 256
    /// Context length in tokens (T).
    public var context = 256
    public var positional = GPTConfig.Positional.learned

    public init() {}

    /// The model's config for a tokenizer of `vocabSize` tokens (the MLP 4× the width).
    public func config(vocabSize: Int) -> GPTConfig {
        GPTConfig(vocabSize: vocabSize, contextLength: context, layers: layers, heads: heads, width: width, positional: positional)
    }
}

/// Why training cannot start or go on. One line each; sysexits codes.
public enum TrainingError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The corpus has no tokens, or fewer than one window needs.
    case corpusTooSmall(path: String, tokens: Int, needed: Int)
    case checkpoint(path: String, reason: String)
    /// `train --resume` where the output directory has no checkpoint (exit 66).
    case noCheckpoint(path: String)
    /// A malformed line of a JSONL corpus.
    case badCorpus(path: String, line: Int, reason: String)
    /// A corpus file that cannot be read, or a `dataset.json` that is malformed.
    case corpus(CorpusError)
    /// A resume whose model or tokenizer differs from the checkpoint's.
    case resumeMismatch(path: String, field: String, checkpoint: String, requested: String)
    /// The loss became NaN or infinite; the last good checkpoint is kept.
    case nonFiniteLoss(step: Int, lastCheckpoint: String?)
    /// The loss stayed far above its running average for `Trainer.spikeLimit` updates in a row
    /// (each skipped); the last good checkpoint is kept.
    case lossSpikes(step: Int, loss: Float, average: Float, lastCheckpoint: String?)
    case output(path: String, reason: String)
    /// `train --config`: the file is missing or unreadable (`InputFile`'s classification: 66, or 74).
    case configFile(InputFile.Failure)
    /// `train --config`: malformed JSON, an unknown key, or a value of the wrong type or range.
    case badConfig(path: String, key: String?, reason: String)

    public var description: String {
        switch self {
        case .corpusTooSmall(let path, let tokens, let needed):
            return "\(path): the corpus has \(tokens) tokens; training needs at least \(needed) (one context window + 1)"
        case .checkpoint(let path, let reason):
            return "\(path): \(reason)"
        case .noCheckpoint(let path):
            return "\(path): no checkpoint to resume from"
        case .badCorpus(let path, let line, let reason):
            return "\(path): line \(line): \(reason)"
        case .corpus(let error):
            return error.description
        case .resumeMismatch(let path, let field, let old, let new):
            return "\(path): cannot resume: \(field) is \(old) in the checkpoint but \(new) now"
        case .nonFiniteLoss(let step, let last):
            return "the loss became non-finite at step \(step); stopped" + (last.map { " (last good checkpoint: \($0))" } ?? "")
        case .lossSpikes(let step, let loss, let average, let last):
            return "the loss spiked for \(Trainer.spikeLimit) updates in a row up to step \(step) (\(loss) nats against a running average of \(average); other data on a resume also does this); stopped"
                + (last.map { " (last good checkpoint: \($0))" } ?? "")
        case .output(let path, let reason):
            return "\(path): \(reason)"
        case .configFile(let failure):
            return "\(failure.description) (the training config)"
        case .badConfig(let path, let key, let reason):
            return "\(path): " + (key.map { "\"\($0)\": " } ?? "") + reason
        }
    }

    public var exitCode: Int32 {
        switch self {
        case .output: return 74
        case .noCheckpoint: return 66
        case .configFile(let failure): return failure.exitCode
        case .corpus(let error): return error.exitCode
        default: return 65
        }
    }
}
