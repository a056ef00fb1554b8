import Glibc
import Kernels
import Safetensors

// Weights kept as stored. Decoding a token reads every matrix once, so its speed is the memory
// bandwidth over the matrices' bytes: an F16 or BF16 file stays half the size of F32 in memory
// and decodes up to twice as fast, an 8-bit one a quarter. The loaders copy such matrices into
// `PackedMatrix` form — (out, in), `nn.Linear`'s order, whatever the file's — and keep norms,
// biases and learned positions in F32 (a few thousand values each: not worth a second kernel).

/// How an attnchat file's quantized matrices are stored: named in `__metadata__`
/// (`GPTModel.quantizationKey`), one scheme per file. Both keep a matrix (out, in) row-major in
/// blocks of 32 consecutive inputs, each with one F32 scale in the tensor `<name>_scale`,
/// shape (out, in / 32); an element is q · scale.
public enum Quantization: String, Sendable, CaseIterable {
    /// int8 q in [-127, 127], tensor dtype I8, shape (out, in); scale = max|x| / 127.
    case q8 = "q8_0-block32"
    /// 4-bit q in [-8, 7] stored as q + 8, two to a byte: byte j of a block's 16 holds element j
    /// in its low nibble and element j + 16 in its high one (llama.cpp's Q4_0 order, so a block
    /// unpacks with one mask and one shift); tensor dtype U8, shape (out, in / 2);
    /// scale = (the block's value of largest magnitude) / -8.
    case q4 = "q4_0-block32"

    /// The name `export --dtype` uses.
    public var dtypeName: String { self == .q8 ? "Q8" : "Q4" }
    /// The kernels' name for this layout.
    public var format: PackedMatrix.Format { self == .q8 ? .q8 : .q4 }
    /// The dtype of the elements' tensor.
    public var elementDType: DType { self == .q8 ? .I8 : .U8 }
    /// The stored shape of an (out, in) matrix's elements.
    public func elementShape(rows: Int, columns: Int) -> [Int] { self == .q8 ? [rows, columns] : [rows, columns / 2] }

    /// The two tensors a quantized file stores for the (rows, columns) row-major matrix
    /// `values`: its elements under `name` and their scales under `<name>_scale`.
    /// columns must be a multiple of 32.
    public func tensors(name: String, values: [Float], rows: Int, columns: Int) -> [SafetensorsWriter.Tensor] {
        let shape = elementShape(rows: rows, columns: columns)
        var elements = [UInt8](repeating: 0, count: shape[0] * shape[1])
        var scales = [Float](repeating: 0, count: rows * columns / PackedMatrix.blockSize)
        values.withUnsafeBufferPointer { v in
            elements.withUnsafeMutableBufferPointer { e in
                scales.withUnsafeMutableBufferPointer { sc in
                    switch self {
                    case .q8:
                        let signed = UnsafeMutableRawPointer(e.baseAddress!).assumingMemoryBound(to: Int8.self)
                        quantizeQ8(v.baseAddress!, rows: rows, columns: columns, elements: signed, scales: sc.baseAddress!)
                    case .q4:
                        quantizeQ4(v.baseAddress!, rows: rows, columns: columns, elements: e.baseAddress!, scales: sc.baseAddress!)
                    }
                }
            }
        }
        return [
            SafetensorsWriter.Tensor(name: name, dtype: elementDType, shape: shape, bytes: elements),
            SafetensorsWriter.Tensor(name: GPTModel.scaleName(name), shape: [rows, columns / PackedMatrix.blockSize], floats: scales),
        ]
    }
}

extension GPTModel {
    /// The `__metadata__` key that names a file's `Quantization`.
    public static let quantizationKey = "quantization"

    /// The scale tensor of the quantized matrix `name`.
    public static func scaleName(_ name: String) -> String { name + "_scale" }
}

/// Builds the packed matrices of one model while it loads.
struct PackedBuilder {
    let memory = PackedMemory()
    private(set) var matrices: [String: PackedMatrix] = [:]

