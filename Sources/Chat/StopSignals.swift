import CSignals
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The signals that end attnchat (SIGINT, SIGTERM, SIGHUP) and the job-control ones the
/// full-screen UI answers (SIGTSTP, SIGCONT), caught by one async-signal-safe handler in
/// `CSignals`: it records the signal and writes its number to a pipe, whichever thread it lands
/// on. (`SIG_IGN` plus a dispatch signal source, as before, lost signals: a thread that does not
/// block the signal, such as OpenBLAS's pool, discards it.)
///
/// Every front end ends the same way on a stop signal: work saved (reply kept and marked
/// interrupted, transcript or checkpoint written), terminal restored, exit 128 + signal.
public enum StopSignals {
    /// SIGINT, SIGTERM and SIGHUP: each ends attnchat with 128 + its number.
    public static let stopping: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Catches `signals` from now on and returns those it catches: a signal ignored on entry
    /// stays ignored (`nohup`, a shell without job control).
    @discardableResult
    public static func catchSignals(_ signals: [Int32] = stopping) -> [Int32] {
        signals.filter { attnchat_signal_catch($0) == 1 }
    }

    /// True when `sig` arrived since the last call: the poll of a loop that never blocks long
    /// (the full-screen UI).
    public static func take(_ sig: Int32) -> Bool { attnchat_signal_take(sig) != 0 }

    /// The first of `signals` that arrived since the last call, or nil.
    public static func takeAny(of signals: [Int32] = stopping) -> Int32? {
        signals.first { take($0) }
    }

    /// For a front end on its way out, everything saved and the terminal restored: a stop signal
    /// that came since it last looked, or comes from now on, ends the process at once with
    /// 128 + the signal — never a plain exit 0 for a signal that arrived in time.
    public static func exitOnArrival() {
        attnchat_signal_exit_on_arrival()
        if let sig = takeAny() { exit(128 + sig) }
    }

    /// Puts `sig` back to its default action until `catchSignals` again (SIGTSTP, to really stop).
    public static func restoreDefault(_ sig: Int32) { attnchat_signal_default(sig) }

    /// Calls `handler` on `queue` with every signal caught from now on, in order: for a front end
    /// whose thread may sit in a blocking read or a long computation. Cancel the watch to stop.
    public static func watch(queue: DispatchQueue = .global(), _ handler: @escaping @Sendable (Int32) -> Void) -> Watch {
        Watch(queue: queue, handler: handler)
    }

    /// The signals caught, read from the handler's pipe and answered one at a time.
    public final class Watch {
        private let source: DispatchSourceRead
        private let delivery: Delivery

        /// One lock around reading the pipe and running the handler, so that `deliverPending`
        /// returns only once every signal already caught has been answered, whichever thread
        /// read it.
        private final class Delivery: Sendable {
            let handler: @Sendable (Int32) -> Void
            let lock = Mutex<Void>(())
            init(handler: @escaping @Sendable (Int32) -> Void) { self.handler = handler }

            func run() {
                lock.withLock { _ in
                    let fd = attnchat_signal_fd()
                    var bytes = [UInt8](repeating: 0, count: 64)
                    while true {
                        let n = read(fd, &bytes, bytes.count)
                        guard n > 0 else { break }
                        for sig in bytes[..<n] {
                            // Answered here: `takeAny` (and `exitOnArrival`) must not see it again.
                            _ = attnchat_signal_take(Int32(sig))
                            handler(Int32(sig))
                        }
                    }
                }
            }
        }

        fileprivate init(queue: DispatchQueue, handler: @escaping @Sendable (Int32) -> Void) {
            let delivery = Delivery(handler: handler)
            self.delivery = delivery
            source = DispatchSource.makeReadSource(fileDescriptor: attnchat_signal_fd(), queue: queue)
            source.setEventHandler { delivery.run() }
            source.resume()
        }

        /// Answers, on the calling thread, every signal caught so far that the queue has not
        /// answered yet. The queue answers later than the signal arrives; a front end that is
        /// about to decide something (stop a reply, exit 0) calls this first, so that a signal
        /// that came in time is never overtaken.
        public func deliverPending() { delivery.run() }

        public func cancel() { source.cancel() }
    }
}
