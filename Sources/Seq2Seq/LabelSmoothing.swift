import Glibc
import Kernels

// Glossary: R = rows (target positions), V = vocabulary, ε = smoothing.

/// Label-smoothed softmax cross-entropy with an ignored id, as PyTorch's
/// `F.cross_entropy(logits, targets, label_smoothing=ε, ignore_index=pad)`:
///
///     loss_r = (1 − ε)·(−log p_r[target_r]) + ε · mean over all V of (−log p_r[v])
///            = −log p_r[target_r] + ε·(logit_r[target_r] − mean(logit_r))
///
/// for every row whose target is not `ignored`; an ignored row has loss 0 and gradient 0.
/// The gradient of `scale`·Σ loss_r is (softmax − (1 − ε)·onehot − ε/V)·scale, written over the
/// logits in place when `writeGradient` — `crossEntropyForwardBackward` computes the plain part
/// (one SIMD pass of exponentials), and the smoothing only adds a constant per row and ε·scale
/// at the target.
///
/// - Parameters:
///   - logits: (R, V); on return the gradient when `writeGradient`.
///   - losses: (R), receives each row's loss (0 where ignored).
///   - targets: (R) ids in 0..<V.
/// - Returns: the number of rows that count (targets other than `ignored`).
@discardableResult
public func labelSmoothedCrossEntropy(
    logits: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows R: Int, V: Int,
    smoothing ε: Float, ignored: Int32, scale: Float, writeGradient: Bool
) -> Int {
    // The kernel needs an id in range on every row; an ignored row computes target 0 and is cleared after.
    let kept = (0..<R).map { targets[$0] != ignored }
    let safeTargets = (0..<R).map { kept[$0] ? targets[$0] : 0 }
    // logit[target] − mean(logit), read before the kernel overwrites the logits.
    var smoothingTerm = [Float](repeating: 0, count: R)
    smoothingTerm.withUnsafeMutableBufferPointer { term in
        nonisolated(unsafe) let term = term.baseAddress!
        parallelFor(R, minimumPerThread: 8) { range in
            for r in range where kept[r] {
                let row = logits + r * V
                let mean = sum(row, count: V) / Float(V)
                term[r] = row[Int(safeTargets[r])] - mean
            }
        }
    }
    safeTargets.withUnsafeBufferPointer {
        crossEntropyForwardBackward(logits: logits, losses: losses, targets: $0.baseAddress!, rows: R, V: V, scale: scale, writeGradient: writeGradient)
    }
    for r in 0..<R {
        guard kept[r] else {
            losses[r] = 0
            if writeGradient { (logits + r * V).update(repeating: 0, count: V) }
            continue
        }
        losses[r] += ε * smoothingTerm[r]
        if writeGradient {
            let row = logits + r * V
            let shift = -ε / Float(V) * scale
            for v in 0..<V { row[v] += shift }
            row[Int(safeTargets[r])] += ε * scale
        }
    }
    return kept.count { $0 }
}

/// The reference for `labelSmoothedCrossEntropy`: the definition (1 − ε)·NLL + ε·mean(−log p),
/// in Double, with the gradient (softmax − (1 − ε)·onehot − ε/V)·scale. Returns the kept rows.
@discardableResult
public func labelSmoothedCrossEntropyNaive(
    logits: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows R: Int, V: Int,
    smoothing ε: Float, ignored: Int32, scale: Float, writeGradient: Bool
) -> Int {
    var kept = 0
    for r in 0..<R {
        let row = logits + r * V
        guard targets[r] != ignored else {
            losses[r] = 0
            if writeGradient { row.update(repeating: 0, count: V) }
            continue
        }
        kept += 1
        let x = (0..<V).map { Double(row[$0]) }
        let m = x.max()!
        let logZ = m + log(x.reduce(0) { $0 + exp($1 - m) })
        let logp = x.map { $0 - logZ }
        let t = Int(targets[r])
        let e = Double(ε)
        losses[r] = Float((1 - e) * -logp[t] + e * logp.reduce(0) { $0 - $1 } / Double(V))
        if writeGradient {
            for v in 0..<V {
                let p = exp(logp[v])
                row[v] = Float((p - (v == t ? 1 - e : 0) - e / Double(V)) * Double(scale))
            }
        }
    }
    return kept
}

/// Σ x over n floats, accumulated in Double (a row is a whole vocabulary long).
private func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
    var s = 0.0
    for i in 0..<n { s += Double(x[i]) }
    return Float(s)
}
