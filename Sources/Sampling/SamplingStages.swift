import Glibc
import SIMDMath

// The pipeline's stages, one small type each, in the order `Sampler` applies them:
//
//   penalties → logit bias → temperature → top-k → top-p → min-p → typical-p → draw
//
// (greedy replaces everything after temperature when the temperature is 0; Mirostat v2 replaces
// the four truncations when it is on). The first two reshape the dense logits; temperature turns
// them into weights and the candidate list; the rest only shorten that list.
// Glossary (see SamplingWorkspace): l logit, T temperature, s = (l − max l)/T, w = eˢ, q = w / Σw.

/// One step of the sampler pipeline.
protocol SamplingStage {
    /// How `TokenInfo.massRemoved` names it.
    static var name: String { get }
    /// False when the stage's setting is its "off" value: the sampler then skips it, so an "off"
    /// stage changes nothing, not even by rounding, and is not reported.
    var isActive: Bool { get }
    func apply(to work: inout SamplingWorkspace)
}

/// Repetition, frequency and presence penalties over the tokens of a window of recent history,
/// each distinct token once, with c its number of occurrences in the window:
///
///     CTRL (Keskar et al. 2019):  l ← l / r  if l > 0,  l ← l · r  otherwise
///     OpenAI:                     l ← l − c · frequency − (c > 0 ? presence : 0)
///
/// Dividing a positive logit and multiplying a negative one both make the token less likely for
/// r > 1 (plain division would make a negative logit *more* likely). Ids outside the vocabulary
/// are skipped. Unlike OpenAI, whose window is the whole reply, all three share `--repeat-last-n`.
struct Penalties: SamplingStage {
    static var name: String { "penalties" }
    let window: UnsafeBufferPointer<Int>
    let repetition: Float, frequency: Float, presence: Float

    var isActive: Bool { !window.isEmpty && (repetition != 1 || frequency != 0 || presence != 0) }

    func apply(to work: inout SamplingWorkspace) {
        let r = repetition, f = frequency, p = presence
        work.counts.withUnsafeMutableBufferPointer { counts in
            work.logits.withUnsafeMutableBufferPointer { l in
                let v = l.count
                for id in window where id >= 0 && id < v { counts[id] += 1 }
                // Second pass: the first occurrence of each id applies its penalties and zeroes its
                // count, so later occurrences skip it and the buffer is clean for the next token.
                for id in window where id >= 0 && id < v && counts[id] > 0 {
                    let c = Float(counts[id])
                    counts[id] = 0
                    var x = l[id]
                    x = x > 0 ? x / r : x * r
                    x -= c * f + p
                    l[id] = x
                }
            }
        }
    }
}

/// Adds a fixed bias to chosen logits: l ← l + bias[id]. A bias of −∞ bans the token.
/// The entries are sorted by id once, so no dictionary is walked per token.
struct LogitBias: SamplingStage {
    static var name: String { "logit bias" }
    let entries: [(id: Int32, bias: Float)]
    /// Whether some entry is −∞.
    let bans: Bool

    init(entries: [(id: Int32, bias: Float)]) {
        self.entries = entries
        bans = entries.contains { $0.bias == -.infinity }
    }

    var isActive: Bool { !entries.isEmpty }

    func apply(to work: inout SamplingWorkspace) {
        work.logits.withUnsafeMutableBufferPointer { l in
            for (id, bias) in entries where Int(id) < l.count { l[Int(id)] += bias }
        }
    }
}

/// Temperature and softmax: s = (l − max l) / T, w = eˢ, and the candidates are every id whose
/// logit is not −∞. Subtracting the maximum first keeps every w ≤ 1 (no overflow) and makes the
/// most likely token's w exactly 1. Also records Z = Σw and Σw·s for the entropy
/// H = log Z − Σ w·s / Z. T = 0 never reaches here: the sampler runs greedy on T = 1.
/// - Complexity: one SIMD pass over V, then one scalar pass to list the candidates.
struct Temperature: SamplingStage {
    static var name: String { "temperature" }
    /// 1/T, finite and > 0.
    let inverse: Float
    /// Whether some logit may be −∞ (a −∞ bias): only then are candidates filtered.
    let mayBan: Bool

