import GPT
import Kernels

/// A batch for teacher forcing: B sentence pairs, padded.
///
/// Sources are padded to S with the padding id (their lengths kept for the masks); the
/// decoder reads BOS + target and is taught target + EOS, both padded to T with the padding id,
/// so a padded label leaves the loss.
public struct Seq2SeqBatch: Sendable, Equatable {
    public let sentences: Int
    public let sourceLength: Int
    public let targetLength: Int
    /// (B·S) ids, padded.
    public let sources: [Int32]
    /// (B) unpadded source lengths, each ≥ 1.
    public let sourceLengths: [Int]
    /// (B·T): BOS + target, padded.
    public let decoderInputs: [Int32]
    /// (B·T): target + EOS, padded (the padding id is ignored by the loss).
    public let labels: [Int32]

    /// - Parameters:
    ///   - sourceLength, targetLength: S and T (T counts BOS or EOS: a target of n tokens needs
    ///     T ≥ n + 1); nil means the longest of the batch.
    /// - Throws: `Seq2SeqError.invalidBatch` for an empty batch or source, an id out of range or
    ///   equal to the padding id, or a sequence longer than S, T or the context.
    public init(sources: [[Int32]], targets: [[Int32]], config: Seq2SeqConfig, sourceLength: Int? = nil, targetLength: Int? = nil) throws(Seq2SeqError) {
        guard !sources.isEmpty, sources.count == targets.count else { throw .invalidBatch(reason: "\(sources.count) sources for \(targets.count) targets") }
        let S = sourceLength ?? sources.map(\.count).max()!
        let T = targetLength ?? (targets.map(\.count).max()! + 1)
        guard S <= config.contextLength, T <= config.contextLength else { throw .invalidBatch(reason: "S \(S) or T \(T) is longer than the context \(config.contextLength)") }
        for sequence in sources + targets {
            for id in sequence where id < 0 || Int(id) >= config.vocabSize || id == config.paddingID {
                throw .invalidBatch(reason: "token id \(id) is out of range or the padding id")
            }
        }
        for source in sources where source.isEmpty || source.count > S { throw .invalidBatch(reason: "a source of \(source.count) tokens for S = \(S)") }
        for target in targets where target.count + 1 > T { throw .invalidBatch(reason: "a target of \(target.count) tokens for T = \(T)") }
        let pad = config.paddingID
        func padded(_ x: [Int32], to n: Int) -> [Int32] { x + [Int32](repeating: pad, count: n - x.count) }
        sentences = sources.count
        self.sourceLength = S
        self.targetLength = T
        self.sources = sources.flatMap { padded($0, to: S) }
        sourceLengths = sources.map(\.count)
        decoderInputs = targets.flatMap { padded([config.beginID] + $0, to: T) }
        labels = targets.flatMap { padded($0 + [config.endID], to: T) }
    }
}

/// Buffers freed by one pass, kept for the next. Every batch of a translation run has its own
/// shape, so each gets a new `Seq2SeqTrainingPass`; allocating its few hundred megabytes afresh
/// made the kernel map and clear every page again, single-threaded — 12 % of a training step
/// on one thread, more on two (perf). A pass built with a pool takes its buffers from it
/// (zeroed, as before) and gives them back when it ends. One owner thread.
public final class BufferPool {
    /// Free buffers (pointer, capacity in floats), oldest first.
    private var free: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private var freeFloats = 0
    /// The most the pool keeps idle, in floats; older buffers beyond it are freed.
    private let limit: Int

    /// - Parameter limitBytes: the idle memory kept at most (default 2 GiB).
    public init(limitBytes: Int = 2 << 30) { limit = limitBytes / MemoryLayout<Float>.stride }

    /// The smallest free buffer of at least `count` floats, or a new one; zeroed over `count`.
    func take(_ count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        var best: Int?
        for (i, b) in free.enumerated() where b.capacity >= count && (best == nil || b.capacity < free[best!].capacity) { best = i }
        let block: (pointer: UnsafeMutablePointer<Float>, capacity: Int)
        if let best {
            block = free.remove(at: best)
            freeFloats -= block.capacity
        } else {
            block = (UnsafeMutablePointer<Float>.allocate(capacity: count), count)
        }
        block.pointer.initialize(repeating: 0, count: count)
        return block
    }

    func give(_ block: (pointer: UnsafeMutablePointer<Float>, capacity: Int)) {
        free.append(block)
        freeFloats += block.capacity
        while freeFloats > limit, let oldest = free.first {
            free.removeFirst()
            freeFloats -= oldest.capacity
            oldest.pointer.deallocate()
        }
    }

