import Glibc
import GPT
import Kernels

// Glossary: B = sentences encoded together, S = their padded length, R = decoder rows
// (sentences for greedy, hypotheses for beam search), maxT = the longest decoder input, L =
// decoder layers, C = width, H = heads, V = vocabulary.

/// The encoder's output for a batch of sentences and, for every decoder layer, the keys and
/// values its cross-attention reads — computed once per sentence and read at every step.
public final class EncodedSources: @unchecked Sendable {
    public let sentences: Int
    /// S: the padded length.
    public let sourceLength: Int
    /// Each sentence's unpadded length: its cross-attention sees that many keys.
    public let lengths: [Int]
    private let arena = Arena()
    /// (B·S, C).
    let memory: UnsafeMutablePointer<Float>
    /// One (B·S, 2C) buffer per decoder layer: k | v of every source position.
    let keyValues: [UnsafeMutablePointer<Float>]

    init(model: Seq2SeqModel, sources: [[Int32]]) throws(Seq2SeqError) {
        let c = model.config
        guard !sources.isEmpty else { throw .invalidBatch(reason: "no sources") }
        // A batch checks the ids and lengths; the targets are not used here.
        let batch = try Seq2SeqBatch(sources: sources, targets: sources.map { _ in [] }, config: c)
        let (B, S, C) = (batch.sentences, batch.sourceLength, c.width)
        sentences = B
        sourceLength = S
        lengths = batch.sourceLengths
        let a = arena
        memory = a.take(B * S * C)
        keyValues = (0..<c.decoderLayers).map { _ in a.take(B * S * 2 * C) }
        // One set of activations serves every layer; the stream is updated in place.
        let stream = a.take(B * S * C)
        let activations = a.encoderBlock(sentences: B, length: S, width: C, mlpWidth: c.mlpWidth, heads: c.heads, statistics: false)
        let parts = model.parts
        parts.encode(
            sources: batch.sources, lengths: lengths, sourceLength: S, streams: Array(repeating: stream, count: c.encoderLayers + 1),
            activations: Array(repeating: activations, count: c.encoderLayers), memory: memory, statistics: nil)
        for (l, block) in parts.decoder.enumerated() { block.cross.projectMemory(kv: keyValues[l], memory: memory, rows: B * S) }
    }
}

/// The decoder run one position at a time for R rows at once, each row a sentence being
/// translated (greedy) or a hypothesis (beam search), each with its own self-attention KV cache,
/// all reading the cross-attention keys and values of `EncodedSources`. Every projection is one
/// GEMM over the R rows; attention is per row, against that row's cache and sentence.
public final class Seq2SeqDecoder {
    public let model: Seq2SeqModel
    public let encoded: EncodedSources
    /// Row r translates sentence rowSentences[r].
    public private(set) var rowSentences: [Int]
    /// The longest decoder input (BOS + generated tokens) the caches hold.
    public let maxLength: Int
    private let parts: Seq2SeqParts
    private let arena = Arena()
    /// (R, C), updated in place through the blocks.
    private let stream: UnsafeMutablePointer<Float>
    private let activations: DecoderBlock.Activations
    /// Per layer: keys and values, (R, maxT, C) each.
    private var keys: [UnsafeMutablePointer<Float>]
    private var values: [UnsafeMutablePointer<Float>]
    /// Per layer: (R, H, S), the newest token's cross-attention weights.
    private let crossWeights: [UnsafeMutablePointer<Float>]
    private let final: UnsafeMutablePointer<Float>
    /// (R, V).
    private let logits: UnsafeMutablePointer<Float>
    /// (R, maxT, C): where `reorder` gathers a cache.
    private let gather: UnsafeMutablePointer<Float>
    /// Positions decoded so far.
    public private(set) var length = 0