    var isActive: Bool { true }

    func apply(to work: inout SamplingWorkspace) {
        let n = work.logits.count
        var total = 0.0, weightedLog = 0.0, count = 0
        let inv = SamplerVector(repeating: inverse)
        let limit = -SamplingWorkspace.minExponent
        work.logits.withUnsafeBufferPointer { l in
            let lp = UnsafeRawPointer(l.baseAddress!)
            let top = maximum(l)
            guard top > -.infinity else { return }  // everything banned: no candidates
            let topVector = SamplerVector(repeating: top)
            work.scaled.withUnsafeMutableBufferPointer { s in
                work.weights.withUnsafeMutableBufferPointer { w in
                    let sp = UnsafeMutableRawPointer(s.baseAddress!), wp = UnsafeMutableRawPointer(w.baseAddress!)
                    // Works on d = −s = (max − l)/T ≥ 0 (the top token's is +0, not −0), where
                    // clamping is a bit trick. Sums in Float over blocks of 256, then in Double:
                    // fast, and accurate enough for a mass of at most V · 1.
                    var i = 0
                    while i < n {
                        var blockTotal = SamplerVector(), blockWeighted = SamplerVector()
                        let blockEnd = min(n, i + 256)
                        while i + 16 <= blockEnd {
                            let x = lp.loadUnaligned(fromByteOffset: i * 4, as: SamplerVector.self)
                            let d = (topVector - x) * inv
                            let clamped = clampedDistance(d, limit: limit)
                            let wv = vectorExp(-clamped)
                            sp.storeBytes(of: -d, toByteOffset: i * 4, as: SamplerVector.self)
                            wp.storeBytes(of: wv, toByteOffset: i * 4, as: SamplerVector.self)
                            blockTotal += wv
                            blockWeighted -= wv * clamped
                            i += 16
                        }
                        var tailTotal: Float = 0, tailWeighted: Float = 0
                        while i < blockEnd {
                            let d = (top - l[i]) * inverse
                            let clamped = min(d, limit)
                            let wv = samplerExp(-clamped)
                            s[i] = -d
                            w[i] = wv
                            tailTotal += wv
                            tailWeighted -= wv * clamped
                            i += 1
                        }
                        total += Double(blockTotal.sum() + tailTotal)
                        weightedLog += Double(blockWeighted.sum() + tailWeighted)
                    }
                }
            }
            work.ids.withUnsafeMutableBufferPointer { ids in
                guard mayBan else {
                    for i in 0..<n { ids[i] = Int32(i) }
                    count = n
                    return
                }
                work.weights.withUnsafeMutableBufferPointer { w in
                    // Branch-free compaction: always write, advance only past a live id. A banned
                    // token (−∞) gets weight 0 rather than e⁻⁸⁷; the e⁻⁸⁷ already in the sums is
                    // below Double's resolution there (Z ≥ 1, the top token weighs exactly 1).
                    for i in 0..<n {
                        let live = l[i] > -.infinity
                        ids[count] = Int32(i)
                        count &+= live ? 1 : 0
                        w[i] = live ? w[i] : 0
                    }
                }
            }
        }
        work.count = count
        work.sortedCount = 0
        work.total = total
        work.fullTotal = total
        work.fullWeightedLog = weightedLog
    }
}

/// Temperature 0: keep only the most likely token (the lowest id among equals). Run after
/// `Temperature` at T = 1, so the reported entropy and alternatives are the model's own.
struct Greedy: SamplingStage {
    static var name: String { "greedy" }
    var isActive: Bool { true }

