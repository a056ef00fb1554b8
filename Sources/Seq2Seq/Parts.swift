import GPT
import Kernels

// Glossary: B = sentences, S = source positions (padded), T = target positions (padded),
// N = rows processed together (B·S in the encoder, B·T in the decoder), C = width,
// H = heads, hs = head size, M = MLP width, V = vocabulary.

/// The input of the encoder or the decoder: x[r] = √C · embed[token[r]] + position(p0 + r mod T).
///
/// The paper scales the shared embedding by √d_model (§3.4), since the same table, read
/// backwards, is the output projection and is initialised small; the GPT's `Embeddings` has no
/// scale, so this part is its scaled twin.
public struct ScaledEmbeddings {
    /// (V, C), the shared table.
    public let table: UnsafeMutablePointer<Float>
    /// (maxT, C): learned (trainable) or sinusoidal (fixed); nil under rotary positions, or in a
    /// gradient buffer's part for fixed positions.
    public let positions: UnsafeMutablePointer<Float>?
    public let width: Int

    public init(table: UnsafeMutablePointer<Float>, positions: UnsafeMutablePointer<Float>?, width: Int) {
        self.table = table
        self.positions = positions
        self.width = width
    }

    /// out (N, C) for N = B·T token ids, sequence after sequence of `T`, the first of each at
    /// position `p0`. Ids must be in range.
    public func forward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, rows N: Int, length T: Int, startPosition p0: Int) {
        let C = width
        let scale = Float(C).squareRoot()
        for r in 0..<N {
            let row = out + r * C
            let embedding = table + Int(tokens[r]) * C
            if let positions {
                (row).update(from: positions + (p0 + r % T) * C, count: C)
            } else {
                row.update(repeating: 0, count: C)
            }
            axpy(scale, embedding, row, C)
        }
    }

    /// Backward of `forward` (p0 = 0), accumulating √C·dout into `grad`'s table rows and, when
    /// `grad` has positions (learned ones), dout into them. Serial, because tokens repeat.
    public func backward(dout: UnsafePointer<Float>, tokens: UnsafePointer<Int32>, rows N: Int, length T: Int, into grad: ScaledEmbeddings) {
        let C = width
        let scale = Float(C).squareRoot()
        for r in 0..<N {
            axpy(scale, dout + r * C, grad.table + Int(tokens[r]) * C, C)
            if let positions = grad.positions { axpy(1, dout + r * C, positions + (r % T) * C, C) }
        }
    }
}

/// A sub-layer F with its residual connection and LayerNorm, placed as the config says:
///
///     pre-norm:  out = x + F(Norm(x))        aux = Norm(x)
///     post-norm: out = Norm(x + F(x))        aux = x + F(x)
///
/// `TransformerBlock` is pre-norm only; the seed's "residual + LayerNorm" needs the other order,
/// so both blocks here are built of these.
public struct NormedResidual {
    public let norm: Norm
    public let placement: Seq2SeqConfig.NormPlacement

    /// One unit's buffers. (N, C) each; statistics (N) each when a backward follows.
    public struct Activations {
        /// pre: Norm(x), F's input; post: x + F(x), the norm's input.
        public let aux: UnsafeMutablePointer<Float>
        /// F's output.
        public let sublayer: UnsafeMutablePointer<Float>
        public let statistics: Norm.Statistics?
        public init(aux: UnsafeMutablePointer<Float>, sublayer: UnsafeMutablePointer<Float>, statistics: Norm.Statistics?) {
            self.aux = aux
            self.sublayer = sublayer
            self.statistics = statistics
        }
    }

    /// Training-time dropout of F's output before it joins the stream (the paper's "residual
    /// dropout"): mask (N, C) receives the factors `dropoutForward` applied, for the backward.
    public struct Dropout {
        public let mask: UnsafeMutablePointer<Float>
        public let probability: Float
        public let seed: UInt64
        public init(mask: UnsafeMutablePointer<Float>, probability: Float, seed: UInt64) {
            self.mask = mask
            self.probability = probability
            self.seed = seed
        }
    }

