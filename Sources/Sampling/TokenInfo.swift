/// What the sampler knew when it picked a token: for the UI's per-token view and the stream's
/// events. Built without touching the heap (its lists are inline), so it costs nothing per token.
public struct TokenInfo: Sendable, Equatable {
    /// One of the most likely tokens before any truncation.
    public struct Alternative: Sendable, Equatable {
        public var id: Int
        /// Probability after penalties, bias and temperature, before truncation.
        public var probability: Double

        public init(id: Int, probability: Double) {
            self.id = id
            self.probability = probability
        }
    }

    /// How much of the distribution one truncation stage cut away.
    public struct Removal: Sendable, Equatable {
        /// "greedy", "top-k", "top-p", "min-p", "typical-p" or "mirostat".
        public var stage: String
        /// Probability mass removed, as a fraction of the whole distribution after temperature,
        /// so the fractions of all stages plus the kept mass add up to 1.
        public var fraction: Double

        public init(stage: String, fraction: Double) {
            self.stage = stage
            self.fraction = fraction
        }
    }

    /// The token drawn.
    public var id: Int
    /// Its probability in the final distribution it was drawn from (1 for greedy).
    public var probability: Double
    /// Entropy in nats of the distribution after penalties, bias and temperature, before
    /// truncation. For temperature 0 it is that of temperature 1, the model's own uncertainty
    /// (the greedy limit itself would always be 0).
    public var entropy: Double
    /// The 5 most likely tokens before truncation, most likely first (fewer if fewer exist);
    /// probabilities as for `entropy`.
    public var top: FixedList<Alternative>
    /// Each active truncation stage in pipeline order, with the mass it removed.
    public var massRemoved: FixedList<Removal>

    public init(id: Int, probability: Double, entropy: Double, top: FixedList<Alternative>, massRemoved: FixedList<Removal>) {
        self.id = id
        self.probability = probability
        self.entropy = entropy
        self.top = top
        self.massRemoved = massRemoved
    }
}

/// An array of at most five elements stored inline: `TokenInfo` travels with every token through
/// the event stream, and two heap arrays per token would be the only allocations left there.
public struct FixedList<Element>: RandomAccessCollection {
    /// The most elements the list holds.
    public static var capacity: Int { 5 }
    private var storage: (Element?, Element?, Element?, Element?, Element?) = (nil, nil, nil, nil, nil)
    public private(set) var count = 0

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "FixedList index \(position) out of range 0..<\(count)")
        return switch position {
        case 0: storage.0!
        case 1: storage.1!
        case 2: storage.2!
        case 3: storage.3!
        default: storage.4!
        }
    }

    /// Appends `element`; a programmer error beyond `capacity`.
    public mutating func append(_ element: Element) {
        switch count {
        case 0: storage.0 = element
        case 1: storage.1 = element
        case 2: storage.2 = element
        case 3: storage.3 = element
        case 4: storage.4 = element
        default: preconditionFailure("FixedList holds at most \(Self.capacity) elements")
        }
        count += 1
    }
}

extension FixedList: Sendable where Element: Sendable {}

extension FixedList: Equatable where Element: Equatable {
    public static func == (a: FixedList, b: FixedList) -> Bool { a.elementsEqual(b) }
}

extension FixedList: CustomStringConvertible {
    public var description: String { "[" + map { "\($0)" }.joined(separator: ", ") + "]" }
}