    public init(model: Seq2SeqModel, encoded: EncodedSources, rowSentences: [Int], maxLength: Int) {
        let c = model.config
        precondition(!rowSentences.isEmpty && rowSentences.allSatisfy { (0..<encoded.sentences).contains($0) }, "rows of encoded sentences")
        precondition(maxLength >= 1 && maxLength <= c.contextLength, "decoder length within the context")
        self.model = model
        self.encoded = encoded
        self.rowSentences = rowSentences
        self.maxLength = maxLength
        parts = model.parts
        let (R, C, H, S) = (rowSentences.count, c.width, c.heads, encoded.sourceLength)
        let a = arena
        stream = a.take(R * C)
        // Cross weights go to crossWeights[l], so the shared set's own cross buffer is unused.
        activations = a.decoderBlock(rows: R, width: C, mlpWidth: c.mlpWidth, heads: H, selfWeights: maxLength, crossWeights: S, sequences: 1, statistics: false)
        keys = (0..<c.decoderLayers).map { _ in a.take(R * maxLength * C) }
        values = (0..<c.decoderLayers).map { _ in a.take(R * maxLength * C) }
        crossWeights = (0..<c.decoderLayers).map { _ in a.take(R * H * S) }
        final = a.take(R * C)
        logits = a.take(R * c.vocabSize)
        gather = a.take(R * maxLength * C)
    }

    public var rows: Int { rowSentences.count }

    /// Feeds one token per row at position `length` and returns the next token's logits, (R, V).
    public func step(tokens: [Int32]) -> UnsafeBufferPointer<Float> {
        let c = model.config
        let (R, C, V, H, hs, S) = (rows, c.width, c.vocabSize, c.heads, c.headSize, encoded.sourceLength)
        precondition(tokens.count == R && tokens.allSatisfy { $0 >= 0 && Int($0) < V }, "one token id per row")
        precondition(length < maxLength, "the decoder caches are full")
        let p = length
        tokens.withUnsafeBufferPointer { parts.decoderEmbeddings.forward(out: stream, tokens: $0.baseAddress!, rows: R, length: 1, startPosition: p) }
        for (l, block) in parts.decoder.enumerated() {
            let a = activations
            let cross = DecoderBlock.Activations(
                attentionUnit: a.attentionUnit, attention: a.attention, afterAttention: a.afterAttention, crossUnit: a.crossUnit,
                cross: CrossAttention.Activations(q: a.cross.q, weights: crossWeights[l], merged: a.cross.merged),
                afterCross: a.afterCross, mlpUnit: a.mlpUnit, mlp: a.mlp)
            block.forward(
                output: stream, input: stream, activations: cross, kv: encoded.keyValues[l], sentences: rowSentences, lengths: encoded.lengths,
                queries: 1, sourceLength: S
            ) { input, output in
                // Causal self-attention of the newest position against each row's cache.
                let attention = block.attention
                attention.projection.forward(qkv: a.attention.qkv, inp: input, sequences: R, length: 1, startPosition: p)
                for r in 0..<R {
                    let (q, k, v) = splitHeads(qkv: a.attention.qkv + r * 3 * C, width: C, heads: H)
                    let (rowKeys, rowValues) = (keys[l] + r * maxLength * C, values[l] + r * maxLength * C)
                    (rowKeys + p * C).update(from: k[row: 0, head: 0], count: C)
                    (rowValues + p * C).update(from: v[row: 0, head: 0], count: C)
                    ScaledDotProductAttention.forward(
                        out: HeadView(base: a.attention.merged + r * C, rowStride: C, heads: H, headSize: hs), weights: a.attention.weights,
                        weightStride: maxLength, q: q, k: HeadView(base: rowKeys, rowStride: C, heads: H, headSize: hs),
                        v: HeadView(base: rowValues, rowStride: C, heads: H, headSize: hs), queries: 1, pastLength: p, mask: .causal)
                }
                attention.output.forward(out: output, inp: a.attention.merged, rows: R)
            }
        }
        if let norm = parts.decoderNorm {
            norm.forward(out: final, inp: stream, rows: R)
        } else {
            final.update(from: stream, count: R * C)
        }
        matmulTransposedForward(out: logits, inp: final, table: parts.head, rows: R, C: C, vocab: V)
        length += 1
        return UnsafeBufferPointer(start: logits, count: R * V)
    }

