import CBLAS
import Foundation

// Glossary: T = queries computed now, p0 = positions already in the KV cache, S = p0 + T keys,
// H = heads, hs = head size, C = H·hs. Head h of a row lives at offset h·hs.

/// Causal multi-head scaled dot-product attention, softmax(q·kᵀ/√hs + mask)·v, for `T` queries
/// at positions p0..<p0+T against the keys and values of positions 0..<p0+T.
///
/// - Parameters:
///   - out: (T, C), overwritten.
///   - att: (H, T, attStride), receives the attention weights: row (h, t) gets p0+t+1 entries
///     (query t sees key j iff j ≤ p0+t, the causal mask); entries past that are not written.
///   - q: (T, qStride); qStride is 3C when q is read in place from the fused QKV buffer.
///   - k, v: (S, kvStride), the cache.
///
/// Each (head, query) pair is independent, so they are spread over threads.
public func attentionForward(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, attStride: Int,
    q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    kvStride: Int, T: Int, pastLength p0: Int, heads H: Int, headSize hs: Int
) {
    precondition(attStride >= p0 + T, "attention row too short for the context")
    let C = H * hs
    let scale = 1 / Float(hs).squareRoot()
    nonisolated(unsafe) let (out, att) = (out, att)  // each (h, t) writes its own row of both
    parallelFor(H * T, minimumPerThread: max(1, 32_768 / max(1, (p0 + T) * hs))) { range in
        for item in range {
            let h = item / T
            let t = item % T
            let query = q + t * qStride + h * hs
            let row = att + (h * T + t) * attStride
            let visible = p0 + t + 1
            for j in 0..<visible { row[j] = dot(query, k + j * kvStride + h * hs, hs) * scale }
            softmaxInPlace(row, count: visible)
            let o = out + t * C + h * hs
            o.update(repeating: 0, count: hs)
            for j in 0..<visible { axpy(row[j], v + j * kvStride + h * hs, o, hs) }
        }
    }
}

/// The reference for `attentionForward`: the same definition written as plainly as possible,
/// accumulating in Double.
public func attentionForwardNaive(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, attStride: Int,
    q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    kvStride: Int, T: Int, pastLength p0: Int, heads H: Int, headSize hs: Int
) {
    let C = H * hs
    for h in 0..<H {
        for t in 0..<T {
            var scores = [Double](repeating: -.infinity, count: p0 + T)
            for j in 0..<(p0 + T) where j <= p0 + t {
                var s = 0.0
                for d in 0..<hs { s += Double(q[t * qStride + h * hs + d]) * Double(k[j * kvStride + h * hs + d]) }
                scores[j] = s / Double(hs).squareRoot()
            }
            let m = scores.max() ?? 0
            let e = scores.map { exp($0 - m) }
            let z = e.reduce(0, +)
            for j in 0...(p0 + t) { att[(h * T + t) * attStride + j] = Float(e[j] / z) }
            for d in 0..<hs {
                var acc = 0.0
                for j in 0...(p0 + t) { acc += e[j] / z * Double(v[j * kvStride + h * hs + d]) }
                out[t * C + h * hs + d] = Float(acc)
            }
        }
    }
}

/// `attentionForward` for one whole sequence (p0 = 0), as training runs it: the two products
/// of each head go through OpenBLAS. That computes the masked upper triangle too — twice the
/// arithmetic of the loops — but at GEMM speed, which is several times faster at T = 256.
///
/// - Parameters:
///   - out: (T, C), overwritten.
///   - att: (H, T, T), receives the weights, with zeros above the diagonal (which the backward needs).
///   - qkv: (T, 3C), the fused projections.
public func attentionForwardGEMM(
    out: UnsafeMutablePointer<Float>, att: UnsafeMutablePointer<Float>, qkv: UnsafePointer<Float>,
    T: Int, heads H: Int, headSize hs: Int
) {
    Threads.configure()
    let C = H * hs
    let scale = 1 / Float(hs).squareRoot()
    let (t32, hs32, c32, c332) = (Int32(T), Int32(hs), Int32(C), Int32(3 * C))
    for h in 0..<H {
        let a = att + h * T * T
        // scores = q·kᵀ/√hs
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t32, t32, hs32, scale, qkv + h * hs, c332, qkv + C + h * hs, c332, 0, a, t32)
        nonisolated(unsafe) let rows = a  // each thread owns whole rows
        parallelFor(T, minimumPerThread: 16) { range in
            for t in range {
                let row = rows + t * T
                softmaxInPlace(row, count: t + 1)
                (row + t + 1).update(repeating: 0, count: T - t - 1)
            }
        }
        // out_h = A · v_h
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t32, hs32, t32, 1, a, t32, qkv + 2 * C + h * hs, c332, 0, out + h * hs, c32)
    }
}

