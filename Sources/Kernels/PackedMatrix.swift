import CBLAS
import SIMDMath

// Weights kept in memory in the dtype they were stored in (or quantized to 8 bits), and the
// matrix-vector products of decoding over them. Decoding one token reads every weight once, so
// its speed is memory bandwidth over bytes per weight: F16/BF16 halve the bytes of F32, q8 (one
// byte and a 32nd of a scale) nearly quarters them. The kernels widen to Float in registers and
// accumulate in Float; no F32 copy of a matrix ever exists.

/// A weight matrix for y = W·x kept in the dtype it was stored in, (rows, columns) row-major with
/// rows = outputs and columns = inputs (nn.Linear's layout; for the tied LM head the token embedding (V, C)).
///
/// A view: it does not own `elements` or `scales`, which must outlive every use.
public struct PackedMatrix: @unchecked Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case f32, f16, bf16, q8, q4

        /// Bits of one element (a quantized format's scales not counted).
        public var bitsPerElement: Int {
            switch self {
            case .f32: 32
            case .f16, .bf16: 16
            case .q8: 8
            case .q4: 4
            }
        }

        /// q8 and q4: integers with one Float scale per block of 32.
        public var isQuantized: Bool { self == .q8 || self == .q4 }
    }

    public let format: Format
    public let rows: Int
    public let columns: Int
    /// rows·columns elements: Float, IEEE half bits (UInt16), bfloat16 bits (UInt16), Int8 (q8),
    /// or two 4-bit codes a byte (q4: q + 8 for q in [-8, 7]; byte j of a block's 16 holds
    /// element j in its low nibble and element j + 16 in its high one — llama.cpp's Q4_0 order,
    /// so a block unpacks with one mask and one shift).
    public let elements: UnsafeRawPointer
    /// q8 and q4: one Float scale per block of 32 consecutive elements of a row, (rows, columns/32); element = Float(q) · scale.
    public let scales: UnsafePointer<Float>?
    /// Elements of a row that share one scale.
    public static let blockSize = 32

    public init(format: Format, rows: Int, columns: Int, elements: UnsafeRawPointer, scales: UnsafePointer<Float>? = nil) {
        precondition(rows >= 0 && columns >= 0, "negative matrix shape")
        if format.isQuantized {
            precondition(columns % Self.blockSize == 0, "\(format) needs columns divisible by \(Self.blockSize), got \(columns)")
            precondition(scales != nil, "\(format) needs its scales")
        }
        self.format = format
        self.rows = rows
        self.columns = columns
        self.elements = elements
        self.scales = scales
    }

    /// Bytes of elements + scales.
    public var byteCount: Int {
        rows * columns * format.bitsPerElement / 8 + (format.isQuantized ? rows * (columns / Self.blockSize) * 4 : 0)
    }

    /// Element (row, column) as a Float: the scalar definition every kernel must agree with.
    @inlinable
    public func element(row: Int, column: Int) -> Float {
        let index = row * columns + column
        switch format {
        case .f32: return elements.loadUnaligned(fromByteOffset: 4 * index, as: Float.self)
        case .f16: return Float(elements.loadUnaligned(fromByteOffset: 2 * index, as: Float16.self))
        case .bf16: return Float(bfloat16Bits: elements.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
        case .q8:
            let q = elements.load(fromByteOffset: index, as: Int8.self)
            return Float(q) * scales![row * (columns / Self.blockSize) + column / Self.blockSize]
        case .q4:
            let (block, j) = (index / Self.blockSize, column % Self.blockSize)
            let byte = elements.load(fromByteOffset: block * 16 + j % 16, as: UInt8.self)
            let q = Int(j < 16 ? byte & 0x0F : byte >> 4) - 8
            return Float(q) * scales![block]
        }
    }
}

extension Float {
    /// The Float a bfloat16 stands for: its 16 bits are the Float's high half.
    @inlinable
    public init(bfloat16Bits bits: UInt16) {
        self.init(bitPattern: UInt32(bits) << 16)
    }

