import JSON

// Checks a loader runs after opening a file: is this the set of tensors my model needs, and
// what config does the file carry. The model-specific names live with the model; these only
// compare and report.

/// A tensor whose shape differs from what the model expects.
public struct ShapeMismatch: Sendable, Equatable {
    public let name: String
    public let expected: [Int]
    public let actual: [Int]

    public init(name: String, expected: [Int], actual: [Int]) {
        self.name = name
        self.expected = expected
        self.actual = actual
    }
}

extension SafetensorsFile {
    /// Parses the `__metadata__` string under `key` as JSON (attnchat keeps its model config
    /// there). Returns nil when the key is absent; invalid JSON is `.invalidMetadata` naming the
    /// key and the JSON error's position.
    public func metadataJSON(_ key: String) throws(SafetensorsError) -> JSONValue? {
        guard let text = metadata[key] else { return nil }
        do {
            return try JSONValue.parse(text)
        } catch {
            throw .invalidMetadata(path: path, key: key, reason: "is not valid JSON: \(error)")
        }
    }

    /// Checks that the file holds exactly the tensors in `expected`, with those shapes, and
    /// reports every difference at once in one `.tensorsMismatch` error.
    /// - Parameters:
    ///   - expected: tensor name → shape (outermost dimension first).
    ///   - optional: names in `expected` that may be absent, e.g. an `lm_head.weight` tied to `wte`.
    ///   - allowExtra: true for names the file may hold beyond `expected`, e.g. the
    ///     `h.N.attn.bias` mask buffers some GPT-2 exports include.
    public func checkTensors(
        _ expected: [String: [Int]],
        optional: Set<String> = [],
        allowExtra: (String) -> Bool = { _ in false }
    ) throws(SafetensorsError) {
        var missing: [String] = []
        var wrongShapes: [ShapeMismatch] = []
        for (name, shape) in expected {
            if let actual = self[name] {
                if actual.shape != shape { wrongShapes.append(ShapeMismatch(name: name, expected: shape, actual: actual.shape)) }
            } else if !optional.contains(name) {
                missing.append(name)
            }
        }
        let unexpected = tensors.map(\.name).filter { expected[$0] == nil && !allowExtra($0) }
        guard missing.isEmpty && unexpected.isEmpty && wrongShapes.isEmpty else {
            throw .tensorsMismatch(
                path: path, missing: missing.sorted(), unexpected: unexpected.sorted(),
                wrongShapes: wrongShapes.sorted { $0.name < $1.name })
        }
    }
}

/// "a", "b", "c" and 4 more — keeps a one-line message short however many names there are.
func listed(_ items: [String], limit: Int = 5) -> String {
    let shown = items.prefix(limit).joined(separator: ", ")
    return items.count > limit ? "\(shown) and \(items.count - limit) more" : shown
}
