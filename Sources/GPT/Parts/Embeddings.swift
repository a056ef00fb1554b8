import Kernels

/// The input of the first block: each token's row of the embedding table plus its position's
/// encoding, x[b, t] = wte[token[b, t]] + position(p0 + t).
///
/// Learned positions (GPT-2) and the sinusoidal table ("Attention Is All You Need" §3.5) are
/// added here; rotary positions are not added at all — they rotate the queries and keys inside
/// attention (`QKVProjection`), so this part adds nothing for them.
public struct Embeddings {
    public enum Positions {
        /// A trained (maxT, C) table, `wpe`.
        case learned(UnsafeMutablePointer<Float>)
        /// The fixed (maxT, C) sin/cos table.
        case sinusoidal(UnsafePointer<Float>)
        /// Nothing is added (rotary positions act in attention).
        case none
    }

    /// (V, C), `wte`, F32 or packed; the tied LM head reads it too.
    public let tokens: MatrixWeight
    public let positions: Positions
    public let width: Int

    public init(tokens: MatrixWeight, positions: Positions, width: Int) {
        self.tokens = tokens
        self.positions = positions
        self.width = width
    }

    /// The table added at position `p0` onwards, or nil.
    private func positionRows(from p0: Int) -> UnsafePointer<Float>? {
        switch positions {
        case .learned(let table): UnsafePointer(table + p0 * width)
        case .sinusoidal(let table): table + p0 * width
        case .none: nil
        }
    }

    /// out (B·T, C) for `B` sequences of `T` token ids, the first at position `p0`.
    /// Ids must already be in range.
    public func forward(out: UnsafeMutablePointer<Float>, tokens ids: UnsafePointer<Int32>, sequences B: Int, length T: Int, startPosition p0: Int) {
        switch tokens {
        case .float(let wte):
            embeddingForward(out: out, tokens: ids, wte: wte, positions: positionRows(from: p0), B: B, T: T, C: width)
        case .packed(let table):
            let C = width
            let added = positionRows(from: p0)
            for b in 0..<B {
                for t in 0..<T {
                    let row = out + (b * T + t) * C
                    dequantizeRow(table, row: Int(ids[b * T + t]), into: row)
                    if let added { residualForward(out: row, a: row, b: added + t * C, count: C) }
                }
            }
        }
    }

    /// Backward of `forward` (p0 = 0, as in training), accumulating into `grad`'s token table and,
    /// for learned positions, its position table. dout: (B·T, C).
    public func backward(dout: UnsafePointer<Float>, tokens ids: UnsafePointer<Int32>, sequences B: Int, length T: Int, into grad: Embeddings) {
        var dwpe: UnsafeMutablePointer<Float>? = nil
        if case .learned(let table) = grad.positions { dwpe = table }
        embeddingBackward(dwte: grad.tokens.trainable, dwpe: dwpe, dout: dout, tokens: ids, B: B, T: T, C: width)
    }
}
