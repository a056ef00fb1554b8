import FileIO
import FoundationEssentials
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
    /// Whether the last save failed: the file then lacks the end of the conversation.
    private let lastSaveFailed = Atomic<Bool>(false)
    /// Saves that failed in this run, even if a later one succeeded.
    private let failedSaves = Atomic<Int>(0)

    /// Claims `path` for this run: the header is written to a temporary file that is linked to
    /// `path` only if nothing is there (`AtomicFile`, `.refuse`), so no file is ever replaced
    /// and a failed write (a full disk) leaves nothing behind to block the next run.
    /// - Throws: `ChatError.transcriptExists` (exit 73) when the file already exists (it is never
    ///   overwritten: it may hold an earlier conversation), `.outputRefused` (73) for a directory,
    ///   device, FIFO or socket, `.transcript` (74) when it cannot be written.
    public init(path: String, modelName: String) throws(ChatError) {
        self.path = path
        self.modelName = modelName
        do {
            try Transcript.save([], modelName: modelName, date: started, to: path, existing: .refuse(hint: "choose a new name"))
        } catch .outputRefused(.exists) {
            throw .transcriptExists(path: path)
        }
    }

    /// Writes the earlier conversations' turns, then `turns`.
    /// - Returns: nil, or the one-line reason the write failed (the previous file is intact).
    @discardableResult
    public func save(_ turns: [Turn]) -> String? {
        do {
            try Transcript.save(earlier.withLock { $0 } + turns, modelName: modelName, date: started, to: path, existing: .replace)
            lastSaveFailed.store(false, ordering: .relaxed)
            return nil
        } catch {
            lastSaveFailed.store(true, ordering: .relaxed)
            failedSaves.add(1, ordering: .relaxed)
            return error.description
        }
    }

    /// At the end of the chat: exit 74 when any save failed, so a full disk is never an exit 0.
    /// `.transcriptIncomplete` when the last one failed (the file lacks the end of the
    /// conversation); `.transcriptSavesFailed` when a later save succeeded (the file is whole, but
    /// the run was not clean — a script should hear of it).
    public func checkSaved() throws(ChatError) {
        if lastSaveFailed.load(ordering: .relaxed) { throw .transcriptIncomplete(path: path) }
        let failed = failedSaves.load(ordering: .relaxed)
        if failed > 0 { throw .transcriptSavesFailed(path: path, count: failed) }
    }

    /// Keeps the conversation that a `/reset` is about to end.
    public func archive(_ turns: [Turn]) { earlier.withLock { $0 += turns } }
}
