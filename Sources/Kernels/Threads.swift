import CBLAS
import FoundationEssentials

/// How many threads attnchat's parallel loops and OpenBLAS use: every core unless
/// `ATTNCHAT_THREADS` says otherwise.
///
/// OpenBLAS and `parallelFor` are given the same number of threads and take turns: every kernel
/// finishes before the next starts, so the two pools never run at once and never oversubscribe.
public enum Threads {
    /// The thread count, read once from `ATTNCHAT_THREADS` (a positive integer) or the core count.
    public static let count: Int = {
        let words = ProcessInfo.processInfo.environment["ATTNCHAT_THREADS"]?.split(whereSeparator: \.isWhitespace) ?? []
        if words.count == 1, let n = Int(words[0]), n > 0 { return min(n, 256) }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    private static let configured: Void = {
        attnchat_select_blas_core()
        openblas_set_num_threads(Int32(count))
    }()

    /// Chooses OpenBLAS's kernels for this CPU (unless `OPENBLAS_CORETYPE` is set) and applies
    /// `count` to it, and tells attnchat's pool that OpenBLAS is in use (its idle workers stop
    /// spinning for a while). Every BLAS-calling kernel calls it first.
    public static func configure() {
        _ = configured
        WorkerPool.noteBLASCall()
    }

    /// The OpenBLAS kernel family in use (e.g. "Haswell", "SkylakeX"), which `OPENBLAS_CORETYPE` can force.
    public static var blasCoreName: String {
        configure()
        guard let name = attnchat_blas_core_name() else { return "unknown" }
        return String(cString: name)
    }
}

/// Runs `body` over `0..<count` split into contiguous chunks, one per thread, on at most
/// `Threads.count` threads: the caller runs the first chunk, `WorkerPool.shared`'s parked workers
/// the others. Work smaller than `minimumPerThread` items per thread runs inline, since waking a
/// thread costs a few microseconds; so does a call made while the pool is busy (from inside a
/// body, or from a second thread while another's loop runs), which therefore never deadlocks.
///
/// `body` must only write to memory that belongs to its own range.
@inlinable
public func parallelFor(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = min(Threads.count, count / max(1, minimumPerThread))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    WorkerPool.shared.run(count, threads: threads, body)
}
