import Glibc

// The two position encodings that are not learned weights. (Learned positions are a table
// in the checkpoint, added like the token embedding.)

/// The sinusoidal table of "Attention Is All You Need" §3.5, (maxT, C) row-major:
/// PE(pos, 2i) = sin(pos / 10000^(2i/C)), PE(pos, 2i+1) = cos(pos / 10000^(2i/C)).
public func sinusoidalTable(positions maxT: Int, width C: Int) -> [Float] {
    var table = [Float](repeating: 0, count: maxT * C)
    for pos in 0..<maxT {
        for i in stride(from: 0, to: C, by: 2) {
            let angle = Double(pos) / pow(10_000, Double(i) / Double(C))
            table[pos * C + i] = Float(sin(angle))
            if i + 1 < C { table[pos * C + i + 1] = Float(cos(angle)) }
        }
    }
    return table
}

/// cos and sin of the rotary angles pos·θ^(−2i/hs), each (maxT, hs/2) row-major.
public func rotaryTables(positions maxT: Int, headSize hs: Int, theta: Float) -> (cos: [Float], sin: [Float]) {
    let half = hs / 2
    var cosTable = [Float](repeating: 0, count: maxT * half)
    var sinTable = [Float](repeating: 0, count: maxT * half)
    for pos in 0..<maxT {
        for i in 0..<half {
            let angle = Double(pos) * pow(Double(theta), -2 * Double(i) / Double(hs))
            cosTable[pos * half + i] = Float(cos(angle))
            sinTable[pos * half + i] = Float(sin(angle))
        }
    }
    return (cosTable, sinTable)
}

/// Which coordinates of a head rotary embedding rotates together: pair i is rotated by the
/// angle pos·θ^(−2i/hs) either way, so the two layouts are the same model with the head's
/// coordinates listed in another order.
public enum RotaryLayout: String, Sendable, Equatable, Codable {
    /// Pair i is (x₂ᵢ, x₂ᵢ₊₁), as RoFormer writes it (attnchat's own models).
    case interleaved
    /// Pair i is (xᵢ, xᵢ₊ₕₛ/₂): Hugging Face's `rotate_half`, in Llama, Qwen2 and Mistral
    /// checkpoints, whose q/k projections were trained for this order.
    case halfSplit

    /// Where the two coordinates of pair `i` sit in a head of `half`·2 values.
    @inline(__always)
    func pair(_ i: Int, half: Int) -> (Int, Int) {
        switch self {
        case .interleaved: (2 * i, 2 * i + 1)
        case .halfSplit: (i, i + half)
        }
    }
}

/// Rotary position embedding (RoFormer, Su et al. 2021), applied in place to queries or keys:
/// each pair of coordinates of every head (see `RotaryLayout`) is rotated by the angle
/// pos·θ^(−2i/hs).
/// Rotating q by its position and k by its own makes q·k depend only on their distance, which
/// is why this is the relative encoding.
///
/// - Parameters:
///   - x: (T, stride) rows for positions p0..<p0+T; head h at offset h·hs.
///   - cos, sin: the tables of `rotaryTables`, (maxT, hs/2).
public func rotaryForward(
    x: UnsafeMutablePointer<Float>, stride: Int, T: Int, pastLength p0: Int, heads H: Int,
    headSize hs: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, layout: RotaryLayout = .interleaved
) {
    switch layout {
    // Specialised per layout so the inner loop has constant strides.
    case .interleaved: rotate(x, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, cos: cos, sin: sin, direction: 1, layout: .interleaved)
    case .halfSplit: rotate(x, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, cos: cos, sin: sin, direction: 1, layout: .halfSplit)
    }
}

/// Rotates every pair by +angle (direction 1) or −angle (direction −1).
@inline(__always)
private func rotate(
    _ x: UnsafeMutablePointer<Float>, stride: Int, T: Int, pastLength p0: Int, heads H: Int,
    headSize hs: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, direction: Float, layout: RotaryLayout
) {
    let half = hs / 2
    for t in 0..<T {
        let c = cos + (p0 + t) * half
        let s = sin + (p0 + t) * half
        for h in 0..<H {
            let v = x + t * stride + h * hs
            for i in 0..<half {
                let (ia, ib) = layout.pair(i, half: half)
                let a = v[ia], b = v[ib], sn = direction * s[i]
                v[ia] = a * c[i] - b * sn
                v[ib] = a * sn + b * c[i]
            }
        }
    }
}

/// The reference for `rotaryForward`: angles computed directly in Double.
public func rotaryForwardNaive(
    x: UnsafeMutablePointer<Float>, stride: Int, T: Int, pastLength p0: Int, heads H: Int,
    headSize hs: Int, theta: Float, layout: RotaryLayout = .interleaved
) {
    for t in 0..<T {
        for h in 0..<H {
            for i in 0..<(hs / 2) {
                let angle = Double(p0 + t) * pow(Double(theta), -2 * Double(i) / Double(hs))
                let (ia, ib) = layout == .interleaved ? (2 * i, 2 * i + 1) : (i, i + hs / 2)
                let a = Double(x[t * stride + h * hs + ia]), b = Double(x[t * stride + h * hs + ib])
                x[t * stride + h * hs + ia] = Float(a * Glibc.cos(angle) - b * Glibc.sin(angle))
                x[t * stride + h * hs + ib] = Float(a * Glibc.sin(angle) + b * Glibc.cos(angle))
            }
        }
    }
}

/// Backward of `rotaryForward`: a rotation's inverse is its transpose, so the gradient is
/// rotated back by the same angle, in place.
public func rotaryBackward(
    dx: UnsafeMutablePointer<Float>, stride: Int, T: Int, pastLength p0: Int, heads H: Int,
    headSize hs: Int, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, layout: RotaryLayout = .interleaved
) {
    switch layout {
    case .interleaved: rotate(dx, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, cos: cos, sin: sin, direction: -1, layout: .interleaved)
    case .halfSplit: rotate(dx, stride: stride, T: T, pastLength: p0, heads: H, headSize: hs, cos: cos, sin: sin, direction: -1, layout: .halfSplit)
    }
}
