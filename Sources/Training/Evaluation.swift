import Glibc
import GPT

/// The quality metric (ARCHITECTURE.md): the validation stream cut into non-overlapping windows of
/// the context length (two tokens at least, so a context-1 model still predicts one token per
/// window); within a window every token but the first is predicted from those before it; bits per byte = Σ NLL (bits) / Σ UTF-8 bytes of the predicted tokens.
public struct EvaluationResult: Sendable, Equatable {
    /// Tokens predicted.
    public var tokens: Int
    /// UTF-8 bytes of the predicted tokens (a special token counts its literal text).
    public var bytes: Int
    /// Σ −ln p over the predicted tokens.
    public var totalNats: Double

    public var natsPerToken: Double { totalNats / Double(max(tokens, 1)) }
    public var perplexity: Double { exp(natsPerToken) }
    public var bitsPerByte: Double { totalNats / log(2) / Double(max(bytes, 1)) }
}

public enum Evaluation {
    /// Windows per forward pass when `run` is not told otherwise (training's validation, `eval`).
    public static let defaultBatch = 8

    /// Evaluates `model` on `stream`.
    /// - Parameters:
    ///   - byteLength: UTF-8 byte length of each token id's text.
    ///   - batch: windows per forward pass (`defaultBatch` unless told).
    ///   - progress: called with (windows done, windows total).
    public static func run(
        model: GPTModel, stream: [Int32], byteLength: (Int32) -> Int, batch: Int = defaultBatch,
        progress: ((Int, Int) -> Void)? = nil
    ) -> EvaluationResult {
        // A window's first token is only read: one of a single token would predict nothing (and
        // ask for a pass of 0 positions). Two tokens feed one position, which every model fits.
        let window = max(2, model.config.contextLength)
        var result = EvaluationResult(tokens: 0, bytes: 0, totalNats: 0)
        var starts = Array(stride(from: 0, to: stream.count - 1, by: window))
        // Full windows go in batches of `batch`; a short last window gets a pass of its own.
        let last = starts.last.map { min(window, stream.count - $0) }
        var shortStart: Int?
        if let s = starts.last, let l = last, l < window { shortStart = s; starts.removeLast() }
        var done = 0
        let total = starts.count + (shortStart == nil ? 0 : 1)
        if !starts.isEmpty {
            let B = min(batch, starts.count)
            let pass = GPTTrainingPass(model: model, B: B, T: window - 1)
            var i = 0
            while i < starts.count {
                let group = Array(starts[i..<min(i + B, starts.count)])
                evaluate(pass: pass, stream: stream, starts: group, length: window, byteLength: byteLength, into: &result)
                i += group.count
                done += group.count
                progress?(done, total)
            }
        }
        if let s = shortStart {
            let length = stream.count - s
            let pass = GPTTrainingPass(model: model, B: 1, T: length - 1)
            evaluate(pass: pass, stream: stream, starts: [s], length: length, byteLength: byteLength, into: &result)
            progress?(total, total)
        }
        return result
    }

    private static func evaluate(
        pass: GPTTrainingPass, stream: [Int32], starts: [Int], length: Int, byteLength: (Int32) -> Int,
        into result: inout EvaluationResult
    ) {
        let T = length - 1
        var inputs: [Int32] = [], targets: [Int32] = []
        // A partly filled batch repeats its first window; only the real ones are counted.
        for b in 0..<pass.B {
            let s = starts[min(b, starts.count - 1)]
            inputs += stream[s..<(s + T)]
            targets += stream[(s + 1)...(s + T)]
        }
        _ = pass.forward(inputs: inputs, targets: targets, prepareBackward: false)
        let losses = pass.positionLosses
        for b in 0..<starts.count {
            for t in 0..<T {
                result.totalNats += Double(losses[b * T + t])
                result.bytes += byteLength(targets[b * T + t])
            }
            result.tokens += T
        }
    }
}
