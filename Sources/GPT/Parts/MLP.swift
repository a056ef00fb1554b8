import Kernels

// Glossary: N = rows, C = width, M = hidden width (4·C in GPT-2).

/// The position-wise feed-forward sub-layer: widen, apply a non-linearity, narrow back.
///
/// GELU (GPT-2): out = down(gelu(up(x))).
/// SwiGLU (Llama): out = down(silu(gate(x)) ⊙ up(x)) — the gated form is a second (C, M)
/// `Linear` and another activation, not another sub-layer.
public struct MLP {
    public enum Activation: Sendable, Equatable {
        case gelu
        case swiglu
    }

    /// (C, M), GPT-2's `mlp.c_fc`.
    public let up: Linear
    /// (C, M), SwiGLU only.
    public let gate: Linear?
    /// (M, C), GPT-2's `mlp.c_proj`.
    public let down: Linear
    public let activation: Activation

    public init(up: Linear, gate: Linear?, down: Linear, activation: Activation) {
        precondition((activation == .swiglu) == (gate != nil), "only the gated form has a gate projection")
        self.up = up
        self.gate = gate
        self.down = down
        self.activation = activation
    }

    /// Buffers of one forward, (N, M) each. `activated` may be `hidden` itself when no backward
    /// follows (inference); `gated` is needed by SwiGLU only.
    public struct Activations {
        /// up(x), before the activation.
        public let hidden: UnsafeMutablePointer<Float>
        /// The activation's output, the input of `down`.
        public let activated: UnsafeMutablePointer<Float>
        /// gate(x), SwiGLU only.
        public let gated: UnsafeMutablePointer<Float>?
        public init(hidden: UnsafeMutablePointer<Float>, activated: UnsafeMutablePointer<Float>, gated: UnsafeMutablePointer<Float>? = nil) {
            self.hidden = hidden
            self.activated = activated
            self.gated = gated
        }
    }

    /// out (N, C) = the sub-layer applied to inp (N, C).
    public func forward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, activations a: Activations, rows N: Int) {
        let M = up.outDim
        up.forward(out: a.hidden, inp: inp, rows: N)
        switch activation {
        case .gelu:
            geluForward(out: a.activated, inp: a.hidden, count: N * M)
        case .swiglu:
            guard let gate, let gated = a.gated else { preconditionFailure("SwiGLU needs its gate buffer") }
            gate.forward(out: gated, inp: inp, rows: N)
            swigluForward(out: a.activated, gate: gated, up: a.hidden, count: N * M)
        }
        down.forward(out: out, inp: a.activated, rows: N)
    }

    /// Backward of `forward` (GELU), accumulating dinp (N, C) and `grad`'s parameters.
    /// dout: (N, C). Scratch, overwritten: dactivated and dhidden, (N, M) each.
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, activations a: Activations, rows N: Int,
        scratch: (dactivated: UnsafeMutablePointer<Float>, dhidden: UnsafeMutablePointer<Float>), into grad: MLP
    ) {
        precondition(activation == .gelu, "training a gated MLP is not implemented")
        let M = up.outDim
        scratch.dactivated.update(repeating: 0, count: N * M)
        down.backward(dinp: scratch.dactivated, dout: dout, inp: a.activated, rows: N, into: grad.down)
        scratch.dhidden.update(repeating: 0, count: N * M)
        geluBackward(dinp: scratch.dhidden, inp: a.hidden, dout: scratch.dactivated, count: N * M)
        up.backward(dinp: dinp, dout: scratch.dhidden, inp: inp, rows: N, into: grad.up)
    }
}
