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
