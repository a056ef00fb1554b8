import Glibc
import SIMDMath

/// Layer normalisation over the last axis: out = (x − mean) / sqrt(var + eps) · weight + bias.
///
/// - Parameters:
///   - out: (rows, C), may alias `inp`.
///   - inp: (rows, C).
///   - weight, bias: (C).
///   - mean, rstd: (rows), optional, receive the statistics (the backward pass needs them).
public func layerNormForward(
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>? = nil,
    rstd: UnsafeMutablePointer<Float>? = nil, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, rows: Int, C: Int, eps: Float
) {
    nonisolated(unsafe) let (out, mean, rstd) = (out, mean, rstd)  // rows are disjoint per thread
    parallelFor(rows, minimumPerThread: max(1, 16_384 / max(C, 1))) { range in
        for r in range {
            let x = inp + r * C
            let y = out + r * C
            // Two passes (mean, then centred variance) avoid the cancellation of E[x²] − E[x]².
            var acc = FloatVector()
            var i = 0
            while i + 16 <= C { acc += x.vector(at: i); i += 16 }
            var sum = horizontalSum(acc)
            while i < C { sum += x[i]; i += 1 }
            let m = sum / Float(C)
            let mv = FloatVector(repeating: m)
            acc = FloatVector()
            i = 0
            while i + 16 <= C {
                let d = x.vector(at: i) - mv
                acc.addProduct(d, d)
                i += 16
            }
            var sq = horizontalSum(acc)
            while i < C { let d = x[i] - m; sq += d * d; i += 1 }
            let s = 1 / (sq / Float(C) + eps).squareRoot()
            let sv = FloatVector(repeating: s)
            i = 0
            while i + 16 <= C {
                let n = (x.vector(at: i) - mv) * sv
                y.storeVector(bias.vector(at: i).addingProduct(n, weight.vector(at: i)), at: i)
                i += 16
            }
            while i < C { y[i] = (x[i] - m) * s * weight[i] + bias[i]; i += 1 }
            mean?[r] = m
            rstd?[r] = s
        }
    }
}

/// The reference for `layerNormForward`, in Double.
public func layerNormForwardNaive(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, rows: Int, C: Int, eps: Float
) {
    for r in 0..<rows {
        var m = 0.0
        for i in 0..<C { m += Double(inp[r * C + i]) }
        m /= Double(C)
        var v = 0.0
        for i in 0..<C { v += (Double(inp[r * C + i]) - m) * (Double(inp[r * C + i]) - m) }
        v /= Double(C)
        let s = 1 / (v + Double(eps)).squareRoot()
        for i in 0..<C {
            out[r * C + i] = Float((Double(inp[r * C + i]) - m) * s * Double(weight[i]) + Double(bias[i]))
        }
    }
}

/// Backward of `layerNormForward`, accumulating. With n = (x − mean)·rstd and y = n·w + b:
/// dbias += dout, dweight += n·dout, and for the input
/// dx += rstd · (dn − mean(dn) − n·mean(dn·n)) where dn = w·dout.
///
/// - Parameters:
///   - dinp: (rows, C); dweight, dbias: (C); dout, inp: (rows, C); mean, rstd: (rows) from the forward.
public func layerNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, C: Int
) {
    nonisolated(unsafe) let (dinp, dweight, dbias) = (dinp, dweight, dbias)
    // Rows are independent for dinp.
    parallelFor(rows, minimumPerThread: max(1, 8192 / max(C, 1))) { range in
        for r in range {
            let x = inp + r * C, dy = dout + r * C, dx = dinp + r * C
            let m = mean[r], s = rstd[r]
            var dnMean: Float = 0, dnNormMean: Float = 0
            for i in 0..<C {
                let dn = weight[i] * dy[i]
                dnMean += dn
                dnNormMean += dn * (x[i] - m) * s
            }
            dnMean /= Float(C)
            dnNormMean /= Float(C)
            for i in 0..<C {
                let n = (x[i] - m) * s
                dx[i] += (weight[i] * dy[i] - dnMean - n * dnNormMean) * s
            }
        }
    }
    // Channels are independent for the parameter gradients.
    parallelFor(C, minimumPerThread: 32) { channels in
        for r in 0..<rows {
            let x = inp + r * C, dy = dout + r * C
            let m = mean[r], s = rstd[r]
            for i in channels {
                dbias[i] += dy[i]
                dweight[i] += (x[i] - m) * s * dy[i]
            }
        }
    }
}
