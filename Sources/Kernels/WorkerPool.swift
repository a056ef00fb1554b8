import Glibc
import Synchronization

/// attnchat's own worker threads for `parallelFor`: `workers` threads plus the calling thread.
///
/// Chunks are claimed, not assigned: the caller and the workers take the next unclaimed chunk
/// until none is left, so a worker that the scheduler has pushed off its core (on 2 cores, the
/// chat UI's thread does that ten times a second) does not hold up the token — the caller runs
/// its chunk instead of waiting for it to come back.
///
/// A worker that has nothing to do spins for `spinNanoseconds` (the kernels of one decoded token
/// come microseconds apart, and waking a sleeping thread costs more than that), then parks on a
/// condition variable, so an idle attnchat uses no CPU (OpenBLAS's threads, by contrast, spin for
/// long after each call and take a core from the UI thread).
///
/// One job runs at a time. A caller that finds the pool busy — another thread's job, or a
/// `parallelFor` nested inside a body, on the caller or on a worker — runs its work inline on its
/// own thread instead of waiting, so concurrent callers never deadlock and never wait on each other.
@usableFromInline
final class WorkerPool: @unchecked Sendable {
    /// How long an idle worker spins before it parks — unless OpenBLAS ran within
    /// `blasQuietNanoseconds` (see `noteBLASCall`).
    static let spinNanoseconds = 50_000

    /// A worker does not spin while OpenBLAS is being used — a prompt's or a training step's
    /// GEMMs come every few hundred microseconds there, and a worker spinning beside them takes
    /// a core from OpenBLAS's threads (training lost 7%, prefill up to a third). Decoding calls
    /// no BLAS, so its workers spin and catch the next kernel of the token without a wake-up.
    static let blasQuietNanoseconds = 2_000_000

    /// When `Threads.configure()` last ran before a BLAS call, in `now()` nanoseconds.
    private static let lastBLASCall = Atomic<Int>(0)

    /// Called before every OpenBLAS call (by `Threads.configure()`).
    static func noteBLASCall() { lastBLASCall.store(now(), ordering: .relaxed) }

    /// The pool `parallelFor` uses: `Threads.count - 1` workers, created on first use.
    @usableFromInline
    static let shared = WorkerPool(workers: Threads.count - 1)

    let workers: Int

    /// The job's generation and how many threads (the caller included) take part, in one word so
    /// a worker learns both at once: `generation << 16 | threads`. `threads == 0` tells the
    /// workers to exit. Stored (releasing) after the job's fields, read (acquiring) before them.
    private let signal = Atomic<Int>(0)
    /// Chunks of the current job not yet finished.
    private let remaining = Atomic<Int>(0)
    /// The next chunk to claim, tagged with the job's generation like `signal`
    /// (`generation << 16 | chunk`), so a worker that wakes after its job has ended cannot claim
    /// a chunk of the next one with the wrong thread count.
    private let claims = Atomic<Int>(0)
    /// Held by the caller that owns the pool while its job runs.
    private let busy = Atomic<Bool>(false)

    // The job. Written by the owning caller before `signal` is stored and read by the workers
    // that take part after they load it; the caller does not touch them again until `remaining`
    // is 0, so the accesses never overlap.
    private nonisolated(unsafe) var body: ((Range<Int>) -> Void)?
    private nonisolated(unsafe) var count = 0

    // Parking: workers wait on `wake` for a new signal, the caller on `done` for the last chunk.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private nonisolated(unsafe) var sleepers = 0  // under `mutex`
    private nonisolated(unsafe) var threadIDs: [pthread_t] = []

