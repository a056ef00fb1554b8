import Foundation
import Synchronization

/// `chat --transcript FILE`: the conversation kept on disk while it happens. The file is
/// rewritten atomically (`Transcript.save`) after every reply and on the way out, so a crash, a
/// kill or a full disk leaves the previous version whole. Conversations ended by `/reset` stay
/// in the file, before the current one, so nothing said in this run is lost.
public final class TranscriptFile: Sendable {
    public let path: String
    public let modelName: String
    private let earlier = Mutex<[Turn]>([])

    /// Claims `path` for this run by writing the transcript's header there.
    /// - Throws: `ChatError.transcript` when the file already exists (it is never overwritten:
    ///   it may hold an earlier conversation) or cannot be written.
    public init(path: String, modelName: String) throws(ChatError) {
        self.path = path
        self.modelName = modelName
        guard !FileManager.default.fileExists(atPath: path) else {
            throw .transcript(path: path, reason: "the file already exists (attnchat never overwrites one; choose a new name)")
        }
        try Transcript.save([], modelName: modelName, to: path)
    }

    /// Writes the earlier conversations' turns, then `turns`.
    /// - Returns: nil, or the one-line reason the write failed (the previous file is intact).
    @discardableResult
    public func save(_ turns: [Turn]) -> String? {
        do {
            try Transcript.save(earlier.withLock { $0 } + turns, modelName: modelName, to: path)
            return nil
        } catch {
            return error.description
        }
    }

    /// Keeps the conversation that a `/reset` is about to end.
    public func archive(_ turns: [Turn]) { earlier.withLock { $0 += turns } }
}
