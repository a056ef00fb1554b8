import CBLAS

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
/// One row (decode) is a GEMV, several (prefill, training) a GEMM; both through OpenBLAS.
public func matmulForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, rows: Int, inDim: Int, outDim: Int
) {
    Threads.configure()
    let beta: Float
    if let bias {
        for r in 0..<rows { (out + r * outDim).update(from: bias, count: outDim) }
        beta = 1
    } else {
        beta = 0
    }
    if rows == 1 {
        // y = Wᵀx with W (inDim, outDim) row-major.
        cblas_sgemv(
            CblasRowMajor, CblasTrans, Int32(inDim), Int32(outDim), 1, weight, Int32(outDim),
            inp, 1, beta, out, 1)
    } else {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outDim), Int32(inDim),
            1, inp, Int32(inDim), weight, Int32(outDim), beta, out, Int32(outDim))
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
    Threads.configure()
    if rows == 1 {
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(vocab), Int32(C), 1, table, Int32(C), inp, 1, 0, out, 1)
    } else {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(vocab), Int32(C),
            1, inp, Int32(C), table, Int32(C), 0, out, Int32(vocab))
    }
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
