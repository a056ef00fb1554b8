
/// Every knob of the sampler pipeline, as one value the chat loop can copy, compare, save and
/// change live. Each field's comment gives its "off" value; the defaults follow ollama/llama.cpp
/// (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, repeat penalty 1.1 over the last 64 tokens).
///
/// Decoding fills missing keys with the defaults and validates, so an older settings file still
/// loads and a bad one fails with the same message as the command line.
public struct SamplingSettings: Sendable, Equatable, Codable {
    /// Divides the logits before the softmax. 0 = greedy (argmax); < 1 sharpens, > 1 flattens.
    public var temperature: Double
    /// Keep the k most likely tokens. 0 = off.
    public var topK: Int
    /// Keep the smallest set of most likely tokens whose probability sums to at least p. 1 = off.
    public var topP: Double
    /// Keep tokens at least minP times as likely as the most likely one. 0 = off.
    public var minP: Double
    /// Locally typical sampling (Meister et al. 2022) with mass p. 1 = off.
    public var typicalP: Double
    /// CTRL repetition penalty for tokens seen in the last `repeatLastN`. 1 = off.
    public var repeatPenalty: Double
    /// How many recent tokens the penalties look at. 0 = none, -1 = the whole history.
    public var repeatLastN: Int
    /// OpenAI frequency penalty: subtracted once per occurrence in the window. 0 = off.
    public var frequencyPenalty: Double
    /// OpenAI presence penalty: subtracted once if the token occurs in the window. 0 = off.
    public var presencePenalty: Double
    /// Mirostat v2 instead of top-k/top-p/min-p/typical. `.off` by default.
    public var mirostat: Mirostat
    /// Mirostat's target surprise in bits per token.
    public var mirostatTau: Double
    /// Mirostat's learning rate for its running threshold mu.
    public var mirostatEta: Double
    /// Seed of the sampler's random generator: the same seed, logits and settings give the same ids.
    public var seed: UInt64

    /// Which Mirostat variant runs; only v2 is implemented (v1 needs the vocabulary's Zipf exponent).
    public enum Mirostat: String, Sendable, Codable, CaseIterable {
        case off, v2
    }

    public init(
        temperature: Double = 0.8, topK: Int = 40, topP: Double = 0.95, minP: Double = 0.05,
        typicalP: Double = 1, repeatPenalty: Double = 1.1, repeatLastN: Int = 64,
        frequencyPenalty: Double = 0, presencePenalty: Double = 0,
        mirostat: Mirostat = .off, mirostatTau: Double = 5, mirostatEta: Double = 0.1, seed: UInt64 = 0
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.typicalP = typicalP
        self.repeatPenalty = repeatPenalty
        self.repeatLastN = repeatLastN
        self.frequencyPenalty = frequencyPenalty
        self.presencePenalty = presencePenalty
        self.mirostat = mirostat
        self.mirostatTau = mirostatTau
        self.mirostatEta = mirostatEta
        self.seed = seed
    }

    /// The model's own distribution: temperature 1 and every other stage off.
    public static func neutral(seed: UInt64 = 0) -> SamplingSettings {
        SamplingSettings(temperature: 1, topK: 0, topP: 1, minP: 0, typicalP: 1, repeatPenalty: 1, repeatLastN: 0, seed: seed)
    }

    static let repeatPenaltyRange = "a number in 0.01...1000000 (1 = off)"

    /// The names `set(name:value:)` accepts, as the command line spells them (without the dashes).
    public static let settingNames = [
        "temperature", "top-k", "top-p", "min-p", "typical-p", "repeat-penalty", "repeat-last-n",
        "frequency-penalty", "presence-penalty", "mirostat", "mirostat-tau", "mirostat-eta", "seed",
    ]

