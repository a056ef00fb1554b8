import Sampling
import Synchronization

/// The sampling settings of a running chat, shared between the UI (which changes them) and the
/// generation loop (which reads them before every token). A change made while a reply streams
/// applies from the next token.
public final class LiveSettings: Sendable {
    private let box: Mutex<SamplingSettings>

    public init(_ settings: SamplingSettings) { box = Mutex(settings) }

    /// A copy of the current settings.
    public var value: SamplingSettings { box.withLock { $0 } }

    /// Changes the settings atomically; when `change` throws or leaves them invalid, nothing changes.
    public func update(_ change: (inout SamplingSettings) throws -> Void) throws {
        try box.withLock { settings in
            var copy = settings
            try change(&copy)
            try copy.validate()
            settings = copy
        }
    }
}

/// A flag one thread raises (Ctrl-C) and the generation loop checks once per token.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func cancel() { flag.store(true, ordering: .relaxed) }
    public func reset() { flag.store(false, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }
}
