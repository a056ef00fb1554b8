import CBLAS
import SIMDMath

// Glossary: rows = B·T (positions processed together), inDim/outDim = the layer's input and
// output widths. Weights are stored (inDim, outDim) row-major, the layout of Hugging Face's
// GPT-2 `Conv1D`, so checkpoints need no transposing.

/// out = inp · weight + bias.
///
/// - Parameters:
///   - out: (rows, outDim), overwritten.
///   - inp: (rows, inDim).
///   - weight: (inDim, outDim).
///   - bias: (outDim), or nil.
///
/// One row (decode) is `matrixVectorInOut`, on attnchat's threads; several (prefill, training)
/// a GEMM through OpenBLAS.
public func matmulForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, rows: Int, inDim: Int, outDim: Int
) {
    if rows == 1 {
        matrixVectorInOut(out: out, x: inp, weight: weight, bias: bias, inDim: inDim, outDim: outDim)
        return
    }
    Threads.configure()
    let beta = prefillBias(out, bias, rows: rows, width: outDim)
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outDim), Int32(inDim),
        1, inp, Int32(inDim), weight, Int32(outDim), beta, out, Int32(outDim))
}

/// Copies `bias` (width) into every row of `out` (rows, width) and returns the GEMM's beta that
/// adds onto it: 1, or 0 (out need not be written) when there is no bias.
func prefillBias(_ out: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, rows: Int, width: Int) -> Float {
    guard let bias else { return 0 }
    for r in 0..<rows { (out + r * width).update(from: bias, count: width) }
    return 1
}

/// y = Wᵀx + bias for one row: `matmulForward`'s decode case, W (inDim, outDim) row-major.
///
/// - Parameters:
///   - out: (outDim), overwritten.
///   - x: (inDim).
///   - weight: (inDim, outDim).
///   - bias: (outDim), or nil.
///
/// The axpy form, since W's rows are inputs: the output columns are split over `parallelFor`'s
/// threads in slices of whole 16-column groups, and each thread streams every row of W over its
/// slice, adding x[i]·W[i, slice] into its slice of `out`, which stays in L1 (at most a few
/// KB). Four rows per pass, so each vector of `out` is loaded and stored once per four rows.
public func matrixVectorInOut(
    out: UnsafeMutablePointer<Float>, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, inDim: Int, outDim: Int
) {
    nonisolated(unsafe) let out = out  // each thread writes its own columns
    // At least 64 KB of weights per thread: 16 columns of inDim rows are 64·inDim bytes.
    parallelFor((outDim + 15) / 16, minimumPerThread: max(1, 1024 / max(1, inDim))) { groups in
        let lo = groups.lowerBound * 16, hi = min(outDim, groups.upperBound * 16)
        if let bias { (out + lo).update(from: bias + lo, count: hi - lo) } else { (out + lo).update(repeating: 0, count: hi - lo) }
        var i = 0
        while i + 4 <= inDim {
            let r0 = weight + i * outDim, r1 = r0 + outDim, r2 = r1 + outDim, r3 = r2 + outDim
            let x0 = FloatVector(repeating: x[i]), x1 = FloatVector(repeating: x[i + 1])
            let x2 = FloatVector(repeating: x[i + 2]), x3 = FloatVector(repeating: x[i + 3])
            var o = lo
            while o + 16 <= hi {
                var y = out.vector(at: o)
                y.addProduct(x0, r0.vector(at: o))
                y.addProduct(x1, r1.vector(at: o))
                y.addProduct(x2, r2.vector(at: o))
                y.addProduct(x3, r3.vector(at: o))
                out.storeVector(y, at: o)
                o += 16
            }
            while o < hi {
                out[o] += x[i] * r0[o] + x[i + 1] * r1[o] + x[i + 2] * r2[o] + x[i + 3] * r3[o]
                o += 1
            }
            i += 4
        }
        while i < inDim {
            axpy(x[i], weight + i * outDim + lo, out + lo, hi - lo)
            i += 1
        }
    }
}

/// The reference for `matmulForward`: the textbook triple loop, accumulating in Double.
public func matmulForwardNaive(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, rows: Int, inDim: Int, outDim: Int
) {
    for r in 0..<rows {
        for o in 0..<outDim {
            var sum = Double(bias?[o] ?? 0)
            for i in 0..<inDim { sum += Double(inp[r * inDim + i]) * Double(weight[i * outDim + o]) }
            out[r * outDim + o] = Float(sum)
        }
    }
}