    /// The newest token's cross-attention weights in `layer` for `row`: H rows of S, head after
    /// head; each row sums to 1 over the sentence's tokens and is 0 on its padding. For an
    /// alignment map.
    public func crossAttention(layer: Int, row: Int) -> [Float] {
        let n = model.config.heads * encoded.sourceLength
        return Array(UnsafeBufferPointer(start: crossWeights[layer] + row * n, count: n))
    }

    /// Beam search's reshuffle: row r continues the hypothesis that was row `from[r]` (its
    /// cache is copied; several rows may continue one). The sentence of each row stays.
    public func reorder(from: [Int]) {
        precondition(from.count == rows && from.allSatisfy { (0..<rows).contains($0) }, "a source row for every row")
        guard from != Array(0..<rows) else { return }
        let C = model.config.width
        let rowFloats = maxLength * C, used = length * C
        for cache in keys + values {
            gather.update(from: cache, count: rows * rowFloats)
            for (r, source) in from.enumerated() { (cache + r * rowFloats).update(from: gather + source * rowFloats, count: used) }
        }
    }

    /// Greedy decoding's compaction: only rows `kept` (increasing) go on, as rows 0..<kept.count,
    /// their caches moved down; a finished sentence then costs nothing more per step.
    public func keepRows(_ kept: [Int]) {
        precondition(!kept.isEmpty && kept.allSatisfy { (0..<rows).contains($0) } && zip(kept, kept.dropFirst()).allSatisfy { $0 < $1 }, "increasing rows")
        guard kept != Array(0..<rows) else { return }
        let C = model.config.width
        let rowFloats = maxLength * C, used = length * C
        // kept[r] >= r, and a row's used part is within its own maxLength·C: moving down in
        // order never overwrites a row still to be read.
        for cache in keys + values {
            for (r, source) in kept.enumerated() where source != r { (cache + r * rowFloats).update(from: cache + source * rowFloats, count: used) }
        }
        rowSentences = kept.map { rowSentences[$0] }
    }
}

extension Seq2SeqModel {
    /// Runs the encoder once over `sources` (each non-empty, at most the context long, no
    /// padding id) and projects every decoder layer's cross-attention keys and values.
    public func encode(sources: [[Int32]]) throws(Seq2SeqError) -> EncodedSources {
        try EncodedSources(model: self, sources: sources)
    }

    /// Whether decoding may output `token`: anything but padding and BOS, which only ever stand
    /// in the input.
    func proposable(_ token: Int32) -> Bool { token != config.paddingID && token != config.beginID }

    /// The most likely token that decoding may output (the first, on ties), from (V) logits:
    /// greedy decoding's choice, also for a caller that steps a `Seq2SeqDecoder` itself (the
    /// translation view, which streams each token as it comes).
    public func bestProposable(_ logits: UnsafePointer<Float>) -> Int32 {
        var best: Int32 = -1
        for v in 0..<Int32(config.vocabSize) where proposable(v) && (best < 0 || logits[Int(v)] > logits[Int(best)]) { best = v }
        return best
    }