    func apply(to work: inout SamplingWorkspace) {
        work.sortByProbability(prefix: 1)
        work.truncate(to: 1)
    }
}

/// Top-k: keep the k most likely tokens. k = 0 is off; k ≥ the candidate count keeps all.
/// - Complexity: O(V log k) by a partial sort, never a full sort of the vocabulary.
struct TopK: SamplingStage {
    static var name: String { "top-k" }
    let k: Int

    var isActive: Bool { k > 0 }

    func apply(to work: inout SamplingWorkspace) {
        guard k < work.count else { return }
        work.sortByProbability(prefix: k)
        work.truncate(to: k)
    }
}

/// Top-p, nucleus sampling (Holtzman et al. 2020): keep the smallest set of most likely tokens
/// whose probabilities q sum to at least p. p = 1 is off; p = 0 keeps the single most likely.
struct TopP: SamplingStage {
    static var name: String { "top-p" }
    let p: Double

    var isActive: Bool { p < 1 }

    func apply(to work: inout SamplingWorkspace) {
        work.keepPrefix(reaching: p * work.total, order: .probability)
    }
}

/// Min-p (Nguyen et al. 2024): keep the tokens with q ≥ minP · max q (compared as weights,
/// w ≥ minP · max w), so the cut follows the model's confidence. 0 is off; 1 keeps only the most likely (and ties).
/// - Complexity: O(n), no sort.
struct MinP: SamplingStage {
    static var name: String { "min-p" }
    let p: Double

    var isActive: Bool { p > 0 }

    func apply(to work: inout SamplingWorkspace) {
        work.sortByProbability(prefix: 1)
        work.keep(weightAtLeast: Float(p) * work.weights[Int(work.ids[0])])
    }
}

/// Locally typical sampling (Meister et al. 2022): with H = −Σ q log q the entropy of the current
/// distribution, rank tokens by |−log q − H| (how far their surprise is from the expected one) and
/// keep the smallest set of the most typical whose q sum to at least p. Since log q = s − log Σw,
/// |−log q − H| = |E_q[s] − s|, with no log per token. p = 1 is off; p = 0 keeps one token.
/// The most likely token may be dropped: that is the method.
struct Typical: SamplingStage {
    static var name: String { "typical-p" }
    let p: Double

    var isActive: Bool { p < 1 }

    func apply(to work: inout SamplingWorkspace) {
        var weightedLog = 0.0
        work.scaled.withUnsafeBufferPointer { s in
            work.weights.withUnsafeBufferPointer { w in
                for i in 0..<work.count {
                    let id = Int(work.ids[i])
                    weightedLog += Double(w[id]) * Double(max(s[id], SamplingWorkspace.minExponent))
                }
            }
        }
        let center = Float(weightedLog / work.total)
        work.keepPrefix(reaching: p * work.total, order: .typicality(center: center))
    }
}

/// Mirostat v2 (Basu et al. 2021), in place of top-k, top-p, min-p and typical-p: keep the tokens
/// whose surprise −log₂ q is at most mu (at least the most likely one). After the draw the sampler
/// moves mu toward the target: mu ← mu − eta · (−log₂ q(drawn) − tau), q renormalised over the
/// kept tokens, so the observed surprise settles near tau. mu starts at 2·tau.
struct MirostatV2: SamplingStage {
    static var name: String { "mirostat" }
    let mu: Double

    var isActive: Bool { true }

    func apply(to work: inout SamplingWorkspace) {
        // −log₂(w / Σw) ≤ mu  ⇔  w ≥ Σw · 2^−mu
        work.keep(weightAtLeast: Float(work.total * exp2(-mu)))
    }

    /// The next mu after drawing a token of probability `q` among the kept ones.
    static func nextMu(_ mu: Double, drawnProbability q: Double, tau: Double, eta: Double) -> Double {
        mu - eta * (-log2(q) - tau)
    }
}
