import Glibc

// The sampler's scratch memory and the two primitives every truncation stage is built from:
// a partial sort of the candidates and a threshold filter.
//
// Glossary: V = vocabulary rows the sampler may pick (the valid count); l = a logit after the
// penalties and the bias; T = temperature; s = (l − max l)/T ≤ 0, the log of an unnormalised
// probability; w = exp(s); Z = Σ w over the candidates left after temperature; q = w / Σ w over the
// candidates left now (the current distribution).

/// Buffers sized once per vocabulary and reused for every token, so drawing a token allocates
/// nothing. A truncation stage only reorders and shortens `ids`; `scaled` and `weights` stay
/// indexed by token id, so no stage copies probabilities around.
struct SamplingWorkspace: Sendable {
    /// (V) logits after penalties and bias; −∞ marks a token banned by the bias.
    var logits: [Float] = []
    /// (V) s, the tempered log-weights; unclamped, so order comparisons stay exact.
    var scaled: [Float] = []
    /// (V) w = exp(max(s, −87)), 0 for a banned token; −87 keeps the Float exp finite
    /// (e⁻⁸⁷ ≈ 1.6e-38 stands for 0).
    var weights: [Float] = []
    /// (V) occurrences in the penalty window; all zero between tokens.
    var counts: [Int32] = []
    /// (V) candidate ids; the first `count` are live.
    var ids: [Int32] = []
    var count = 0
    /// `ids[0..<sortedCount]` are in probability order (s descending, then id ascending) and each
    /// is at least as likely as every later candidate. Stages extend it lazily.
    var sortedCount = 0
    /// Σ w over the live candidates, in Double so that mass differences stay meaningful.
    var total = 0.0
    /// Z: Σ w right after temperature, before any truncation.
    var fullTotal = 0.0
    /// Σ w·max(s, −87) right after temperature; with Z it gives the entropy.
    var fullWeightedLog = 0.0

    /// The lowest exponent `weights` uses; see `weights`.
    static let minExponent: Float = -87

    /// Sizes the buffers for `vocabularySize` rows; a no-op when they already fit.
    mutating func reserve(_ vocabularySize: Int) {
        guard logits.count != vocabularySize else { return }
        logits = [Float](repeating: 0, count: vocabularySize)
        scaled = [Float](repeating: 0, count: vocabularySize)
        weights = [Float](repeating: 0, count: vocabularySize)
        counts = [Int32](repeating: 0, count: vocabularySize)
        ids = [Int32](repeating: 0, count: vocabularySize)
    }

    /// Entropy in nats of the distribution right after temperature: H = log Z − Σ w·s / Z.
    var fullEntropy: Double { max(0, Glibc.log(fullTotal) - fullWeightedLog / fullTotal) }

    /// Brings the `m` most likely candidates, in probability order, to the front.
    /// - Complexity: O(n log m) for n = `count`, and nothing when the prefix is already sorted.
    mutating func sortByProbability(prefix m: Int) {
        let m = min(m, count)
        guard m > sortedCount else { return }
        let lo = sortedCount, hi = count
        scaled.withUnsafeBufferPointer { s in
            ids.withUnsafeMutableBufferPointer { ids in
                Self.partialSort(ids.baseAddress! + lo, count: hi - lo, prefix: m - lo) { s[Int($0)] }
            }
        }
        sortedCount = m
    }

    /// Σ w over `ids[range]`, in Double.
    func weightSum(_ range: Range<Int>) -> Double {
        weights.withUnsafeBufferPointer { w in
            ids.withUnsafeBufferPointer { ids in
                var sum = 0.0
                for i in range { sum += Double(w[Int(ids[i])]) }
                return sum
            }
        }
    }

    /// Keeps the first `n` candidates; `prefixTotal` is their Σ w when the caller has it.
    mutating func truncate(to n: Int, prefixTotal: Double? = nil) {
        guard n < count else { return }
        total = prefixTotal ?? weightSum(0..<n)
        count = n
        sortedCount = min(sortedCount, n)
    }

    /// Keeps the candidates with weight w ≥ `threshold`, in their order; when none would be left,
    /// keeps the single most likely one (a filter never leaves nothing to draw). Comparing
    /// weights, not logs, keeps the platform's `log` out of which tokens survive.
    /// - Complexity: O(n), no sort.
    mutating func keep(weightAtLeast threshold: Float) {
        var kept = 0, keptInSorted = 0, sum = 0.0
        let sorted = sortedCount
        weights.withUnsafeBufferPointer { w in
            ids.withUnsafeMutableBufferPointer { ids in
                for i in 0..<count {
                    let id = ids[i]
                    let weight = w[Int(id)]
                    guard weight >= threshold else { continue }
                    ids[kept] = id
                    kept += 1
                    if i < sorted { keptInSorted += 1 }
                    sum += Double(weight)
                }
            }
        }
        if kept == 0 {
            sortByProbability(prefix: 1)
            truncate(to: 1)
            return
        }
        // The filter is monotone in w, so the survivors of a sorted prefix are its head and still
        // at least as likely as everything after them.
        count = kept
        sortedCount = keptInSorted
        total = sum
    }

