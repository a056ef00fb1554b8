/// The merge rules of a BPE vocabulary and the routine that applies them to one piece.
///
/// A merge `(left, right) -> merged` has a rank: its line in `merges.txt`. Encoding a piece starts
/// from one token per byte and repeatedly merges the adjacent pair of lowest rank (the leftmost one
/// on ties) until no adjacent pair has a rule — the GPT-2 `bpe()` loop.
///
///     // rules (by rank): 0 (h,e)->he  1 (l,l)->ll  2 (he,ll)->hell  3 (hell,o)->hello
///     // "hello": [h e l l o] -> [he l l o] -> [he ll o] -> [hell o] -> [hello]
///     // "shell": [s h e l l] -> [s he l l] -> [s he ll] -> [s hell]   (no rule for (s,hell))
struct MergeTable: Sendable {
    /// `(left << 32 | right)` -> `(rank << 32 | merged)`.
    private var rules: [UInt64: UInt64] = [:]

    var count: Int { rules.count }

    init() {}

    /// Adds a rule. Returns false when the pair already has one (the first rule keeps its rank).
    @discardableResult
    mutating func add(left: UInt32, right: UInt32, merged: UInt32, rank: UInt32) -> Bool {
        let key = UInt64(left) << 32 | UInt64(right)
        guard rules[key] == nil else { return false }
        rules[key] = UInt64(rank) << 32 | UInt64(merged)
        return true
    }

    /// The rule for `(left, right)` as `(rank, merged)`, or nil.
    @inline(__always)
    func rule(_ left: UInt32, _ right: UInt32) -> (rank: UInt32, merged: UInt32)? {
        guard let packed = rules[UInt64(left) << 32 | UInt64(right)] else { return nil }
        return (UInt32(truncatingIfNeeded: packed >> 32), UInt32(truncatingIfNeeded: packed))
    }

    /// All rules ordered by rank, as `(left, right, merged)`.
    func orderedRules() -> [(left: UInt32, right: UInt32, merged: UInt32)] {
        rules.sorted { $0.value < $1.value }.map { key, value in
            (UInt32(truncatingIfNeeded: key >> 32), UInt32(truncatingIfNeeded: key),
             UInt32(truncatingIfNeeded: value))
        }
    }

    /// Merges `ids` in place: the obvious loop, rescanning all pairs after each merge.
    /// O(n²) in the piece length; used for short pieces and as the oracle for `mergeLong`.
    ///
    ///     // rules 0: (a,b)->ab, 1: (ab,c)->abc
    ///     mergeNaive(&[a, b, c, a, b])  // [abc, ab]
    func mergeNaive(_ ids: inout [UInt32]) {
        while ids.count >= 2 {
            var bestRank = UInt32.max
            var bestPosition = -1
            var bestMerged: UInt32 = 0
            for position in 0..<(ids.count - 1) {
                if let (rank, merged) = rule(ids[position], ids[position + 1]), rank < bestRank {
                    bestRank = rank
                    bestPosition = position
                    bestMerged = merged
                }
            }
            guard bestPosition >= 0 else { return }
            ids[bestPosition] = bestMerged
            ids.remove(at: bestPosition + 1)
        }
    }

    /// Same result as `mergeNaive`, in O(n log n): candidate pairs wait in a min-heap keyed by
    /// `rank << 32 | position`, the tokens form a doubly linked list, and a popped candidate is
    /// skipped when its pair no longer exists (one of its tokens was merged meanwhile).
    /// This is what keeps a 1 MB piece with no spaces from taking quadratic time.
    func mergeLong(_ ids: inout [UInt32], heap: inout MinHeap) {
        let count = ids.count
        guard count >= 2, count < Int(UInt32.max) else {
            if count >= 2 { mergeNaive(&ids) }
            return
        }
        let removed = UInt32.max
        var next = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index + 1) }
            buffer[count - 1] = -1
            initialized = count
        }
        var previous = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index - 1) }
            initialized = count
        }
        heap.removeAll()
        for position in 0..<(count - 1) {
            if let (rank, _) = rule(ids[position], ids[position + 1]) {
                heap.push(UInt64(rank) << 32 | UInt64(position))
            }
        }
        while let key = heap.pop() {
            let rank = UInt32(truncatingIfNeeded: key >> 32)
            let position = Int(UInt32(truncatingIfNeeded: key))
            let right = Int(next[position])
            // Stale if this token was absorbed, is last, or the pair at it changed since the push.
            guard ids[position] != removed, right >= 0,
                let (currentRank, merged) = rule(ids[position], ids[right]), currentRank == rank
            else { continue }
            ids[position] = merged
            ids[right] = removed
            let afterRight = next[right]
            next[position] = afterRight
            if afterRight >= 0 { previous[Int(afterRight)] = Int32(position) }
            let left = Int(previous[position])
            if left >= 0, let (leftRank, _) = rule(ids[left], merged) {
                heap.push(UInt64(leftRank) << 32 | UInt64(left))
            }
            if afterRight >= 0, let (rightRank, _) = rule(merged, ids[Int(afterRight)]) {
                heap.push(UInt64(rightRank) << 32 | UInt64(position))
            }
        }
        ids.removeAll { $0 == removed }
    }
}