    /// This Float as bfloat16 bits, rounded to nearest even (NaN stays a quiet NaN).
    @inlinable
    public var bfloat16Bits: UInt16 {
        if isNaN { return UInt16(bitPattern >> 16) | 0x40 }
        // Adding 0x7FFF, plus 1 when the kept half is odd, carries into it exactly when the
        // dropped half is over one half, or equal to it with an odd kept half.
        let bits = bitPattern
        return UInt16((bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}

// MARK: - Decoding elements in registers

/// How the kernels widen 16 elements of one of the float formats to Float. Every conversion is
/// a single instruction per 8 lanes on x86-64-v3: vcvtph2ps (F16), vpmovzxwd + vpslld (BF16).
/// They are written as two SIMD8 halves because the standard library's SIMD16 conversions are
/// not inlined: each became a call per 16 elements, several times slower than the load.
protocol FloatElements {
    static var size: Int { get }
    static func vector(_ base: UnsafeRawPointer, _ index: Int) -> FloatVector
    static func scalar(_ base: UnsafeRawPointer, _ index: Int) -> Float
}

enum F32Elements: FloatElements {
    static var size: Int { 4 }
    @inline(__always) static func vector(_ base: UnsafeRawPointer, _ index: Int) -> FloatVector {
        base.loadUnaligned(fromByteOffset: 4 * index, as: FloatVector.self)
    }
    @inline(__always) static func scalar(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        base.loadUnaligned(fromByteOffset: 4 * index, as: Float.self)
    }
}

enum F16Elements: FloatElements {
    static var size: Int { 2 }
    @inline(__always) static func vector(_ base: UnsafeRawPointer, _ index: Int) -> FloatVector {
        let low = base.loadUnaligned(fromByteOffset: 2 * index, as: SIMD8<Float16>.self)
        let high = base.loadUnaligned(fromByteOffset: 2 * index + 16, as: SIMD8<Float16>.self)
        return FloatVector(lowHalf: SIMD8(low), highHalf: SIMD8(high))
    }
    @inline(__always) static func scalar(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        Float(base.loadUnaligned(fromByteOffset: 2 * index, as: Float16.self))
    }
}

enum BF16Elements: FloatElements {
    static var size: Int { 2 }
    @inline(__always) static func vector(_ base: UnsafeRawPointer, _ index: Int) -> FloatVector {
        let low = base.loadUnaligned(fromByteOffset: 2 * index, as: SIMD8<UInt16>.self)
        let high = base.loadUnaligned(fromByteOffset: 2 * index + 16, as: SIMD8<UInt16>.self)
        return FloatVector(lowHalf: widenBF16(low), highHalf: widenBF16(high))
    }

    @inline(__always) private static func widenBF16(_ bits: SIMD8<UInt16>) -> SIMD8<Float> {
        unsafeBitCast(SIMD8<UInt32>(truncatingIfNeeded: bits) &<< 16, to: SIMD8<Float>.self)
    }
    @inline(__always) static func scalar(_ base: UnsafeRawPointer, _ index: Int) -> Float {
        Float(bfloat16Bits: base.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))
    }
}

/// 16 q8 elements as Floats, not yet scaled: vpmovsxbd + vcvtdq2ps per 8 lanes.
@inline(__always)
func q8Vector(_ base: UnsafeRawPointer, _ index: Int) -> FloatVector {
    FloatVector(lowHalf: q8Widen(base.loadUnaligned(fromByteOffset: index, as: SIMD8<Int8>.self)),
                highHalf: q8Widen(base.loadUnaligned(fromByteOffset: index + 8, as: SIMD8<Int8>.self)))
}

@inline(__always)
private func q8Widen(_ q: SIMD8<Int8>) -> SIMD8<Float> { SIMD8(SIMD8<Int32>(truncatingIfNeeded: q)) }

/// The 32 q4 elements of the block at `offset` bytes as Floats, not yet scaled: elements 0–15
/// from the low nibbles, 16–31 from the high ones.
@inline(__always)
func q4Vectors(_ base: UnsafeRawPointer, _ offset: Int) -> (FloatVector, FloatVector) {
    let bytes = base.loadUnaligned(fromByteOffset: offset, as: SIMD16<UInt8>.self)
    return (q4Widen(bytes & 0x0F), q4Widen(bytes &>> 4))
}

@inline(__always)
private func q4Widen(_ codes: SIMD16<UInt8>) -> FloatVector {
    // SIMD8 halves, as for q8: the SIMD16 conversion is a call.
    @inline(__always) func half(_ c: SIMD8<UInt8>) -> SIMD8<Float> { SIMD8(SIMD8<Int32>(truncatingIfNeeded: c) &- 8) }
    return FloatVector(lowHalf: half(codes.lowHalf), highHalf: half(codes.highHalf))
}

// MARK: - Matrix-vector product (decode)

/// out = W·x (+ bias): one output per row of `matrix`.
///
/// - Parameters:
///   - out: (rows), overwritten.
///   - matrix: W, (rows, columns) in any format.
///   - x: (columns).
///   - bias: (rows), or nil.
///
/// Rows are split over `parallelFor`'s threads, at least 64 KB of weights each (less runs inline:
/// waking a thread costs more than streaming that). Each thread reads its rows one after another
/// in memory order, one row at a time with four accumulators: a single sequential stream per
/// core. (Four rows at a time, sharing each load of x, was up to 1.4× slower from memory at
/// 768 columns — four short streams at once — and x is in L1 either way.)
public func packedMatrixVector(
    out: UnsafeMutablePointer<Float>, matrix: PackedMatrix, x: UnsafePointer<Float>, bias: UnsafePointer<Float>?
) {
    let rowBytes = max(1, matrix.byteCount / max(1, matrix.rows))
    nonisolated(unsafe) let out = out  // each thread writes its own rows
    parallelFor(matrix.rows, minimumPerThread: max(4, 65_536 / rowBytes)) { rows in
        switch matrix.format {
        case .f32: rowDots(F32Elements.self, out: out, matrix: matrix, x: x, bias: bias, rows: rows)
        case .f16: rowDots(F16Elements.self, out: out, matrix: matrix, x: x, bias: bias, rows: rows)
        case .bf16: rowDots(BF16Elements.self, out: out, matrix: matrix, x: x, bias: bias, rows: rows)
        case .q8, .q4: quantizedRowDots(out: out, matrix: matrix, x: x, bias: bias, rows: rows)
        }
    }
}

/// `packedMatrixVector` over `rows` for F32, F16 or BF16 elements.
private func rowDots<E: FloatElements>(
    _: E.Type, out: UnsafeMutablePointer<Float>, matrix: PackedMatrix, x: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, rows: Range<Int>
) {
    let n = matrix.columns, rowBytes = n * E.size
    for r in rows {
        let w = matrix.elements + r * rowBytes
        var a0 = FloatVector(), a1 = FloatVector(), a2 = FloatVector(), a3 = FloatVector()
        var j = 0
        while j + 64 <= n {
            a0.addProduct(E.vector(w, j), x.vector(at: j))
            a1.addProduct(E.vector(w, j + 16), x.vector(at: j + 16))
            a2.addProduct(E.vector(w, j + 32), x.vector(at: j + 32))
            a3.addProduct(E.vector(w, j + 48), x.vector(at: j + 48))
            j += 64
        }
        while j + 16 <= n {
            a0.addProduct(E.vector(w, j), x.vector(at: j))
            j += 16
        }
        var dot = horizontalSum((a0 + a1) + (a2 + a3))
        while j < n {
            dot += E.scalar(w, j) * x[j]
            j += 1
        }
        out[r] = dot + (bias?[r] ?? 0)
    }
}

/// `packedMatrixVector` over `rows` for q8 and q4: per block of 32, the dot of the raw integers
/// with x (`block`), then times the block's scale — one multiply-add per 32 elements instead of
/// one per element. Two blocks per step into two accumulators, so consecutive scale multiply-adds
/// overlap. A q8 block is 32 bytes, a q4 block 16 (low nibbles elements 0–15, high 16–31).
@inline(__always)
private func quantizedRowDots(
    out: UnsafeMutablePointer<Float>, matrix: PackedMatrix, x: UnsafePointer<Float>,
    bias: UnsafePointer<Float>?, rows: Range<Int>
) {
    let n = matrix.columns, blocks = n / PackedMatrix.blockSize
    let q4 = matrix.format == .q4
    let rowBytes = q4 ? n / 2 : n
    for r in rows {
        let w = matrix.elements + r * rowBytes, scales = matrix.scales! + r * blocks
        @inline(__always) func block(_ b: Int) -> FloatVector {
            let j = b * PackedMatrix.blockSize
            let (low, high) = q4 ? q4Vectors(w, b * 16) : (q8Vector(w, j), q8Vector(w, j + 16))
            return (low * x.vector(at: j)).addingProduct(high, x.vector(at: j + 16))
        }
        var a0 = FloatVector(), a1 = FloatVector()
        var b = 0
        while b + 2 <= blocks {
            a0.addProduct(block(b), FloatVector(repeating: scales[b]))
            a1.addProduct(block(b + 1), FloatVector(repeating: scales[b + 1]))
            b += 2
        }
        if b < blocks { a0.addProduct(block(b), FloatVector(repeating: scales[b])) }
        out[r] = horizontalSum(a0 + a1) + (bias?[r] ?? 0)
    }
}

/// The reference for `packedMatrixVector`: every element through `PackedMatrix.element`, the
/// textbook loop, accumulating in Double.
public func packedMatrixVectorNaive(
    out: UnsafeMutablePointer<Float>, matrix: PackedMatrix, x: UnsafePointer<Float>, bias: UnsafePointer<Float>?
) {
    for r in 0..<matrix.rows {
        var sum = Double(bias?[r] ?? 0)
        for c in 0..<matrix.columns { sum += Double(matrix.element(row: r, column: c)) * Double(x[c]) }
        out[r] = Float(sum)
    }
}

// MARK: - Matrix product (prefill)

/// out = inp · Wᵀ (+ bias): `packedMatrixVector` for `n` rows at once (prefill).
///
/// - Parameters:
///   - out: (n, matrix.rows), overwritten.
///   - inp: (n, matrix.columns).
///   - matrix: W, (rows, columns) in any format.
///   - bias: (matrix.rows), or nil.
///   - n: rows of `inp`.
///
/// One row is `packedMatrixVector`. Several go through OpenBLAS's GEMM: F32 directly; the
/// compressed formats a block of W's rows at a time, widened to Float in a scratch buffer of at
/// most about 8 MB and multiplied into that block's columns of `out`, so the F32 copy of W never
/// exists whole and the GEMM still reuses each weight across all `n` rows.
public func packedMatmul(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, matrix: PackedMatrix,
    bias: UnsafePointer<Float>?, rows n: Int
) {
    if n == 1 {
        packedMatrixVector(out: out, matrix: matrix, x: inp, bias: bias)
        return
    }
    guard n > 0, matrix.rows > 0 else { return }
    Threads.configure()
    let (outDim, inDim) = (matrix.rows, matrix.columns)
    let beta = prefillBias(out, bias, rows: n, width: outDim)
    if matrix.format == .f32 {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(outDim), Int32(inDim),
            1, inp, Int32(inDim), matrix.elements.assumingMemoryBound(to: Float.self), Int32(inDim),
            beta, out, Int32(outDim))
        return
    }
    // Enough rows that the GEMM has work per call, few enough that the block stays in L3.
    // Widened on this thread alone: on the pool, its workers and OpenBLAS's (which spin on
    // sched_yield between GEMMs) fought over the cores at every block — a sixth of a prefill's
    // time in the scheduler — while the widening itself is a few percent of the GEMM's.
    let blockRows = min(outDim, max(16, min(2048, (8 << 20) / max(1, 4 * inDim))))
    let scratch = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * inDim)
    defer { scratch.deallocate() }
    for first in stride(from: 0, to: outDim, by: blockRows) {
        let count = min(blockRows, outDim - first)
        for r in 0..<count { dequantizeRow(matrix, row: first + r, into: scratch + r * inDim) }
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(count), Int32(inDim),
            1, inp, Int32(inDim), scratch, Int32(inDim), beta, out + first, Int32(outDim))
    }
}