    /// The orders `keepPrefix` can rank candidates by; ties go to the lower id.
    enum Order {
        /// s descending: most likely first.
        case probability
        /// |center − max(s, −87)| ascending: most typical first.
        case typicality(center: Float)
    }

    /// Keeps the shortest prefix, in `order`, whose weights reach `target` (at least one
    /// candidate). Sorts only as far as needed: 64 candidates first, then 8× more per round, so a
    /// peaked distribution costs one O(n) pass, not a sort of the vocabulary.
    mutating func keepPrefix(reaching target: Double, order: Order) {
        let probabilityOrder = if case .probability = order { true } else { false }
        var sorted = probabilityOrder ? sortedCount : 0
        let n = count
        let (kept, sum) = scaled.withUnsafeBufferPointer { s in
            weights.withUnsafeBufferPointer { w in
                ids.withUnsafeMutableBufferPointer { ids in
                    switch order {
                    case .probability:
                        Self.prefix(ids.baseAddress!, count: n, sorted: &sorted, reaching: target, weights: w) { s[Int($0)] }
                    case .typicality(let center):
                        Self.prefix(ids.baseAddress!, count: n, sorted: &sorted, reaching: target, weights: w) {
                            -abs(center - max(s[Int($0)], Self.minExponent))
                        }
                    }
                }
            }
        }
        sortedCount = probabilityOrder ? sorted : 0
        truncate(to: kept, prefixTotal: sum)
    }

    /// `keepPrefix`'s loop, on plain pointers: returns how many lead ids reach `target` and their
    /// weight. (A static function with inout arguments, not a closure over locals: those locals
    /// would be boxed on the heap.)
    @inline(__always)
    private static func prefix(
        _ ids: UnsafeMutablePointer<Int32>, count n: Int, sorted: inout Int, reaching target: Double,
        weights w: UnsafeBufferPointer<Float>, key: (Int32) -> Float
    ) -> (kept: Int, sum: Double) {
        var kept = 0, sum = 0.0, m = 64
        while true {
            let goal = min(max(m, sorted), n)
            if goal > sorted {
                partialSort(ids + sorted, count: n - sorted, prefix: goal - sorted, key: key)
                sorted = goal
            }
            while kept < sorted {
                sum += Double(w[Int(ids[kept])])
                kept += 1
                if sum >= target { return (kept, sum) }
            }
            if kept == n { return (kept, sum) }
            m = goal * 8
        }
    }

    /// Moves the `m` first elements of `a[0..<n]` to the front, sorted, in the order "`key`
    /// descending, then id ascending" (a strict total order, so the result does not depend on the
    /// algorithm): std::partial_sort. A heap of the m best so far sits in `a[0..<m]` with the
    /// worst at its root; a later element replaces the root only if it beats it, which for most
    /// of the vocabulary is one float compare against a cached key; a heap sort orders the rest.
    /// - Complexity: O(n log m) comparisons at worst, about n when m ≪ n; in place.
    @inline(__always)
    static func partialSort(_ a: UnsafeMutablePointer<Int32>, count n: Int, prefix m: Int, key: (Int32) -> Float) {
        guard m > 0, n > 1 else { return }
        @inline(__always) func before(_ x: Int32, _ y: Int32) -> Bool {
            let kx = key(x), ky = key(y)
            return kx > ky || (kx == ky && x < y)
        }
        // Restores the heap property below `i` in a[0..<size]: no child comes after its parent.
        @inline(__always) func siftDown(_ i: Int, _ size: Int) {
            var parent = i
            while true {
                var child = 2 * parent + 1
                if child >= size { return }
                if child + 1 < size && before(a[child], a[child + 1]) { child += 1 }
                guard before(a[parent], a[child]) else { return }
                a.swapAt(parent, child)
                parent = child
            }
        }
        var i = m / 2 - 1
        while i >= 0 { siftDown(i, m); i -= 1 }
        var rootKey = key(a[0])
        for j in m..<n {
            let k = key(a[j])
            if k < rootKey || (k == rootKey && a[j] > a[0]) { continue }
            a.swapAt(0, j)
            siftDown(0, m)
            rootKey = key(a[0])
        }
        var end = m - 1
        while end > 0 {
            a.swapAt(0, end)
            siftDown(0, end)
            end -= 1
        }
    }
}

extension UnsafeMutablePointer {
    @inline(__always) func swapAt(_ i: Int, _ j: Int) {
        let t = self[i]
        self[i] = self[j]
        self[j] = t
    }
}
