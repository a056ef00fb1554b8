/// Where training batches come from: a token stream and a seed. The window starts of step s
/// are a pure function of (seed, s), so a run resumed at step k draws exactly the batches the
/// uninterrupted run would have: the "data position" and "RNG state" of a checkpoint are its
/// seed and step.
public struct TokenWindows: Sendable {
    public let stream: [Int32]
    public let seed: UInt64

    public init(stream: [Int32], seed: UInt64) {
        self.stream = stream
        self.seed = seed
    }

    /// Fills `inputs` and `targets` (B·T each) with B random windows for `step`: inputs are
    /// stream[s..<s+T], targets stream[s+1...s+T].
    public func batch(step: Int, B: Int, T: Int, inputs: inout [Int32], targets: inout [Int32]) {
        precondition(stream.count > T, "the stream is shorter than one window")
        inputs.removeAll(keepingCapacity: true)
        targets.removeAll(keepingCapacity: true)
        let starts = UInt64(stream.count - T)
        for b in 0..<B {
            let start = Int(Self.mix(seed, UInt64(step), UInt64(b)) % starts)
            inputs.append(contentsOf: stream[start..<(start + T)])
            targets.append(contentsOf: stream[(start + 1)...(start + T)])
        }
    }

    /// SplitMix64's finaliser over the three inputs: independent, uniform-looking values.
    static func mix(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        var z = a &* 0x9E37_79B9_7F4A_7C15 ^ (b &+ 0x632B_E59B_D9B4_E019) &* 0xBF58_476D_1CE4_E5B9 ^ c &* 0x94D0_49BB_1331_11EB
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