    /// Greedy decoding of every source at once: at each step every unfinished sentence takes
    /// its most likely token (never padding or BOS), until it produces EOS or `maxLength` tokens.
    ///
    /// - Parameters:
    ///   - maxLength: most tokens per translation, EOS not counted; at most contextLength.
    ///   - onStep: called after each step with the step's index and the decoder, while its
    ///     cross-attention weights are the newest token's (an alignment map's hook).
    /// - Returns: each translation without BOS and EOS.
    public func greedy(sources: [[Int32]], maxLength: Int, onStep: ((Int, Seq2SeqDecoder) -> Void)? = nil) throws(Seq2SeqError) -> [[Int32]] {
        guard maxLength >= 1 && maxLength <= config.contextLength else { throw .invalidBatch(reason: "maxLength \(maxLength) is not in 1...\(config.contextLength)") }
        let encoded = try encode(sources: sources)
        let decoder = Seq2SeqDecoder(model: self, encoded: encoded, rowSentences: Array(0..<sources.count), maxLength: maxLength)
        let V = config.vocabSize
        var outputs = [[Int32]](repeating: [], count: sources.count)
        var finished = [Bool](repeating: false, count: sources.count)
        var tokens = [Int32](repeating: config.beginID, count: sources.count)
        // Decoder row r is sentence active[r]. Without a hook, a finished sentence's row is
        // dropped (`keepRows`); with one, rows stay as they are, since the hook reads them.
        var active = Array(0..<sources.count)
        for step in 0..<maxLength {
            let logits = decoder.step(tokens: tokens)
            onStep?(step, decoder)
            for (r, i) in active.enumerated() where !finished[i] {
                let next = bestProposable(logits.baseAddress! + r * V)
                if next == config.endID { finished[i] = true } else { outputs[i].append(next) }
                tokens[r] = next
            }
            let going = active.indices.filter { !finished[active[$0]] }
            if going.isEmpty { break }
            if onStep == nil && going.count < active.count {
                decoder.keepRows(going)
                tokens = going.map { tokens[$0] }
                active = going.map { active[$0] }
            }
        }
        return outputs
    }

    /// Beam search for one source: `beamSearch(sources:)` of one sentence.
    public func beamSearch(source: [Int32], beam: Int, lengthPenalty: Float, maxLength: Int) throws(Seq2SeqError) -> [Int32] {
        try beamSearch(sources: [source], beam: beam, lengthPenalty: lengthPenalty, maxLengths: [maxLength])[0]
    }