    /// Checks every field; the error names the command-line flag, the value and the allowed range.
    public func validate() throws(SamplingSettingsError) {
        try Self.check("temperature", temperature, "a finite number >= 0") { $0 >= 0 }
        try Self.check("top-k", topK, "an integer >= 0 (0 = off)") { $0 >= 0 }
        try Self.check("top-p", topP, "a number in 0...1 (1 = off)") { $0 >= 0 && $0 <= 1 }
        try Self.check("min-p", minP, "a number in 0...1 (0 = off)") { $0 >= 0 && $0 <= 1 }
        try Self.check("typical-p", typicalP, "a number in 0...1 (1 = off)") { $0 >= 0 && $0 <= 1 }
        // Bounded: the penalty divides or multiplies logits as a Float. 1e-40 (a denormal) made
        // them infinite and the draw NaN; 1e39 is an infinite Float, and a zero logit times it
        // NaN. 10⁶ already bans a token.
        try Self.check("repeat-penalty", repeatPenalty, Self.repeatPenaltyRange) { $0 >= 0.01 && $0 <= 1e6 }
        try Self.check("repeat-last-n", repeatLastN, "an integer >= -1 (0 = off, -1 = whole context)") { $0 >= -1 }
        try Self.check("frequency-penalty", frequencyPenalty, "a finite number >= 0 (0 = off)") { $0 >= 0 }
        try Self.check("presence-penalty", presencePenalty, "a finite number >= 0 (0 = off)") { $0 >= 0 }
        try Self.check("mirostat-tau", mirostatTau, "a finite number >= 0 (bits)") { $0 >= 0 }
        try Self.check("mirostat-eta", mirostatEta, "a number in 0...1") { $0 >= 0 && $0 <= 1 }
        // Every UInt64 is a valid seed and `mirostat` is an enum: nothing to check.
    }

    private static func check(_ name: String, _ value: Double, _ allowed: String, _ ok: (Double) -> Bool) throws(SamplingSettingsError) {
        // NaN fails every comparison, so `ok` alone would already reject it; the explicit check
        // also rejects ±infinity, which the range tests would let through.
        guard value.isFinite && ok(value) else { throw .invalidValue(flag: "--" + name, value: "\(value)", allowed: allowed) }
    }

    private static func check(_ name: String, _ value: Int, _ allowed: String, _ ok: (Int) -> Bool) throws(SamplingSettingsError) {
        guard ok(value) else { throw .invalidValue(flag: "--" + name, value: "\(value)", allowed: allowed) }
    }

    /// Sets one field from text, as `/set temperature 0.7` does. `name` may be written with dashes
    /// or underscores, with or without leading dashes, in any case (`top-k`, `top_k`, `--top-k`).
    /// On error `self` is unchanged.
    public mutating func set(name: String, value: String) throws(SamplingSettingsError) {
        var key = name.lowercased().replacing("_", with: "-")
        while key.hasPrefix("-") { key.removeFirst() }
        let text = value.trimmedOfWhitespace()
        var copy = self
        switch key {
        case "temperature", "temp": copy.temperature = try Self.parseDouble(key: "temperature", text, "a finite number >= 0")
        case "top-k": copy.topK = try Self.parseInt(key: key, text, "an integer >= 0 (0 = off)")
        case "top-p": copy.topP = try Self.parseDouble(key: key, text, "a number in 0...1 (1 = off)")
        case "min-p": copy.minP = try Self.parseDouble(key: key, text, "a number in 0...1 (0 = off)")
        case "typical-p", "typical": copy.typicalP = try Self.parseDouble(key: "typical-p", text, "a number in 0...1 (1 = off)")
        case "repeat-penalty": copy.repeatPenalty = try Self.parseDouble(key: key, text, Self.repeatPenaltyRange)
        case "repeat-last-n": copy.repeatLastN = try Self.parseInt(key: key, text, "an integer >= -1 (0 = off, -1 = whole context)")
        case "frequency-penalty": copy.frequencyPenalty = try Self.parseDouble(key: key, text, "a finite number >= 0 (0 = off)")
        case "presence-penalty": copy.presencePenalty = try Self.parseDouble(key: key, text, "a finite number >= 0 (0 = off)")
        case "mirostat":
            switch text.lowercased() {
            case "0", "off": copy.mirostat = .off
            case "2", "v2", "on": copy.mirostat = .v2
            default: throw .invalidValue(flag: "--mirostat", value: text, allowed: "0 (off) or 2 (Mirostat v2)")
            }
        case "mirostat-tau": copy.mirostatTau = try Self.parseDouble(key: key, text, "a finite number >= 0 (bits)")
        case "mirostat-eta": copy.mirostatEta = try Self.parseDouble(key: key, text, "a number in 0...1")
        case "seed":
            guard let seed = UInt64(text) else { throw .invalidValue(flag: "--seed", value: text, allowed: "an integer in 0...\(UInt64.max)") }
            copy.seed = seed
        default:
            throw .unknownSetting(name: name)
        }
        try copy.validate()
        self = copy
    }

