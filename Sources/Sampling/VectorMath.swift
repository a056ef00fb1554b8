// Vector helpers for the softmax over the vocabulary: a SIMD exp, a mask-free clamp, a maximum.
//
// The exp It is our own (the Cephes scheme, as in the
// Kernels module, which Sampling does not import) for two reasons: a libm `expf` per logit costs
// most of the sampler's budget, and the platform libm may round differently on another OS, which
// would change which token a seed draws. This polynomial gives the same bits everywhere.

typealias SamplerVector = SIMD16<Float>

/// eˣ lane by lane for x in [-87, 0], within 2 ulp; the caller clamps (see `clampedDistance`),
/// since the library's `clamped` (pointwiseMin/Max) compiles to a lane-by-lane loop here.
///
/// x = n·ln2 + r with |r| ≤ ln2/2; eʳ ≈ 1 + r + r²·P(r) (Cephes expf); 2ⁿ built in the exponent.
@inline(__always)
func samplerExp(_ x: SamplerVector) -> SamplerVector {
    let n = (x * 1.442_695_040_888_963_4).rounded(.toNearestOrEven)
    // ln2 split in two parts so that n·ln2 is exact enough; fused multiply-adds are exactly
    // rounded in IEEE 754, so they give the same bits on every machine.
    var r = x.addingProduct(n, SamplerVector(repeating: -0.693_359_375))
    r = r.addingProduct(n, SamplerVector(repeating: 2.121_944_4e-4))
    var p = SamplerVector(repeating: 1.987_569_1e-4)
    p = p * r + 1.398_199_9e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 1.666_666_5e-1
    p = p * r + 5.000_000_1e-1
    let er = (p * (r * r)) + r + 1
    // Adding 1.5·2²³ puts the integer n in the low mantissa bits (cheaper than a generic
    // SIMD float-to-int conversion); n + 127 then goes into the exponent field.
    let shifted = unsafeBitCast(n + 12_582_912, to: SIMD16<Int32>.self) &- 0x4B40_0000
    return er * unsafeBitCast((shifted &+ 127) &<< 23, to: SamplerVector.self)
}

/// min(d, limit) for d ≥ 0 (+∞ included) and limit > 0, without masks: for non-negative floats
/// the bit patterns order like the values, so the sign of their integer difference picks.
@inline(__always)
func clampedDistance(_ d: SamplerVector, limit: Float) -> SamplerVector {
    let bits = unsafeBitCast(d, to: SIMD16<Int32>.self)
    let limitBits = SIMD16<Int32>(repeating: Int32(bitPattern: limit.bitPattern))
    let below = (bits &- limitBits) &>> 31  // all ones where d < limit
    return unsafeBitCast((bits & below) | (limitBits & ~below), to: SamplerVector.self)
}

/// Scalar twin of `samplerExp`, for tails shorter than a vector: the same bits per lane.
@inline(__always)
func samplerExp(_ x: Float) -> Float {
    samplerExp(SamplerVector(repeating: x))[0]
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