    deinit { for b in free { b.pointer.deallocate() } }
}

/// Buffers with one owner, freed together (or given back to a `BufferPool`).
final class Arena {
    private var blocks: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []
    private let pool: BufferPool?

    init(pool: BufferPool? = nil) { self.pool = pool }

    /// A zeroed buffer of `count` floats.
    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        let block: (pointer: UnsafeMutablePointer<Float>, capacity: Int)
        if let pool {
            block = pool.take(n)
        } else {
            block = (UnsafeMutablePointer<Float>.allocate(capacity: n), n)
            block.pointer.initialize(repeating: 0, count: n)
        }
        blocks.append(block)
        return block.pointer
    }
    func statistics(_ rows: Int) -> Norm.Statistics { Norm.Statistics(mean: take(rows), rstd: take(rows)) }
    /// With `statistics` false (decoding) the norms keep nothing.
    func unit(_ rows: Int, width C: Int, statistics keep: Bool = true) -> NormedResidual.Activations {
        NormedResidual.Activations(aux: take(rows * C), sublayer: take(rows * C), statistics: keep ? statistics(rows) : nil)
    }
    /// One decoder block's activations for `rows` = sequences·T rows; the attention weights
    /// are `selfWeights` and `crossWeights` floats per (sequence, head).
    func decoderBlock(rows N: Int, width C: Int, mlpWidth M: Int, heads H: Int, selfWeights: Int, crossWeights: Int, sequences: Int, statistics keep: Bool = true) -> DecoderBlock.Activations {
        DecoderBlock.Activations(
            attentionUnit: unit(N, width: C, statistics: keep),
            attention: SelfAttention.Activations(qkv: take(N * 3 * C), weights: take(sequences * H * selfWeights), merged: take(N * C)),
            afterAttention: take(N * C), crossUnit: unit(N, width: C, statistics: keep),
            cross: CrossAttention.Activations(q: take(N * C), weights: take(sequences * H * crossWeights), merged: take(N * C)),
            afterCross: take(N * C), mlpUnit: unit(N, width: C, statistics: keep), mlp: MLP.Activations(hidden: take(N * M), activated: take(N * M)))
    }
    /// One encoder block's activations for B sentences of S positions.
    func encoderBlock(sentences B: Int, length S: Int, width C: Int, mlpWidth M: Int, heads H: Int, statistics keep: Bool = true) -> EncoderBlock.Activations {
        let N = B * S
        return EncoderBlock.Activations(
            attentionUnit: unit(N, width: C, statistics: keep),
            attention: SelfAttention.Activations(qkv: take(N * 3 * C), weights: take(B * H * S * S), merged: take(N * C)),
            afterAttention: take(N * C), mlpUnit: unit(N, width: C, statistics: keep), mlp: MLP.Activations(hidden: take(N * M), activated: take(N * M)))
    }
    deinit {
        if let pool {
            for b in blocks { pool.give(b) }
        } else {
            for b in blocks { b.pointer.deallocate() }
        }
    }
}

/// One training forward and backward of a fixed shape (B sentences, S source and T target
/// positions): teacher forcing, label-smoothed cross-entropy over the non-padded labels.
/// Every activation is kept, one set per layer, for the backward (as `GPTTrainingPass`).
public final class Seq2SeqTrainingPass {
    public let model: Seq2SeqModel
    public let sentences: Int
    public let sourceLength: Int
    public let targetLength: Int
    /// ε of the label smoothing (the paper's 0.1).
    public var labelSmoothing: Float = 0.1

    struct DecoderLayer {
        let block: DecoderBlock.Activations
        /// (B·S, 2C): this layer's keys and values of the memory.
        let keyValues: UnsafeMutablePointer<Float>
    }