    /// One source of a packed matrix's rows.
    struct Source {
        let file: SafetensorsFile
        let info: TensorInfo
        /// True for a projection stored (in, out) (GPT-2's `Conv1D`, attnchat's files): its
        /// columns become rows. False for rows stored as they are ((out, in), or a (V, C) table).
        let columnsAreRows: Bool
    }

    /// Copies F16 or BF16 `sources`, stacked as rows, into one (rows, columns) matrix `name`.
    /// The dtype of the first source decides the format; all must share it.
    mutating func packHalf(name: String, rows: Int, columns: Int, sources: [Source]) throws(GPTError) {
        let dtype = sources[0].info.dtype
        precondition(dtype == .F16 || dtype == .BF16, "packHalf wants F16 or BF16")
        let elements = memory.allocate(bytes: rows * columns * 2).bindMemory(to: UInt16.self, capacity: rows * columns)
        var row = 0
        for source in sources {
            let info = source.info
            precondition(info.dtype == dtype, "mixed dtypes in one packed matrix")
            // (in, out) pieces become `columns` wide rows; row pieces must already be that wide.
            precondition(info.shape.count == 2 && info.shape[source.columnsAreRows ? 0 : 1] == columns, "piece of another width")
            let start = elements + row * columns
            do {
                try source.file.withRawBytes(of: info.name) { raw in
                    if source.columnsAreRows {
                        let (inDim, outDim) = (info.shape[0], info.shape[1])
                        for i in 0..<inDim {
                            for o in 0..<outDim {
                                start[o * columns + i] = raw.loadUnaligned(fromByteOffset: (i * outDim + o) * 2, as: UInt16.self)
                            }
                        }
                    } else {
                        memcpy(start, raw.baseAddress!, info.byteCount)
                    }
                }
            } catch let error as SafetensorsError {
                throw .weights(message: error.description, exitCode: error.exitCode)
            } catch {
                throw .weights(message: "\(source.file.path): \(info.name): \(error)", exitCode: 74)
            }
            let count = info.elementCount
            try Self.requireFinite(start, count: count, dtype: dtype, path: source.file.path, tensor: info.name, transposedRows: source.columnsAreRows ? info.shape[1] : nil, columns: columns)
            row += count / columns
        }
        precondition(row == rows, "sources do not fill the matrix")
        matrices[name] = PackedMatrix(format: dtype == .F16 ? .f16 : .bf16, rows: rows, columns: columns, elements: UnsafeRawPointer(elements), scales: nil)
    }

    /// Copies a quantized matrix of (rows, columns) — its `elements` as stored under `scheme`
    /// — and its F32 scales.
    mutating func packQuantized(
        name: String, scheme: Quantization, rows: Int, columns: Int, file: SafetensorsFile, elements info: TensorInfo, scales scaleInfo: TensorInfo
    ) throws(GPTError) {
        let scaleValues: [Float]
        do { scaleValues = try file.floats(scaleInfo.name) } catch { throw .weights(message: error.description, exitCode: error.exitCode) }
        let elements = memory.allocate(bytes: rows * columns)
        let scales = memory.allocate(bytes: scaleValues.count * 4).bindMemory(to: Float.self, capacity: scaleValues.count)
        scales.initialize(from: scaleValues, count: scaleValues.count)
        do {
            _ = try file.withRawBytes(of: info.name) { raw in memcpy(elements, raw.baseAddress!, info.byteCount) }
        } catch let error as SafetensorsError {
            throw .weights(message: error.description, exitCode: error.exitCode)
        } catch {
            throw .weights(message: "\(file.path): \(info.name): \(error)", exitCode: 74)
        }
        matrices[name] = PackedMatrix(format: scheme.format, rows: rows, columns: columns, elements: UnsafeRawPointer(elements), scales: UnsafePointer(scales))
    }

