import Kernels

/// The normalisation before each sub-layer and after the last block: LayerNorm (GPT-2) or
/// RMSNorm (Llama), chosen by `kind`.
///
/// LayerNorm: y = (x − mean(x)) / sqrt(var(x) + ε) · w + b.
/// RMSNorm:   y = x / sqrt(mean(x²) + ε) · w.
/// Both normalise each row of C values on its own.
public struct Norm {
    public enum Kind: Sendable, Equatable {
        case layerNorm
        case rmsNorm
    }

    /// What the backward needs of one forward: per-row statistics, (N) each. RMSNorm uses
    /// only `rstd`.
    public struct Statistics {
        public let mean: UnsafeMutablePointer<Float>
        public let rstd: UnsafeMutablePointer<Float>
        public init(mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
            self.mean = mean
            self.rstd = rstd
        }
    }

    public let kind: Kind
    /// (C).
    public let weight: UnsafeMutablePointer<Float>
    /// (C) for LayerNorm; nil for RMSNorm.
    public let bias: UnsafeMutablePointer<Float>?
    public let width: Int
    public let epsilon: Float

    public init(kind: Kind, weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?, width: Int, epsilon: Float) {
        precondition((kind == .layerNorm) == (bias != nil), "LayerNorm has a bias, RMSNorm has none")
        self.kind = kind
        self.weight = weight
        self.bias = bias
        self.width = width
        self.epsilon = epsilon
    }

    /// out (N, C) = norm(inp (N, C)); `out` may alias `inp`. Pass `statistics` to keep what the
    /// backward needs (training); inference passes nil.
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, rows N: Int, statistics: Statistics? = nil) {
        switch kind {
        case .layerNorm:
            layerNormForward(out: out, mean: statistics?.mean, rstd: statistics?.rstd, inp: inp, weight: weight, bias: bias!, rows: N, C: width, eps: epsilon)
        case .rmsNorm:
            rmsNormForward(out: out, rstd: statistics?.rstd, inp: inp, weight: weight, rows: N, C: width, eps: epsilon)
        }
    }

    /// Backward of `forward`, accumulating into dinp (N, C) and `grad`'s weight (and bias).
    /// - Parameters: dout: (N, C); inp: the forward's input; statistics: the forward's.
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, rows N: Int,
        statistics: Statistics, into grad: Norm
    ) {
        switch kind {
        case .layerNorm:
            layerNormBackward(dinp: dinp, dweight: grad.weight, dbias: grad.bias!, dout: dout, inp: inp, weight: weight, mean: statistics.mean, rstd: statistics.rstd, rows: N, C: width)
        case .rmsNorm:
            rmsNormBackward(dinp: dinp, dweight: grad.weight, dout: dout, inp: inp, weight: weight, rstd: statistics.rstd, rows: N, C: width)
        }
    }
}
