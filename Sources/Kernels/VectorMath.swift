// Small SIMD building blocks shared by the kernels: dot product, scaled add, and a vector exp.
// All loops take a SIMD16 body and a scalar tail, so lengths need not divide the vector width.

/// The SIMD width every kernel uses: 16 floats = two AVX2 registers, one AVX-512 register.
public typealias FloatVector = SIMD16<Float>

extension UnsafePointer where Pointee == Float {
    @inline(__always) @usableFromInline
    func vector(at index: Int) -> FloatVector {
        UnsafeRawPointer(self + index).loadUnaligned(as: FloatVector.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) @usableFromInline
    func vector(at index: Int) -> FloatVector {
        UnsafeRawPointer(self + index).loadUnaligned(as: FloatVector.self)
    }

    @inline(__always) @usableFromInline
    func storeVector(_ value: FloatVector, at index: Int) {
        UnsafeMutableRawPointer(self + index).storeBytes(of: value, as: FloatVector.self)
    }
}

/// Σ a[i]·b[i] for i in 0..<n.
@inlinable
public func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc0 = FloatVector(), acc1 = FloatVector()
    var i = 0
    // Two accumulators hide the FMA latency.
    while i + 32 <= n {
        acc0.addProduct(a.vector(at: i), b.vector(at: i))
        acc1.addProduct(a.vector(at: i + 16), b.vector(at: i + 16))
        i += 32
    }
    if i + 16 <= n {
        acc0.addProduct(a.vector(at: i), b.vector(at: i))
        i += 16
    }
    var sum = (acc0 + acc1).sum()
    while i < n {
        sum += a[i] * b[i]
        i += 1
    }
    return sum
}

/// y[i] += alpha·x[i] for i in 0..<n.
@inlinable
public func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
    let a = FloatVector(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        y.storeVector(y.vector(at: i).addingProduct(a, x.vector(at: i)), at: i)
        i += 16
    }
    while i < n {
        y[i] += alpha * x[i]
        i += 1
    }
}

/// eˣ lane by lane, within 2 ulp of `Foundation.exp` for x in [-87, 88]; inputs outside that are
/// clamped (exp(-87) ≈ 1.6e-38 stands for 0, exp(88) ≈ 1.7e38 for overflow).
///
/// The usual Cephes scheme: x = n·ln2 + r with |r| ≤ ln2/2, eʳ from a degree-6 polynomial,
/// 2ⁿ built in the exponent bits.
@inlinable
public func vectorExp(_ x: FloatVector) -> FloatVector {
    let x = x.clamped(lowerBound: FloatVector(repeating: -87.0), upperBound: FloatVector(repeating: 88.0))
    let n = (x * 1.442_695_040_888_963_4).rounded(.toNearestOrEven)
    // ln2 split in two parts so n·ln2 is exact enough.
    var r = x.addingProduct(n, FloatVector(repeating: -0.693_359_375))
    r = r.addingProduct(n, FloatVector(repeating: 2.121_944_4e-4))
    return _expPolynomial(r, n)
}

@inlinable @inline(__always) @usableFromInline
func _expPolynomial(_ r: FloatVector, _ n: FloatVector) -> FloatVector {
    // Cephes expf coefficients for eʳ ≈ 1 + r + r²·P(r).
    var p = FloatVector(repeating: 1.987_569_1e-4)
    p = p * r + 1.398_199_9e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 1.666_666_5e-1
    p = p * r + 5.000_000_1e-1
    let r2 = r * r
    let er = (p * r2) + r + 1
    // 2ⁿ: n + 127 in the exponent field. n ∈ [-126, 127] after the clamp above.
    let bits = SIMD16<Int32>(n, rounding: .toNearestOrEven) &+ 127
    let scale = unsafeBitCast(bits &<< 23, to: FloatVector.self)
    return er * scale
}
