
/// Picks the next token from a row of logits, through the pipeline
///
///     penalties → logit bias → temperature → top-k → top-p → min-p → typical-p → draw
///
/// with temperature 0 meaning greedy (argmax, no division) and Mirostat v2, when on, in place of
/// the four truncations. Each stage is a small type in SamplingStages.swift with its formula.
///
/// Like llama2.c's sampler, it is a small value with its own seeded generator: the same seed,
/// logits, history and settings give the same ids on every run and machine. Every token consumes
/// exactly one number of the stream (greedy ones too), so the k-th token always uses the k-th
/// number, whatever settings the earlier tokens were drawn with.
///
/// Its scratch buffers are sized on the first call for a vocabulary and reused: `sample` allocates
/// nothing afterwards.
public struct Sampler: Sendable {
    /// The settings in use; change them with `update(_:)`, which validates.
    public private(set) var settings: SamplingSettings
    /// Mirostat's running threshold mu, in bits; 2·tau until the first Mirostat draw.
    public private(set) var mirostatMu: Double
    /// The generator; reseeded when `update` changes the seed.
    public private(set) var generator: SeededGenerator
    /// Ids at or above this are never drawn: the rows a model pads its vocabulary with. nil = all.
    public let validCount: Int?
    private let bias: LogitBias
    private var work = SamplingWorkspace()

    /// - Parameters:
    ///   - logitBias: added to the logits of the given ids before temperature; −∞ bans an id.
    ///     Ids beyond the row are ignored.
    ///   - validCount: how many leading ids of a logits row are real tokens (a padded vocabulary
    ///     has more rows than its tokenizer); the rest are masked out. nil = every row.
    /// - Throws: `SamplingSettingsError` for invalid settings or a NaN, +∞ or negative-id bias.
    public init(settings: SamplingSettings, logitBias: [Int: Float] = [:], validCount: Int? = nil) throws(SamplingSettingsError) {
        try settings.validate()
        for (id, value) in logitBias where id < 0 || value.isNaN || value == .infinity {
            throw .invalidValue(flag: "--logit-bias", value: "\(id):\(value)", allowed: "id >= 0 with a finite bias or -inf")
        }
        if let validCount, validCount < 0 {
            throw .invalidValue(flag: "--valid-count", value: "\(validCount)", allowed: "an integer >= 0")
        }
        self.settings = settings
        self.validCount = validCount
        mirostatMu = 2 * settings.mirostatTau
        generator = SeededGenerator(seed: settings.seed)
        // Sorted by id and clamped to Int32 (ids past Int32 are past any vocabulary): no dictionary
        // order ever reaches the hot path.
        bias = LogitBias(entries: logitBias.sorted { $0.key < $1.key }.filter { $0.key <= Int(Int32.max) }
            .map { (Int32($0.key), $0.value) })
    }

    /// Applies new settings from the next token on, as a live `/set` does. A new seed restarts
    /// the generator from it; a new tau or turning Mirostat on restarts mu at 2·tau.
    /// - Throws: `SamplingSettingsError`; on error nothing changes.
    public mutating func update(_ new: SamplingSettings) throws(SamplingSettingsError) {
        try new.validate()
        if new.seed != settings.seed { generator = SeededGenerator(seed: new.seed) }
        if new.mirostatTau != settings.mirostatTau || (new.mirostat != settings.mirostat) { mirostatMu = 2 * new.mirostatTau }
        settings = new
    }

    /// Restarts Mirostat's mu at 2·tau, e.g. at the start of a new reply.
    public mutating func resetMirostat() { mirostatMu = 2 * settings.mirostatTau }