    /// out (N, C) from x (N, C); `sublayer(input, output)` runs F. `out` may alias `x` (inference).
    public func forward(
        out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows N: Int, activations a: Activations, dropout: Dropout? = nil,
        sublayer: (_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>) -> Void
    ) {
        let count = N * norm.width
        func drop() {
            if let dropout { dropoutForward(a.sublayer, mask: dropout.mask, count: count, probability: dropout.probability, seed: dropout.seed) }
        }
        switch placement {
        case .pre:
            norm.forward(out: a.aux, inp: x, rows: N, statistics: a.statistics)
            sublayer(a.aux, a.sublayer)
            drop()
            residualAdd(out: out, stream: x, sublayer: a.sublayer, count: count)
        case .post:
            sublayer(x, a.sublayer)
            drop()
            residualAdd(out: a.aux, stream: x, sublayer: a.sublayer, count: count)
            norm.forward(out: out, inp: a.aux, rows: N, statistics: a.statistics)
        }
    }

    /// Backward of `forward`. dstream (N, C): on entry ∂loss/∂out, on return ∂loss/∂x.
    /// `sublayerBackward(dinput, doutput, input)` must accumulate F's input gradient into
    /// `dinput` (and its parameters' into their gradient). scratch: (N, C), overwritten.
    /// With `dropoutMask` (the forward's `Dropout.mask`) the gradient reaching F passes through
    /// it; the mask is overwritten (by that gradient, under pre-norm): one backward per forward.
    public func backward(
        dstream: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, rows N: Int, activations a: Activations,
        scratch: UnsafeMutablePointer<Float>, into grad: Norm, dropoutMask: UnsafeMutablePointer<Float>? = nil,
        sublayerBackward: (_ dinput: UnsafeMutablePointer<Float>, _ doutput: UnsafePointer<Float>, _ input: UnsafePointer<Float>) -> Void
    ) {
        guard let statistics = a.statistics else { preconditionFailure("backward needs a forward that kept the norm statistics") }
        let count = N * norm.width
        scratch.update(repeating: 0, count: count)
        switch placement {
        case .pre:
            // ∂out reaches x directly and through F(Norm(x)) (through the mask, if any).
            var dsublayer = UnsafePointer(dstream)
            if let dropoutMask {
                dropoutBackward(dinp: dropoutMask, dout: dstream, mask: dropoutMask, count: count)
                dsublayer = UnsafePointer(dropoutMask)
            }
            sublayerBackward(scratch, dsublayer, a.aux)
            norm.backward(dinp: dstream, dout: scratch, inp: x, rows: N, statistics: statistics, into: grad)
        case .post:
            // ∂(x + F(x)) first, then it reaches x directly and through F.
            norm.backward(dinp: scratch, dout: dstream, inp: a.aux, rows: N, statistics: statistics, into: grad)
            dstream.update(from: scratch, count: count)
            if let dropoutMask { dropoutBackward(dinp: scratch, dout: scratch, mask: dropoutMask, count: count) }
            sublayerBackward(dstream, scratch, x)
        }
    }
}

/// The encoder's self-attention: the GPT's `SelfAttention` parts (the fused Q/K/V projection and
/// the output projection) with a padding mask per sentence — sentence b's queries see its
/// first lengths[b] keys, `.bidirectional(keys:)` — where `SelfAttention` has one mask for
/// every sequence of a batch.
public struct PaddedSelfAttention {
    /// Its projection and output; its own `mask` is not used.
    public let attention: SelfAttention

    public init(attention: SelfAttention) { self.attention = attention }