    /// Beam search for several sources at once, `beam` decoder rows each: every step is one
    /// decoder step over all their hypotheses. Per sentence it keeps the `beam` best hypotheses
    /// (sum of log-probabilities), expands each by every token, and moves a hypothesis that ends
    /// in EOS among the top `beam` candidates to the finished list (fairseq's rule).
    /// Hypotheses are ranked by the GNMT-normalised score log P / lp, lp = ((5 + |Y|) / 6)^α,
    /// |Y| counting EOS (α = lengthPenalty; 0 compares raw log-probabilities). A sentence stops
    /// when no live hypothesis can still beat its best finished one — log P only falls as a
    /// hypothesis grows, so a live one's best is its score now over lp(maxLength + 1) — or after
    /// its `maxLengths` tokens (then the live ones count as finished); its rows then leave the
    /// batch. A beam of one without length penalty is greedy decoding. Padding and BOS are never
    /// proposed. Each sentence's result is what it gets alone (`naiveBeamSearch`, the oracle).
    ///
    /// - Parameter maxLengths: per source, the most tokens of its translation, EOS not counted.
    /// - Returns: each source's best translation, without BOS and EOS.
    public func beamSearch(sources: [[Int32]], beam: Int, lengthPenalty: Float, maxLengths: [Int]) throws(Seq2SeqError) -> [[Int32]] {
        guard beam >= 1 && beam <= config.vocabSize else { throw .invalidBatch(reason: "beam \(beam) is not in 1...\(config.vocabSize)") }
        guard maxLengths.count == sources.count else { throw .invalidBatch(reason: "\(maxLengths.count) lengths for \(sources.count) sources") }
        for maxLength in maxLengths where maxLength < 1 || maxLength > config.contextLength {
            throw .invalidBatch(reason: "maxLength \(maxLength) is not in 1...\(config.contextLength)")
        }
        guard !sources.isEmpty else { return [] }
        let encoded = try encode(sources: sources)
        let decoder = Seq2SeqDecoder(
            model: self, encoded: encoded, rowSentences: sources.indices.flatMap { Array(repeating: $0, count: beam) }, maxLength: maxLengths.max()!)
        let V = config.vocabSize
        func normalised(_ score: Double, length: Int) -> Double { score / pow((5 + Double(length)) / 6, Double(lengthPenalty)) }
        typealias Hypothesis = (tokens: [Int32], score: Double)
        // Per sentence: the live hypotheses (row r of its block holds live[r]; at the start one,
        // the other rows wait) and the finished ones.
        var live = [[Hypothesis]](repeating: [([], 0)], count: sources.count)
        var finished = [[Hypothesis]](repeating: [], count: sources.count)
        // The sentences still decoding, in row-block order: block k is rows k·beam ..< (k+1)·beam.
        var active = Array(sources.indices)
        // The best `2·beam` of a row are all a step can use: it takes candidates in rank order
        // until `beam` continue, skipping at most one EOS per live hypothesis.
        let perRow = min(2 * beam, V)
        while !active.isEmpty {
            let inputs = active.flatMap { s in (0..<beam).map { r in r < live[s].count ? (live[s][r].tokens.last ?? config.beginID) : config.beginID } }
            let logits = decoder.step(tokens: inputs)
            var from: [Int] = []
            var going: [Int] = []
            for (k, s) in active.enumerated() {
                let base = k * beam
                var candidates: [(score: Double, row: Int, token: Int32)] = []
                for (r, hypothesis) in live[s].enumerated() {
                    let logp = logSoftmax(logits.baseAddress! + (base + r) * V, count: V)
                    for (token, value) in topProposable(logp, count: perRow) { candidates.append((hypothesis.score + value, r, token)) }
                }
                candidates.sort { $0.score != $1.score ? $0.score > $1.score : ($0.row, $0.token) < ($1.row, $1.token) }
                var next: [Hypothesis] = []
                var rows: [Int] = []
                for (rank, candidate) in candidates.enumerated() where next.count < beam {
                    if candidate.token == config.endID {
                        if rank < beam { finished[s].append((live[s][candidate.row].tokens, candidate.score)) }
                        continue
                    }
                    next.append((live[s][candidate.row].tokens + [candidate.token], candidate.score))
                    rows.append(candidate.row)
                }
                var done = next.isEmpty
                if !done, let best = finished[s].map({ normalised($0.score, length: $0.tokens.count + 1) }).max(),
                    next.allSatisfy({ normalised($0.score, length: maxLengths[s] + 1) <= best }) {
                    done = true
                }
                if done {
                    from += Array(base..<(base + beam))
                    continue
                }
                from += (rows + Array(repeating: rows[0], count: beam - rows.count)).map { base + $0 }
                live[s] = next
                if decoder.length == maxLengths[s] {
                    finished[s] += next
                } else {
                    going.append(k)
                }
            }
            decoder.reorder(from: from)
            if going.count < active.count {
                if going.isEmpty { break }
                decoder.keepRows(going.flatMap { k in Array((k * beam)..<((k + 1) * beam)) })
                active = going.map { active[$0] }
            }
        }
        return finished.map { hypotheses in
            hypotheses.max { normalised($0.score, length: $0.tokens.count + 1) < normalised($1.score, length: $1.tokens.count + 1) }?.tokens ?? []
        }
    }

    /// The `count` largest of `logp` over the tokens decoding may output, largest first (on
    /// ties the smaller token first, as a full sort by (value, token) would give).
    func topProposable(_ logp: [Double], count: Int) -> [(token: Int32, value: Double)] {
        var top: [(token: Int32, value: Double)] = []
        top.reserveCapacity(count + 1)
        for v in logp.indices where proposable(Int32(v)) {
            let value = logp[v]
            if top.count == count, value <= top[count - 1].value { continue }
            // Insert after every entry of at least this value: a tie keeps the earlier token first.
            var at = top.count
            while at > 0 && top[at - 1].value < value { at -= 1 }
            top.insert((Int32(v), value), at: at)
            if top.count > count { top.removeLast() }
        }
        return top
    }
}

/// The index of the largest of n floats (the first, on ties).
func argmax(_ x: UnsafePointer<Float>, count n: Int) -> Int {
    var best = 0
    for i in 1..<n where x[i] > x[best] { best = i }
    return best
}

/// log softmax of n logits, in Double.
func logSoftmax(_ x: UnsafePointer<Float>, count n: Int) -> [Double] {
    let m = Double(x[argmax(x, count: n)])
    var sum = 0.0
    for i in 0..<n { sum += exp(Double(x[i]) - m) }
    let logZ = m + log(sum)
    return (0..<n).map { Double(x[$0]) - logZ }
}

