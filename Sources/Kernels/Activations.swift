import Glibc
import SIMDMath

/// √(2/π), the constant of GPT-2's tanh approximation of GELU.
@usableFromInline let geluScale: Float = 0.797_884_560_802_865_4

/// GELU, tanh form (GPT-2's "gelu_new"): out = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
///
/// - Parameters:
///   - out: (n), may alias `inp`.
///   - inp: (n).
///
/// tanh(z) is computed as 1 − 2/(e²ᶻ + 1) with the SIMD `vectorExp`, which saturates correctly
/// at ±1 for large |z|.
public func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count n: Int) {
    nonisolated(unsafe) let out = out  // chunks are disjoint
    parallelFor(n, minimumPerThread: 32_768) { range in
        var i = range.lowerBound
        let k = FloatVector(repeating: geluScale)
        while i + 16 <= range.upperBound {
            let x = inp.vector(at: i)
            let z = k * x.addingProduct(0.044_715 * x * x, x)
            let t = 1 - 2 / (vectorExp(2 * z) + 1)
            out.storeVector(0.5 * x * (1 + t), at: i)
            i += 16
        }
        while i < range.upperBound {
            let x = inp[i]
            out[i] = 0.5 * x * (1 + tanhf(geluScale * (x + 0.044_715 * x * x * x)))
            i += 1
        }
    }
}

/// The reference for `geluForward`, with Foundation's tanh in Double.
public func geluForwardNaive(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n {
        let x = Double(inp[i])
        out[i] = Float(0.5 * x * (1 + tanh(Double(geluScale) * (x + 0.044715 * x * x * x))))
    }
}

/// In-place softmax of one row: x[i] ← e^(x[i] − max) / Σ e^(x[j] − max).
///
/// Subtracting the maximum keeps every exponent ≤ 0, so nothing overflows.
@inlinable
public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    guard n > 0 else { return }
    var maxValue = -Float.infinity
    for i in 0..<n where x[i] > maxValue { maxValue = x[i] }
    let m = FloatVector(repeating: maxValue)
    var acc = FloatVector()
    var i = 0
    while i + 16 <= n {
        let e = vectorExp(x.vector(at: i) - m)
        x.storeVector(e, at: i)
        acc += e
        i += 16
    }
    var sum = horizontalSum(acc)
    while i < n {
        let e = expf(x[i] - maxValue)
        x[i] = e
        sum += e
        i += 1
    }
    let scale = 1 / sum
    let s = FloatVector(repeating: scale)
    i = 0
    while i + 16 <= n {
        x.storeVector(x.vector(at: i) * s, at: i)
        i += 16
    }
    while i < n {
        x[i] *= scale
        i += 1
    }
}

/// The reference for `softmaxInPlace`, in Double.
public func softmaxNaive(_ x: UnsafeMutablePointer<Float>, count n: Int) {
    guard n > 0 else { return }
    var maxValue = -Double.infinity
    for i in 0..<n { maxValue = max(maxValue, Double(x[i])) }
    var sum = 0.0
    for i in 0..<n { sum += exp(Double(x[i]) - maxValue) }
    for i in 0..<n { x[i] = Float(exp(Double(x[i]) - maxValue) / sum) }
}

/// out[i] = a[i] + b[i], the residual connection. `out` may alias either input.
public func residualForward(
    out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count n: Int
) {
    var i = 0
    while i + 16 <= n {
        out.storeVector(a.vector(at: i) + b.vector(at: i), at: i)
        i += 16
    }
    while i < n {
        out[i] = a[i] + b[i]
        i += 1
    }
}

/// Backward of `geluForward`, accumulating: with u = √(2/π)(x + 0.044715x³),
/// d gelu/dx = ½(1 + tanh u) + ½x·(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²).
public func geluBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count n: Int) {
    nonisolated(unsafe) let dinp = dinp
    parallelFor(n, minimumPerThread: 32_768) { range in
        var i = range.lowerBound
        let k = FloatVector(repeating: geluScale)
        while i + 16 <= range.upperBound {
            let x = inp.vector(at: i)
            let x2 = x * x
            let u = k * x.addingProduct(0.044_715 * x2, x)
            let t = 1 - 2 / (vectorExp(2 * u) + 1)
            let half = FloatVector(repeating: 0.5), one = FloatVector(repeating: 1)
            let du = k * (one + 0.134_145 * x2)  // du/dx, with 3·0.044715 = 0.134145
            let local = half * (one + t) + half * x * (one - t * t) * du
            dinp.storeVector(dinp.vector(at: i).addingProduct(local, dout.vector(at: i)), at: i)
            i += 16
        }
        while i < range.upperBound {
            let x = inp[i]
            let t = tanhf(geluScale * (x + 0.044_715 * x * x * x))
            let local = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * geluScale * (1 + 3 * 0.044_715 * x * x)
            dinp[i] += local * dout[i]
            i += 1
        }
    }
}

/// The gated activation of Llama's MLP (SwiGLU, Shazeer 2020): out = silu(gate) ⊙ up, with
/// silu(x) = x·σ(x). `out` may alias either input.
///
/// - Parameters: out, gate, up: (count).
public func swigluForward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i + 16 <= n {
        let g = gate.vector(at: i)
        out.storeVector(g / (1 + vectorExp(-g)) * up.vector(at: i), at: i)
        i += 16
    }
    while i < n {
        out[i] = gate[i] / (1 + expf(-gate[i])) * up[i]
        i += 1
    }
}

/// The reference for `swigluForward`, in Double.
public func swigluForwardNaive(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count n: Int) {
    for i in 0..<n {
        let g = Double(gate[i])
        out[i] = Float(g / (1 + exp(-g)) * Double(up[i]))
    }
}