/// The reference for `packedMatmul`: `packedMatrixVectorNaive` row by row.
public func packedMatmulNaive(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, matrix: PackedMatrix,
    bias: UnsafePointer<Float>?, rows n: Int
) {
    for r in 0..<n {
        packedMatrixVectorNaive(out: out + r * matrix.rows, matrix: matrix, x: inp + r * matrix.columns, bias: bias)
    }
}

// MARK: - Rows, quantization

/// Row `row` of `matrix` widened to Float: an embedding lookup from a packed table, or a block
/// of rows for `packedMatmul`.
///
/// - Parameters:
///   - into: (matrix.columns), overwritten.
public func dequantizeRow(_ matrix: PackedMatrix, row: Int, into: UnsafeMutablePointer<Float>) {
    precondition(row >= 0 && row < matrix.rows, "row \(row) out of 0..<\(matrix.rows)")
    let n = matrix.columns
    switch matrix.format {
    case .f32: into.update(from: (matrix.elements + 4 * row * n).assumingMemoryBound(to: Float.self), count: n)
    case .f16: widenRow(F16Elements.self, matrix.elements + 2 * row * n, n, into)
    case .bf16: widenRow(BF16Elements.self, matrix.elements + 2 * row * n, n, into)
    case .q8:
        let blocks = n / PackedMatrix.blockSize
        let q = matrix.elements + row * n, scales = matrix.scales! + row * blocks
        for b in 0..<blocks {
            let j = b * PackedMatrix.blockSize, scale = FloatVector(repeating: scales[b])
            into.storeVector(q8Vector(q, j) * scale, at: j)
            into.storeVector(q8Vector(q, j + 16) * scale, at: j + 16)
        }
    case .q4:
        let blocks = n / PackedMatrix.blockSize
        let q = matrix.elements + row * (n / 2), scales = matrix.scales! + row * blocks
        for b in 0..<blocks {
            let j = b * PackedMatrix.blockSize, scale = FloatVector(repeating: scales[b])
            let (low, high) = q4Vectors(q, b * 16)
            into.storeVector(low * scale, at: j)
            into.storeVector(high * scale, at: j + 16)
        }
    }
}

