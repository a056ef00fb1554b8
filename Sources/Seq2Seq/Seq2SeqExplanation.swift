import GPT

/// The three attentions of an encoder–decoder, as `attnchat explain --attention` names them.
public enum Seq2SeqAttention: String, CaseIterable, Sendable {
    /// The encoder's self-attention: source over source, both directions.
    case encoder
    /// The decoder's self-attention: target over the target so far (causal).
    case decoder
    /// The decoder's cross-attention: a target position's query over the encoder's output.
    case cross
}

extension Seq2SeqModel {
    /// Runs one sentence pair through the model (the training forward, teacher-forced: the
    /// decoder reads BOS + `target`) and takes apart one head's attention for one query.
    ///
    /// For `.encoder` the query and keys are source positions (0..<source.count), every key
    /// visible. For `.decoder` they are decoder positions (0 is BOS, t is target[t-1]) and the
    /// causal mask hides the later ones; for `.cross` the query is a decoder position and the
    /// keys and values are the encoder output's, every source position visible. The returned
    /// weights are recomputed from q and k step by step; `output` is the head's output as the
    /// forward computed it.
    /// - Parameters: layer, head, position: 0-based; position within the query's sequence.
    /// - Throws: `Seq2SeqError.invalidBatch` for ids out of range or sequences longer than the context.
    public func explainAttention(
        source: [Int32], target: [Int32], attention kind: Seq2SeqAttention, layer: Int, head: Int, position: Int
    ) throws(Seq2SeqError) -> AttentionExplanation {
        let c = config
        let batch = try Seq2SeqBatch(sources: [source], targets: [target], config: c)
        let (S, T, C, hs) = (batch.sourceLength, batch.targetLength, c.width, c.width / c.heads)
        let queries = kind == .encoder ? S : T
        precondition((0..<c.heads).contains(head) && (0..<queries).contains(position), "head and position in range")
        precondition((0..<(kind == .encoder ? c.encoderLayers : c.decoderLayers)).contains(layer), "layer in range")
        let pass = Seq2SeqTrainingPass(model: self, sentences: 1, sourceLength: S, targetLength: T)
        _ = pass.forward(batch: batch, prepareBackward: false)

        func rows(_ base: UnsafePointer<Float>, stride: Int, offset: Int, _ range: Range<Int>) -> [[Float]] {
            range.map { j in Array(UnsafeBufferPointer(start: base + j * stride + offset + head * hs, count: hs)) }
        }
        let query: [Float], keys: [[Float]], values: [[Float]], output: [Float]
        switch kind {
        case .encoder, .decoder:
            let a = kind == .encoder ? pass.encoderLayers[layer].attention : pass.decoderLayers[layer].block.attention
            let visible = kind == .encoder ? 0..<S : 0..<(position + 1)
            query = rows(a.qkv, stride: 3 * C, offset: 0, position..<(position + 1))[0]
            keys = rows(a.qkv, stride: 3 * C, offset: C, visible)
            values = rows(a.qkv, stride: 3 * C, offset: 2 * C, visible)
            output = rows(a.merged, stride: C, offset: 0, position..<(position + 1))[0]
        case .cross:
            let layerPass = pass.decoderLayers[layer]
            query = rows(layerPass.block.cross.q, stride: C, offset: 0, position..<(position + 1))[0]
            keys = rows(layerPass.keyValues, stride: 2 * C, offset: 0, 0..<S)
            values = rows(layerPass.keyValues, stride: 2 * C, offset: C, 0..<S)
            output = rows(layerPass.block.cross.merged, stride: C, offset: 0, position..<(position + 1))[0]
        }
        return AttentionExplanation(
            layer: layer, head: head, position: position, tokenCount: kind == .cross ? S : queries, query: query, keys: keys, values: values,
            output: output)
    }

    /// The attention weights the forward itself used for the same query, (keys): what
    /// `explainAttention`'s recomputed weights must equal (tests).
    public func forwardAttentionWeights(
        source: [Int32], target: [Int32], attention kind: Seq2SeqAttention, layer: Int, head: Int, position: Int
    ) throws(Seq2SeqError) -> [Float] {
        let batch = try Seq2SeqBatch(sources: [source], targets: [target], config: config)
        let (S, T) = (batch.sourceLength, batch.targetLength)
        let pass = Seq2SeqTrainingPass(model: self, sentences: 1, sourceLength: S, targetLength: T)
        _ = pass.forward(batch: batch, prepareBackward: false)
        switch kind {
        case .encoder:
            let w = pass.encoderLayers[layer].attention.weights + (head * S + position) * S
            return Array(UnsafeBufferPointer(start: w, count: S))
        case .decoder:
            let w = pass.decoderLayers[layer].block.attention.weights + (head * T + position) * T
            return Array(UnsafeBufferPointer(start: w, count: position + 1))
        case .cross:
            let w = pass.decoderLayers[layer].block.cross.weights + (head * T + position) * S
            return Array(UnsafeBufferPointer(start: w, count: S))
        }
    }
}
