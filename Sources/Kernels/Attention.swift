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
