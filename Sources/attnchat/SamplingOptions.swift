import ArgumentParser
import Sampling

/// The sampling flags (README.md), shared by `generate` and `chat`. Unset flags keep the
/// defaults of `SamplingSettings`; every value is validated (exit 64 naming the flag).
struct SamplingOptions: ParsableArguments {
    @Option(help: "Temperature; 0 is greedy (always the most likely token).")
    var temperature: Double?
    @Option(name: .customLong("top-k"), help: "Keep only the k most likely tokens; 0 turns it off.")
    var topK: Int?
    @Option(name: .customLong("top-p"), help: "Nucleus: keep the most likely tokens up to this much probability; 1 turns it off.")
    var topP: Double?
    @Option(name: .customLong("min-p"), help: "Drop tokens below this fraction of the top token's probability; 0 turns it off.")
    var minP: Double?
    @Option(name: .customLong("typical-p"), help: "Locally typical sampling mass; 1 turns it off.")
    var typicalP: Double?
    @Option(name: .customLong("repeat-penalty"), help: "Divide the logits of recently seen tokens by this (CTRL); 1 turns it off.")
    var repeatPenalty: Double?
    @Option(name: .customLong("repeat-last-n"), help: "How many recent tokens the penalties look at (-1: the whole context). A penalty given without it looks at the last \(SamplingSettings().repeatLastN).")
    var repeatLastN: Int?
    @Option(name: .customLong("frequency-penalty"), help: "Subtract this times a token's count so far (OpenAI).")
    var frequencyPenalty: Double?
    @Option(name: .customLong("presence-penalty"), help: "Subtract this from every token seen so far (OpenAI).")
    var presencePenalty: Double?
    @Option(help: "Seed of the random generator: the same seed gives the same text.")
    var seed: UInt64?

    /// `defaults` with every given flag applied, validated.
    func settings(defaults: SamplingSettings = SamplingSettings()) throws -> SamplingSettings {
        var s = defaults
        if let temperature { s.temperature = temperature }
        if let topK { s.topK = topK }
        if let topP { s.topP = topP }
        if let minP { s.minP = minP }
        if let typicalP { s.typicalP = typicalP }
        if let repeatPenalty { s.repeatPenalty = repeatPenalty }
        if let repeatLastN {
            s.repeatLastN = repeatLastN
        } else if s.repeatLastN == 0, repeatPenalty != nil || frequencyPenalty != nil || presencePenalty != nil {
            // generate's defaults look at no tokens (every penalty off); a penalty asked for
            // without a window would silently do nothing, so it gets the chat's window.
            s.repeatLastN = SamplingSettings().repeatLastN
        }
        if let frequencyPenalty { s.frequencyPenalty = frequencyPenalty }
        if let presencePenalty { s.presencePenalty = presencePenalty }
        if let seed { s.seed = seed }
        try s.validate()
        return s
    }
}
