import Kernels

/// The residual connection: a sub-layer's output is added to the stream it read, so each block
/// refines the stream instead of replacing it, and gradients reach early layers unchanged
/// through the additions. out (n) = stream + sublayer; `out` may alias `stream`.
@inlinable
public func residualAdd(out: UnsafeMutablePointer<Float>, stream: UnsafePointer<Float>, sublayer: UnsafePointer<Float>, count n: Int) {
    residualForward(out: out, a: stream, b: sublayer, count: n)
}
