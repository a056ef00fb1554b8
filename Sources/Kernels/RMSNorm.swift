import Glibc
import SIMDMath

/// Root-mean-square normalisation over the last axis (Zhang & Sennrich 2019; Llama's norm):
/// out = x / sqrt(mean(x²) + eps) · weight. LayerNorm without the centring and the bias.
///
/// - Parameters:
///   - out: (rows, C), may alias `inp`.
///   - rstd: (rows), optional, receives 1/sqrt(mean(x²) + eps) (the backward pass needs it).
///   - inp: (rows, C).
///   - weight: (C).
public func rmsNormForward(
    out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>? = nil, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, rows: Int, C: Int, eps: Float
) {
    nonisolated(unsafe) let (out, rstd) = (out, rstd)  // rows are disjoint per thread
    parallelFor(rows, minimumPerThread: max(1, 16_384 / max(C, 1))) { range in
        for r in range {
            let x = inp + r * C
            let y = out + r * C
            var acc = FloatVector()
            var i = 0
            while i + 16 <= C {
                let v = x.vector(at: i)
                acc.addProduct(v, v)
                i += 16
            }
            var sq = horizontalSum(acc)
            while i < C { sq += x[i] * x[i]; i += 1 }
            let s = 1 / (sq / Float(C) + eps).squareRoot()
            let sv = FloatVector(repeating: s)
            i = 0
            while i + 16 <= C {
                y.storeVector(x.vector(at: i) * sv * weight.vector(at: i), at: i)
                i += 16
            }
            while i < C { y[i] = x[i] * s * weight[i]; i += 1 }
            rstd?[r] = s
        }
    }
}

/// The reference for `rmsNormForward`, in Double.
public func rmsNormForwardNaive(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rows: Int, C: Int, eps: Float
) {
    for r in 0..<rows {
        var sq = 0.0
        for i in 0..<C { sq += Double(inp[r * C + i]) * Double(inp[r * C + i]) }
        let s = 1 / (sq / Double(C) + Double(eps)).squareRoot()
        for i in 0..<C { out[r * C + i] = Float(Double(inp[r * C + i]) * s * Double(weight[i])) }
    }
}

/// Backward of `rmsNormForward`, accumulating. With n = x·rstd and y = n·w:
/// dweight += n·dout, and dx += rstd · (dn − n·mean(dn·n)) where dn = w·dout.
///
/// - Parameters:
///   - dinp: (rows, C); dweight: (C); dout, inp: (rows, C); rstd: (rows) from the forward.
public func rmsNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, C: Int
) {
    for r in 0..<rows {
        let x = inp + r * C, dy = dout + r * C, dx = dinp + r * C
        let s = rstd[r]
        var dnNormMean: Float = 0
        for i in 0..<C { dnNormMean += weight[i] * dy[i] * x[i] * s }
        dnNormMean /= Float(C)
        for i in 0..<C {
            dx[i] += (weight[i] * dy[i] - x[i] * s * dnNormMean) * s
            dweight[i] += x[i] * s * dy[i]
        }
    }
}
