
/// Learns a byte-level BPE vocabulary from text, as Hugging Face's `BpeTrainer` does for
/// `ByteLevelBPETokenizer`: special tokens first, then the 256 byte characters in character
/// order, then one token per merge, each merge joining the most frequent adjacent pair
/// (ties: the pair of smallest ids) until the vocabulary is full or no pair occurs
/// `minFrequency` times.
///
/// Pairs are counted once; a merge only revisits the words that contain its pair and adjusts the
/// counts there, and the next pair comes from a max-heap with lazy deletion (an entry whose count
/// went stale is re-queued with the current count when popped).
///
///     var trainer = BPETrainer(vocabularySize: 259, specialTokens: [])
///     trainer.add("aaabdaaabac")
///     let tokenizer = try trainer.train()
///     // merges: (a,a) -> aa, then (a,b) -> ab and (aa,ab) -> aaab (minbpe, breaking the ties
///     // differently, takes (aa,a) and (aaa,b)); encode gives [aaab, d, aaab, a, c] either way
public struct BPETrainer: Sendable {
    public var vocabularySize: Int
    public var specialTokens: [String]
    /// Pairs seen fewer times are never merged (Hugging Face's default for ByteLevel is 2).
    public var minFrequency: Int
    /// How often each piece occurs in the text added so far.
    public private(set) var pieceCounts: [String: Int] = [:]

    public init(vocabularySize: Int, specialTokens: [String] = [], minFrequency: Int = 2) {
        self.vocabularySize = vocabularySize
        self.specialTokens = specialTokens
        self.minFrequency = minFrequency
    }

    /// Adds training text (special token texts in it are ordinary text: pass text between them).
    public mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            PreTokenizer.forEachPiece(in: bytes) { range in
                pieceCounts[String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self), default: 0] += 1
            }
        }
    }

    /// Learns the merges. `progress(done, total)` is called after each merge.
    /// - Throws: `TokenizerError.badTrainingSettings` (exit 64) when the size cannot hold the
    ///   specials and 256 bytes or exceeds 65,536, or a special token repeats.
    public func train(progress: ((Int, Int) -> Void)? = nil) throws(TokenizerError) -> BPETokenizer {
        let base = specialTokens.count + 256
        guard vocabularySize >= base else {
            throw .badTrainingSettings("vocabulary size \(vocabularySize) is below \(base) (256 bytes + \(specialTokens.count) special tokens)")
        }
        guard vocabularySize <= 1 << 16 else {
            throw .badTrainingSettings("vocabulary size \(vocabularySize) is above 65536")
        }
        guard Set(specialTokens).count == specialTokens.count else {
            throw .badTrainingSettings("special tokens repeat: \(specialTokens)")
        }
        // Ids: specials, then the byte characters sorted by character (as Hugging Face orders them).
        var tokens = specialTokens
        var vocabulary: [String: Int] = [:]
        for (id, special) in specialTokens.enumerated() { vocabulary[special] = id }
        var byteID = [UInt32](repeating: 0, count: 256)
        for byte in (0..<256).sorted(by: { ByteLevel.scalars[$0].value < ByteLevel.scalars[$1].value }) {
            let character = String(ByteLevel.character(for: UInt8(byte)))
            if let existing = vocabulary[character] {  // a special token that is one byte character
                byteID[byte] = UInt32(existing)
                continue
            }
            byteID[byte] = UInt32(tokens.count)
            vocabulary[character] = tokens.count
            tokens.append(character)
        }
        var words = WordTable(pieceCounts: pieceCounts, byteID: byteID)
        var table = MergeTable()
        let target = vocabularySize - tokens.count
        var done = 0
        while tokens.count < vocabularySize, let (left, right) = words.popBestPair(minFrequency: minFrequency) {
            let merged = tokens[Int(left)] + tokens[Int(right)]
            let mergedID: UInt32
            if let existing = vocabulary[merged] {
                mergedID = UInt32(existing)
            } else {
                mergedID = UInt32(tokens.count)
                vocabulary[merged] = tokens.count
                tokens.append(merged)
            }
            table.add(left: left, right: right, merged: mergedID, rank: UInt32(table.count))
            words.merge(left, right, into: mergedID)
            done += 1
            progress?(done, target)
        }
        return try BPETokenizer(vocabulary: vocabulary, table: table, specialTokens: specialTokens,
                                vocabPath: "training", vocabData: nil)
    }
}

