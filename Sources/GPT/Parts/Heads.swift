// Glossary: T = rows (positions), C = width, H = heads, hs = head size = C / H.

/// One of q, k, v (or the attention output) seen as H heads: head h of row t is the hs values
/// starting at `base + t·rowStride + h·hs`.
///
/// This is the textbook's head split — reshape (T, C) to (T, H, hs) and transpose to
/// (H, T, hs) — done without moving a value: the view only changes how an index is read.
/// The merge (transpose back and reshape to (T, C)) is the same view over the output buffer:
/// a head that writes its row t at `view[t, h]` has merged itself.
public struct HeadView {
    public let base: UnsafeMutablePointer<Float>
    /// Floats from one row to the next: 3C for q, k, v read in place from the fused QKV rows,
    /// C for the merged output or a KV cache.
    public let rowStride: Int
    public let heads: Int
    public let headSize: Int

    public init(base: UnsafeMutablePointer<Float>, rowStride: Int, heads: Int, headSize: Int) {
        precondition(rowStride >= heads * headSize, "a row must hold every head")
        self.base = base
        self.rowStride = rowStride
        self.heads = heads
        self.headSize = headSize
    }

    /// The hs values of head `h` at row `t`.
    @inlinable
    public subscript(row t: Int, head h: Int) -> UnsafeMutablePointer<Float> { base + t * rowStride + h * headSize }
}

/// The fused Q/K/V rows — columns q | k | v, as GPT-2's `c_attn` produces them — split into
/// three views: q with H heads, k and v with `kvHeads` heads each (fewer than H under
/// grouped-query attention). A row is (H + 2·kvHeads)·hs floats. Nothing is copied.
public func splitHeads(qkv: UnsafeMutablePointer<Float>, heads H: Int, kvHeads: Int, headSize hs: Int) -> (q: HeadView, k: HeadView, v: HeadView) {
    let (A, K) = (H * hs, kvHeads * hs)
    let stride = A + 2 * K
    return (
        HeadView(base: qkv, rowStride: stride, heads: H, headSize: hs),
        HeadView(base: qkv + A, rowStride: stride, heads: kvHeads, headSize: hs),
        HeadView(base: qkv + A + K, rowStride: stride, heads: kvHeads, headSize: hs)
    )
}

/// Multi-head attention's split of (T, 3C) rows: H heads of C / H values each in q, k and v.
public func splitHeads(qkv: UnsafeMutablePointer<Float>, width C: Int, heads H: Int) -> (q: HeadView, k: HeadView, v: HeadView) {
    precondition(C % H == 0, "the width must split evenly into heads")
    return splitHeads(qkv: qkv, heads: H, kvHeads: H, headSize: C / H)
}

/// The (T, C) output buffer seen as H heads, so that writing each head's result at its view
/// concatenates the heads — the merge before the output projection. Nothing is copied.
public func mergedHeads(out: UnsafeMutablePointer<Float>, width C: Int, heads H: Int) -> HeadView {
    precondition(C % H == 0, "the width must split evenly into heads")
    return HeadView(base: out, rowStride: C, heads: H, headSize: C / H)
}
