// The decode kernels' bandwidth: GEMV over GPT-2-small shapes in every format, against OpenBLAS's
// sgemv. A measurement, not a test: skipped unless ATTNCHAT_KERNEL_BENCH=1, and meaningful only in
// a release build (see BENCHMARKS.md, "Decode kernels"). ATTNCHAT_THREADS sets the threads.
#if !KERNEL_BENCH_MAIN
import Testing

@Suite struct DecodeKernelBenchmarks {
    @Test(.enabled(if: decodeKernelBenchmarkRequested))
    func gemvBandwidth() {
        print(decodeKernelReport())
    }
}
#endif

import CBLAS
import Glibc
import Kernels

let decodeKernelBenchmarkRequested = getenv("ATTNCHAT_KERNEL_BENCH").map { String(cString: $0) == "1" } ?? false

/// One line per (shape, kernel): microseconds per GEMV and weight bytes read per second. Each
/// kernel cycles through enough copies of its matrix (≥ 192 MB) that every call streams from
/// memory, as decoding does, not from the 32 MB L3.
func decodeKernelReport() -> String {
    Threads.configure()
    var lines = ["threads \(Threads.count), BLAS core \(Threads.blasCoreName)"]
    for (rows, columns) in [(768, 3072), (3072, 768), (50257, 768)] {
        let count = rows * columns
        let megabytes = getenv("ATTNCHAT_KERNEL_BENCH_MB").flatMap { Int(String(cString: $0)) } ?? 192
        let copies = max(1, (megabytes << 20) / (count * 4))
        var state: UInt32 = 12345
        let source = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count {
            state = state &* 1_664_525 &+ 1_013_904_223
            source[i] = Float(Int32(bitPattern: state) >> 8) / Float(1 << 23)
        }
        let x = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, columns))
        for i in 0..<max(rows, columns) { x[i] = Float(i % 7) - 3 }
        let y = UnsafeMutablePointer<Float>.allocate(capacity: max(rows, columns))
        func measure(_ name: String, bytes: Int, copies: Int, _ call: (Int) -> Void) {
            for c in 0..<copies { call(c) }  // warm-up: page faults, thread start
            var calls = 0
            let start = now()
            while now() - start < 0.4 {
                call(calls % copies)
                calls += 1
            }
            let seconds = (now() - start) / Double(calls)
            lines.append(
                "\(rows)×\(columns) \(padded(name, 26)) "
                    + "\(format6(seconds * 1e6)) µs  \(format6(Double(bytes) / seconds / 1e9)) GB/s")
        }
        // F32 in the layout a GPT-2 Conv1D stores (inputs, outputs): the old sgemv against matrixVectorInOut.
        let f32Copies = copies
        let f32 = (0..<f32Copies).map { _ in
            let m = UnsafeMutablePointer<Float>.allocate(capacity: count)
            m.update(from: source, count: count)
            return m
        }
        measure("f32 sgemv Trans (old)", bytes: count * 4, copies: f32Copies) { c in
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(columns), Int32(rows), 1, f32[c], Int32(rows), x, 1, 0, y, 1)
        }
        measure("f32 matrixVectorInOut", bytes: count * 4, copies: f32Copies) { c in
            matrixVectorInOut(out: y, x: x, weight: f32[c], bias: nil, inDim: columns, outDim: rows)
        }
        // (rows, columns) = (outputs, inputs): nn.Linear's layout and the tied head's.
        measure("f32 sgemv NoTrans (old)", bytes: count * 4, copies: f32Copies) { c in
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(rows), Int32(columns), 1, f32[c], Int32(columns), x, 1, 0, y, 1)
        }
        for format in PackedMatrix.Format.allCases {
            let copies = max(1, (megabytes << 20) / (count * format.bitsPerElement / 8))
            let matrices: [PackedMatrix] = (0..<copies).map { c in
                if format == .f32 { return PackedMatrix(format: .f32, rows: rows, columns: columns, elements: f32[c % f32Copies]) }
                let elements = UnsafeMutableRawPointer.allocate(byteCount: count * format.bitsPerElement / 8, alignment: 64)
                var scales: UnsafeMutablePointer<Float>? = nil
                switch format {
                case .f16:
                    let h = elements.bindMemory(to: Float16.self, capacity: count)
                    for i in 0..<count { h[i] = Float16(source[i]) }
                case .bf16:
                    let b = elements.bindMemory(to: UInt16.self, capacity: count)
                    for i in 0..<count { b[i] = source[i].bfloat16Bits }
                case .q8:
                    scales = .allocate(capacity: count / PackedMatrix.blockSize)
                    quantizeQ8(source, rows: rows, columns: columns, elements: elements.bindMemory(to: Int8.self, capacity: count), scales: scales!)
                case .q4:
                    scales = .allocate(capacity: count / PackedMatrix.blockSize)
                    quantizeQ4(source, rows: rows, columns: columns, elements: elements.bindMemory(to: UInt8.self, capacity: count / 2), scales: scales!)
                case .f32: break
                }
                return PackedMatrix(format: format, rows: rows, columns: columns, elements: elements, scales: scales)
            }
            measure("\(format) packedMatrixVector", bytes: matrices[0].byteCount, copies: copies) { c in
                packedMatrixVector(out: y, matrix: matrices[c], x: x, bias: nil)
            }
            if format != .f32 {
                for m in matrices { m.elements.deallocate(); m.scales?.deallocate() }
            }
        }
        for m in f32 { m.deallocate() }
        source.deallocate()
        x.deallocate()
        y.deallocate()
    }
    return lines.joined(separator: "\n")
}

private func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

private func format6(_ value: Double) -> String {
    padded(String((value * 10).rounded() / 10), 8)
}

private func padded(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}
