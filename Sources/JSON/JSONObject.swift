/// A JSON object that keeps its members in insertion (document) order.
///
/// Order matters because writers must be stable: serializing a parsed object reproduces its
/// key order. Lookup is a linear scan for small objects and goes through a hash index once an
/// object grows past ``indexThreshold`` members, so both a config with 12 keys and a
/// vocabulary with 50,000 keys stay fast.
///
/// Equality ignores order: two objects are equal when they hold the same keys with equal
/// values, which is what JSON means by an object.
public struct JSONObject: Sendable {
    /// Members in order. Keys are unique.
    public private(set) var entries: [(key: String, value: JSONValue)]
    /// Key → position in `entries`; nil while the object is small.
    private var index: [String: Int]?

    /// Below this many members a linear scan beats hashing every key.
    static let indexThreshold = 12

    public init() {
        entries = []
        index = nil
    }

    /// Builds an object from members in order; a repeated key is a programmer error and traps.
    /// (Untrusted input goes through the parser, which reports duplicates as errors.)
    public init(uniqueKeysWithValues members: some Sequence<(String, JSONValue)>) {
        self.init()
        for (key, value) in members {
            precondition(!append(key: key, value: value), "duplicate JSON key \"\(key)\"")
        }
    }

    /// The parser's constructor: keys already checked unique, `index` built exactly when the
    /// object has more than ``indexThreshold`` members.
    init(validatedEntries: [(key: String, value: JSONValue)], index: [String: Int]?) {
        assert((index != nil) == (validatedEntries.count > Self.indexThreshold))
        self.entries = validatedEntries
        self.index = index
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public var keys: [String] { entries.map(\.key) }

    /// Position of `key` in ``entries``.
    /// - Complexity: O(1) on average for large objects, O(n) below ``indexThreshold`` members.
    public func position(of key: String) -> Int? {
        if let index { return index[key] }
        return entries.firstIndex { $0.key == key }
    }

    /// The member's value; setting nil removes the member, setting a new key appends it.
    public subscript(key: String) -> JSONValue? {
        get { position(of: key).map { entries[$0].value } }
        set {
            if let position = position(of: key) {
                if let newValue {
                    entries[position].value = newValue
                } else {
                    entries.remove(at: position)
                    rebuildIndex()
                }
            } else if let newValue {
                _ = append(key: key, value: newValue)
            }
        }
    }

    /// Appends a member unless the key exists; returns true when it was a duplicate
    /// (and then changes nothing).
    mutating func append(key: String, value: JSONValue) -> Bool {
        guard position(of: key) == nil else { return true }
        entries.append((key, value))
        if index != nil {
            index?[key] = entries.count - 1
        } else if entries.count > Self.indexThreshold {
            rebuildIndex()
        }
        return false
    }

    /// Reorders the members; the index is rebuilt.
    public mutating func sort(by areInIncreasingOrder: (String, String) -> Bool) {
        entries.sort { areInIncreasingOrder($0.key, $1.key) }
        rebuildIndex()
    }

    private mutating func rebuildIndex() {
        guard entries.count > Self.indexThreshold else {
            index = nil
            return
        }
        var rebuilt = [String: Int](minimumCapacity: entries.count)
        for (position, entry) in entries.enumerated() { rebuilt[entry.key] = position }
        index = rebuilt
    }
}

extension JSONObject: Equatable {
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.entries where rhs[key] != value { return false }
        return true
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(uniqueKeysWithValues: elements)
    }
}
