import Kernels
import Testing
@testable import Seq2Seq

/// Uniform values in [-1, 1) from a fixed linear congruential stream (tests only).
func randomFloats(_ n: Int, seed: UInt64) -> [Float] {
    var state = seed
    return (0..<n).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
}

@Suite struct KernelTests {
    /// The BLAS cross-attention backward equals its loop twin, for queries and keys of
    /// different lengths and layouts, with padded keys.
    @Test func crossAttentionBackwardMatchesNaive() {
        let (T, S, keys, H, hs) = (5, 7, 4, 2, 4)
        let C = H * hs
        let (qStride, kvStride) = (C, 2 * C)
        let q = randomFloats(T * qStride, seed: 1), kv = randomFloats(S * kvStride, seed: 2), dout = randomFloats(T * C, seed: 3)
        var out = [Float](repeating: 0, count: T * C), att = [Float](repeating: 0, count: H * T * S)
        attentionForwardNaive(
            out: &out, att: &att, attStride: S, q: q, qStride: qStride, k: kv, v: Array(kv[C...]), kvStride: kvStride, T: T, pastLength: 0,
            heads: H, headSize: hs, mask: .bidirectional(keys: keys))
        var (dq, dkv) = ([Float](repeating: 0.5, count: T * C), [Float](repeating: 0.25, count: S * kvStride))
        var (dqNaive, dkvNaive) = (dq, dkv)
        var scratch = [Float](repeating: 0, count: T * keys)
        kv.withUnsafeBufferPointer { kv in
            let (k, v) = (kv.baseAddress!, kv.baseAddress! + C)
            dkv.withUnsafeMutableBufferPointer { dkv in
                crossAttentionBackward(
                    dq: &dq, dqStride: C, dk: dkv.baseAddress!, dv: dkv.baseAddress! + C, dkvStride: kvStride, dout: dout, q: q, qStride: qStride,
                    k: k, v: v, kvStride: kvStride, att: att, attStride: S, scratch: &scratch, T: T, keys: keys, heads: H, headSize: hs)
            }
            dkvNaive.withUnsafeMutableBufferPointer { dkv in
                crossAttentionBackwardNaive(
                    dq: &dqNaive, dqStride: C, dk: dkv.baseAddress!, dv: dkv.baseAddress! + C, dkvStride: kvStride, dout: dout, q: q, qStride: qStride,
                    k: k, v: v, kvStride: kvStride, att: att, attStride: S, T: T, keys: keys, heads: H, headSize: hs)
            }
        }
        #expect(zip(dq, dqNaive).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(dkv, dkvNaive).allSatisfy { abs($0 - $1) < 1e-5 })
        // Padded keys and values get nothing.
        #expect(dkv[(keys * kvStride)...].allSatisfy { $0 == 0.25 })
    }

    /// The fused label-smoothed loss (plain cross-entropy kernel + smoothing) equals the
    /// definition, loss and gradient, with ignored rows and a vocabulary not a multiple of 16.
    @Test func labelSmoothedCrossEntropyMatchesDefinition() {
        let (R, V) = (6, 37)
        let targets: [Int32] = [3, 0, 36, 0, 17, 5]
        let logits = randomFloats(R * V, seed: 9).map { 4 * $0 }
        var (fast, naive) = (logits, logits)
        var (lossesFast, lossesNaive) = ([Float](repeating: 9, count: R), [Float](repeating: 9, count: R))
        let kept = labelSmoothedCrossEntropy(
            logits: &fast, losses: &lossesFast, targets: targets, rows: R, V: V, smoothing: 0.1, ignored: 0, scale: 0.25, writeGradient: true)
        let keptNaive = labelSmoothedCrossEntropyNaive(
            logits: &naive, losses: &lossesNaive, targets: targets, rows: R, V: V, smoothing: 0.1, ignored: 0, scale: 0.25, writeGradient: true)
        #expect(kept == 4 && keptNaive == 4)
        #expect(zip(lossesFast, lossesNaive).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(fast, naive).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(lossesFast[1] == 0 && fast[V..<(2 * V)].allSatisfy { $0 == 0 })
    }
}

@Suite struct PaddingTests {
    /// More source padding (a longer S) and more target padding (a longer T) change neither the
    /// loss nor the logits of the real positions: padded keys are masked in the encoder and in
    /// cross-attention, padded labels leave the loss, and causal rows never see later padding.
    @Test func extraPaddingChangesNothing() throws {
        let fixture = try Seq2SeqFixture("pre_sinusoidal")
        let b = fixture.json["batch"]!
        let lists = { (key: String) in b[key]!.arrayValue!.map { $0.arrayValue!.map { Int32($0.intValue!) } } }
        let config = fixture.model.config
        let tight = fixture.batch
        let loose = try Seq2SeqBatch(
            sources: lists("sources"), targets: lists("targets"), config: config, sourceLength: tight.sourceLength + 3, targetLength: tight.targetLength + 2)
        let tightPass = fixture.pass()
        let loosePass = Seq2SeqTrainingPass(model: fixture.model, sentences: loose.sentences, sourceLength: loose.sourceLength, targetLength: loose.targetLength)
        let (a, b2) = (tightPass.forward(batch: tight, prepareBackward: false), loosePass.forward(batch: loose, prepareBackward: false))
        #expect(abs(a - b2) < 1e-6)
        let V = config.vocabSize
        for s in 0..<tight.sentences {
            for t in 0..<tight.targetLength {
                let x = tightPass.lastLogits[((s * tight.targetLength) + t) * V..<((s * tight.targetLength) + t + 1) * V]
                let y = loosePass.lastLogits[((s * loose.targetLength) + t) * V..<((s * loose.targetLength) + t + 1) * V]
                #expect(zip(x, y).allSatisfy { abs($0 - $1) < 1e-5 })
            }
        }
    }

    @Test func badConfigsAndBatchesAreRefused() {
        var config = Seq2SeqConfig(vocabSize: 10, contextLength: 8, width: 12, heads: 5)
        #expect(throws: Seq2SeqError.self) { try config.validate() }
        config.heads = 4
        config.endID = config.paddingID
        #expect(throws: Seq2SeqError.self) { try config.validate() }
        config.endID = 2
        #expect(throws: Seq2SeqError.self) { try Seq2SeqBatch(sources: [[3, 0]], targets: [[4]], config: config) }  // padding id inside
        #expect(throws: Seq2SeqError.self) { try Seq2SeqBatch(sources: [[3, 4, 5, 6, 7, 8, 9, 3, 4]], targets: [[4]], config: config) }
        #expect(throws: Seq2SeqError.self) { try Seq2SeqBatch(sources: [[]], targets: [[4]], config: config) }
    }
}
