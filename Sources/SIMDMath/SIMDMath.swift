/// SIMD float math shared by the model's kernels and the sampler: one exp, so the two agree
/// bit for bit and the polynomial lives in one place.

/// The vector the kernels work in: 16 floats, one AVX-512 register (two AVX2 ones).
public typealias FloatVector = SIMD16<Float>

/// eˣ lane by lane, within 2 ulp of `Foundation.exp` for x in [-87, 88]; inputs outside that are
/// clamped (exp(-87) ≈ 1.6e-38 stands for 0, exp(88) ≈ 1.7e38 for overflow).
///
/// The usual Cephes scheme: x = n·ln2 + r with |r| ≤ ln2/2, eʳ from a degree-6 polynomial,
/// 2ⁿ built in the exponent bits.
@inlinable
public func vectorExp(_ x: FloatVector) -> FloatVector {
    // Clamp with lane-wise selects: the generic `clamped` and `rounded` of SIMD do not vectorise.
    var x = x.replacing(with: -87, where: x .< -87)
    x = x.replacing(with: 88, where: x .> 88)
    // Round x·log2(e) to the nearest integer n by adding 1.5·2²³: the float's low mantissa bits
    // then hold n itself, which also gives 2ⁿ's exponent without a float-to-int conversion.
    let shifted = x * 1.442_695_040_888_963_4 + 12_582_912
    let n = shifted - 12_582_912
    // ln2 split in two parts so n·ln2 is exact enough.
    var r = x.addingProduct(n, FloatVector(repeating: -0.693_359_375))
    r = r.addingProduct(n, FloatVector(repeating: 2.121_944_4e-4))
    // Cephes expf: eʳ ≈ 1 + r + r²·P(r).
    var p = FloatVector(repeating: 1.987_569_1e-4)
    p = p * r + 1.398_199_9e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 1.666_666_5e-1
    p = p * r + 5.000_000_1e-1
    let er = p * (r * r) + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
    return er * unsafeBitCast((integer &+ 127) &<< 23, to: FloatVector.self)
}

/// Σ lanes of `v`, by halving: the generic `SIMD.sum()` is not specialised and costs a call per lane.
@inlinable @inline(__always)
public func horizontalSum(_ v: FloatVector) -> Float {
    let v8 = v.lowHalf + v.highHalf
    let v4 = v8.lowHalf + v8.highHalf
    let v2 = v4.lowHalf + v4.highHalf
    return v2[0] + v2[1]
}