    private static func parseDouble(key: String, _ text: String, _ allowed: String) throws(SamplingSettingsError) -> Double {
        guard let value = Double(text) else { throw .invalidValue(flag: "--" + key, value: text, allowed: allowed) }
        return value
    }

    private static func parseInt(key: String, _ text: String, _ allowed: String) throws(SamplingSettingsError) -> Int {
        guard let value = Int(text) else { throw .invalidValue(flag: "--" + key, value: text, allowed: allowed) }
        return value
    }

    // Hand-written so that missing keys take their defaults (settings files outlive versions)
    // and so that a decoded value is always a valid one.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SamplingSettings()
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? d.temperature
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK
        topP = try c.decodeIfPresent(Double.self, forKey: .topP) ?? d.topP
        minP = try c.decodeIfPresent(Double.self, forKey: .minP) ?? d.minP
        typicalP = try c.decodeIfPresent(Double.self, forKey: .typicalP) ?? d.typicalP
        repeatPenalty = try c.decodeIfPresent(Double.self, forKey: .repeatPenalty) ?? d.repeatPenalty
        repeatLastN = try c.decodeIfPresent(Int.self, forKey: .repeatLastN) ?? d.repeatLastN
        frequencyPenalty = try c.decodeIfPresent(Double.self, forKey: .frequencyPenalty) ?? d.frequencyPenalty
        presencePenalty = try c.decodeIfPresent(Double.self, forKey: .presencePenalty) ?? d.presencePenalty
        mirostat = try c.decodeIfPresent(Mirostat.self, forKey: .mirostat) ?? d.mirostat
        mirostatTau = try c.decodeIfPresent(Double.self, forKey: .mirostatTau) ?? d.mirostatTau
        mirostatEta = try c.decodeIfPresent(Double.self, forKey: .mirostatEta) ?? d.mirostatEta
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        try validate()
    }
}

/// A sampling setting that is unknown or out of range. Bad user input, so the command exits 64
/// (EX_USAGE) with `description` as its one stderr line.
public enum SamplingSettingsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `flag` is the command-line spelling (`--top-p`), `value` what was given, `allowed` the range.
    case invalidValue(flag: String, value: String, allowed: String)
    /// `/set` with a name that is no setting.
    case unknownSetting(name: String)

    public var description: String {
        switch self {
        case let .invalidValue(flag, value, allowed): "\(flag) must be \(allowed) (got \(value))"
        case let .unknownSetting(name):
            "unknown sampling setting '\(name)' (known: \(SamplingSettings.settingNames.joined(separator: ", ")))"
        }
    }

    /// sysexits EX_USAGE.
    public var exitCode: Int32 { 64 }
}

extension StringProtocol {
    /// The text without the whitespace (newlines included) around it: how a typed value or an
    /// input line is read, by `/set` here and by the chat's front ends (FoundationEssentials has
    /// no `trimmingCharacters`).
    public func trimmedOfWhitespace() -> String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