    /// Starts `workers` threads (0 is allowed: every job then runs inline).
    init(workers: Int) {
        self.workers = max(0, workers)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        for index in 0..<self.workers {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, chunk: index + 1)).toOpaque()
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { context in
                let worker = Unmanaged<WorkerContext>.fromOpaque(context!).takeRetainedValue()
                worker.pool.workerLoop(chunk: worker.chunk)
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed (\(status))")
            threadIDs.append(thread)
        }
    }

    /// Ends and joins the workers; the pool runs every later job inline. Only for pools a test made:
    /// the shared one lives as long as the process.
    func stop() {
        while !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {}
        publish(threads: 0)
        for thread in threadIDs { pthread_join(thread, nil) }
        threadIDs = []
        // `busy` stays set: nothing may use the pool again.
    }

    /// The CPU time the workers have used, in nanoseconds (for the test that they park).
    func workerCPUNanoseconds() -> Int {
        threadIDs.reduce(0) { total, thread in
            var clock = clockid_t()
            var time = timespec()
            guard pthread_getcpuclockid(thread, &clock) == 0, clock_gettime(clock, &time) == 0 else { return total }
            return total + time.tv_sec * 1_000_000_000 + time.tv_nsec
        }
    }

    /// Runs `body` over `0..<count` in `threads` contiguous chunks (chunk 0 on this thread).
    /// Inline, as one chunk, when the pool is busy or too small.
    @usableFromInline
    func run(_ count: Int, threads requested: Int, _ body: (Range<Int>) -> Void) {
        let threads = min(requested, workers + 1, 0xFFFF)
        guard threads > 1, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            self.body = body
            self.count = count
            remaining.store(threads, ordering: .relaxed)
            let generation = publish(threads: threads)
            runChunks(generation: generation, threads: threads)
            waitForWorkers()
            self.body = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Claims and runs chunks of job `generation` until none is left; counts each one finished.
    private func runChunks(generation: Int, threads: Int) {
        while true {
            let word = claims.load(ordering: .acquiring)
            let chunk = word & 0xFFFF
            guard word >> 16 == generation & 0x3FFF_FFFF_FFFF, chunk < threads else { return }
            guard claims.compareExchange(expected: word, desired: word + 1, ordering: .acquiringAndReleasing).exchanged else { continue }
            let start = count * chunk / threads
            let end = count * (chunk + 1) / threads
            if start < end { body!(start..<end) }
            if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(done)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// Stores a new signal and wakes the parked workers; returns the job's generation.
    @discardableResult
    private func publish(threads: Int) -> Int {
        let generation = ((signal.load(ordering: .relaxed) >> 16) &+ 1) & 0x3FFF_FFFF_FFFF
        claims.store(generation << 16, ordering: .releasing)
        signal.store(generation << 16 | threads, ordering: .releasing)
        // A worker counts itself a sleeper and re-reads `signal` under the mutex before it waits,
        // so either it sees the new signal or we see it asleep here: no wake-up is lost.
        pthread_mutex_lock(mutex)
        if sleepers > 0 { pthread_cond_broadcast(wake) }
        pthread_mutex_unlock(mutex)
        return generation
    }

    private func waitForWorkers() {
        let deadline = Self.now() + Self.spinNanoseconds
        var spins = 0
        while remaining.load(ordering: .acquiring) != 0 {
            spins += 1
            // Chunks are equal, so the workers usually finish within the spin; park only when one
            // was descheduled (2 cores shared with the UI thread).
            if spins & 63 == 0, Self.now() > deadline {
                pthread_mutex_lock(mutex)
                while remaining.load(ordering: .acquiring) != 0 { pthread_cond_wait(done, mutex) }
                pthread_mutex_unlock(mutex)
                return
            }
        }
    }

    private func workerLoop(chunk: Int) {
        var seen = 0  // generation 0 is the initial signal, never a job
        while true {
            let word = nextSignal(after: seen)
            seen = word >> 16
            let threads = word & 0xFFFF
            if threads == 0 { return }
            // Only as many workers as the job has chunks besides the caller's join in.
            guard chunk < threads else { continue }
            runChunks(generation: seen, threads: threads)
        }
    }

    /// Spins, then parks, until `signal` carries a generation other than `seen`. No spin while
    /// OpenBLAS is in use, and a spin ends early when a BLAS call starts.
    private func nextSignal(after seen: Int) -> Int {
        let start = Self.now()
        let deadline = start + Self.spinNanoseconds
        let blasIdle = { (now: Int) in Self.lastBLASCall.load(ordering: .relaxed) < min(start, now - Self.blasQuietNanoseconds) }
        var spins = 0
        while blasIdle(start) {
            let word = signal.load(ordering: .acquiring)
            if word >> 16 != seen { return word }
            spins += 1
            if spins & 63 == 0 {
                let now = Self.now()
                if now > deadline || !blasIdle(now) { break }
            }
        }
        pthread_mutex_lock(mutex)
        sleepers += 1
        var word = signal.load(ordering: .acquiring)
        while word >> 16 == seen {
            pthread_cond_wait(wake, mutex)
            word = signal.load(ordering: .acquiring)
        }
        sleepers -= 1
        pthread_mutex_unlock(mutex)
        return word
    }

    private static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}

/// What a new worker thread needs: its pool and the chunk it runs.
private final class WorkerContext {
    let pool: WorkerPool
    let chunk: Int
    init(pool: WorkerPool, chunk: Int) {
        self.pool = pool
        self.chunk = chunk
    }
}
