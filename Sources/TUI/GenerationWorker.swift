import Chat
import Dispatch
import GPT
import Sampling
import Synchronization
import Tokenizer

/// Runs the chat session on one background queue, so the UI thread never waits for the model.
/// The session is touched only on `queue`; the UI talks to it through `events` (streamed
/// events), `notes` (command results), `live` (sampling settings) and `cancel`.
final class GenerationWorker: @unchecked Sendable {
    // @unchecked: `session` is not thread-safe and is used only inside `queue.async` blocks
    // (one serial queue); every other member is Sendable.
    private let session: ChatSession
    private let queue = DispatchQueue(label: "attnchat.generation", qos: .userInitiated)
    let events = EventBuffer()
    let cancel = CancellationFlag()
    let record = ReplyRecord()
    private let notesBox = Mutex<[Note]>([])
    private let busyFlag = Atomic<Bool>(false)

    let live: LiveSettings
    let modelName: String
    /// `--transcript`: saved after every reply and by `finish`.
    let transcriptFile: TranscriptFile?
    let contextLength: Int
    let tokenizerSize: Int

    enum Note: Sendable {
        case notice(String)
        /// A message was refused before any reply began (too long for the context).
        case sendFailed(String)
        /// A regeneration found no reply to replace.
        case nothingToRegenerate
    }

    init(session: ChatSession, modelName: String, transcriptFile: TranscriptFile? = nil) {
        self.session = session
        self.transcriptFile = transcriptFile
        self.live = session.settings
        self.modelName = modelName
        self.contextLength = session.model.config.contextLength
        self.tokenizerSize = session.template.tokenizer.vocabularySize
    }

    var tokenizer: BPETokenizer { session.template.tokenizer }  // immutable and Sendable

    /// True from `send`/`regenerate` until their reply ended.
    var isBusy: Bool { busyFlag.load(ordering: .acquiring) }

    func takeNotes() -> [Note] { notesBox.withLock { n in defer { n.removeAll() }; return n } }

    func send(_ text: String) {
        start { s, onEvent in _ = try s.send(text, cancel: self.cancel, onEvent: onEvent) }
    }

    func regenerate() {
        start { s, onEvent in
            if try s.regenerate(cancel: self.cancel, onEvent: onEvent) == nil { self.note(.nothingToRegenerate) }
        }
    }

    func reset() {
        queue.async {
            self.transcriptFile?.archive(self.session.turns)
            self.session.reset()
        }
    }

    /// `/system`: takes effect from the next reply (one being streamed keeps its prompt).
    func setSystemPrompt(_ text: String?) {
        queue.async { self.session.systemPrompt = text }
    }

    /// The way out: stops a streaming reply (kept, marked interrupted), waits for it, and saves
    /// the transcript file one last time. Returns why that save failed, if it did.
    func finish() -> String? {
        cancel.cancel()
        return queue.sync { transcriptFile?.save(session.turns) }
    }

    /// `/save` and `/save!`: written on the worker's queue, after any reply in progress.
    func save(to path: String, replace: Bool) {
        queue.async {
            self.note(.notice(Transcript.saveCommand(self.session.turns, modelName: self.modelName, to: path, replace: replace)))
        }
    }

    private func start(_ job: @escaping @Sendable (ChatSession, (ChatEvent) -> Void) throws -> Void) {
        busyFlag.store(true, ordering: .releasing)
        cancel.reset()
        queue.async {
            let session = self.session
            self.record.begin()
            do {
                try job(session) { event in
                    switch event {
                    case .promptProcessed: self.record.setPrompt(session.contextTokens)
                    case .token(let id, let info, _): self.record.add(id: id, info: info)
                    case .attention(let snapshot): self.record.add(snapshot)
                    default: break
                    }
                    self.events.push(event)
                }
            } catch ChatError.messageTooLong(let tokens, let context) {
                self.note(.sendFailed("message too long: \(tokens) tokens, the context holds \(context)"))
            } catch {
                self.note(.notice("\(error)"))
            }
            if let reason = self.transcriptFile?.save(session.turns) { self.note(.notice(reason)) }
            self.busyFlag.store(false, ordering: .releasing)
        }
    }

    private func note(_ n: Note) { notesBox.withLock { $0.append(n) } }
}

/// The last reply as the attention pane needs it: the context ids (prompt, then each generated
/// token), and per generated token its sampler report and its attention snapshot — so the pane
/// can scrub back through the reply. Snapshots stop being kept past `snapshotBudget` floats.
final class ReplyRecord: Sendable {
    struct Contents: Sendable {
        var context: [Int] = []
        var promptLength = 0
        var infos: [TokenInfo] = []
        var snapshots: [AttentionSnapshot] = []
        var floats = 0
    }

    /// 64 MB of snapshots at most: every token of a default-model reply (4 layers x 4 heads x
    /// 256 positions), ~25 tokens of GPT-2 small at full context; later tokens scrub no further.
    static let snapshotBudget = 16 << 20
    private let box = Mutex(Contents())

    func begin() { box.withLock { $0 = Contents() } }
    func setPrompt(_ ids: [Int]) { box.withLock { $0.context = ids; $0.promptLength = ids.count } }
    func add(id: Int, info: TokenInfo) { box.withLock { $0.context.append(id); $0.infos.append(info) } }
    func add(_ s: AttentionSnapshot) {
        box.withLock { c in
            guard c.floats + s.weights.count <= Self.snapshotBudget else { return }
            c.snapshots.append(s)
            c.floats += s.weights.count
        }
    }

    /// Generated tokens with a snapshot.
    var count: Int { box.withLock { $0.snapshots.count } }

    /// The snapshot of generated token `index` (0-based; nil = the latest), the context ids it
    /// covers, and the token's sampler report.
    func view(at index: Int?) -> (snapshot: AttentionSnapshot, context: ArraySlice<Int>, info: TokenInfo?)? {
        box.withLock { c in
            guard !c.snapshots.isEmpty else { return nil }
            let i = min(index ?? c.snapshots.count - 1, c.snapshots.count - 1)
            let s = c.snapshots[i]
            let end = min(s.length, c.context.count)
            return (s, c.context[..<end], i < c.infos.count ? c.infos[i] : nil)
        }
    }

    /// The context ids: the prompt, then every generated token.
    var context: [Int] { box.withLock { $0.context } }

    /// The sampler report of the last generated token.
    var lastInfo: TokenInfo? { box.withLock { $0.infos.last } }
}
