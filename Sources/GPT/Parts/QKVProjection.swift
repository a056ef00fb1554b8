import Kernels

// Glossary: B = sequences, T = positions per sequence, N = B·T, C = width, H = heads,
// hs = head size, p0 = position of each sequence's first row.

/// The Q/K/V projection: one `Linear` (C → 3C) that gives every position its query, key and
/// value rows at once, q | k | v side by side (GPT-2's fused `c_attn`). With rotary positions
/// the queries and keys are then rotated by their position (RoFormer); values never are.
///
/// q asks "what am I looking for", k answers "what do I contain", v is what a position hands
/// over when attended to. `splitHeads` reads each third as H heads.
public struct QKVProjection {
    /// The rotary angle tables: cos and sin, (maxT, hs/2) each.
    public struct Rotary {
        public let cos: UnsafePointer<Float>
        public let sin: UnsafePointer<Float>
        public init(cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
            self.cos = cos
            self.sin = sin
        }
    }

    /// (C, 3C) weights and (3C) bias.
    public let linear: Linear
    /// Non-nil with rotary positions.
    public let rotary: Rotary?
    public let heads: Int
    public let headSize: Int
    var width: Int { heads * headSize }

    public init(linear: Linear, rotary: Rotary?, heads: Int, headSize: Int) {
        precondition(linear.outDim == 3 * heads * headSize, "the fused projection must give q, k and v")
        self.linear = linear
        self.rotary = rotary
        self.heads = heads
        self.headSize = headSize
    }

    /// qkv (N, 3C) = inp (N, C) · W + b, then rotary positions p0..<p0+T on each sequence's q and k.
    public func forward(qkv: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, sequences B: Int, length T: Int, startPosition p0: Int) {
        linear.forward(out: qkv, inp: inp, rows: B * T)
        rotate(qkv, sequences: B, length: T, startPosition: p0, backward: false)
    }

    /// Backward of `forward` (p0 = 0): rotates dq and dk in `dqkv` back in place (a rotation's
    /// inverse is its transpose), then accumulates dinp (N, C) and `grad`'s weight and bias.
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dqkv: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        sequences B: Int, length T: Int, into grad: QKVProjection
    ) {
        rotate(dqkv, sequences: B, length: T, startPosition: 0, backward: true)
        linear.backward(dinp: dinp, dout: dqkv, inp: inp, rows: B * T, into: grad.linear)
    }

    private func rotate(_ qkv: UnsafeMutablePointer<Float>, sequences B: Int, length T: Int, startPosition p0: Int, backward: Bool) {
        guard let rotary else { return }
        let C = width
        for b in 0..<B {
            for part in 0..<2 {  // queries, then keys
                let rows = qkv + b * T * 3 * C + part * C
                if backward {
                    rotaryBackward(dx: rows, stride: 3 * C, T: T, pastLength: p0, heads: heads, headSize: headSize, cos: rotary.cos, sin: rotary.sin)
                } else {
                    rotaryForward(x: rows, stride: 3 * C, T: T, pastLength: p0, heads: heads, headSize: headSize, cos: rotary.cos, sin: rotary.sin)
                }
            }
        }
    }
}