private func widenRow<E: FloatElements>(_: E.Type, _ row: UnsafeRawPointer, _ n: Int, _ into: UnsafeMutablePointer<Float>) {
    var j = 0
    while j + 16 <= n {
        into.storeVector(E.vector(row, j), at: j)
        j += 16
    }
    while j < n {
        into[j] = E.scalar(row, j)
        j += 1
    }
}

/// Quantizes a Float matrix to q8: per block of 32 consecutive elements of a row,
/// scale = max|x| / 127 and q = x / scale rounded to nearest (even), so |q·scale − x| ≤ scale/2
/// and the largest element maps to ±127 exactly. An all-zero block gets scale 0 and zeros.
///
/// - Parameters:
///   - source: (rows, columns); columns must be a multiple of 32.
///   - elements: (rows, columns), overwritten.
///   - scales: (rows, columns / 32), overwritten.
public func quantizeQ8(
    _ source: UnsafePointer<Float>, rows: Int, columns: Int,
    elements: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>
) {
    precondition(columns % PackedMatrix.blockSize == 0, "q8 needs columns divisible by \(PackedMatrix.blockSize), got \(columns)")
    for block in 0..<(rows * columns / PackedMatrix.blockSize) {
        let start = block * PackedMatrix.blockSize
        var largest: Float = 0
        for i in start..<start + PackedMatrix.blockSize { largest = max(largest, abs(source[i])) }
        let scale = largest / 127
        scales[block] = scale
        for i in start..<start + PackedMatrix.blockSize {
            let q = scale == 0 ? 0 : (source[i] / scale).rounded(.toNearestOrEven)
            elements[i] = Int8(max(-127, min(127, q)))
        }
    }
}