    /// out (B·S, C) = the sub-layer applied to inp (B·S, C); weights (B, H, S, S), zero at the
    /// padded keys.
    public func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, activations a: SelfAttention.Activations, lengths: [Int], length S: Int
    ) {
        let B = lengths.count
        let (C, H, hs) = (attention.width, attention.heads, attention.headSize)
        attention.projection.forward(qkv: a.qkv, inp: inp, sequences: B, length: S, startPosition: 0)
        for b in 0..<B {
            let (q, k, v) = splitHeads(qkv: a.qkv + b * S * 3 * C, width: C, heads: H)
            ScaledDotProductAttention.forwardWholeSequence(
                out: HeadView(base: a.merged + b * S * C, rowStride: C, heads: H, headSize: hs), weights: a.weights + b * H * S * S,
                q: q, k: k, v: v, length: S, mask: .bidirectional(keys: lengths[b]))
        }
        attention.output.forward(out: out, inp: a.merged, rows: B * S)
    }

    /// Backward of `forward`, accumulating dinp (B·S, C) and `grad`'s parameters. Scratch,
    /// overwritten: dqkv (B·S, 3C), dmerged (B·S, C), square (S, S).
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, activations a: SelfAttention.Activations,
        lengths: [Int], length S: Int, scratch: (dqkv: UnsafeMutablePointer<Float>, dmerged: UnsafeMutablePointer<Float>, square: UnsafeMutablePointer<Float>),
        into grad: PaddedSelfAttention
    ) {
        let B = lengths.count
        let (C, H, N) = (attention.width, attention.heads, B * S)
        scratch.dmerged.update(repeating: 0, count: N * C)
        attention.output.backward(dinp: scratch.dmerged, dout: dout, inp: a.merged, rows: N, into: grad.attention.output)
        scratch.dqkv.update(repeating: 0, count: N * 3 * C)
        for b in 0..<B {
            ScaledDotProductAttention.backwardWholeSequence(
                dqkv: scratch.dqkv + b * S * 3 * C, dout: scratch.dmerged + b * S * C, qkv: a.qkv + b * S * 3 * C,
                weights: a.weights + b * H * S * S, scratch: scratch.square, length: S, heads: H, headSize: attention.headSize,
                mask: .bidirectional(keys: lengths[b]))
        }
        attention.projection.backward(dinp: dinp, dqkv: scratch.dqkv, inp: inp, sequences: B, length: S, into: grad.attention.projection)
    }
}

/// Cross-attention: the attention unit with its queries from the decoder and its keys and
/// values from the encoder's output (the "memory"), so each target position looks at the
/// source sentence. The keys and values are one `Linear` (C → 2C, k | v) over the memory,
/// computed once per sentence (`projectMemory`) and reused by every target position — in
/// training for the whole batch, in decoding for every step. Padded source keys are hidden
/// (`.bidirectional(keys: length)`); there are no positions here (rotary acts only within one
/// sequence).
public struct CrossAttention {
    /// (C, C): queries from the decoder stream.
    public let query: Linear
    /// (C, 2C): keys | values from the memory.
    public let keyValue: Linear
    /// (C, C).
    public let output: Linear
    public let heads: Int
    public var width: Int { query.outDim }
    public var headSize: Int { width / heads }

    public init(query: Linear, keyValue: Linear, output: Linear, heads: Int) {
        precondition(keyValue.outDim == 2 * query.outDim && output.inDim == query.outDim && query.outDim % heads == 0, "cross-attention shapes")
        self.query = query
        self.keyValue = keyValue
        self.output = output
        self.heads = heads
    }

    /// kv (rows, 2C) = memory (rows, C) · W_kv + b_kv: every sentence's keys and values, once.
    public func projectMemory(kv: UnsafeMutablePointer<Float>, memory: UnsafePointer<Float>, rows: Int) {
        keyValue.forward(out: kv, inp: memory, rows: rows)
    }

    /// Buffers of one forward.
    public struct Activations {
        /// (N, C): the queries.
        public let q: UnsafeMutablePointer<Float>
        /// (sequences, H, T, S): each query's weights over its sentence's keys (rows of S;
        /// past the sentence's length they are not read).
        public let weights: UnsafeMutablePointer<Float>
        /// (N, C): the heads merged.
        public let merged: UnsafeMutablePointer<Float>
        public init(q: UnsafeMutablePointer<Float>, weights: UnsafeMutablePointer<Float>, merged: UnsafeMutablePointer<Float>) {
            self.q = q
            self.weights = weights
            self.merged = merged
        }
    }