    private let arena: Arena
    /// Streams entering each encoder block, (B·S, C); the last is the stream after the last block.
    private let encoderStreams: [UnsafeMutablePointer<Float>]
    private let decoderStreams: [UnsafeMutablePointer<Float>]
    let encoderLayers: [EncoderBlock.Activations]
    let decoderLayers: [DecoderLayer]
    /// (B·S, C): the encoder's output (after its final norm under pre-norm).
    private let memory: UnsafeMutablePointer<Float>
    private let memoryStatistics: Norm.Statistics
    /// (B·T, C): the decoder's output, the head's input.
    private let final: UnsafeMutablePointer<Float>
    private let finalStatistics: Norm.Statistics
    /// (B·T, V): logits, or after a forward that prepares the backward, their gradient.
    private let logits: UnsafeMutablePointer<Float>
    private let losses: UnsafeMutablePointer<Float>
    // Backward scratch.
    private let dencoder, dmemory, ddecoder, dfinal, dsublayer, dmerged, dq, dqkv, dkv, dactivated, dhidden, square: UnsafeMutablePointer<Float>
    /// The batch of the last forward.
    private var batch: Seq2SeqBatch?
    /// Dropout masks, made on the first forward that drops: (B·S, C) for the encoder's sites
    /// (embeddings, then two per block), (B·T, C) for the decoder's (embeddings, then three per
    /// block).
    private var encoderMasks: [UnsafeMutablePointer<Float>] = []
    private var decoderMasks: [UnsafeMutablePointer<Float>] = []
    /// Whether the last forward dropped (its masks are then the backward's).
    private var dropped = false

    /// - Parameter pool: where the buffers come from and go back to (a run's passes share one);
    ///   nil allocates them afresh.
    public init(model: Seq2SeqModel, sentences B: Int, sourceLength S: Int, targetLength T: Int, pool: BufferPool? = nil) {
        arena = Arena(pool: pool)
        precondition(B > 0 && S > 0 && T > 0 && S <= model.config.contextLength && T <= model.config.contextLength, "batch shape")
        self.model = model
        sentences = B
        sourceLength = S
        targetLength = T
        let c = model.config
        let (C, M, H, V) = (c.width, c.mlpWidth, c.heads, c.vocabSize)
        let (Ne, Nd) = (B * S, B * T)
        let a = arena
        encoderStreams = (0...c.encoderLayers).map { _ in a.take(Ne * C) }
        decoderStreams = (0...c.decoderLayers).map { _ in a.take(Nd * C) }
        encoderLayers = (0..<c.encoderLayers).map { _ in
            a.encoderBlock(sentences: B, length: S, width: C, mlpWidth: M, heads: H)
        }
        decoderLayers = (0..<c.decoderLayers).map { _ in
            DecoderLayer(block: a.decoderBlock(rows: Nd, width: C, mlpWidth: M, heads: H, selfWeights: T * T, crossWeights: T * S, sequences: B), keyValues: a.take(Ne * 2 * C))
        }
        memory = a.take(Ne * C)
        memoryStatistics = a.statistics(Ne)
        final = a.take(Nd * C)
        finalStatistics = a.statistics(Nd)
        logits = a.take(Nd * V)
        losses = a.take(Nd)
        let N = max(Ne, Nd)
        (dencoder, dmemory, ddecoder, dfinal) = (a.take(Ne * C), a.take(Ne * C), a.take(Nd * C), a.take(Nd * C))
        (dsublayer, dmerged, dq, dqkv, dkv) = (a.take(N * C), a.take(N * C), a.take(Nd * C), a.take(N * 3 * C), a.take(Ne * 2 * C))
        (dactivated, dhidden, square) = (a.take(N * M), a.take(N * M), a.take(max(S, T) * max(S, T)))
    }

    /// Training-time dropout of one forward: the probability and the seed its masks derive from
    /// (one per site, `dropoutSeed(seed, site)`), so a step's masks follow from its seed alone.
    public struct Dropout: Sendable {
        public let probability: Float
        public let seed: UInt64
        public init(probability: Float, seed: UInt64) {
            precondition(probability >= 0 && probability < 1, "dropout probability in [0, 1)")
            self.probability = probability
            self.seed = seed
        }
    }

