import Glibc
import GPT
import Kernels

/// AdamW with decoupled weight decay, exactly as `torch.optim.AdamW` computes it:
///
///     p ← p·(1 − lr·wd)                       (matrices and embeddings only)
///     m ← β1·m + (1 − β1)·g
///     v ← β2·v + (1 − β2)·g²
///     p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
///
/// Biases and LayerNorm parameters are not decayed (GPT-2 / nanoGPT practice).
public final class AdamW {
    public struct Hyperparameters: Sendable, Equatable, Codable {
        public var beta1: Float = 0.9
        public var beta2: Float = 0.95
        public var eps: Float = 1e-8
        public var weightDecay: Float = 0.1
        public init() {}
    }

    /// One parameter tensor as the optimizer sees it: its range in the flat parameter buffer
    /// and whether weight decay applies to it.
    public typealias Group = (range: Range<Int>, decays: Bool)

    public let hyper: Hyperparameters
    /// First and second moments, one per parameter, in the flat buffer's order.
    public internal(set) var m: [Float]
    public internal(set) var v: [Float]
    /// Updates done so far (t in the bias corrections).
    public internal(set) var step = 0
    /// For every parameter tensor: its range in the flat buffer and whether it decays.
    public let groups: [Group]

    /// An optimizer for any model whose parameters live in one flat buffer of `parameterCount`
    /// floats (GPT, encoder–decoder, ...).
    /// - Parameter groups: one per tensor: its range in the buffer and whether it decays. The
    ///   ranges must lie inside the buffer and not overlap; parameters in no group are not updated.
    public init(parameterCount: Int, groups: [Group], hyper: Hyperparameters = Hyperparameters()) {
        precondition(parameterCount >= 0)
        for g in groups { precondition(g.range.lowerBound >= 0 && g.range.upperBound <= parameterCount, "AdamW group \(g.range) outside \(parameterCount) parameters") }
        self.hyper = hyper
        m = [Float](repeating: 0, count: parameterCount)
        v = m
        self.groups = groups
    }

    /// Groups for named tensors by the usual rule: matrices and embeddings (rank ≥ 2) decay,
    /// biases and norm parameters (rank 1) do not.
    public static func groups(tensors: some Sequence<(offset: Int, shape: [Int])>) -> [Group] {
        tensors.map { t in (t.offset..<(t.offset + t.shape.reduce(1, *)), t.shape.count >= 2) }
    }

    /// The GPT's optimizer: every tensor of `weights`, matrices and embeddings decayed.
    public convenience init(weights: GPTWeights, hyper: Hyperparameters = Hyperparameters()) {
        self.init(parameterCount: weights.count, groups: Self.groups(tensors: weights.tensors.map { ($0.offset, $0.shape) }), hyper: hyper)
    }

    /// Restores the state of a checkpoint.
    public func restore(m: [Float], v: [Float], step: Int) {
        precondition(m.count == self.m.count && v.count == self.v.count)
        self.m = m
        self.v = v
        self.step = step
    }

    /// One update of `params` with `grads` (same layout) at learning rate `lr`.
    /// Counts an update that was not made (a loss spike): the step advances, so the schedule
    /// and the batches move on; the parameters and moments stay as they are.
    public func skip() { step += 1 }

    public func update(params: UnsafeMutableBufferPointer<Float>, grads: UnsafeBufferPointer<Float>, lr: Float) {
        precondition(params.count == m.count && grads.count == m.count)
        step += 1
        let t = Double(step)
        let stepSize = Float(Double(lr) / (1 - pow(Double(hyper.beta1), t)))
        let correction2 = Float((1 - pow(Double(hyper.beta2), t)).squareRoot())
        let (b1, b2, eps) = (hyper.beta1, hyper.beta2, hyper.eps)
        m.withUnsafeMutableBufferPointer { mBuf in
            v.withUnsafeMutableBufferPointer { vBuf in
                // Elements are independent: each thread owns a contiguous range of all three buffers.
                nonisolated(unsafe) let (p, mm, vv) = (params.baseAddress!, mBuf.baseAddress!, vBuf.baseAddress!)
                for group in groups {
                    let decay = group.decays ? 1 - lr * hyper.weightDecay : 1
                    parallelFor(group.range.count, minimumPerThread: 16_384) { local in
                        for i in (group.range.lowerBound + local.lowerBound)..<(group.range.lowerBound + local.upperBound) {
                            let g = grads[i]
                            p[i] *= decay
                            mm[i] = b1 * mm[i] + (1 - b1) * g
                            vv[i] = b2 * vv[i] + (1 - b2) * g * g
                            p[i] -= stepSize * mm[i] / (vv[i].squareRoot() / correction2 + eps)
                        }
                    }
                }
            }
        }
    }
}

/// Linear warmup to the peak rate, then cosine decay to `floor`·peak at the last step.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var floor: Float = 0.1

    public init(peak: Float, warmupSteps: Int, totalSteps: Int, floor: Float = 0.1) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.floor = floor
    }

    /// The rate for update number `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        let cosine = 0.5 * (1 + cos(Double.pi * progress))
        return peak * (floor + (1 - floor) * Float(cosine))
    }
}

/// Scales `grads` so their global L2 norm is at most `maxNorm`; returns the norm before.
@discardableResult
public func clipGradients(_ grads: UnsafeMutableBufferPointer<Float>, maxNorm: Float) -> Float {
    var sum = 0.0
    for g in grads { sum += Double(g) * Double(g) }
    let norm = Float(sum.squareRoot())
    if maxNorm > 0 && norm > maxNorm {
        let scale = maxNorm / norm
        for i in grads.indices { grads[i] *= scale }
    }
    return norm
}