/// Quantizes a Float matrix to q4 (llama.cpp's Q4_0 rule): per block of 32 consecutive elements
/// of a row, scale = (the element of largest magnitude) / -8, so that element maps to -8 exactly,
/// and q = x / scale rounded to nearest (even), clamped to [-8, 7]: |q·scale − x| ≤ |scale|/2,
/// except on the far side, where +8 clamps to 7 (off by at most |scale|). Stored as described
/// at `PackedMatrix.elements`. An all-zero block gets scale 0 and zeros.
///
/// - Parameters:
///   - source: (rows, columns); columns must be a multiple of 32.
///   - elements: (rows, columns / 2), overwritten.
///   - scales: (rows, columns / 32), overwritten.
public func quantizeQ4(
    _ source: UnsafePointer<Float>, rows: Int, columns: Int,
    elements: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>
) {
    precondition(columns % PackedMatrix.blockSize == 0, "q4 needs columns divisible by \(PackedMatrix.blockSize), got \(columns)")
    for block in 0..<(rows * columns / PackedMatrix.blockSize) {
        let x = source + block * PackedMatrix.blockSize
        var extreme: Float = 0
        for i in 0..<PackedMatrix.blockSize where abs(x[i]) > abs(extreme) { extreme = x[i] }
        let scale = extreme / -8
        scales[block] = scale
        @inline(__always) func code(_ i: Int) -> UInt8 {
            let q = scale == 0 ? 0 : (x[i] / scale).rounded(.toNearestOrEven)
            return UInt8(max(-8, min(7, q)) + 8)
        }
        for j in 0..<16 { elements[block * 16 + j] = code(j) | code(j + 16) << 4 }
    }
}