    /// Runs the batch and returns the mean label-smoothed cross-entropy over its non-padded labels.
    /// With `prepareBackward` the logits are replaced by the loss's gradient, for `backward`;
    /// without, they stay (`lastLogits`). With `dropout` (training), the embeddings and every
    /// sub-layer's output are dropped before they join the stream, as in the paper (§5.4).
    public func forward(batch: Seq2SeqBatch, prepareBackward: Bool, dropout: Dropout? = nil) -> Float {
        let c = model.config
        let (B, S, T, C, V) = (sentences, sourceLength, targetLength, c.width, c.vocabSize)
        precondition(batch.sentences == B && batch.sourceLength == S && batch.targetLength == T, "a batch of another shape")
        self.batch = batch
        let (Ne, Nd) = (B * S, B * T)
        let parts = model.parts
        let lengths = batch.sourceLengths
        dropped = dropout.map { $0.probability > 0 } ?? false
        var encoderSites: [NormedResidual.Dropout]?, decoderSites: [NormedResidual.Dropout]?
        if dropped, let dropout {
            if encoderMasks.isEmpty {
                encoderMasks = (0..<(1 + 2 * c.encoderLayers)).map { _ in arena.take(Ne * C) }
                decoderMasks = (0..<(1 + 3 * c.decoderLayers)).map { _ in arena.take(Nd * C) }
            }
            // Sites are numbered encoder first, then decoder, so every mask has its own seed.
            encoderSites = encoderMasks.enumerated().map { NormedResidual.Dropout(mask: $1, probability: dropout.probability, seed: dropoutSeed(dropout.seed, $0)) }
            decoderSites = decoderMasks.enumerated().map {
                NormedResidual.Dropout(mask: $1, probability: dropout.probability, seed: dropoutSeed(dropout.seed, encoderMasks.count + $0))
            }
        }
        parts.encode(
            sources: batch.sources, lengths: lengths, sourceLength: S, streams: encoderStreams, activations: encoderLayers, memory: memory,
            statistics: memoryStatistics, dropout: encoderSites)
        batch.decoderInputs.withUnsafeBufferPointer { parts.decoderEmbeddings.forward(out: decoderStreams[0], tokens: $0.baseAddress!, rows: Nd, length: T, startPosition: 0) }
        if let d = decoderSites?[0] { dropoutForward(decoderStreams[0], mask: d.mask, count: Nd * C, probability: d.probability, seed: d.seed) }
        let everySentence = Array(0..<B)
        for (l, block) in parts.decoder.enumerated() {
            let a = decoderLayers[l].block
            block.cross.projectMemory(kv: decoderLayers[l].keyValues, memory: memory, rows: Ne)
            block.forward(
                output: decoderStreams[l + 1], input: decoderStreams[l], activations: a, kv: decoderLayers[l].keyValues, sentences: everySentence,
                lengths: lengths, queries: T, sourceLength: S, dropout: decoderSites.map { Array($0[(1 + 3 * l)...(3 + 3 * l)]) }
            ) { input, output in
                block.attention.forward(out: output, inp: input, activations: a.attention, context: .sequences(count: B, length: T))
            }
        }
        let decoded = decoderStreams[c.decoderLayers]
        if let norm = parts.decoderNorm {
            norm.forward(out: final, inp: decoded, rows: Nd, statistics: finalStatistics)
        } else {
            final.update(from: decoded, count: Nd * C)
        }
        matmulTransposedForward(out: logits, inp: final, table: parts.head, rows: Nd, C: C, vocab: V)
        let kept = batch.labels.count { $0 != c.paddingID }
        guard kept > 0 else { return 0 }
        batch.labels.withUnsafeBufferPointer {
            _ = labelSmoothedCrossEntropy(
                logits: logits, losses: losses, targets: $0.baseAddress!, rows: Nd, V: V, smoothing: labelSmoothing, ignored: c.paddingID,
                scale: 1 / Float(kept), writeGradient: prepareBackward)
        }
        var total = 0.0
        for r in 0..<Nd { total += Double(losses[r]) }
        return Float(total / Double(kept))
    }

