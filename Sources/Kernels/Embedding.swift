/// The input of the first block: out[b, t] = wte[token[b, t]] + positions[t].
///
/// - Parameters:
///   - out: (B·T, C).
///   - tokens: (B·T) ids, already checked to be in range.
///   - wte: (V, C) token embedding.
///   - positions: (≥T, C) learned or sinusoidal table, or nil (rotary positions live in attention).
public func embeddingForward(
    out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>, wte: UnsafePointer<Float>,
    positions: UnsafePointer<Float>?, B: Int, T: Int, C: Int
) {
    for b in 0..<B {
        for t in 0..<T {
            let row = out + (b * T + t) * C
            row.update(from: wte + Int(tokens[b * T + t]) * C, count: C)
            if let positions { residualForward(out: row, a: row, b: positions + t * C, count: C) }
        }
    }
}

/// Backward of `embeddingForward`, accumulating: each position's gradient goes to its token's
/// row of dwte and, for learned positions, to its row of dwpe. Serial, because tokens repeat.
public func embeddingBackward(
    dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
    tokens: UnsafePointer<Int32>, B: Int, T: Int, C: Int
) {
    for b in 0..<B {
        for t in 0..<T {
            let g = dout + (b * T + t) * C
            axpy(1, g, dwte + Int(tokens[b * T + t]) * C, C)
            if let dwpe { axpy(1, g, dwpe + t * C, C) }
        }
    }
}
