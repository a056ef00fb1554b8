import Kernels

// Glossary: B = sequences, T = positions per sequence, N = B·T, C = width, H = heads,
// hs = head size, p0 = position of each sequence's first row.

/// The Q/K/V projection: one `Linear` (C → Q) that gives every position its query, key and
/// value rows at once, q | k | v side by side (GPT-2's fused `c_attn`; a Llama's separate
/// q/k/v projections are fused this way when it loads). Q = (H + 2·kvHeads)·hs: 3C for
/// multi-head attention, less under grouped-query attention, where several query heads share
/// one key/value head. With rotary positions the queries and keys are then rotated by their
/// position (RoFormer); values never are.
///
/// q asks "what am I looking for", k answers "what do I contain", v is what a position hands
/// over when attended to. `splitHeads` reads each third as H heads.
public struct QKVProjection {
    /// The rotary angle tables: cos and sin, (maxT, hs/2) each, and which coordinates they pair.
    public struct Rotary {
        public let cos: UnsafePointer<Float>
        public let sin: UnsafePointer<Float>
        public let layout: RotaryLayout
        public init(cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, layout: RotaryLayout = .interleaved) {
            self.cos = cos
            self.sin = sin
            self.layout = layout
        }
    }

    /// (C, Q) weights and (Q) bias.
    public let linear: Linear
    /// Non-nil with rotary positions.
    public let rotary: Rotary?
    /// Query heads.
    public let heads: Int
    /// Key/value heads (`heads` for multi-head attention).
    public let kvHeads: Int
    public let headSize: Int
    /// Width of the queries, H·hs.
    var queryWidth: Int { heads * headSize }
    /// Width of the keys (and of the values), kvHeads·hs.
    var kvWidth: Int { kvHeads * headSize }
    /// Width of a fused row, Q.
    var rowWidth: Int { queryWidth + 2 * kvWidth }

    public init(linear: Linear, rotary: Rotary?, heads: Int, kvHeads: Int? = nil, headSize: Int) {
        let kvHeads = kvHeads ?? heads
        precondition(heads % kvHeads == 0, "query heads must split evenly over the key/value heads")
        precondition(linear.outDim == (heads + 2 * kvHeads) * headSize, "the fused projection must give q, k and v")
        self.linear = linear
        self.rotary = rotary
        self.heads = heads
        self.kvHeads = kvHeads
        self.headSize = headSize
    }

    /// qkv (N, Q) = inp (N, C) · W + b, then rotary positions p0..<p0+T on each sequence's q and k.
    public func forward(qkv: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, sequences B: Int, length T: Int, startPosition p0: Int) {
        linear.forward(out: qkv, inp: inp, rows: B * T)
        rotate(qkv, sequences: B, length: T, startPosition: p0, backward: false)
    }

    /// Backward of `forward` (p0 = 0): rotates dq and dk in `dqkv` (N, Q) back in place (a
    /// rotation's inverse is its transpose), then accumulates dinp (N, C) and `grad`'s weight and bias.
    public func backward(
        dinp: UnsafeMutablePointer<Float>, dqkv: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        sequences B: Int, length T: Int, into grad: QKVProjection
    ) {
        rotate(dqkv, sequences: B, length: T, startPosition: 0, backward: true)
        linear.backward(dinp: dinp, dout: dqkv, inp: inp, rows: B * T, into: grad.linear)
    }

    private func rotate(_ qkv: UnsafeMutablePointer<Float>, sequences B: Int, length T: Int, startPosition p0: Int, backward: Bool) {
        guard let rotary else { return }
        let stride = rowWidth
        for b in 0..<B {
            // Queries (H heads from column 0), then keys (kvHeads heads after the queries).
            for part in 0..<2 {
                let (offset, heads) = part == 0 ? (0, self.heads) : (queryWidth, kvHeads)
                let rows = qkv + b * T * stride + offset
                if backward {
                    rotaryBackward(dx: rows, stride: stride, T: T, pastLength: p0, heads: heads, headSize: headSize, cos: rotary.cos, sin: rotary.sin, layout: rotary.layout)
                } else {
                    rotaryForward(x: rows, stride: stride, T: T, pastLength: p0, heads: heads, headSize: headSize, cos: rotary.cos, sin: rotary.sin, layout: rotary.layout)
                }
            }
        }
    }
}
