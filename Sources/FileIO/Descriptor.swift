#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one loop that writes a whole buffer to a file descriptor, shared by `AtomicFile` (temp
/// files), the commands' stdout and the unchecked stderr writes; each caller decides what a
/// failure means.
public enum Descriptor {
    /// Writes every byte of `buffer` to `descriptor`: retried on EINTR; on EAGAIN (a descriptor
    /// someone left non-blocking) waits up to `waitMilliseconds` for it to take more (−1: as
    /// long as it takes).
    /// - Returns: 0 when everything was written, else the errno that stopped it (EIO for a write
    ///   that took nothing, which retrying could spin on; EAGAIN when the wait ran out).
    public static func writeAll(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer, waitMilliseconds: Int32 = -1) -> Int32 {
        var remaining = buffer
        while let base = remaining.baseAddress, !remaining.isEmpty {
            let result = systemWrite(descriptor, base, remaining.count)
            if result > 0 {
                remaining = UnsafeRawBufferPointer(rebasing: remaining[result...])
                continue
            }
            if result == 0 { return EIO }
            switch errno {
            case EINTR:
                continue
            case EAGAIN:
                var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                if poll(&ready, 1, waitMilliseconds) <= 0 { return EAGAIN }
            case let code:
                return code
            }
        }
        return 0
    }
}

/// `write(2)`, under a name that methods called `write` do not shadow.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
