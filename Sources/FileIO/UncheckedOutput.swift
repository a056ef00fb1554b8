import Glibc

/// Writes whose failure nobody can be told about: stderr (where else would the error go?) and a
/// terminal's last control sequences. `FileHandle.write(_:)` traps on any error — a terminal
/// closed mid-run (EIO) killed `train` with SIGILL before its checkpoint — so these go through
/// `write(2)`; a failure drops the rest of the text and the program goes on.
public enum UncheckedOutput {
    /// `text` to stderr, best effort.
    public static func standardError(_ text: String) { write(text, to: STDERR_FILENO) }

    /// `text` to the file descriptor `fd`, best effort: retried on EINTR, waited for on EAGAIN,
    /// dropped on any other error (EIO from a hung-up terminal, EPIPE, ENOSPC).
    public static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            guard var next = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let written = Glibc.write(fd, next, left)
                if written > 0 {
                    next += written
                    left -= written
                } else if written < 0 && errno == EINTR {
                    continue
                } else if written < 0 && errno == EAGAIN {
                    var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    if poll(&descriptor, 1, 1000) <= 0 { return }
                } else {
                    return
                }
            }
        }
    }
}
