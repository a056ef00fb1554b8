import Glibc
import Seq2Seq
import Tokenizer
import Translation

/// The shared vocabulary of a translation model: a byte-level BPE whose first three ids are
/// padding, begin and end of sentence (`Seq2SeqConfig`'s default ids 0, 1, 2).
public enum TranslationVocabulary {
    public static let specialTokens = ["<pad>", "<s>", "</s>"]
    /// The size of the vocabulary trained when `train --task translate` gets no `--vocab`.
    public static let defaultSize = 8000

    /// Learns a vocabulary from the source and target text of `pairs`, deterministically (the
    /// trainer's ties are broken by id, the text is added in file order).
    public static func train(pairs: [TranslationPair], size: Int = defaultSize, progress: ((Int, Int) -> Void)? = nil) throws(TokenizerError) -> BPETokenizer {
        var trainer = BPETrainer(vocabularySize: size, specialTokens: specialTokens)
        for pair in pairs {
            trainer.add(pair.source)
            trainer.add(pair.target)
        }
        return try trainer.train(progress: progress)
    }

    /// Why `tokenizer` cannot serve a translation model: its ids 0, 1, 2 must be the three
    /// special tokens; nil when it can.
    public static func problem(with tokenizer: BPETokenizer) -> String? {
        for (id, text) in specialTokens.enumerated() where tokenizer.specialTokenID(text) != id {
            return "a translation vocabulary needs the special token \(text) at id \(id) (found \(tokenizer.specialTokenID(text).map(String.init) ?? "none"))"
        }
        return nil
    }
}

/// Tokenized sentence pairs (no BOS or EOS: `Seq2SeqBatch` adds them).
public struct TranslationTokens: Sendable {
    public var sources: [[Int32]]
    public var targets: [[Int32]]
    public var count: Int { sources.count }

    public init(sources: [[Int32]], targets: [[Int32]]) {
        precondition(sources.count == targets.count)
        self.sources = sources
        self.targets = targets
    }

    /// Encodes `pairs` and keeps those that fit `config` (a non-empty source of at most the
    /// context, a target + EOS of at most the context); `dropped` counts the others.
    public static func encoding(_ pairs: [TranslationPair], tokenizer: BPETokenizer, config: Seq2SeqConfig) -> (tokens: TranslationTokens, dropped: Int) {
        var sources: [[Int32]] = [], targets: [[Int32]] = []
        var dropped = 0
        for pair in pairs {
            let s = tokenizer.encode(pair.source).map(Int32.init), t = tokenizer.encode(pair.target).map(Int32.init)
            guard !s.isEmpty, s.count <= config.contextLength, t.count + 1 <= config.contextLength else { dropped += 1; continue }
            sources.append(s)
            targets.append(t)
        }
        return (TranslationTokens(sources: sources, targets: targets), dropped)
    }

    /// Source + target tokens (EOS and BOS not counted) of the pairs at `indices`: what
    /// tokens/s counts, as the PyTorch reference does.
    public func tokenCount(_ indices: [Int]) -> Int { indices.reduce(0) { $0 + sources[$1].count + targets[$1].count } }

    /// The teacher-forcing batch of the pairs at `indices`, padded to its longest source and target.
    public func batch(_ indices: [Int], config: Seq2SeqConfig) throws(Seq2SeqError) -> Seq2SeqBatch {
        try Seq2SeqBatch(sources: indices.map { sources[$0] }, targets: indices.map { targets[$0] }, config: config)
    }
}

/// Batches bucketed by length under a token budget, as fairseq and the PyTorch reference make
/// them: the pairs sorted by (source, target) length (ties in a seeded random order), cut
/// greedily so that each batch's padded size B·(S + T) stays within `tokenBudget` (a pair too
/// long for the budget alone gets a batch of its own). The batches are fixed; each epoch visits
/// them in a seeded order of its own. Step s's batch is a pure function of (seed, s), so a
/// resumed run draws exactly the batches the uninterrupted run would have (`TokenWindows`' rule).
public struct TranslationBatches: Sendable {
    /// Pair indices of every batch.
    public let batches: [[Int]]
    public let seed: UInt64

    public init(tokens: TranslationTokens, tokenBudget: Int, seed: UInt64) {
        self.seed = seed
        let n = tokens.count
        let tieBreak = (0..<n).map { TokenWindows.mix(seed, 0xB0C4, UInt64($0)) }
        let order = (0..<n).sorted { a, b in
            let ka = (tokens.sources[a].count, tokens.targets[a].count), kb = (tokens.sources[b].count, tokens.targets[b].count)
            return ka != kb ? ka < kb : (tieBreak[a], a) < (tieBreak[b], b)
        }
        var batches: [[Int]] = []
        var current: [Int] = []
        var (S, T) = (0, 0)
        for i in order {
            let s = max(S, tokens.sources[i].count), t = max(T, tokens.targets[i].count + 1)
            if !current.isEmpty && (current.count + 1) * (s + t) > tokenBudget {
                batches.append(current)
                current = []
                (S, T) = (0, 0)
            }
            current.append(i)
            S = max(S, tokens.sources[i].count)
            T = max(T, tokens.targets[i].count + 1)
        }
        if !current.isEmpty { batches.append(current) }
        self.batches = batches
    }

    /// Batches per epoch.
    public var count: Int { batches.count }

