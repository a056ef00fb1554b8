import CBLAS

// Glossary: T = queries, S = key rows of the other sequence, keys = the first `keys` of them
// that are not padding, H = heads, hs = head size, C = H·hs.

/// Backward of attention whose queries and keys/values live in different buffers and have
/// different lengths — cross-attention, where q comes from the decoder (T rows) and k, v from
/// the encoder's output (S rows, the last S − keys padding) — for the forward
/// `attentionForward`/`attentionForwardBlocked` with `.bidirectional(keys:)` and p0 = 0.
/// `attentionBackward` is the self-attention special case (q, k, v in one fused row, S = T).
///
/// With P = q·kᵀ/√hs over the visible keys and A = softmax(P), out = A·v:
/// dA = dout·vᵀ, dv += Aᵀ·dout, dP = A ⊙ (dA − rowsum(A ⊙ dA)), dq += dP·k/√hs, dk += dPᵀ·q/√hs.
/// Per head, the four products go through OpenBLAS over the `keys` visible columns only, so
/// the padded keys get no gradient and the weights past them are never read.
///
/// - Parameters:
///   - dq: (T, dqStride), accumulated; dk, dv: (S, dkvStride), accumulated (rows < keys only).
///   - dout: (T, C), gradient of the merged output.
///   - q: (T, qStride); k, v: (S, kvStride), the forward's.
///   - att: (H, T, attStride), the forward's weights.
///   - scratch: (T, keys), overwritten.
public func crossAttentionBackward(
    dq: UnsafeMutablePointer<Float>, dqStride: Int, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, dkvStride: Int,
    dout: UnsafePointer<Float>, q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, kvStride: Int,
    att: UnsafePointer<Float>, attStride: Int, scratch: UnsafeMutablePointer<Float>, T: Int, keys: Int, heads H: Int, headSize hs: Int
) {
    precondition(keys >= 1 && keys <= attStride, "at least one visible key, within the weight rows")
    Threads.configure()
    let C = H * hs
    let scale = 1 / Float(hs).squareRoot()
    let (t32, s32, hs32, c32) = (Int32(T), Int32(keys), Int32(hs), Int32(C))
    let (q32, dq32, kv32, dkv32, a32) = (Int32(qStride), Int32(dqStride), Int32(kvStride), Int32(dkvStride), Int32(attStride))
    for h in 0..<H {
        let a = att + h * T * attStride
        let o = h * hs
        let dy = dout + o
        // dA = dout · vᵀ  (T, keys)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, t32, s32, hs32, 1, dy, c32, v + o, kv32, 0, scratch, s32)
        // dv += Aᵀ · dout
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s32, hs32, t32, 1, a, a32, dy, c32, 1, dv + o, dkv32)
        // dP (scaled by 1/√hs), in place over dA.
        nonisolated(unsafe) let s = scratch
        parallelFor(T, minimumPerThread: 16) { rows in
            for t in rows {
                let ar = a + t * attStride, dr = s + t * keys
                let rowDot = dot(ar, dr, keys)
                for j in 0..<keys { dr[j] = ar[j] * (dr[j] - rowDot) * scale }
            }
        }
        // dq += dP · k ; dk += dPᵀ · q
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, t32, hs32, s32, 1, scratch, s32, k + o, kv32, 1, dq + o, dq32)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s32, hs32, t32, 1, scratch, s32, q + o, q32, 1, dk + o, dkv32)
    }
}

/// The reference for `crossAttentionBackward`: the same derivative as loops, in Double.
public func crossAttentionBackwardNaive(
    dq: UnsafeMutablePointer<Float>, dqStride: Int, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>, dkvStride: Int,
    dout: UnsafePointer<Float>, q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, kvStride: Int,
    att: UnsafePointer<Float>, attStride: Int, T: Int, keys: Int, heads H: Int, headSize hs: Int
) {
    let C = H * hs
    let scale = 1 / Double(hs).squareRoot()
    for h in 0..<H {
        for t in 0..<T {
            let a = { (j: Int) in Double(att[(h * T + t) * attStride + j]) }
            var dA = [Double](repeating: 0, count: keys)
            for j in 0..<keys {
                for d in 0..<hs {
                    let g = Double(dout[t * C + h * hs + d])
                    dA[j] += g * Double(v[j * kvStride + h * hs + d])
                    dv[j * dkvStride + h * hs + d] += Float(a(j) * g)
                }
            }
            var dot = 0.0
            for j in 0..<keys { dot += a(j) * dA[j] }
            for j in 0..<keys {
                let dP = a(j) * (dA[j] - dot) * scale
                for d in 0..<hs {
                    dq[t * dqStride + h * hs + d] += Float(dP * Double(k[j * kvStride + h * hs + d]))
                    dk[j * dkvStride + h * hs + d] += Float(dP * Double(q[t * qStride + h * hs + d]))
                }
            }
        }
    }
}
