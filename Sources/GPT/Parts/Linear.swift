import Kernels

// Glossary: N = rows processed together (B·T in training, the chunk's T in inference).

/// A learned affine map, y = x·W + b: the Q/K/V projection, the attention output projection and
/// both layers of the MLP are each one of these.
///
/// W is stored (in, out) row-major, the layout of Hugging Face's GPT-2 `Conv1D`, so checkpoints
/// load without transposing. The same struct over a gradient buffer (`GPTWeights` of the same
/// config) names where the backward accumulates.
public struct Linear {
    /// (inDim, outDim).
    public let weight: UnsafeMutablePointer<Float>
    /// (outDim), or nil for a layer without bias (Llama's projections).
    public let bias: UnsafeMutablePointer<Float>?
    public let inDim: Int
    public let outDim: Int

    public init(weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?, inDim: Int, outDim: Int) {
        self.weight = weight
        self.bias = bias
        self.inDim = inDim
        self.outDim = outDim
    }

    /// out = inp · W + b. out: (N, outDim), overwritten; inp: (N, inDim). One row is a GEMV
    /// (decode reads each weight once), several a GEMM.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows N: Int) {
        matmulForward(out: out, inp: inp, weight: weight, bias: bias, rows: N, inDim: inDim, outDim: outDim)
    }

    /// Backward of `forward`, accumulating: dinp += dout·Wᵀ, grad.weight += inpᵀ·dout,
    /// grad.bias += Σ dout.
    ///
    /// - Parameters: dinp: (N, inDim); dout: (N, outDim); inp: the forward's input, (N, inDim);
    ///   grad: this layer over the gradient buffer.
    public func backward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, rows N: Int, into grad: Linear) {
        matmulBackward(dinp: dinp, dweight: grad.weight, dbias: grad.bias, dout: dout, inp: inp, weight: weight, rows: N, inDim: inDim, outDim: outDim)
    }
}