    /// The last forward's logits, (B·T, V); meaningful only after a forward without `prepareBackward`.
    public var lastLogits: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: logits, count: sentences * targetLength * model.config.vocabSize)
    }

    /// The gradient of the last forward's loss (which must have prepared the backward),
    /// accumulated into `gradients` (a `Seq2SeqWeights` of the model's config).
    /// After a forward with dropout, the backward consumes its masks: once per forward.
    public func backward(into gradients: Seq2SeqWeights) {
        guard let batch else { preconditionFailure("backward before forward") }
        let c = model.config
        let (B, S, T, C, V) = (sentences, sourceLength, targetLength, c.width, c.vocabSize)
        let (Ne, Nd) = (B * S, B * T)
        let parts = model.parts
        let grad = model.parts(gradients: gradients)
        let lengths = batch.sourceLengths
        // logits = final · embedᵀ.
        dfinal.update(repeating: 0, count: Nd * C)
        matmulTransposedBackward(dinp: dfinal, dtable: grad.head, dout: logits, inp: final, table: parts.head, rows: Nd, C: C, vocab: V)
        if let norm = parts.decoderNorm, let gradNorm = grad.decoderNorm {
            ddecoder.update(repeating: 0, count: Nd * C)
            norm.backward(dinp: ddecoder, dout: dfinal, inp: decoderStreams[c.decoderLayers], rows: Nd, statistics: finalStatistics, into: gradNorm)
        } else {
            ddecoder.update(from: dfinal, count: Nd * C)
        }
        // Every decoder layer's cross-attention adds to the memory's gradient.
        dmemory.update(repeating: 0, count: Ne * C)
        for (l, block) in parts.decoder.enumerated().reversed() {
            let (a, g) = (decoderLayers[l].block, grad.decoder[l])
            func mask(_ site: Int) -> UnsafeMutablePointer<Float>? { dropped ? decoderMasks[1 + 3 * l + site] : nil }
            block.mlpUnit.backward(
                dstream: ddecoder, x: a.afterCross, rows: Nd, activations: a.mlpUnit, scratch: dsublayer, into: g.mlpUnit.norm, dropoutMask: mask(2)
            ) { dinput, doutput, input in
                block.mlp.backward(dinp: dinput, dout: doutput, inp: input, activations: a.mlp, rows: Nd, scratch: (dactivated, dhidden), into: g.mlp)
            }
            dkv.update(repeating: 0, count: Ne * 2 * C)
            block.crossUnit.backward(
                dstream: ddecoder, x: a.afterAttention, rows: Nd, activations: a.crossUnit, scratch: dsublayer, into: g.crossUnit.norm, dropoutMask: mask(1)
            ) { dinput, doutput, input in
                block.cross.backward(
                    dinp: dinput, dkv: dkv, dout: doutput, inp: input, kv: decoderLayers[l].keyValues, activations: a.cross, lengths: lengths, queries: T, sourceLength: S,
                    scratch: (dq, dmerged, square), into: g.cross)
            }
            block.cross.memoryBackward(dmemory: dmemory, dkv: dkv, memory: memory, rows: Ne, into: g.cross)
            block.attentionUnit.backward(
                dstream: ddecoder, x: decoderStreams[l], rows: Nd, activations: a.attentionUnit, scratch: dsublayer, into: g.attentionUnit.norm,
                dropoutMask: mask(0)
            ) { dinput, doutput, input in
                block.attention.backward(
                    dinp: dinput, dout: doutput, inp: input, activations: a.attention, sequences: B, length: T, scratch: (dqkv, dmerged, square), into: g.attention)
            }
        }
        if dropped { dropoutBackward(dinp: ddecoder, dout: ddecoder, mask: decoderMasks[0], count: Nd * C) }
        batch.decoderInputs.withUnsafeBufferPointer { parts.decoderEmbeddings.backward(dout: ddecoder, tokens: $0.baseAddress!, rows: Nd, length: T, into: grad.decoderEmbeddings) }
        if let norm = parts.encoderNorm, let gradNorm = grad.encoderNorm {
            dencoder.update(repeating: 0, count: Ne * C)
            norm.backward(dinp: dencoder, dout: dmemory, inp: encoderStreams[c.encoderLayers], rows: Ne, statistics: memoryStatistics, into: gradNorm)
        } else {
            dencoder.update(from: dmemory, count: Ne * C)
        }
        for (l, block) in parts.encoder.enumerated().reversed() {
            let (a, g) = (encoderLayers[l], grad.encoder[l])
            func mask(_ site: Int) -> UnsafeMutablePointer<Float>? { dropped ? encoderMasks[1 + 2 * l + site] : nil }
            block.mlpUnit.backward(
                dstream: dencoder, x: a.afterAttention, rows: Ne, activations: a.mlpUnit, scratch: dsublayer, into: g.mlpUnit.norm, dropoutMask: mask(1)
            ) { dinput, doutput, input in
                block.mlp.backward(dinp: dinput, dout: doutput, inp: input, activations: a.mlp, rows: Ne, scratch: (dactivated, dhidden), into: g.mlp)
            }
            block.attentionUnit.backward(
                dstream: dencoder, x: encoderStreams[l], rows: Ne, activations: a.attentionUnit, scratch: dsublayer, into: g.attentionUnit.norm,
                dropoutMask: mask(0)
            ) { dinput, doutput, input in
                block.attention.backward(
                    dinp: dinput, dout: doutput, inp: input, activations: a.attention, lengths: lengths, length: S, scratch: (dqkv, dmerged, square), into: g.attention)
            }
        }
        if dropped { dropoutBackward(dinp: dencoder, dout: dencoder, mask: encoderMasks[0], count: Ne * C) }
        batch.sources.withUnsafeBufferPointer { parts.encoderEmbeddings.backward(dout: dencoder, tokens: $0.baseAddress!, rows: Ne, length: S, into: grad.encoderEmbeddings) }
    }
}
