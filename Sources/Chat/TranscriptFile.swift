#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// `chat --transcript FILE`: the conversation kept on disk while it happens. The file is
/// rewritten atomically (`Transcript.save`) after every reply and on the way out, so a crash, a
/// kill or a full disk leaves the previous version whole. Conversations ended by `/reset` stay
/// in the file, before the current one, so nothing said in this run is lost.
public final class TranscriptFile: Sendable {
    public let path: String
    public let modelName: String
    /// When the conversation began: the header's date on every save.
    public let started = Date()
    private let earlier = Mutex<[Turn]>([])

    /// Claims `path` for this run (creating it only if it does not exist, in one system call,
    /// so no other file can be replaced) and writes the transcript's header there.
    /// - Throws: `ChatError.transcriptExists` (exit 73) when the file already exists (it is never
    ///   overwritten: it may hold an earlier conversation), `.transcript` when it cannot be written.
    public init(path: String, modelName: String) throws(ChatError) {
        self.path = path
        self.modelName = modelName
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { throw .transcriptExists(path: path) }
            throw .transcript(path: path, reason: "create: \(String(cString: strerror(code)))")
        }
        close(descriptor)
        try Transcript.save([], modelName: modelName, date: started, to: path)
    }

    /// Writes the earlier conversations' turns, then `turns`.
    /// - Returns: nil, or the one-line reason the write failed (the previous file is intact).
    @discardableResult
    public func save(_ turns: [Turn]) -> String? {
        do {
            try Transcript.save(earlier.withLock { $0 } + turns, modelName: modelName, date: started, to: path)
            return nil
        } catch {
            return error.description
        }
    }

    /// Keeps the conversation that a `/reset` is about to end.
    public func archive(_ turns: [Turn]) { earlier.withLock { $0 += turns } }
}
