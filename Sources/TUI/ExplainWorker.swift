import Dispatch
import GPT
import Synchronization

/// Computes the explain view's explanations off the UI thread, on a state of its own: a prefill
/// of a long context takes a second on a big model, and the UI must keep answering keys and
/// signals meanwhile. Only the newest request matters; older ones are dropped.
final class ExplainWorker: Sendable {
    /// What to explain: the whole context, and the layer, head and position (0-based).
    struct Request: Equatable, Sendable {
        let context: [Int]
        let layer: Int
        let head: Int
        let position: Int
    }

    enum Outcome: Sendable, Equatable {
        case done(AttentionExplanation)
        case failed(String)
    }

    private struct Box {
        var wanted: Request?
        var running = false
        var last: (request: Request, outcome: Outcome)?
        /// A result arrived that `outcome(for:)` has not handed out yet.
        var news = false
    }

    private let box = Mutex(Box())
    private let queue = DispatchQueue(label: "attnchat.explain")
    /// Used on `queue` only (one job at a time), which is why it may live in a Sendable class.
    nonisolated(unsafe) private let state: GPTState

    init(model: GPTModel) { state = GPTState(model: model) }

    /// The outcome for `request` if it is ready; otherwise nil, after making sure it is being
    /// computed when `start` (the UI draws a "computing" notice and asks again on the next frame).
    func outcome(for request: Request, start: Bool = true) -> Outcome? {
        let start: Bool = box.withLock { b in
            if let last = b.last, last.request == request {
                b.news = false
                return false
            }
            guard start else { return false }
            b.wanted = request
            if b.running { return false }
            b.running = true
            return true
        }
        if start { queue.async { self.work() } }
        // The job may have finished since the first look: hand it out, and clear the news.
        return box.withLock { b in
            guard let last = b.last, last.request == request else { return nil }
            b.news = false
            return last.outcome
        }
    }

    /// Whether a result came in since the UI last took one: time to redraw.
    var hasNews: Bool { box.withLock { $0.news } }

    private func work() {
        while let request = box.withLock({ b -> Request? in
            guard let r = b.wanted else {
                b.running = false
                return nil
            }
            b.wanted = nil
            return r
        }) {
            let outcome: Outcome
            do {
                // One prefill per context and position: other layers and heads read its cache.
                outcome = .done(try state.explainAttention(tokens: request.context, layer: request.layer, head: request.head, position: request.position))
            } catch {
                outcome = .failed("\(error)")
            }
            box.withLock { b in
                b.last = (request, outcome)
                b.news = true
            }
        }
    }
}
