import FileIO
import FoundationEssentials
import Glibc

/// The one way every command writes to stdout: each call is unbuffered `write(2)`s until every
/// byte is out, each one checked. `print` buffers and drops errors (output lost on a full disk,
/// exit 0) and `FileHandle.write(_:)` traps on them; both are kept out of the commands.
///
/// The policy (README "Exit codes", ARCHITECTURE.md §7):
/// - The reader went away (EPIPE: `attnchat … | head`): `StdoutError.readerGone`. The command
///   stops what it is doing, keeps what the user has (a chat transcript is saved), and exits 0
///   quietly, as a reader that has all it wanted expects; SIGPIPE is ignored (`AttnChat.main`).
/// - Any other failure (ENOSPC, EIO, EBADF for a closed stdout, …): `StdoutError.failed`, exit 74
///   with one stderr line naming stdout and the reason.
enum Stdout {
    static func write(_ text: String) throws(StdoutError) {
        var text = text
        // withUTF8 rethrows untyped: the failure is carried out of the closure instead.
        var failure: StdoutError?
        text.withUTF8 { bytes in
            do throws(StdoutError) { try write(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    static func write(_ data: Data) throws(StdoutError) {
        var failure: StdoutError?
        data.withUnsafeBytes { raw in
            do throws(StdoutError) { try write(raw.bindMemory(to: UInt8.self)) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    static func write(_ bytes: UnsafeBufferPointer<UInt8>) throws(StdoutError) {
        switch Descriptor.writeAll(STDOUT_FILENO, UnsafeRawBufferPointer(bytes)) {
        case 0: return
        case EPIPE: throw .readerGone
        case let code: throw .failed(errno: code)
        }
    }
}

/// Why a write to stdout failed; see `Stdout` for what each case ends in.
enum StdoutError: SysexitsError {
    /// The read end of the pipe is closed: not an error for the user, the command ends quietly.
    case readerGone
    /// Any other errno (ENOSPC, EIO, EBADF, …): exit 74.
    case failed(errno: Int32)

    var exitCode: Int32 {
        switch self {
        case .readerGone: 0
        case .failed: 74
        }
    }

    var description: String {
        switch self {
        case .readerGone: "stdout: the reader closed the pipe"
        case .failed(let code): "cannot write to stdout: \(String(cString: strerror(code))) (errno \(code))"
        }
    }
}
