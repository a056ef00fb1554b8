import SIMDMath
/// Inverted dropout, in place: each element is kept with probability 1 − p and then scaled by
/// 1/(1 − p), else zeroed, so the expected value is unchanged and inference needs no rescale.
///
/// Whether element `i` is kept is a pure function of `(seed, i)` (a SplitMix64 hash), not of a
/// generator's state: the mask is the same for any thread count, and a training step can be
/// replayed from its seed alone, which is what makes a resumed run bit-identical.
///
/// - Parameters:
///   - x: (n), the activations; overwritten with the dropped-out values.
///   - mask: (n), receives 0 or 1/(1 − p) per element: the factor `dropoutBackward` applies.
///   - probability: p in [0, 1), the chance of dropping an element.
///   - seed: the mask's seed; different sites and steps need different seeds.
public func dropoutForward(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, count n: Int, probability p: Float, seed: UInt64) {
    precondition(p >= 0 && p < 1, "dropout probability must be in [0, 1)")
    nonisolated(unsafe) let (x, mask) = (x, mask)  // chunks are disjoint
    let threshold = dropThreshold(p)
    let scale = 1 / (1 - p)
    parallelFor(n, minimumPerThread: 65_536) { range in
        for i in range {
            let m: Float = dropoutKeeps(seed: seed, index: i, threshold: threshold) ? scale : 0
            mask[i] = m
            x[i] *= m
        }
    }
}

/// The gradient through `dropoutForward`: dinp = dout ⊙ mask (overwrites `dinp`; may alias `dout`).
public func dropoutBackward(dinp: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, mask: UnsafePointer<Float>, count n: Int) {
    var i = 0
    while i + 16 <= n {
        dinp.storeVector(dout.vector(at: i) * mask.vector(at: i), at: i)
        i += 16
    }
    while i < n {
        dinp[i] = dout[i] * mask[i]
        i += 1
    }
}

/// The reference for `dropoutForward`: one element at a time with the same keep rule written
/// out in floating point (u < p drops, u uniform in [0, 1) from the hash's top 32 bits).
public func dropoutForwardNaive(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, count n: Int, probability p: Float, seed: UInt64) {
    for i in 0..<n {
        let u = Double(dropoutHash(seed: seed, index: i) >> 32) / 4_294_967_296
        mask[i] = u < Double(p) ? 0 : 1 / (1 - p)
        x[i] *= mask[i]
    }
}

/// Elements whose hash's top 32 bits fall below this are dropped: ⌈p·2³²⌉.
@inline(__always) func dropThreshold(_ p: Float) -> UInt64 { UInt64((Double(p) * 4_294_967_296).rounded(.up)) }

@inline(__always) func dropoutKeeps(seed: UInt64, index: Int, threshold: UInt64) -> Bool {
    dropoutHash(seed: seed, index: index) >> 32 >= threshold
}

/// SplitMix64's finaliser over seed + index·golden: a well-mixed 64-bit value per element.
@inline(__always) func dropoutHash(seed: UInt64, index: Int) -> UInt64 {
    var z = seed &+ (UInt64(index) &+ 1) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}

/// A seed derived from `base` and `index` (a micro-batch's number, a site's number), so that no
/// two micro-batches or sites share a mask.
public func dropoutSeed(_ base: UInt64, _ index: Int) -> UInt64 { dropoutHash(seed: base, index: index) }
