import Glibc
import Synchronization
import Testing
@testable import Kernels

/// The pool behind `parallelFor`. Most tests make their own pool with more workers than the
/// machine has cores, so they exercise real parallel chunks whatever ATTNCHAT_THREADS says and
/// whatever other suites run at the same time.
@Suite struct WorkerPoolTests {
    /// Every index of 0..<count written exactly once, by the chunk that owns it.
    private func coverage(_ pool: WorkerPool, count: Int, threads: Int) -> [Int] {
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(1, count))
        defer { hits.deallocate() }
        hits.initialize(repeating: 0, count: max(1, count))
        nonisolated(unsafe) let shared = hits
        pool.run(count, threads: threads) { range in
            for i in range { shared[i] += 1 }
        }
        return Array(UnsafeBufferPointer(start: hits, count: count))
    }

    @Test func everyIndexRunsExactlyOnceInContiguousChunks() {
        let pool = WorkerPool(workers: 3)
        defer { pool.stop() }
        for (count, threads) in [(0, 4), (1, 4), (3, 4), (4, 4), (1000, 4), (1001, 3), (7, 2), (5, 1)] {
            #expect(coverage(pool, count: count, threads: threads) == [Int](repeating: 1, count: count))
        }
        // Chunks are contiguous and in order: chunk k of 4 over 10 is 10k/4 ..< 10(k+1)/4.
        let starts = Mutex<[Int]>([])
        pool.run(10, threads: 4) { range in starts.withLock { $0.append(range.lowerBound) } }
        #expect(starts.withLock { $0.sorted() } == [0, 2, 5, 7])
    }

    @Test func manyTinyJobsInARowAllComplete() {
        let pool = WorkerPool(workers: 2)
        defer { pool.stop() }
        let total = Atomic<Int>(0)
        for job in 0..<20_000 {
            pool.run(3 + job % 5, threads: 3) { range in total.wrappingAdd(range.count, ordering: .relaxed) }
        }
        let expected = (0..<20_000).reduce(0) { $0 + 3 + $1 % 5 }
        #expect(total.load(ordering: .relaxed) == expected)
    }

    @Test func aNestedCallRunsInlineInsteadOfDeadlocking() {
        let pool = WorkerPool(workers: 2)
        defer { pool.stop() }
        let inner = Atomic<Int>(0)
        pool.run(30, threads: 3) { outer in
            for _ in outer {
                pool.run(10, threads: 3) { range in inner.wrappingAdd(range.count, ordering: .relaxed) }
            }
        }
        #expect(inner.load(ordering: .relaxed) == 300)
        // Through the public entry point and the shared pool as well.
        let shared = Atomic<Int>(0)
        parallelFor(64) { outer in
            for _ in outer { parallelFor(64) { range in shared.wrappingAdd(range.count, ordering: .relaxed) } }
        }
        #expect(shared.load(ordering: .relaxed) == 64 * 64)
    }

    @Test func concurrentCallersEachGetTheirOwnCorrectResult() async {
        let pool = WorkerPool(workers: 2)
        defer { pool.stop() }
        // Four callers at once, each summing its own array many times: whoever finds the pool busy
        // runs inline, and no caller may see another's chunks.
        let results = await withTaskGroup(of: Bool.self) { group in
            for caller in 0..<4 {
                group.addTask {
                    let values = (0..<5000).map { Double($0 * (caller + 1)) }
                    let expected = values.reduce(0, +)
                    for _ in 0..<300 {
                        let sums = Mutex<Double>(0)
                        values.withUnsafeBufferPointer { buffer in
                            nonisolated(unsafe) let buffer = buffer
                            pool.run(buffer.count, threads: 3) { range in
                                let part = buffer[range].reduce(0, +)
                                sums.withLock { $0 += part }
                            }
                        }
                        if sums.withLock({ $0 }) != expected { return false }
                    }
                    return true
                }
            }
            var all: [Bool] = []
            for await ok in group { all.append(ok) }
            return all
        }
        #expect(results == [true, true, true, true])
    }

    @Test func idleWorkersParkAndStopUsingCPU() {
        let pool = WorkerPool(workers: 2)
        defer { pool.stop() }
        let total = Atomic<Int>(0)
        for _ in 0..<1000 { pool.run(100, threads: 3) { total.wrappingAdd($0.count, ordering: .relaxed) } }
        // Past the spin the workers sleep: over 200 ms they may use the tail of their spin and a
        // little scheduler noise, nowhere near the 400 ms two spinning threads would.
        usleep(20_000)
        let before = pool.workerCPUNanoseconds()
        #expect(before > 0, "the workers' CPU clocks could not be read")
        usleep(200_000)
        let used = pool.workerCPUNanoseconds() - before
        #expect(used < 20_000_000, "workers used \(used / 1000) µs of CPU while idle")
        // And a parked pool still wakes for the next job.
        #expect(coverage(pool, count: 50, threads: 3) == [Int](repeating: 1, count: 50))
    }
}
