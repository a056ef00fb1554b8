// Vector helpers for the softmax over the vocabulary: a mask-free clamp and a maximum.
//
// The exp is SIMDMath's polynomial, not libm's `expf`, for two reasons: a libm call per logit
// costs most of the sampler's budget, and the platform libm may round differently on another
// OS, which would change which token a seed draws. The polynomial gives the same bits everywhere.

import SIMDMath

typealias SamplerVector = FloatVector

/// min(d, limit) for d ≥ 0 (+∞ included) and limit > 0, without masks: for non-negative floats
/// the bit patterns order like the values, so the sign of their integer difference picks.
@inline(__always)
func clampedDistance(_ d: SamplerVector, limit: Float) -> SamplerVector {
    let bits = unsafeBitCast(d, to: SIMD16<Int32>.self)
    let limitBits = SIMD16<Int32>(repeating: Int32(bitPattern: limit.bitPattern))
    let below = (bits &- limitBits) &>> 31  // all ones where d < limit
    return unsafeBitCast((bits & below) | (limitBits & ~below), to: SamplerVector.self)
}

/// The shared `vectorExp` on one value, for tails shorter than a vector: the same bits per lane.
@inline(__always)
func samplerExp(_ x: Float) -> Float {
    vectorExp(SamplerVector(repeating: x))[0]
}

/// The largest element, −∞ for an empty buffer. Eight running maxima rather than one, so the
/// compares do not wait on each other.
@inline(__always)
func maximum(_ x: UnsafeBufferPointer<Float>) -> Float {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    var i = 0
    while i + 8 <= x.count {
        m0 = x[i] > m0 ? x[i] : m0
        m1 = x[i + 1] > m1 ? x[i + 1] : m1
        m2 = x[i + 2] > m2 ? x[i + 2] : m2
        m3 = x[i + 3] > m3 ? x[i + 3] : m3
        m4 = x[i + 4] > m4 ? x[i + 4] : m4
        m5 = x[i + 5] > m5 ? x[i + 5] : m5
        m6 = x[i + 6] > m6 ? x[i + 6] : m6
        m7 = x[i + 7] > m7 ? x[i + 7] : m7
        i += 8
    }
    var m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    while i < x.count {
        m = x[i] > m ? x[i] : m
        i += 1
    }
    return m
}
