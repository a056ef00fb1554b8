import Glibc
import SIMDMath

/// Softmax cross-entropy of each row of logits against its target, fused with its backward.
///
/// Forward: loss[r] = −log softmax(logits[r])[target[r]], in nats.
/// Backward (of the mean loss over `rows`, scaled by `scale`): ∂/∂logits = (softmax − onehot)·scale,
/// written over the logits in place, since nothing needs them afterwards.
///
/// - Parameters:
///   - logits: (rows, V); on return holds the gradient when `writeGradient` is true.
///   - targets: (rows) token ids in 0..<V.
///   - losses: (rows), receives each row's loss.
///   - validCount: only ids below this take part (a padded vocabulary's extra rows get probability 0).
public func crossEntropyForwardBackward(
    logits: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>,
    rows: Int, V: Int, scale: Float, writeGradient: Bool
) {
    nonisolated(unsafe) let (logits, losses) = (logits, losses)
    parallelFor(rows, minimumPerThread: 8) { range in
        for r in range {
            let row = logits + r * V
            let target = Int(targets[r])
            var maxValue = -Float.infinity
            for v in 0..<V where row[v] > maxValue { maxValue = row[v] }
            let m = FloatVector(repeating: maxValue)
            let targetLogit = row[target]
            // One pass of e^(x − max): summed for log Z, and kept in place when the gradient
            // (softmax − onehot) is wanted.
            var acc = FloatVector()
            var v = 0
            while v + 16 <= V {
                let e = vectorExp(row.vector(at: v) - m)
                if writeGradient { row.storeVector(e, at: v) }
                acc += e
                v += 16
            }
            var sum = Double(horizontalSum(acc))
            while v < V {
                let e = expf(row[v] - maxValue)
                if writeGradient { row[v] = e }
                sum += Double(e)
                v += 1
            }
            losses[r] = Float(log(sum) - Double(targetLogit - maxValue))
            if writeGradient {
                let k = FloatVector(repeating: scale / Float(sum))
                v = 0
                while v + 16 <= V {
                    row.storeVector(row.vector(at: v) * k, at: v)
                    v += 16
                }
                while v < V {
                    row[v] *= scale / Float(sum)
                    v += 1
                }
                row[target] -= scale
            }
        }
    }
}