    /// The id with the largest logit; the lowest id wins a tie. NaN logits are never picked.
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in logits.enumerated() where v > bestValue {
            best = i
            bestValue = v
        }
        return best
    }

    /// Draws the next token with no penalty history (the penalties then do nothing).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) throws(SamplingError) -> TokenInfo {
        try sample(logits, history: EmptyCollection<Int>())
    }

    /// Draws the next token from one row of logits (V).
    /// - Parameters:
    ///   - history: the token ids so far (prompt and reply), oldest first; the penalties look at
    ///     its last `repeatLastN`. An `Array` or `ArraySlice` is read in place; another
    ///     collection is copied once per call.
    /// - Returns: the id and what the sampler knew about it.
    /// - Throws: `SamplingError.nonFiniteLogits` (the caller aborts the turn) or `.noCandidates`.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, history: some Collection<Int>) throws(SamplingError) -> TokenInfo {
        let v = min(validCount ?? logits.count, logits.count)
        guard v > 0 else { throw .noCandidates }
        try load(UnsafeBufferPointer(rebasing: logits[0..<v]))
        let s = settings
        let windowLength = s.repeatLastN < 0 ? Int.max : s.repeatLastN
        if windowLength > 0 && (s.repeatPenalty != 1 || s.frequencyPenalty != 0 || s.presencePenalty != 0) {
            // Walked as a buffer: iterating a generic collection from here is not specialised,
            // and costs heap boxes per element. Arrays and slices have contiguous storage;
            // anything else is copied once.
            let applied: Void? = history.withContiguousStorageIfAvailable { penalize(UnsafeBufferPointer(rebasing: $0.suffix(windowLength))) }
            if applied == nil { Array(history.suffix(windowLength)).withUnsafeBufferPointer { penalize($0) } }
        }
        apply(bias)
        // 1/T overflows Float for T below ~3e-39: that is the greedy limit too.
        let inverse = Float(1 / s.temperature)
        let greedy = s.temperature == 0 || !inverse.isFinite
        apply(Temperature(inverse: greedy ? 1 : inverse, mayBan: bias.bans))
        guard work.count > 0 else { throw .noCandidates }

        var info = TokenInfo(id: 0, probability: 0, entropy: work.fullEntropy, top: FixedList(), massRemoved: FixedList())
        // One partial sort serves both the alternatives and top-k (a top-k that keeps everything
        // sorts nothing, so it draws exactly as top-k 0 does).
        let topK = greedy || s.mirostat == .v2 || s.topK >= work.count ? 0 : s.topK
        work.sortByProbability(prefix: max(FixedList<TokenInfo.Alternative>.capacity, topK))
        for i in 0..<min(work.sortedCount, FixedList<TokenInfo.Alternative>.capacity) {
            let id = Int(work.ids[i])
            info.top.append(.init(id: id, probability: Double(work.weights[id]) / work.fullTotal))
        }

        if greedy {
            truncate(Greedy(), &info)
        } else if s.mirostat == .v2 {
            truncate(MirostatV2(mu: mirostatMu), &info)
        } else {
            truncate(TopK(k: s.topK), &info)
            truncate(TopP(p: s.topP), &info)
            truncate(MinP(p: s.minP), &info)
            truncate(Typical(p: s.typicalP), &info)
        }

        let (id, weight) = draw()
        info.id = id
        info.probability = Double(weight) / work.total
        if !greedy && s.mirostat == .v2 {
            mirostatMu = MirostatV2.nextMu(mirostatMu, drawnProbability: info.probability, tau: s.mirostatTau, eta: s.mirostatEta)
        }
        return info
    }

    /// Copies the row into the workspace, refusing NaN and ±∞: they mean a broken model or
    /// forward pass, and silently sampling around them would hide it.
    private mutating func load(_ logits: UnsafeBufferPointer<Float>) throws(SamplingError) {
        work.reserve(logits.count)
        let n = logits.count
        let clean: Bool = work.logits.withUnsafeMutableBufferPointer { out in
            // x − x is 0 for every finite x and NaN for NaN and ±∞, and a NaN survives any sum:
            // one add per 16 logits and one test at the end (SIMD masks would go lane by lane).
            var poison = SamplerVector()
            let src = UnsafeRawPointer(logits.baseAddress!), dst = UnsafeMutableRawPointer(out.baseAddress!)
            var i = 0
            while i + 16 <= n {
                let x = src.loadUnaligned(fromByteOffset: i * 4, as: SamplerVector.self)
                poison += x - x
                dst.storeBytes(of: x, toByteOffset: i * 4, as: SamplerVector.self)
                i += 16
            }
            var tailPoison: Float = 0
            while i < n {
                tailPoison += logits[i] - logits[i]
                out[i] = logits[i]
                i += 1
            }
            return !(poison.sum() + tailPoison).isNaN
        }
        if !clean {
            let index = logits.firstIndex { !$0.isFinite }!
            throw .nonFiniteLogits(index: index, value: logits[index])
        }
    }

    private mutating func penalize(_ window: UnsafeBufferPointer<Int>) {
        let s = settings
        apply(Penalties(window: window, repetition: Float(s.repeatPenalty), frequency: Float(s.frequencyPenalty), presence: Float(s.presencePenalty)))
    }

    private mutating func apply(_ stage: some SamplingStage) {
        if stage.isActive { stage.apply(to: &work) }
    }

    /// Runs a truncation stage and records the mass it removed.
    private mutating func truncate(_ stage: some SamplingStage, _ info: inout TokenInfo) {
        guard stage.isActive else { return }
        let before = work.total
        stage.apply(to: &work)
        info.massRemoved.append(.init(stage: type(of: stage).name, fraction: max(0, before - work.total) / work.fullTotal))
    }

    /// Draws one candidate with probability w / Σw, walking them in their current order (which is
    /// itself deterministic). Always consumes one number of the stream.
    private mutating func draw() -> (id: Int, weight: Float) {
        let target = generator.nextUnit() * work.total
        return work.weights.withUnsafeBufferPointer { w in
            work.ids.withUnsafeBufferPointer { ids in
                var running = 0.0
                for i in 0..<work.count {
                    let id = Int(ids[i])
                    running += Double(w[id])
                    if running > target { return (id, w[id]) }
                }
                // Rounding can leave `running` a hair below `target`: the last candidate with
                // any weight takes the leftover.
                var i = work.count - 1
                while i > 0 && w[Int(ids[i])] == 0 { i -= 1 }
                return (Int(ids[i]), w[Int(ids[i])])
            }
        }
    }
}

/// Sampling failed for this token; the caller aborts the turn and the session goes on.
public enum SamplingError: Error, Sendable, CustomStringConvertible {
    /// The model produced NaN or ±∞ at `index` (the first such index).
    case nonFiniteLogits(index: Int, value: Float)
    /// Every id is masked or banned by the bias: nothing to draw.
    case noCandidates

    public var description: String {
        switch self {
        case let .nonFiniteLogits(index, value): "non-finite logits: logit \(index) is \(value)"
        case .noCandidates: "no token can be sampled: every id is masked or banned"
        }
    }
}
