import Foundation
import Kernels
import Testing
@testable import GPT

/// Memory a test can hand to the parts (which keep pointers), freed when the test is done.
final class Buffer {
    let count: Int
    let p: UnsafeMutablePointer<Float>
    init(_ values: [Float]) {
        count = values.count
        p = .allocate(capacity: max(1, values.count))
        p.initialize(from: values, count: values.count)
    }
    convenience init(zeros n: Int) { self.init([Float](repeating: 0, count: n)) }
    deinit { p.deallocate() }
    var array: [Float] { Array(UnsafeBufferPointer(start: p, count: count)) }
}

/// The model's own seeded generator, so every test sees the same inputs on every run.
typealias PartsRNG = SplitMix64

extension SplitMix64 {
    init(state: UInt64) { self.init(seed: state) }
    /// Uniform in [−scale, scale).
    mutating func floats(_ n: Int, scale: Float = 1) -> [Float] {
        (0..<n).map { _ in (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }
}

/// The largest |a − b| relative to max(1, |b|).
func worst(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
}

/// Each named part of the transformer against its naive twin: the same formula written with the
/// reference kernels (Double accumulation, no BLAS, no SIMD, no views).
@Suite struct PartsTests {
    @Test func linearIsXTimesWPlusB() {
        var rng = PartsRNG(state: 1)
        let (N, I, O) = (3, 5, 7)
        let x = rng.floats(N * I), w = Buffer(rng.floats(I * O)), b = Buffer(rng.floats(O))
        for bias in [b.p, nil] {
            let out = Buffer(zeros: N * O), expected = Buffer(zeros: N * O)
            Linear(weight: w.p, bias: bias, inDim: I, outDim: O).forward(out: out.p, inp: x, rows: N)
            matmulForwardNaive(out: expected.p, inp: x, weight: w.p, bias: bias, rows: N, inDim: I, outDim: O)
            #expect(worst(out.array, expected.array) < 1e-5)
        }
    }

    @Test func embeddingsAddTheTokenRowAndThePositionRow() {
        let (V, C, maxT) = (5, 4, 8)
        var rng = PartsRNG(state: 2)
        let wte = Buffer(rng.floats(V * C)), wpe = Buffer(rng.floats(maxT * C))
        let sinusoids = Buffer(sinusoidalTable(positions: maxT, width: C))
        let ids: [Int32] = [4, 0, 4]
        let p0 = 3
        for (positions, table) in [(Embeddings.Positions.learned(wpe.p), wpe.array), (.sinusoidal(sinusoids.p), sinusoids.array), (.none, nil)] {
            let out = Buffer(zeros: ids.count * C)
            Embeddings(tokens: .float(wte.p), positions: positions, width: C).forward(out: out.p, tokens: ids, sequences: 1, length: ids.count, startPosition: p0)
            var expected: [Float] = []
            for (t, id) in ids.enumerated() {
                for i in 0..<C { expected.append(wte.array[Int(id) * C + i] + (table?[(p0 + t) * C + i] ?? 0)) }
            }
            #expect(out.array == expected)
        }
    }

    @Test(arguments: [Norm.Kind.layerNorm, .rmsNorm])
    func normMatchesItsFormula(kind: Norm.Kind) {
        let (N, C) = (4, 24)
        var rng = PartsRNG(state: 3)
        let x = rng.floats(N * C, scale: 3), w = Buffer(rng.floats(C)), b = Buffer(rng.floats(C))
        let norm = Norm(kind: kind, weight: w.p, bias: kind == .layerNorm ? b.p : nil, width: C, epsilon: 1e-5)
        let out = Buffer(zeros: N * C), expected = Buffer(zeros: N * C)
        norm.forward(out: out.p, inp: x, rows: N)
        switch kind {
        case .layerNorm: layerNormForwardNaive(out: expected.p, inp: x, weight: w.p, bias: b.p, rows: N, C: C, eps: 1e-5)
        case .rmsNorm: rmsNormForwardNaive(out: expected.p, inp: x, weight: w.p, rows: N, C: C, eps: 1e-5)
        }
        #expect(worst(out.array, expected.array) < 1e-5)
    }

    /// The textbook's split: (T, 3C) → three (T, H, hs) → transposed to (H, T, hs). The views
    /// read exactly those values, and writing through the merged view concatenates the heads.
    @Test func headSplitIsReshapeAndTransposeAndMergeIsItsInverse() {
        let (T, H, hs) = (3, 4, 2)
        let C = H * hs
        let fused = Buffer((0..<(T * 3 * C)).map(Float.init))
        // Naive reshape: rows → thirds → heads, then swap the row and head axes.
        let rows = (0..<T).map { t in Array(fused.array[(t * 3 * C)..<((t + 1) * 3 * C)]) }
        func part(_ which: Int) -> [[[Float]]] {  // (H, T, hs)
            (0..<H).map { h in rows.map { row in Array(row[(which * C + h * hs)..<(which * C + (h + 1) * hs)]) } }
        }
        let (q, k, v) = splitHeads(qkv: fused.p, width: C, heads: H)
        for (view, expected) in [(q, part(0)), (k, part(1)), (v, part(2))] {
            for h in 0..<H {
                for t in 0..<T { #expect(Array(UnsafeBufferPointer(start: view[row: t, head: h], count: hs)) == expected[h][t]) }
            }
        }
        // Merge: each head writes its (T, hs) block; the result is the heads side by side per row.
        let merged = Buffer(zeros: T * C)
        let out = mergedHeads(out: merged.p, width: C, heads: H)
        let perHead = part(2)
        for h in 0..<H {
            for t in 0..<T { out[row: t, head: h].update(from: perHead[h][t], count: hs) }
        }
        let concatenated = (0..<T).flatMap { t in (0..<H).flatMap { h in perHead[h][t] } }
        #expect(merged.array == concatenated)
    }

    @Test func qkvProjectionRotatesQueriesAndKeysButNotValues() {
        let (T, H, hs, p0) = (3, 2, 4, 5)
        let C = H * hs
        var rng = PartsRNG(state: 4)
        let x = rng.floats(T * C), w = Buffer(rng.floats(C * 3 * C)), b = Buffer(rng.floats(3 * C))
        let (cos, sin) = rotaryTables(positions: 16, headSize: hs, theta: 10_000)
        let cosBuffer = Buffer(cos), sinBuffer = Buffer(sin)
        let projection = QKVProjection(
            linear: Linear(weight: w.p, bias: b.p, inDim: C, outDim: 3 * C),
            rotary: .init(cos: cosBuffer.p, sin: sinBuffer.p), heads: H, headSize: hs)
        let out = Buffer(zeros: T * 3 * C), expected = Buffer(zeros: T * 3 * C)
        projection.forward(qkv: out.p, inp: x, sequences: 1, length: T, startPosition: p0)
        matmulForwardNaive(out: expected.p, inp: x, weight: w.p, bias: b.p, rows: T, inDim: C, outDim: 3 * C)
        let plain = expected.array
        for part in 0..<2 { rotaryForwardNaive(x: expected.p + part * C, stride: 3 * C, T: T, pastLength: p0, heads: H, headSize: hs, theta: 10_000) }
        #expect(worst(out.array, expected.array) < 1e-5)
        for t in 0..<T {
            let values = (t * 3 * C + 2 * C)..<((t + 1) * 3 * C)
            #expect(worst(Array(out.array[values]), Array(plain[values])) < 1e-5)
        }
    }

    /// Cross-attention: queries from one sequence, keys and values from another of a different
    /// length, no causal mask — against the formula in Double.
    @Test func crossAttentionReadsTheOtherSequence() {
        let (T, S, H, hs) = (3, 5, 2, 4)
        let C = H * hs
        var rng = PartsRNG(state: 5)
        let q = Buffer(rng.floats(T * C, scale: 2)), k = Buffer(rng.floats(S * C, scale: 2)), v = Buffer(rng.floats(S * C))
        let out = Buffer(zeros: T * C), weights = Buffer(zeros: H * T * S)
        let view = { (b: Buffer) in HeadView(base: b.p, rowStride: C, heads: H, headSize: hs) }
        ScaledDotProductAttention.forward(
            out: view(out), weights: weights.p, weightStride: S, q: view(q), k: view(k), v: view(v), queries: T, pastLength: 0,
            mask: .bidirectional(keys: S))
        for h in 0..<H {
            for t in 0..<T {
                let scores = (0..<S).map { j in (0..<hs).reduce(0.0) { $0 + Double(q.array[t * C + h * hs + $1]) * Double(k.array[j * C + h * hs + $1]) } / Double(hs).squareRoot() }
                let e = scores.map { exp($0 - scores.max()!) }
                let a = e.map { $0 / e.reduce(0, +) }
                #expect(worst(Array(weights.array[((h * T + t) * S)..<((h * T + t) * S + S)]), a.map(Float.init)) < 1e-6)
                let o = (0..<hs).map { d in Float((0..<S).reduce(0.0) { $0 + a[$1] * Double(v.array[$1 * C + h * hs + d]) }) }
                #expect(worst(Array(out.array[(t * C + h * hs)..<(t * C + (h + 1) * hs)]), o) < 1e-5)
            }
        }
    }

    /// The attention sub-layer, written out with the reference kernels: a projection, rotary
    /// positions, attention over the cache (which already holds earlier positions), the output
    /// projection — and over two whole sequences at once, as training runs it.
    @Test func selfAttentionSublayerMatchesItsFormula() throws {
        let model = ForwardConsistencyTests.model(.rope)
        let c = model.config
        let (C, H, hs, maxT) = (c.width, c.heads, c.headSize, c.contextLength)
        let attention = Transformer(model: model).blocks[0].attention
        let l = model.weights.layers[0]
        let wp = { (o: Int) in model.weights.pointer(o) }
        var rng = PartsRNG(state: 9)
        // Naive: the whole sequence of S positions; the sub-layer sees the last T after p0 cached.
        let (p0, T) = (4, 3)
        let S = p0 + T
        let x = rng.floats(S * C)
        let fused = Buffer(zeros: S * 3 * C), merged = Buffer(zeros: S * C), expected = Buffer(zeros: S * C), w = Buffer(zeros: H * S * S)
        matmulForwardNaive(out: fused.p, inp: x, weight: wp(l.qkvWeight), bias: wp(l.qkvBias!), rows: S, inDim: C, outDim: 3 * C)
        for part in 0..<2 { rotaryForwardNaive(x: fused.p + part * C, stride: 3 * C, T: S, pastLength: 0, heads: H, headSize: hs, theta: c.ropeTheta) }
        attentionForwardNaive(out: merged.p, att: w.p, attStride: S, q: fused.p, qStride: 3 * C, k: fused.p + C, v: fused.p + 2 * C, kvStride: 3 * C, T: S, pastLength: 0, heads: H, headSize: hs)
        matmulForwardNaive(out: expected.p, inp: merged.p, weight: wp(l.attnProjWeight), bias: wp(l.attnProjBias!), rows: S, inDim: C, outDim: C)
        // Cache path: fill the cache with the first p0 positions, then run the last T.
        let keys = Buffer(zeros: maxT * C), values = Buffer(zeros: maxT * C)
        func run(_ rows: Range<Int>, past: Int) -> [Float] {
            let n = rows.count
            let out = Buffer(zeros: n * C), qkv = Buffer(zeros: n * 3 * C), weights = Buffer(zeros: H * n * maxT), m = Buffer(zeros: n * C)
            attention.forward(
                out: out.p, inp: Array(x[(rows.lowerBound * C)..<(rows.upperBound * C)]),
                activations: .init(qkv: qkv.p, weights: weights.p, merged: m.p),
                context: .cache(keys: keys.p, values: values.p, pastLength: past, length: n, weightStride: maxT))
            return out.array
        }
        _ = run(0..<p0, past: 0)
        let cached = run(p0..<S, past: p0)
        #expect(worst(cached, Array(expected.array[(p0 * C)...])) < 1e-4)
        // Training form: two sequences (the naive one twice) in one call.
        let out = Buffer(zeros: 2 * S * C), qkv = Buffer(zeros: 2 * S * 3 * C), weights = Buffer(zeros: 2 * H * S * S), m = Buffer(zeros: 2 * S * C)
        attention.forward(out: out.p, inp: x + x, activations: .init(qkv: qkv.p, weights: weights.p, merged: m.p), context: .sequences(count: 2, length: S))
        #expect(worst(out.array, expected.array + expected.array) < 1e-4)
        #expect(worst(Array(weights.array[(H * S * S)...]), w.array) < 1e-5)
    }

    @Test func lmHeadScoresEveryTokenByItsEmbeddingAndResidualAdds() {
        let (N, C, V) = (2, 6, 5)
        var rng = PartsRNG(state: 10)
        let x = rng.floats(N * C), table = Buffer(rng.floats(V * C))
        let logits = Buffer(zeros: N * V), expected = Buffer(zeros: N * V)
        LMHead(table: .float(table.p), vocabSize: V, width: C).forward(logits: logits.p, inp: x, rows: N)
        matmulTransposedForwardNaive(out: expected.p, inp: x, table: table.p, rows: N, C: C, vocab: V)
        #expect(worst(logits.array, expected.array) < 1e-5)
        let stream = Buffer([1, 2, 3]), sub = Buffer([0.5, -2, 10])
        residualAdd(out: stream.p, stream: stream.p, sublayer: sub.p, count: 3)
        #expect(stream.array == [1.5, 0, 13])
    }

    /// The whole-sequence (BLAS) form and the general form are the same attention.
    @Test func wholeSequenceAttentionEqualsTheGeneralForm() {
        let (T, H, hs) = (6, 3, 4)
        let C = H * hs
        var rng = PartsRNG(state: 6)
        let qkv = Buffer(rng.floats(T * 3 * C, scale: 2))
        let (q, k, v) = splitHeads(qkv: qkv.p, width: C, heads: H)
        let a = Buffer(zeros: T * C), b = Buffer(zeros: T * C), wa = Buffer(zeros: H * T * T), wb = Buffer(zeros: H * T * T)
        ScaledDotProductAttention.forward(out: mergedHeads(out: a.p, width: C, heads: H), weights: wa.p, weightStride: T, q: q, k: k, v: v, queries: T, pastLength: 0, mask: .causal)
        ScaledDotProductAttention.forwardWholeSequence(out: mergedHeads(out: b.p, width: C, heads: H), weights: wb.p, q: q, k: k, v: v, length: T, mask: .causal)
        #expect(worst(a.array, b.array) < 1e-5)
        #expect(worst(wa.array, wb.array) < 1e-6)
    }

    @Test(arguments: [MLP.Activation.gelu, .swiglu])
    func mlpMatchesItsFormula(activation: MLP.Activation) {
        let (N, C, M) = (3, 8, 20)
        var rng = PartsRNG(state: 7)
        let x = rng.floats(N * C, scale: 2)
        let wUp = Buffer(rng.floats(C * M)), bUp = Buffer(rng.floats(M)), wGate = Buffer(rng.floats(C * M))
        let wDown = Buffer(rng.floats(M * C)), bDown = Buffer(rng.floats(C))
        let gated = activation == .swiglu
        let mlp = MLP(
            up: Linear(weight: wUp.p, bias: bUp.p, inDim: C, outDim: M),
            gate: gated ? Linear(weight: wGate.p, bias: nil, inDim: C, outDim: M) : nil,
            down: Linear(weight: wDown.p, bias: bDown.p, inDim: M, outDim: C), activation: activation)
        let hidden = Buffer(zeros: N * M), activated = Buffer(zeros: N * M), gate = Buffer(zeros: N * M), out = Buffer(zeros: N * C)
        mlp.forward(out: out.p, inp: x, activations: .init(hidden: hidden.p, activated: activated.p, gated: gated ? gate.p : nil), rows: N)
        let up = Buffer(zeros: N * M), act = Buffer(zeros: N * M), expected = Buffer(zeros: N * C)
        matmulForwardNaive(out: up.p, inp: x, weight: wUp.p, bias: bUp.p, rows: N, inDim: C, outDim: M)
        if gated {
            let g = Buffer(zeros: N * M)
            matmulForwardNaive(out: g.p, inp: x, weight: wGate.p, bias: nil, rows: N, inDim: C, outDim: M)
            swigluForwardNaive(out: act.p, gate: g.p, up: up.p, count: N * M)
        } else {
            geluForwardNaive(out: act.p, inp: up.p, count: N * M)
        }
        matmulForwardNaive(out: expected.p, inp: act.p, weight: wDown.p, bias: bDown.p, rows: N, inDim: M, outDim: C)
        #expect(worst(out.array, expected.array) < 1e-4)
    }

    /// The block is pre-norm: h = x + Attention(Norm₁(x)), out = h + MLP(Norm₂(h)), written out
    /// with the reference kernels.
    @Test func blockIsTwoPreNormResidualSublayers() throws {
        let model = ForwardConsistencyTests.model(.learned)
        let c = model.config
        let (T, C, M, H, hs) = (5, c.width, c.mlpWidth, c.heads, c.headSize)
        let block = Transformer(model: model).blocks[1]
        var rng = PartsRNG(state: 8)
        let x = rng.floats(T * C)
        let output = Buffer(zeros: T * C), keys = Buffer(zeros: T * C), values = Buffer(zeros: T * C)
        let n1 = Buffer(zeros: T * C), qkv = Buffer(zeros: T * 3 * C), w = Buffer(zeros: H * T * T), merged = Buffer(zeros: T * C)
        let h1 = Buffer(zeros: T * C), n2 = Buffer(zeros: T * C), hidden = Buffer(zeros: T * M), sub = Buffer(zeros: T * C)
        let activations = TransformerBlock.Activations(
            normed1: n1.p, statistics1: nil, attention: .init(qkv: qkv.p, weights: w.p, merged: merged.p), afterAttention: h1.p,
            normed2: n2.p, statistics2: nil, mlp: .init(hidden: hidden.p, activated: hidden.p), sublayer: sub.p)
        block.forward(output: output.p, input: x, activations: activations, context: .cache(keys: keys.p, values: values.p, pastLength: 0, length: T, weightStride: T))

        let l = model.weights.layers[1]
        let wp = { (o: Int) in model.weights.pointer(o) }
        let a = Buffer(zeros: T * C), fused = Buffer(zeros: T * 3 * C), att = Buffer(zeros: T * C), proj = Buffer(zeros: T * C)
        layerNormForwardNaive(out: a.p, inp: x, weight: wp(l.ln1Weight), bias: wp(l.ln1Bias!), rows: T, C: C, eps: c.layerNormEpsilon)
        matmulForwardNaive(out: fused.p, inp: a.p, weight: wp(l.qkvWeight), bias: wp(l.qkvBias!), rows: T, inDim: C, outDim: 3 * C)
        let scratch = Buffer(zeros: H * T * T)
        attentionForwardNaive(out: att.p, att: scratch.p, attStride: T, q: fused.p, qStride: 3 * C, k: fused.p + C, v: fused.p + 2 * C, kvStride: 3 * C, T: T, pastLength: 0, heads: H, headSize: hs)
        matmulForwardNaive(out: proj.p, inp: att.p, weight: wp(l.attnProjWeight), bias: wp(l.attnProjBias!), rows: T, inDim: C, outDim: C)
        let h = zip(x, proj.array).map(+)
        let b = Buffer(zeros: T * C), up = Buffer(zeros: T * M), g = Buffer(zeros: T * M), down = Buffer(zeros: T * C)
        layerNormForwardNaive(out: b.p, inp: h, weight: wp(l.ln2Weight), bias: wp(l.ln2Bias!), rows: T, C: C, eps: c.layerNormEpsilon)
        matmulForwardNaive(out: up.p, inp: b.p, weight: wp(l.fcWeight), bias: wp(l.fcBias!), rows: T, inDim: C, outDim: M)
        geluForwardNaive(out: g.p, inp: up.p, count: T * M)
        matmulForwardNaive(out: down.p, inp: g.p, weight: wp(l.fcProjWeight), bias: wp(l.fcProjBias!), rows: T, inDim: M, outDim: C)
        let expected = zip(h, down.array).map(+)
        #expect(worst(output.array, expected) < 1e-4)
        // The cache now holds this chunk's keys and values.
        let fusedKeys: [Float] = (0..<T).flatMap { (t: Int) -> ArraySlice<Float> in fused.array[(t * 3 * C + C)..<(t * 3 * C + 2 * C)] }
        #expect(worst(keys.array, fusedKeys) < 1e-5)
    }
}

/// One forward: the training pass and the inference state run the same parts, so they compute
/// the same logits — for every position encoding.
@Suite struct TrainingEqualsInferenceTests {
    @Test(arguments: GPTConfig.Positional.allCases)
    func trainingForwardEqualsInferenceForward(positional: GPTConfig.Positional) throws {
        let model = ForwardConsistencyTests.model(positional)
        let (B, T, V) = (2, 11, model.config.vocabSize)
        let tokens = (0..<(B * T)).map { Int32(($0 * 37 + 5) % V) }
        let pass = GPTTrainingPass(model: model, B: B, T: T)
        _ = pass.forward(inputs: tokens, targets: tokens, prepareBackward: false)
        let training = Array(pass.lastLogits)
        for b in 0..<B {
            let state = GPTState(model: model, chunkSize: 4)  // chunks, so the cache path is exercised
            var logits = [Float](repeating: 0, count: T * V)
            try logits.withUnsafeMutableBufferPointer { _ = try state.prefill(tokens[(b * T)..<((b + 1) * T)].map(Int.init), allLogits: $0) }
            let rows = Array(training[(b * T * V)..<((b + 1) * T * V)])
            #expect(worst(logits, rows) < 1e-5, "\(positional) sequence \(b): \(worst(logits, rows))")
        }
    }
}