/// out = inp · tableᵀ: the language-model head tied to the token embedding.
///
/// - Parameters:
///   - out: (rows, vocab), overwritten.
///   - inp: (rows, C).
///   - table: (vocab, C), the token embedding.
public func matmulTransposedForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, table: UnsafePointer<Float>,
    rows: Int, C: Int, vocab: Int
) {
    // The same product as `packedMatmul` over an F32 view of the table (decode on attnchat's
    // threads, prefill through OpenBLAS's GEMM).
    let matrix = PackedMatrix(format: .f32, rows: vocab, columns: C, elements: UnsafeRawPointer(table))
    packedMatmul(out: out, inp: inp, matrix: matrix, bias: nil, rows: rows)
}

/// The reference for `matmulTransposedForward`.
public func matmulTransposedForwardNaive(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, table: UnsafePointer<Float>,
    rows: Int, C: Int, vocab: Int
) {
    for r in 0..<rows {
        for v in 0..<vocab {
            var sum = 0.0
            for c in 0..<C { sum += Double(inp[r * C + c]) * Double(table[v * C + c]) }
            out[r * vocab + v] = Float(sum)
        }
    }
}

/// Backward of `matmulForward` (out = inp · weight + bias), accumulating (+=) into every gradient.
///
/// - Parameters:
///   - dinp: (rows, inDim) += dout · weightᵀ
///   - dweight: (inDim, outDim) += inpᵀ · dout
///   - dbias: (outDim) += Σ_rows dout, or nil when the layer has no bias.
///   - dout: (rows, outDim), the gradient of the output.
public func matmulBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rows: Int, inDim: Int, outDim: Int
) {
    Threads.configure()
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(inDim), Int32(outDim),
        1, dout, Int32(outDim), weight, Int32(outDim), 1, dinp, Int32(inDim))
    cblas_sgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inDim), Int32(outDim), Int32(rows),
        1, inp, Int32(inDim), dout, Int32(outDim), 1, dweight, Int32(outDim))
    if let dbias {
        // Columns are independent: split them over threads.
        nonisolated(unsafe) let dbias = dbias
        parallelFor(outDim, minimumPerThread: 64) { columns in
            for r in 0..<rows {
                let row = dout + r * outDim
                for o in columns { dbias[o] += row[o] }
            }
        }
    }
}

/// The reference for `matmulBackward`, in Double.
public func matmulBackwardNaive(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rows: Int, inDim: Int, outDim: Int
) {
    for r in 0..<rows {
        for i in 0..<inDim {
            var sum = 0.0
            for o in 0..<outDim { sum += Double(dout[r * outDim + o]) * Double(weight[i * outDim + o]) }
            dinp[r * inDim + i] += Float(sum)
        }
    }
    for i in 0..<inDim {
        for o in 0..<outDim {
            var sum = 0.0
            for r in 0..<rows { sum += Double(inp[r * inDim + i]) * Double(dout[r * outDim + o]) }
            dweight[i * outDim + o] += Float(sum)
        }
    }
    if let dbias {
        for o in 0..<outDim {
            var sum = 0.0
            for r in 0..<rows { sum += Double(dout[r * outDim + o]) }
            dbias[o] += Float(sum)
        }
    }
}

/// Backward of `matmulTransposedForward` (out = inp · tableᵀ, the tied LM head), accumulating.
///
/// - Parameters:
///   - dinp: (rows, C) += dout · table
///   - dtable: (vocab, C) += doutᵀ · inp — the LM head's share of the token embedding's gradient.
///   - dout: (rows, vocab).
public func matmulTransposedBackward(
    dinp: UnsafeMutablePointer<Float>, dtable: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
    inp: UnsafePointer<Float>, table: UnsafePointer<Float>, rows: Int, C: Int, vocab: Int
) {
    Threads.configure()
    cblas_sgemm(
        CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(C), Int32(vocab),
        1, dout, Int32(vocab), table, Int32(C), 1, dinp, Int32(C))
    cblas_sgemm(
        CblasRowMajor, CblasTrans, CblasNoTrans, Int32(vocab), Int32(C), Int32(rows),
        1, dout, Int32(vocab), inp, Int32(C), 1, dtable, Int32(C))
}
