import CBLAS

/// A weight matrix for y = W·x kept in the dtype it was stored in, (rows, columns) row-major with
/// rows = outputs and columns = inputs. A view; it does not own memory.
public struct PackedMatrix: @unchecked Sendable {
    public enum Format: String, Sendable, CaseIterable { case f32, f16, bf16, q8, q4 }
    public let format: Format
    public let rows: Int
    public let columns: Int
    public let elements: UnsafeRawPointer
    public let scales: UnsafePointer<Float>?
    public static let blockSize = 32

    public init(format: Format, rows: Int, columns: Int, elements: UnsafeRawPointer, scales: UnsafePointer<Float>?) {
        precondition((format != .q8 && format != .q4) || (columns % Self.blockSize == 0 && scales != nil), "q8 needs blocks of 32 and scales")
        self.format = format
        self.rows = rows
        self.columns = columns
        self.elements = elements
        self.scales = scales
    }

    public var byteCount: Int {
        switch format {
        case .f32: rows * columns * 4
        case .f16, .bf16: rows * columns * 2
        case .q8: rows * columns + rows * columns / Self.blockSize * 4
        case .q4: rows * columns / 2 + rows * columns / Self.blockSize * 4
        }
    }

    @inline(__always) func element(_ r: Int, _ c: Int) -> Float {
        let k = r * columns + c
        switch format {
        case .f32: return elements.load(fromByteOffset: k * 4, as: Float.self)
        case .f16: return Float(Float16(bitPattern: elements.load(fromByteOffset: k * 2, as: UInt16.self)))
        case .bf16: return Float(bitPattern: UInt32(elements.load(fromByteOffset: k * 2, as: UInt16.self)) << 16)
        case .q8: return Float(elements.load(fromByteOffset: k, as: Int8.self)) * scales![k / Self.blockSize]
        case .q4:
            let (block, j) = (k / Self.blockSize, k % Self.blockSize)
            let byte = elements.load(fromByteOffset: block * 16 + j % 16, as: UInt8.self)
            return Float(Int(j < 16 ? byte & 0x0F : byte >> 4) - 8) * scales![block]
        }
    }
}

public func dequantizeRow(_ matrix: PackedMatrix, row: Int, into out: UnsafeMutablePointer<Float>) {
    for c in 0..<matrix.columns { out[c] = matrix.element(row, c) }
}

public func packedMatrixVector(out: UnsafeMutablePointer<Float>, matrix: PackedMatrix, x: UnsafePointer<Float>, bias: UnsafePointer<Float>?) {
    for r in 0..<matrix.rows {
        var sum: Float = bias?[r] ?? 0
        for c in 0..<matrix.columns { sum += matrix.element(r, c) * x[c] }
        out[r] = sum
    }
}

public func packedMatmul(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, matrix: PackedMatrix, bias: UnsafePointer<Float>?, rows N: Int) {
    for n in 0..<N { packedMatrixVector(out: out + n * matrix.rows, matrix: matrix, x: inp + n * matrix.columns, bias: bias) }
}

public func quantizeQ8(_ source: UnsafePointer<Float>, rows: Int, columns: Int, elements: UnsafeMutablePointer<Int8>, scales: UnsafeMutablePointer<Float>) {
    let blocks = rows * columns / PackedMatrix.blockSize
    for b in 0..<blocks {
        let start = b * PackedMatrix.blockSize
        var m: Float = 0
        for k in 0..<PackedMatrix.blockSize { m = max(m, abs(source[start + k])) }
        let scale = m / 127
        scales[b] = scale
        for k in 0..<PackedMatrix.blockSize {
            elements[start + k] = scale == 0 ? 0 : Int8(max(-127, min(127, (source[start + k] / scale).rounded())))
        }
    }
}

public func quantizeQ4(_ source: UnsafePointer<Float>, rows: Int, columns: Int, elements: UnsafeMutablePointer<UInt8>, scales: UnsafeMutablePointer<Float>) {
    let blocks = rows * columns / PackedMatrix.blockSize
    for b in 0..<blocks {
        let x = source + b * PackedMatrix.blockSize
        var extreme: Float = 0
        for k in 0..<PackedMatrix.blockSize where abs(x[k]) > abs(extreme) { extreme = x[k] }
        let scale = extreme / -8
        scales[b] = scale
        let inverse: Float = scale == 0 ? 0 : 1 / scale
        func code(_ k: Int) -> UInt8 { UInt8(max(0, min(15, (x[k] * inverse).rounded() + 8))) }
        for j in 0..<16 { elements[b * 16 + j] = code(j) | code(j + 16) << 4 }
    }
}