/// The distinct pieces of the training text as symbol sequences, with incremental pair counts.
struct WordTable {
    /// All words' symbols, word `w` at `starts[w] ..< starts[w] + lengths[w]` (shrinks on merges).
    var symbols: [UInt32] = []
    var starts: [Int] = []
    var lengths: [Int] = []
    var counts: [Int] = []
    /// `left << 16 | right` -> occurrences, weighted by word count.
    var pairCounts: [UInt32: Int] = [:]
    /// Words that contained each pair at some point (may hold stale or repeated entries).
    var pairWords: [UInt32: [Int32]] = [:]
    /// Max-heap through `MinHeap`: key `(~count) << 32 | pair`, so ties go to the smallest pair.
    var heap = MinHeap()
    /// `lastVisit[w]` is the merge that last rewrote word `w`, to skip repeated entries.
    var lastVisit: [Int] = []
    var mergeCount = 0

    init(pieceCounts: [String: Int], byteID: [UInt32]) {
        // Sorted so that training is deterministic whatever the dictionary's order.
        for (piece, count) in pieceCounts.sorted(by: { $0.key < $1.key }) {
            starts.append(symbols.count)
            for byte in piece.utf8 { symbols.append(byteID[Int(byte)]) }
            lengths.append(piece.utf8.count)
            counts.append(count)
        }
        lastVisit = [Int](repeating: -1, count: counts.count)
        for word in 0..<counts.count {
            for pair in pairs(of: word) {
                pairCounts[pair, default: 0] += counts[word]
                pairWords[pair, default: []].append(Int32(word))
            }
        }
        for (pair, count) in pairCounts { heap.push(Self.key(pair, count)) }
    }

    static func key(_ pair: UInt32, _ count: Int) -> UInt64 {
        let clamped = UInt64(min(count, Int(UInt32.max)))
        return (~clamped & 0xFFFF_FFFF) << 32 | UInt64(pair)
    }

    /// The pairs of word `word`, left to right. (A loop over this, not a closure-taking method:
    /// a closure that mutates `pairCounts` while a method borrows `self` would copy the dictionary.)
    func pairs(of word: Int) -> [UInt32] {
        let start = starts[word]
        return (start..<(start + lengths[word] - 1)).map { symbols[$0] << 16 | symbols[$0 + 1] }
    }

    /// The most frequent pair, if it occurs at least `minFrequency` times.
    mutating func popBestPair(minFrequency: Int) -> (UInt32, UInt32)? {
        while let key = heap.pop() {
            let pair = UInt32(truncatingIfNeeded: key)
            let count = Int(~UInt32(truncatingIfNeeded: key >> 32))
            let current = pairCounts[pair] ?? 0
            guard min(current, Int(UInt32.max)) == count else {
                if current > 0 { heap.push(Self.key(pair, current)) }  // stale: requeue as it is now
                continue
            }
            guard current >= max(minFrequency, 1) else { return nil }
            return (pair >> 16, pair & 0xFFFF)
        }
        return nil
    }

    /// Rewrites every word containing `(left, right)` and updates the pair counts: the word's old
    /// pairs are subtracted and its new pairs added (words are short, so this is cheap and exact).
    mutating func merge(_ left: UInt32, _ right: UInt32, into merged: UInt32) {
        let target = left << 16 | right
        var touched: Set<UInt32> = []
        for word in pairWords.removeValue(forKey: target) ?? [] {
            let w = Int(word)
            guard lastVisit[w] != mergeCount else { continue }
            lastVisit[w] = mergeCount
            let start = starts[w], length = lengths[w], count = counts[w]
            var contains = false
            for index in start..<(start + length - 1) where symbols[index] == left && symbols[index + 1] == right {
                contains = true
                break
            }
            guard contains else { continue }
            for pair in pairs(of: w) { pairCounts[pair, default: 0] -= count }
            var write = start
            var read = start
            while read < start + length {
                if read + 1 < start + length, symbols[read] == left, symbols[read + 1] == right {
                    symbols[write] = merged
                    read += 2
                } else {
                    symbols[write] = symbols[read]
                    read += 1
                }
                write += 1
            }
            lengths[w] = write - start
            for pair in pairs(of: w) {
                pairCounts[pair, default: 0] += count
                if pair >> 16 == merged || pair & 0xFFFF == merged {
                    pairWords[pair, default: []].append(word)
                    touched.insert(pair)
                }
            }
        }
        pairCounts[target] = nil
        for pair in touched { if let count = pairCounts[pair], count > 0 { heap.push(Self.key(pair, count)) } }
        mergeCount += 1
    }
}
