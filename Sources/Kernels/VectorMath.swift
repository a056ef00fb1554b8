// Small SIMD building blocks shared by the kernels: vector loads and stores, dot product,
// scaled add (the exp and `FloatVector` are in SIMDMath, shared with the sampler).
// All loops take a SIMD16 body and a scalar tail, so lengths need not divide the vector width.

import SIMDMath

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
    var sum = horizontalSum(acc0 + acc1)
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