    /// Weights must be finite (the F32 loader's rule): names the first bad element as the file
    /// indexes it.
    private static func requireFinite(
        _ values: UnsafePointer<UInt16>, count: Int, dtype: DType, path: String, tensor: String, transposedRows outDim: Int?, columns: Int
    ) throws(GPTError) {
        let exponent: UInt16 = dtype == .F16 ? 0x7C00 : 0x7F80
        var bad = false
        for k in 0..<count { bad = bad || values[k] & exponent == exponent }
        guard bad else { return }
        let k = (0..<count).first { values[$0] & exponent == exponent }!
        // Where that element sits in the file: (in, out) sources were transposed on the way in.
        let index = outDim.map { (k % columns) * $0 + k / columns } ?? k
        let bits = values[k]
        let value = dtype == .F16 ? Float(Float16(bitPattern: bits)) : Float(bitPattern: UInt32(bits) << 16)
        let error = SafetensorsError.nonFiniteValue(path: path, tensor: tensor, index: index, value: value)
        throw .weights(message: error.description, exitCode: error.exitCode)
    }
}

extension GPTModel {
    /// This model with every packable matrix held as `format` (f16, bf16, q8, q4) — what loading
    /// a file of that dtype gives, without writing one. Benchmarks use it on random weights of
    /// any architecture (a Llama cannot be written as an attnchat file).
    public func packed(as format: PackedMatrix.Format) -> GPTModel {
        precondition(format != .f32, "an F32 model is this one")
        precondition(weights.packed.isEmpty, "already packed")
        let layout = GPTWeights.Layout(config: config)
        let memory = PackedMemory()
        var matrices: [String: PackedMatrix] = [:]
        for t in layout.tensors where GPTWeights.Layout.isPackable(t.name) {
            let isTable = GPTWeights.Layout.isTable(t.name)
            let (rows, columns) = isTable ? (t.shape[0], t.shape[1]) : (t.shape[1], t.shape[0])
            if (format == .q8 || format == .q4) && columns % PackedMatrix.blockSize != 0 { continue }
            var values = weights.floatValues(name: t.name, shape: t.shape)
            if !isTable {
                let source = values
                for i in 0..<columns { for o in 0..<rows { values[o * columns + i] = source[i * rows + o] } }
            }
            let count = rows * columns
            let blocks = count / PackedMatrix.blockSize
            var scales: UnsafeMutablePointer<Float>?
            let elements: UnsafeMutableRawPointer
            switch format {
            case .f16:
                elements = memory.allocate(bytes: count * 2)
                let halves = elements.bindMemory(to: UInt16.self, capacity: count)
                for k in 0..<count { halves[k] = Float16(values[k]).bitPattern }
            case .bf16:
                elements = memory.allocate(bytes: count * 2)
                let halves = elements.bindMemory(to: UInt16.self, capacity: count)
                for k in 0..<count {
                    // Round to nearest even on the 16 bits dropped (weights are finite).
                    let bits = values[k].bitPattern
                    halves[k] = UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
                }
            case .q8:
                elements = memory.allocate(bytes: count)
                scales = memory.allocate(bytes: blocks * 4).bindMemory(to: Float.self, capacity: blocks)
                quantizeQ8(values, rows: rows, columns: columns, elements: elements.bindMemory(to: Int8.self, capacity: count), scales: scales!)
            case .q4:
                elements = memory.allocate(bytes: count / 2)
                scales = memory.allocate(bytes: blocks * 4).bindMemory(to: Float.self, capacity: blocks)
                quantizeQ4(values, rows: rows, columns: columns, elements: elements.bindMemory(to: UInt8.self, capacity: count / 2), scales: scales!)
            case .f32:
                preconditionFailure()
            }
            matrices[t.name] = PackedMatrix(format: format, rows: rows, columns: columns, elements: UnsafeRawPointer(elements), scales: scales.map { UnsafePointer($0) })
        }
        let packed = GPTWeights(config: config, packed: matrices, memory: memory)
        for t in packed.tensors {
            weights.withTensor(weights.tensor(named: t.name)!) { source in
                _ = packed.mutableBuffer(t).update(fromContentsOf: source)
            }
        }
        return GPTModel(weights: packed)
    }
}
