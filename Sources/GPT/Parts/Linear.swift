import Kernels

// Glossary: N = rows processed together (B·T in training, the chunk's T in inference).

/// A matrix parameter as a part reads it.
public enum MatrixWeight {
    /// F32 in attnchat's own layout ((in, out) for a projection, (V, C) for a table): trainable.
    case float(UnsafeMutablePointer<Float>)
    /// Kept as stored — F16, BF16 or Q8 — laid out (out, in); inference only.
    case packed(PackedMatrix)

    /// The F32 matrix, for the backward: a packed model does not train.
    var trainable: UnsafeMutablePointer<Float> {
        guard case .float(let pointer) = self else { preconditionFailure("a packed (F16, BF16, Q8) matrix has no gradient") }
        return pointer
    }
}

/// A learned affine map, y = x·W + b: the Q/K/V projection, the attention output projection and
/// both layers of the MLP are each one of these.
///
/// W is stored (in, out) row-major, the layout of Hugging Face's GPT-2 `Conv1D`, so checkpoints
/// load without transposing — or, kept in a file's F16/BF16/Q8, (out, in) (`MatrixWeight.packed`).
/// The same struct over a gradient buffer (`GPTWeights` of the same config) names where the
/// backward accumulates.
public struct Linear {
    public let weight: MatrixWeight
    /// (outDim), or nil for a layer without bias (Llama's projections).
    public let bias: UnsafeMutablePointer<Float>?
    public let inDim: Int
    public let outDim: Int

    /// An F32 layer: weight (inDim, outDim).
    public init(weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?, inDim: Int, outDim: Int) {
        self.init(weight: .float(weight), bias: bias, inDim: inDim, outDim: outDim)
    }

    public init(weight: MatrixWeight, bias: UnsafeMutablePointer<Float>?, inDim: Int, outDim: Int) {
        if case .packed(let m) = weight { precondition(m.rows == outDim && m.columns == inDim, "packed matrix of another shape") }
        self.weight = weight
        self.bias = bias
        self.inDim = inDim
        self.outDim = outDim
    }

    /// out = inp · W + b. out: (N, outDim), overwritten; inp: (N, inDim). One row is a GEMV
    /// (decode reads each weight once), several a GEMM.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows N: Int) {
        switch weight {
        case .float(let w): matmulForward(out: out, inp: inp, weight: w, bias: bias, rows: N, inDim: inDim, outDim: outDim)
        case .packed(let m): packedMatmul(out: out, inp: inp, matrix: m, bias: bias, rows: N)
        }
    }

    /// Backward of `forward`, accumulating: dinp += dout·Wᵀ, grad.weight += inpᵀ·dout,
    /// grad.bias += Σ dout. F32 layers only.
    ///
    /// - Parameters: dinp: (N, inDim); dout: (N, outDim); inp: the forward's input, (N, inDim);
    ///   grad: this layer over the gradient buffer.
    public func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, rows N: Int, into grad: Linear) {
        matmulBackward(
            dinp: dinp, dweight: grad.weight.trainable, dbias: grad.bias, dout: dout, inp: inp, weight: weight.trainable,
            rows: N, inDim: inDim, outDim: outDim)
    }
}