    /// out (B'·T, C) for `sentences.count` = B' query sequences of T rows each: sequence i
    /// attends to sentence sentences[i] of the memory, whose keys and values are rows
    /// sentences[i]·S ..< +lengths[sentences[i]] of `kv` (B·S, 2C). Training passes
    /// sentences = 0..<B; beam search passes the same sentence for every hypothesis.
    public func forward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, kv: UnsafePointer<Float>, activations a: Activations,
        sentences: [Int], lengths: [Int], queries T: Int, sourceLength S: Int
    ) {
        let (C, H, hs) = (width, heads, headSize)
        let N = sentences.count * T
        query.forward(out: a.q, inp: inp, rows: N)
        for (i, sentence) in sentences.enumerated() {
            let memory = UnsafeMutablePointer(mutating: kv) + sentence * S * 2 * C
            ScaledDotProductAttention.forward(
                out: HeadView(base: a.merged + i * T * C, rowStride: C, heads: H, headSize: hs), weights: a.weights + i * H * T * S,
                weightStride: S, q: HeadView(base: a.q + i * T * C, rowStride: C, heads: H, headSize: hs),
                k: HeadView(base: memory, rowStride: 2 * C, heads: H, headSize: hs),
                v: HeadView(base: memory + C, rowStride: 2 * C, heads: H, headSize: hs),
                queries: T, pastLength: 0, mask: .bidirectional(keys: lengths[sentence]))
        }
        output.forward(out: out, inp: a.merged, rows: N)
    }

    /// Backward of `forward` with sentences = 0..<B, accumulating dinp (B·T, C), dkv (B·S, 2C)
    /// — the gradient of the keys and values, for `memoryBackward` — and `grad`'s query and output
    /// projections. Scratch, overwritten: dq, dmerged (B·T, C), square (T, S).
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>,
        kv: UnsafePointer<Float>, activations a: Activations, lengths: [Int], queries T: Int, sourceLength S: Int,
        scratch: (dq: UnsafeMutablePointer<Float>, dmerged: UnsafeMutablePointer<Float>, square: UnsafeMutablePointer<Float>), into grad: CrossAttention
    ) {
        let (C, H, B) = (width, heads, lengths.count)
        let N = B * T
        scratch.dmerged.update(repeating: 0, count: N * C)
        output.backward(dinp: scratch.dmerged, dout: dout, inp: a.merged, rows: N, into: grad.output)
        scratch.dq.update(repeating: 0, count: N * C)
        for b in 0..<B {
            let memory = kv + b * S * 2 * C, dmemory = dkv + b * S * 2 * C
            crossAttentionBackward(
                dq: scratch.dq + b * T * C, dqStride: C, dk: dmemory, dv: dmemory + C, dkvStride: 2 * C,
                dout: scratch.dmerged + b * T * C, q: a.q + b * T * C, qStride: C, k: memory, v: memory + C, kvStride: 2 * C,
                att: a.weights + b * H * T * S, attStride: S, scratch: scratch.square, T: T, keys: lengths[b], heads: H, headSize: headSize)
        }
        query.backward(dinp: dinp, dout: scratch.dq, inp: inp, rows: N, into: grad.query)
    }

    /// Backward of `projectMemory`: dmemory (rows, C) += dkv·W_kvᵀ and `grad`'s key/value
    /// projection, once for all target positions.
    public func memoryBackward(dmemory: UnsafeMutablePointer<Float>, dkv: UnsafePointer<Float>, memory: UnsafePointer<Float>, rows: Int, into grad: CrossAttention) {
        keyValue.backward(dinp: dmemory, dout: dkv, inp: memory, rows: rows, into: grad.keyValue)
    }
}

/// One encoder block: bidirectional self-attention (padding hidden), then the MLP, each a
/// `NormedResidual`.
public struct EncoderBlock {
    public let attentionUnit: NormedResidual
    public let attention: PaddedSelfAttention
    public let mlpUnit: NormedResidual
    public let mlp: MLP

