import Chat
import Dispatch
import Glibc
import Seq2Seq
import Synchronization
import Tokenizer

/// How the translation view decodes.
public enum TranslationDecoding: Sendable, Equatable {
    /// Each step's most likely token, streamed as it is chosen (`translate`'s default).
    case greedy
    /// `Seq2SeqModel.beamSearch`; the best hypothesis is then fed back through the decoder one
    /// token a step, for each token's cross-attention, and streamed from there.
    case beam(width: Int, lengthPenalty: Float)

    /// "greedy" or "beam K", for the status bar.
    public var name: String {
        switch self {
        case .greedy: "greedy"
        case .beam(let width, _): "beam \(width)"
        }
    }
}

/// Translates on one background queue, so the UI thread never waits for the model. The model
/// is touched only on `queue`; the UI drains `events` — one per target token, carrying that
/// step's cross-attention in every layer and head, so the pane can switch layer and head
/// afterwards without decoding again.
final class TranslationWorker: @unchecked Sendable {
    // @unchecked: `model` owns scratch memory through its decoders and is used only inside
    // `queue.async` blocks (one serial queue); every other member is Sendable.
    enum Event: Sendable {
        /// A line's translation begins: its text and its source token ids.
        case began(text: String, source: [Int32])
        /// A line that is not translated, and why (longer than the model's context).
        case refused(text: String, reason: String)
        /// A target token: its id, the text it completes (whole characters only, as a reply's
        /// tokens are streamed), its probability, and its step's cross-attention (L, H, S).
        case token(id: Int32, text: String, probability: Double, attention: [Float])
        /// Target tokens per second since the line's decoding began (beam search included).
        case timing(tokensPerSecond: Double)
        /// The line is done: stopped by Ctrl-C or not, and any bytes the text decoder still held.
        case finished(interrupted: Bool, rest: String)
        case failed(String)
    }

    let model: Seq2SeqModel
    let tokenizer: BPETokenizer
    let decoding: TranslationDecoding
    /// The most target tokens for a source of n tokens (`TranslationEvaluation.maxLength`).
    let maxLength: @Sendable (Int) -> Int
    let cancel = CancellationFlag()
    private let queue = DispatchQueue(label: "attnchat.translation", qos: .userInitiated)
    private let box = Mutex<[Event]>([])
    private let busyFlag = Atomic<Bool>(false)

    init(model: Seq2SeqModel, tokenizer: BPETokenizer, decoding: TranslationDecoding, maxLength: @escaping @Sendable (Int) -> Int) {
        self.model = model
        self.tokenizer = tokenizer
        self.decoding = decoding
        self.maxLength = maxLength
    }

    /// True from `translate` until its last line ended.
    var isBusy: Bool { busyFlag.load(ordering: .acquiring) }

    /// The events since the last call, in order.
    func drain() -> [Event] { box.withLock { e in defer { e.removeAll() }; return e } }

    /// Translates `lines` one after another; Ctrl-C (`cancel`) stops the current one and drops
    /// the rest.
    func translate(_ lines: [String]) {
        busyFlag.store(true, ordering: .releasing)
        cancel.reset()
        queue.async {
            for line in lines where !self.cancel.isCancelled { self.translate(line) }
            self.busyFlag.store(false, ordering: .releasing)
        }
    }

    /// The way out: stops a translation in progress and waits for it.
    func finish() {
        cancel.cancel()
        queue.sync {}
    }

    private func push(_ event: Event) { box.withLock { $0.append(event) } }

    private func translate(_ line: String) {
        let source = tokenizer.encode(line).map(Int32.init)
        let context = model.config.contextLength
        guard source.count <= context else {
            return push(.refused(text: line, reason: "(too long: \(source.count) tokens; the model's context holds \(context): split the sentence)"))
        }
        push(.began(text: line, source: source))
        var text = StreamingDecoder(tokenizer: tokenizer)
        let start = DispatchTime.now().uptimeNanoseconds
        var count = 0
        do {
            let interrupted = try Self.decode(model: model, source: source, decoding: decoding, maxLength: maxLength(source.count), cancel: cancel) { id, probability, attention in
                count += 1
                push(.token(id: id, text: (try? text.push(Int(id))) ?? "", probability: probability, attention: attention))
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                if seconds > 0 { push(.timing(tokensPerSecond: Double(count) / seconds)) }
            }
            push(.finished(interrupted: interrupted, rest: text.finish()))
        } catch {
            push(.failed("(\(error))"))
        }
    }

    /// Decodes `source` (1...contextLength tokens), calling `onToken` with each target token, its
    /// probability and its step's cross-attention (L, H, S), until the end of sentence,
    /// `maxLength` tokens or `cancel`. Greedy, it chooses what `Seq2SeqModel.greedy` chooses;
    /// with a beam, `beamSearch`'s translation, replayed.
    /// - Returns: whether `cancel` stopped it.
    static func decode(
        model: Seq2SeqModel, source: [Int32], decoding: TranslationDecoding, maxLength: Int, cancel: CancellationFlag,
        onToken: (Int32, Double, [Float]) -> Void
    ) throws(Seq2SeqError) -> Bool {
        let c = model.config
        var forced: [Int32]?
        if case .beam(let width, let lengthPenalty) = decoding {
            forced = try model.beamSearch(source: source, beam: width, lengthPenalty: lengthPenalty, maxLength: maxLength)
        }
        let decoder = Seq2SeqDecoder(model: model, encoded: try model.encode(sources: [source]), rowSentences: [0], maxLength: maxLength)
        var input = c.beginID
        for step in 0..<(forced.map { min($0.count, maxLength) } ?? maxLength) {
            if cancel.isCancelled { return true }
            let logits = decoder.step(tokens: [input])
            let next = forced?[step] ?? model.bestProposable(logits.baseAddress!)
            if next == c.endID { break }
            let attention = (0..<c.decoderLayers).flatMap { decoder.crossAttention(layer: $0, row: 0) }
            onToken(next, probability(of: next, logits: logits), attention)
            input = next
        }
        return false
    }

    /// softmax(logits)[token].
    static func probability(of token: Int32, logits: UnsafeBufferPointer<Float>) -> Double {
        let m = Double(logits.max() ?? 0)
        var sum = 0.0
        for x in logits { sum += exp(Double(x) - m) }
        return exp(Double(logits[Int(token)]) - m) / sum
    }
}
