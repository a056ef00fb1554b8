import Synchronization

/// Decouples a generation loop from a slow consumer (a UI redrawing at its own pace): `push`
/// never blocks on the consumer, text and every other event are kept in order, and attention
/// snapshots — large, and only the latest matters — are coalesced: an undelivered snapshot is
/// replaced by the next one.
public final class EventBuffer: Sendable {
    private struct Queue {
        var events: [ChatEvent] = []
        /// Index in `events` of the undelivered snapshot, if any.
        var snapshotIndex: Int?
        var droppedSnapshots = 0
    }

    private let queue = Mutex(Queue())

    public init() {}

    /// Called by the generation loop; O(1), never waits for the consumer.
    public func push(_ event: ChatEvent) {
        queue.withLock { q in
            if case .attention = event, let i = q.snapshotIndex {
                q.events[i] = event
                q.droppedSnapshots += 1
            } else {
                if case .attention = event { q.snapshotIndex = q.events.count }
                q.events.append(event)
            }
        }
    }

    /// Takes everything pushed since the last call, in order.
    public func drain() -> [ChatEvent] {
        queue.withLock { q in
            defer {
                q.events.removeAll(keepingCapacity: true)
                q.snapshotIndex = nil
            }
            return q.events
        }
    }

    /// Snapshots replaced before anyone saw them.
    public var droppedSnapshots: Int { queue.withLock { $0.droppedSnapshots } }
}
