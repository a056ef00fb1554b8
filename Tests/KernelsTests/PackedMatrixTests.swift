import Testing
@testable import Kernels

/// A packed copy of a Float matrix that owns its memory for as long as the test holds it
/// (`PackedMatrix` is only a view).
final class PackedFixture {
    let matrix: PackedMatrix
    private let storage: UnsafeMutableRawPointer
    private let scaleStorage: UnsafeMutablePointer<Float>?

    init(_ source: [Float], rows: Int, columns: Int, format: PackedMatrix.Format) {
        precondition(source.count == rows * columns)
        let count = rows * columns
        storage = .allocate(byteCount: max(1, count * format.bitsPerElement / 8), alignment: 64)
        switch format {
        case .f32:
            storage.initializeMemory(as: Float.self, from: source, count: count)
            scaleStorage = nil
        case .f16:
            storage.initializeMemory(as: Float16.self, from: source.map { Float16($0) }, count: count)
            scaleStorage = nil
        case .bf16:
            storage.initializeMemory(as: UInt16.self, from: source.map(\.bfloat16Bits), count: count)
            scaleStorage = nil
        case .q8:
            let scales = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count / PackedMatrix.blockSize))
            quantizeQ8(source, rows: rows, columns: columns, elements: storage.bindMemory(to: Int8.self, capacity: count), scales: scales)
            scaleStorage = scales
        case .q4:
            let scales = UnsafeMutablePointer<Float>.allocate(capacity: max(1, count / PackedMatrix.blockSize))
            quantizeQ4(source, rows: rows, columns: columns, elements: storage.bindMemory(to: UInt8.self, capacity: count / 2), scales: scales)
            scaleStorage = scales
        }
        matrix = PackedMatrix(format: format, rows: rows, columns: columns, elements: storage, scales: scaleStorage)
    }

    deinit {
        storage.deallocate()
        scaleStorage?.deallocate()
    }
}

@Suite struct PackedMatrixTests {
    /// (rows, columns): 1 and 3 rows miss the four-row group, 257 and 1031 leave remainders (and
    /// 1031 × 288 is big enough to be split over threads); columns not a multiple of 16 or 8
    /// exercise the scalar tail, which q8 (columns a multiple of 32) never has.
    static let shapes = [(1, 64), (3, 96), (257, 32), (1031, 288), (1, 7), (3, 45), (257, 100), (6, 8)]

    @Test(arguments: PackedMatrix.Format.allCases, shapes)
    func matrixVectorMatchesNaiveTwin(format: PackedMatrix.Format, shape: (Int, Int)) {
        let (rows, columns) = shape
        if format.isQuantized && columns % PackedMatrix.blockSize != 0 { return }
        var rng = TestRNG(seed: UInt64(rows * 7919 + columns))
        let fixture = PackedFixture(rng.floats(rows * columns), rows: rows, columns: columns, format: format)
        let x = rng.floats(columns), bias = rng.floats(rows)
        for b in [bias, nil] {
            var fast = [Float](repeating: .nan, count: rows)
            var slow = fast
            packedMatrixVector(out: &fast, matrix: fixture.matrix, x: x, bias: b)
            packedMatrixVectorNaive(out: &slow, matrix: fixture.matrix, x: x, bias: b)
            #expect(maxError(fast, slow) < 1e-5, "\(format) \(rows)×\(columns) bias: \(b != nil)")
        }
    }

    /// N = 1 is the GEMV; 2 and 17 the blocked GEMM, over 4500 rows of 64 = two full blocks of
    /// 2048 and a part.
    @Test(arguments: PackedMatrix.Format.allCases, [1, 2, 17])
    func matmulMatchesNaiveTwin(format: PackedMatrix.Format, n: Int) {
        let (rows, columns) = (4500, 64)
        var rng = TestRNG(seed: UInt64(n))
        let fixture = PackedFixture(rng.floats(rows * columns), rows: rows, columns: columns, format: format)
        let inp = rng.floats(n * columns), bias = rng.floats(rows)
        for b in [bias, nil] {
            var fast = [Float](repeating: .nan, count: n * rows)
            var slow = fast
            packedMatmul(out: &fast, inp: inp, matrix: fixture.matrix, bias: b, rows: n)
            packedMatmulNaive(out: &slow, inp: inp, matrix: fixture.matrix, bias: b, rows: n)
            #expect(maxError(fast, slow) < 1e-5, "\(format) N=\(n) bias: \(b != nil)")
        }
    }