    /// Every intermediate of one block's forward, (B·S, ·): one set per layer in training, one
    /// shared set when encoding for decoding.
    public struct Activations {
        public let attentionUnit: NormedResidual.Activations
        public let attention: SelfAttention.Activations
        /// The stream between the two sub-layers, (B·S, C).
        public let afterAttention: UnsafeMutablePointer<Float>
        public let mlpUnit: NormedResidual.Activations
        public let mlp: MLP.Activations
    }

    /// output (B·S, C) = the block applied to input (B·S, C); `output` may be `input`.
    /// - Parameter dropout: training only, the attention's and the MLP's.
    public func forward(
        output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, activations a: Activations, lengths: [Int], length S: Int,
        dropout: [NormedResidual.Dropout]? = nil
    ) {
        let N = lengths.count * S
        attentionUnit.forward(out: a.afterAttention, x: input, rows: N, activations: a.attentionUnit, dropout: dropout?[0]) { input, output in
            attention.forward(out: output, inp: input, activations: a.attention, lengths: lengths, length: S)
        }
        mlpUnit.forward(out: output, x: a.afterAttention, rows: N, activations: a.mlpUnit, dropout: dropout?[1]) { input, output in
            mlp.forward(out: output, inp: input, activations: a.mlp, rows: N)
        }
    }
}

/// One decoder block: causal self-attention (the GPT's `SelfAttention`, `.causal`), cross-attention
/// over the encoder's output, then the MLP, each a `NormedResidual`.
public struct DecoderBlock {
    public let attentionUnit: NormedResidual
    public let attention: SelfAttention
    public let crossUnit: NormedResidual
    public let cross: CrossAttention
    public let mlpUnit: NormedResidual
    public let mlp: MLP

    /// Every intermediate of one block's forward, (N, ·) with N = sequences·T.
    public struct Activations {
        public let attentionUnit: NormedResidual.Activations
        /// Training: the weights are (B, H, T, T). Decoding uses qkv and merged, and the
        /// weights as (H, maxT) scratch.
        public let attention: SelfAttention.Activations
        public let afterAttention: UnsafeMutablePointer<Float>
        public let crossUnit: NormedResidual.Activations
        public let cross: CrossAttention.Activations
        public let afterCross: UnsafeMutablePointer<Float>
        public let mlpUnit: NormedResidual.Activations
        public let mlp: MLP.Activations
    }

    /// output (N, C) = the block applied to input (N, C), N = sentences.count·T; `output` may be
    /// `input`. The self-attention is the caller's — over whole sequences in training
    /// (`SelfAttention.forward`), against the KV cache in decoding — and cross-attention reads
    /// `kv` (this layer's keys and values of the memory, `CrossAttention.projectMemory`).
    /// - Parameter dropout: training only, the self-attention's, the cross-attention's and the MLP's.
    public func forward(
        output: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, activations a: Activations, kv: UnsafePointer<Float>,
        sentences: [Int], lengths: [Int], queries T: Int, sourceLength S: Int, dropout: [NormedResidual.Dropout]? = nil,
        selfAttention: (_ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>) -> Void
    ) {
        let N = sentences.count * T
        attentionUnit.forward(out: a.afterAttention, x: input, rows: N, activations: a.attentionUnit, dropout: dropout?[0], sublayer: selfAttention)
        crossUnit.forward(out: a.afterCross, x: a.afterAttention, rows: N, activations: a.crossUnit, dropout: dropout?[1]) { input, output in
            cross.forward(out: output, inp: input, kv: kv, activations: a.cross, sentences: sentences, lengths: lengths, queries: T, sourceLength: S)
        }
        mlpUnit.forward(out: output, x: a.afterCross, rows: N, activations: a.mlpUnit, dropout: dropout?[2]) { input, output in
            mlp.forward(out: output, inp: input, activations: a.mlp, rows: N)
        }
    }
}
