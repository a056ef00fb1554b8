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
        // A second at most for a blocked descriptor: nobody would hear of the failure anyway.
        _ = text.withUTF8 { Descriptor.writeAll(fd, UnsafeRawBufferPointer($0), waitMilliseconds: 1000) }
    }
}
