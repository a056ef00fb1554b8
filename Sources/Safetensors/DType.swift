/// The element types of the safetensors format that attnchat understands, spelled as in the
/// header's `"dtype"` field. Data is always little-endian.
public enum DType: String, Sendable, CaseIterable, Comparable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .F64, .I64, .U64: return 8
        case .F32, .I32, .U32: return 4
        case .F16, .BF16, .I16, .U16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }

    /// True for the types ``SafetensorsFile/floats(_:)`` converts to `Float`.
    public var isFloatConvertible: Bool { self == .F32 || self == .F16 || self == .BF16 }

    /// Writer order: wider types first so every tensor starts aligned to its own element size,
    /// then by name (the order Python's `safetensors` uses).
    public static func < (lhs: DType, rhs: DType) -> Bool {
        lhs.byteSize != rhs.byteSize ? lhs.byteSize > rhs.byteSize : lhs.rawValue < rhs.rawValue
    }
}

/// Where one tensor lives in a loaded file. All offsets and counts are in bytes.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    /// Dimensions, outermost first (row-major); `[]` is a scalar with one element.
    public let shape: [Int]
    /// Offset of the first byte from the start of the file (not of the data section).
    public let byteOffset: Int
    /// `elementCount * dtype.byteSize`.
    public let byteCount: Int

    /// Product of `shape`; validated not to overflow when the file was loaded.
    public var elementCount: Int { byteCount / dtype.byteSize }

    public init(name: String, dtype: DType, shape: [Int], byteOffset: Int, byteCount: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteOffset = byteOffset
        self.byteCount = byteCount
    }
}

/// The product of `shape` times `byteSize`, or nil when a dimension is negative or the product
/// overflows `Int`.
func checkedByteCount(shape: [Int], byteSize: Int) -> Int? {
    var product = byteSize
    for dimension in shape {
        guard dimension >= 0 else { return nil }
        let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
        if overflow { return nil }
        product = next
    }
    return product
}
