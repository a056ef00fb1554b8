/// What can go wrong loading or running a model. Each case names the file, field or tensor and the
/// value, so its `description` is the one line the command prints.
public enum GPTError: Error, CustomStringConvertible, Equatable {
    /// A config value that makes no sense (zero heads, width not divisible by heads, above a cap).
    case invalidConfig(field: String, value: String, reason: String)
    /// A config file or metadata entry that cannot be read: missing, unparsable, unknown version.
    case badConfig(path: String, reason: String)
    /// A tensor the config needs is not in the file.
    case missingTensor(path: String, name: String, expectedShape: [Int])
    /// The file holds tensors the model does not know.
    case unexpectedTensors(path: String, names: [String])
    /// A tensor has the wrong shape for the config.
    case shapeMismatch(path: String, name: String, expected: [Int], actual: [Int])
    /// The model path does not exist or holds no model.
    case missingModel(path: String, reason: String)
    /// A token id outside the vocabulary.
    case tokenOutOfRange(id: Int, vocabSize: Int)
    /// The context window is full.
    case contextFull(length: Int)
    /// An error from the weights file itself, already worded.
    case weights(message: String, exitCode: Int32)

    public var description: String {
        switch self {
        case .invalidConfig(let field, let value, let reason):
            return "config: \(field) = \(value): \(reason)"
        case .badConfig(let path, let reason):
            return "\(path): \(reason)"
        case .missingTensor(let path, let name, let shape):
            return "\(path): missing tensor \"\(name)\" (expected shape \(shape))"
        case .unexpectedTensors(let path, let names):
            let shown = names.prefix(5).map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(path): unexpected tensor\(names.count == 1 ? "" : "s") \(shown)\(names.count > 5 ? " and \(names.count - 5) more" : "")"
        case .shapeMismatch(let path, let name, let expected, let actual):
            return "\(path): tensor \"\(name)\" has shape \(actual), expected \(expected)"
        case .missingModel(let path, let reason):
            return "\(path): \(reason)"
        case .tokenOutOfRange(let id, let vocabSize):
            return "token id \(id) is outside the vocabulary (0..<\(vocabSize))"
        case .contextFull(let length):
            return "context full: the model attends over at most \(length) tokens"
        case .weights(let message, _):
            return message
        }
    }

    /// The sysexits code a command exits with: 66 missing input, 65 bad data, 64 usage.
    public var exitCode: Int32 {
        switch self {
        case .missingModel: return 66
        case .tokenOutOfRange, .contextFull: return 64
        case .weights(_, let code): return code
        default: return 65
        }
    }
}