    /// Half precision changes only the weights, not the arithmetic: the F16 and BF16 kernels give
    /// what the F32 kernel gives on the same weights widened to Float.
    @Test(arguments: [PackedMatrix.Format.f16, .bf16])
    func halfFormatsEqualTheF32KernelOnWidenedWeights(format: PackedMatrix.Format) {
        let (rows, columns) = (771, 333)
        var rng = TestRNG(seed: 99)
        let source = rng.floats(rows * columns, scale: 3)
        let widened = format == .f16 ? source.map { Float(Float16($0)) } : source.map { Float(bfloat16Bits: $0.bfloat16Bits) }
        let packed = PackedFixture(source, rows: rows, columns: columns, format: format)
        let reference = PackedFixture(widened, rows: rows, columns: columns, format: .f32)
        let x = rng.floats(columns)
        var half = [Float](repeating: .nan, count: rows), single = half
        packedMatrixVector(out: &half, matrix: packed.matrix, x: x, bias: nil)
        packedMatrixVector(out: &single, matrix: reference.matrix, x: x, bias: nil)
        for r in 0..<rows { #expect(abs(half[r] - single[r]) <= 1e-5 * max(abs(single[r]), 1e-3)) }
    }

    @Test(arguments: PackedMatrix.Format.allCases)
    func dequantizedRowsAreTheElements(format: PackedMatrix.Format) {
        let (rows, columns) = format.isQuantized ? (5, 96) : (5, 37)
        var rng = TestRNG(seed: 5)
        let fixture = PackedFixture(rng.floats(rows * columns), rows: rows, columns: columns, format: format)
        var row = [Float](repeating: .nan, count: columns)
        for r in 0..<rows {
            dequantizeRow(fixture.matrix, row: r, into: &row)
            #expect(row == (0..<columns).map { fixture.matrix.element(row: r, column: $0) })
        }
    }

    @Test func q8RoundTripIsWithinHalfAStepPerElement() {
        let (rows, columns) = (7, 160)
        var rng = TestRNG(seed: 8)
        let source = rng.floats(rows * columns, scale: 5)
        let fixture = PackedFixture(source, rows: rows, columns: columns, format: .q8)
        let scales = fixture.matrix.scales!
        for r in 0..<rows {
            for c in 0..<columns {
                let scale = scales[r * columns / 32 + c / 32]
                let error = abs(fixture.matrix.element(row: r, column: c) - source[r * columns + c])
                #expect(error <= scale / 2 * (1 + 1e-5))
            }
        }
        // The largest element of each block is exactly ±127 steps.
        let q = fixture.matrix.elements.assumingMemoryBound(to: Int8.self)
        for block in 0..<(rows * columns / 32) {
            #expect((0..<32).map { abs(Int(q[block * 32 + $0])) }.max() == 127)
        }
    }

    @Test func q8ZeroBlockAndOutlierBlock() {
        var source = [Float](repeating: 0, count: 64)
        for i in 32..<64 { source[i] = Float(i - 48) / 16 }  // within ±1
        source[40] = 1e6
        var elements = [Int8](repeating: 99, count: 64)
        var scales = [Float](repeating: .nan, count: 2)
        quantizeQ8(source, rows: 1, columns: 64, elements: &elements, scales: &scales)
        #expect(scales[0] == 0)
        #expect(elements[0..<32].allSatisfy { $0 == 0 })
        // One huge value takes the whole range: it survives exactly, the small ones become 0.
        #expect(scales[1] == 1e6 / 127)
        #expect(elements[40] == 127)
        #expect(elements[32..<64].enumerated().allSatisfy { $0.offset == 8 || $0.element == 0 })
    }

    @Test func q4RoundTripIsWithinHalfAStepAndTheExtremeIsMinusEight() {
        let (rows, columns) = (7, 160)
        var rng = TestRNG(seed: 9)
        let source = rng.floats(rows * columns, scale: 5)
        let fixture = PackedFixture(source, rows: rows, columns: columns, format: .q4)
        let scales = fixture.matrix.scales!
        for r in 0..<rows {
            for c in 0..<columns {
                let block = r * columns / 32 + c / 32
                let scale = abs(scales[block])
                let value = source[r * columns + c]
                let error = abs(fixture.matrix.element(row: r, column: c) - value)
                // Values on the far side of the extreme can clamp from +8 to +7: a whole step.
                let clamped = scales[block] != 0 && (value / scales[block]).rounded(.toNearestOrEven) > 7
                #expect(error <= scale * (clamped ? 1 : 0.5) * (1 + 1e-5))
            }
        }
        // The block's value of largest magnitude is exactly -8 steps.
        for block in 0..<(rows * columns / 32) {
            let r = block / (columns / 32), first = (block % (columns / 32)) * 32
            let values = (0..<32).map { source[r * columns + first + $0] }
            let extreme = values.max { abs($0) < abs($1) }!
            let i = values.firstIndex(of: extreme)!
            #expect(fixture.matrix.element(row: r, column: first + i) == extreme)
        }
    }

    /// The nibble order: byte j of a block holds element j low and element j + 16 high.
    @Test func q4PacksElementJAndJPlus16IntoByteJ() {
        let source = (0..<32).map { Float($0 - 16) / 2 }  // -8 … 7.5 in steps of 0.5: scale 1
        var elements = [UInt8](repeating: 0, count: 16)
        var scales = [Float](repeating: .nan, count: 1)
        quantizeQ4(source, rows: 1, columns: 32, elements: &elements, scales: &scales)
        #expect(scales[0] == 1)
        for j in 0..<16 {
            let low = Int(elements[j] & 0x0F) - 8, high = Int(elements[j] >> 4) - 8
            #expect(Float(low) == source[j].rounded(.toNearestOrEven))
            #expect(Float(high) == min(7, source[j + 16].rounded(.toNearestOrEven)))
        }
    }

    @Test func bfloat16RoundsToNearestEven() {
        let ulp = Float(1) / 128  // bfloat16 keeps 7 fraction bits
        #expect(Float(bfloat16Bits: Float(1 + ulp / 2).bfloat16Bits) == 1)  // tie, 1 is even
        #expect(Float(bfloat16Bits: Float(1 + 3 * ulp / 2).bfloat16Bits) == 1 + 2 * ulp)  // tie, up to even
        #expect(Float(bfloat16Bits: Float(1 + ulp / 2 + ulp / 64).bfloat16Bits) == 1 + ulp)  // past the tie
        #expect(Float(bfloat16Bits: Float(-2.5).bfloat16Bits) == -2.5)
        #expect(Float(bfloat16Bits: Float.infinity.bfloat16Bits) == .infinity)
        #expect(Float(bfloat16Bits: Float.nan.bfloat16Bits).isNaN)
    }

    @Test func byteCountCountsElementsAndScales() {
        let dummy = UnsafeRawPointer(bitPattern: 64)!
        let scales = UnsafePointer<Float>(bitPattern: 64)!
        #expect(PackedMatrix(format: .f32, rows: 3, columns: 10, elements: dummy).byteCount == 120)
        #expect(PackedMatrix(format: .bf16, rows: 3, columns: 10, elements: dummy).byteCount == 60)
        #expect(PackedMatrix(format: .q8, rows: 3, columns: 64, elements: dummy, scales: scales).byteCount == 3 * 64 + 3 * 2 * 4)
        #expect(PackedMatrix(format: .q4, rows: 3, columns: 64, elements: dummy, scales: scales).byteCount == 3 * 32 + 3 * 2 * 4)
    }
}