extension Seq2SeqModel {
    /// The oracle of `beamSearch(sources:)` (tests): one source, every candidate of every
    /// hypothesis sorted at each step. Beam search for one source: keeps the `beam` best hypotheses (sum of log-probabilities),
    /// expands each by every token, and moves a hypothesis that ends in EOS among the top
    /// `beam` candidates to the finished list (fairseq's rule). Hypotheses are ranked by the
    /// GNMT-normalised score log P / lp, lp = ((5 + |Y|) / 6)^lengthPenalty, |Y| counting EOS
    /// (lengthPenalty 0 compares raw log-probabilities). It stops when no live hypothesis can
    /// still beat the best finished one — log P only falls as a hypothesis grows, so a live
    /// one's best is its score now over lp(maxLength + 1) — or after `maxLength` tokens (then
    /// the live ones count as finished). A beam of one without length penalty is greedy
    /// decoding; with a penalty it may prefer a longer hypothesis than greedy's.
    /// Padding and BOS are never proposed, as in `greedy`.
    ///
    /// - Returns: the best translation, without BOS and EOS.
    func naiveBeamSearch(source: [Int32], beam: Int, lengthPenalty: Float, maxLength: Int) throws(Seq2SeqError) -> [Int32] {
        guard beam >= 1 && beam <= config.vocabSize else { throw .invalidBatch(reason: "beam \(beam) is not in 1...\(config.vocabSize)") }
        guard maxLength >= 1 && maxLength <= config.contextLength else { throw .invalidBatch(reason: "maxLength \(maxLength) is not in 1...\(config.contextLength)") }
        let encoded = try encode(sources: [source])
        let decoder = Seq2SeqDecoder(model: self, encoded: encoded, rowSentences: Array(repeating: 0, count: beam), maxLength: maxLength)
        let V = config.vocabSize
        func normalised(_ score: Double, length: Int) -> Double { score / pow((5 + Double(length)) / 6, Double(lengthPenalty)) }
        // Live hypotheses: row r holds live[r]; at the start one hypothesis (the others wait).
        var live: [(tokens: [Int32], score: Double)] = [([], 0)]
        var finished: [(tokens: [Int32], score: Double)] = []
        for _ in 0..<maxLength {
            let inputs = (0..<beam).map { r in r < live.count ? (live[r].tokens.last ?? config.beginID) : config.beginID }
            let logits = decoder.step(tokens: inputs)
            var candidates: [(score: Double, row: Int, token: Int32)] = []
            for (r, hypothesis) in live.enumerated() {
                let logp = logSoftmax(logits.baseAddress! + r * V, count: V)
                for v in 0..<V where proposable(Int32(v)) { candidates.append((hypothesis.score + logp[v], r, Int32(v))) }
            }
            candidates.sort { $0.score != $1.score ? $0.score > $1.score : ($0.row, $0.token) < ($1.row, $1.token) }
            var next: [(tokens: [Int32], score: Double)] = []
            var from: [Int] = []
            for (rank, candidate) in candidates.enumerated() where next.count < beam {
                if candidate.token == config.endID {
                    if rank < beam { finished.append((live[candidate.row].tokens, candidate.score)) }
                    continue
                }
                next.append((live[candidate.row].tokens + [candidate.token], candidate.score))
                from.append(candidate.row)
            }
            if next.isEmpty { break }
            if let best = finished.map({ normalised($0.score, length: $0.tokens.count + 1) }).max(),
                next.allSatisfy({ normalised($0.score, length: maxLength + 1) <= best }) {
                break
            }
            decoder.reorder(from: from + Array(repeating: from[0], count: beam - from.count))
            live = next
            if decoder.length == maxLength { finished += live }
        }
        let best = finished.max { normalised($0.score, length: $0.tokens.count + 1) < normalised($1.score, length: $1.tokens.count + 1) }
        return best?.tokens ?? []
    }
}