/// Backward of `attentionForward` for one sequence with an empty cache (p0 = 0), as in training.
/// Accumulates into dq, dk, dv, which sit in the fused QKV gradient like q, k, v in `qkv`.
///
/// With P = q·kᵀ/√hs (masked) and A = softmax(P), out = A·v:
/// dA = dout·vᵀ, dv += Aᵀ·dout, dP = A ⊙ (dA − rowsum(A ⊙ dA)), dq += dP·k/√hs, dk += dPᵀ·q/√hs.
/// The four products go through OpenBLAS, one head at a time.
///
/// - Parameters:
///   - dqkv: (T, 3C), gradient of the fused QKV activations (accumulated).
///   - dout: (T, C), gradient of the attention output.
///   - qkv: (T, 3C), the forward's fused QKV.
///   - att: (H, T, T), the forward's attention weights, zero above the diagonal.
///   - scratch: (T, T), overwritten.
public func attentionBackward(
    dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
    att: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>, T: Int, heads H: Int, headSize hs: Int
) {
    Threads.configure()
    let C = H * hs, C3 = 3 * C
    let scale = 1 / Float(hs).squareRoot()
    let (t32, hs32, c32, c332) = (Int32(T), Int32(hs), Int32(C), Int32(C3))
    for h in 0..<H {
        let a = att + h * T * T
        let q = qkv + h * hs, k = qkv + C + h * hs, v = qkv + 2 * C + h * hs
        let dq = dqkv + h * hs, dk = dqkv + C + h * hs, dv = dqkv + 2 * C + h * hs
        let dy = dout + h * hs
        // dA = dout · vᵀ
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t32, t32, hs32, 1, dy, c32, v, c332, 0, scratch, t32)
        // dv += Aᵀ · dout
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t32, hs32, t32, 1, a, t32, dy, c32, 1, dv, c332)
        // dP (scaled), in place over dA; zero above the diagonal.
        nonisolated(unsafe) let s = scratch
        parallelFor(T, minimumPerThread: 16) { rows in
            for t in rows {
                let ar = a + t * T, dr = s + t * T
                var dot: Float = 0
                for j in 0...t { dot += ar[j] * dr[j] }
                for j in 0...t { dr[j] = ar[j] * (dr[j] - dot) * scale }
                for j in (t + 1)..<T { dr[j] = 0 }
            }
        }
        // dq += dP · k ; dk += dPᵀ · q
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t32, hs32, t32, 1, scratch, t32, k, c332, 1, dq, c332)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, t32, hs32, t32, 1, scratch, t32, q, c332, 1, dk, c332)
    }
}

/// The reference for `attentionBackward`: the same derivative as loops, in Double.
public func attentionBackwardNaive(
    dqkv: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, qkv: UnsafePointer<Float>,
    att: UnsafePointer<Float>, T: Int, heads H: Int, headSize hs: Int
) {
    let C = H * hs, C3 = 3 * C
    let scale = 1 / Double(hs).squareRoot()
    for h in 0..<H {
        for t in 0..<T {
            let a = { (j: Int) in Double(att[(h * T + t) * T + j]) }
            var dA = [Double](repeating: 0, count: t + 1)
            for j in 0...t {
                for d in 0..<hs {
                    let g = Double(dout[t * C + h * hs + d])
                    dA[j] += g * Double(qkv[j * C3 + 2 * C + h * hs + d])
                    dqkv[j * C3 + 2 * C + h * hs + d] += Float(a(j) * g)
                }
            }
            var dot = 0.0
            for j in 0...t { dot += a(j) * dA[j] }
            for j in 0...t {
                let dP = a(j) * (dA[j] - dot) * scale
                for d in 0..<hs {
                    dqkv[t * C3 + h * hs + d] += Float(dP * Double(qkv[j * C3 + C + h * hs + d]))
                    dqkv[j * C3 + C + h * hs + d] += Float(dP * Double(qkv[t * C3 + h * hs + d]))
                }
            }
        }
    }
}