    /// The pair indices of update `step` (0-based): batch `step % count` of epoch
    /// `step / count`'s order, a Fisher–Yates shuffle seeded by (seed, epoch).
    public func batch(step: Int) -> [Int] {
        precondition(!batches.isEmpty)
        let epoch = step / batches.count
        var order = Array(0..<batches.count)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            let j = Int(TokenWindows.mix(seed, UInt64(epoch), UInt64(i)) % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return batches[order[step % batches.count]]
    }
}

/// What a translation model scores on held-out pairs.
public struct TranslationScore: Sendable, Equatable {
    /// Label tokens (target + EOS) the loss is over.
    public var tokens: Int
    /// Σ −ln p over them (plain cross-entropy: no label smoothing).
    public var totalNats: Double
    /// Corpus BLEU of the greedy translations, when computed.
    public var bleu: BLEU.Score?

    public init(tokens: Int, totalNats: Double, bleu: BLEU.Score? = nil) {
        self.tokens = tokens
        self.totalNats = totalNats
        self.bleu = bleu
    }

    public var natsPerToken: Double { totalNats / Double(max(tokens, 1)) }
    public var perplexity: Double { exp(natsPerToken) }
}

public enum TranslationEvaluation {
    /// Plain cross-entropy of `model` on `tokens`, in batches of `tokenBudget` (as training's).
    public static func loss(model: Seq2SeqModel, tokens: TranslationTokens, tokenBudget: Int) -> (tokens: Int, totalNats: Double) {
        let batches = TranslationBatches(tokens: tokens, tokenBudget: tokenBudget, seed: 0).batches
        var total = 0.0, count = 0
        let pool = BufferPool()
        for indices in batches {
            guard let batch = try? tokens.batch(indices, config: model.config) else { continue }  // fitted by `TranslationTokens`
            let pass = Seq2SeqTrainingPass(
                model: model, sentences: batch.sentences, sourceLength: batch.sourceLength, targetLength: batch.targetLength, pool: pool)
            pass.labelSmoothing = 0
            let labels = batch.labels.count { $0 != model.config.paddingID }
            total += Double(pass.forward(batch: batch, prepareBackward: false)) * Double(labels)
            count += labels
        }
        return (count, total)
    }

    /// The longest translation decoding may produce for a source of `n` tokens: twice the
    /// source and 10 more, within the context.
    public static func maxLength(sourceTokens n: Int, config: Seq2SeqConfig) -> Int { min(config.contextLength, 2 * n + 10) }

    /// Greedy translations of `sources` (token ids), `batch` sentences at a time, sorted by
    /// length so a batch's sentences stop at about the same step.
    public static func greedy(model: Seq2SeqModel, sources: [[Int32]], batch: Int = 64) throws(Seq2SeqError) -> [[Int32]] {
        var outputs = [[Int32]](repeating: [], count: sources.count)
        let order = sources.indices.sorted { (sources[$0].count, $0) < (sources[$1].count, $1) }
        var start = 0
        while start < order.count {
            let chunk = Array(order[start..<min(start + batch, order.count)])
            let longest = chunk.map { sources[$0].count }.max()!
            let translated = try model.greedy(sources: chunk.map { sources[$0] }, maxLength: maxLength(sourceTokens: longest, config: model.config))
            for (i, t) in zip(chunk, translated) { outputs[i] = t }
            start += batch
        }
        return outputs
    }

    /// Beam search of every source, `batch` sentences (of similar lengths) at a time, each
    /// allowed `maxLength(sourceTokens:)` tokens.
    public static func beamSearch(model: Seq2SeqModel, sources: [[Int32]], beam: Int, lengthPenalty: Float, batch: Int = 16) throws(Seq2SeqError) -> [[Int32]] {
        var outputs = [[Int32]](repeating: [], count: sources.count)
        let order = sources.indices.sorted { (sources[$0].count, $0) < (sources[$1].count, $1) }
        var start = 0
        while start < order.count {
            let chunk = Array(order[start..<min(start + batch, order.count)])
            let translated = try model.beamSearch(
                sources: chunk.map { sources[$0] }, beam: beam, lengthPenalty: lengthPenalty,
                maxLengths: chunk.map { maxLength(sourceTokens: sources[$0].count, config: model.config) })
            for (i, t) in zip(chunk, translated) { outputs[i] = t }
            start += batch
        }
        return outputs
    }

    /// Corpus BLEU of the translations of `groups` (one hypothesis per distinct source,
    /// every target of it a reference): greedy or, with `beam` > 1, beam search, both batched. A source that does not fit the context is translated from its first
    /// contextLength tokens (its score then counts against the model).
    public static func bleu(
        model: Seq2SeqModel, groups: [ReferenceGroup], tokenizer: BPETokenizer, beam: Int = 1, lengthPenalty: Float = 1
    ) throws(Seq2SeqError) -> BLEU.Score {
        let c = model.config
        let sources = groups.map { group -> [Int32] in
            let ids = tokenizer.encode(group.source).map(Int32.init)
            return ids.isEmpty ? [c.endID] : Array(ids.prefix(c.contextLength))
        }
        let translations: [[Int32]]
        if beam > 1 {
            translations = try beamSearch(model: model, sources: sources, beam: beam, lengthPenalty: lengthPenalty)
        } else {
            translations = try greedy(model: model, sources: sources)
        }
        let hypotheses = translations.map { (try? tokenizer.decode($0.map(Int.init))) ?? "" }
        return BLEU.corpusScore(zip(hypotheses, groups).map { ($0, $1.references) })
    }
}
