import ArgumentParser
import Chat
import FoundationEssentials
import GPT
import JSON

/// `attnchat info`: what a model file holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show a model's configuration, size and file.")

    @OptionGroup var modelOptions: ModelOptions

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        let (model, source) = try modelOptions.load()
        let c = model.config
        let memory = c.inferenceMemory()
        // The weights as held: F16, BF16 and 8-bit matrices stay in their stored size.
        let weightBytes = model.weights.residentBytes
        let resident = weightBytes + memory.kvCache + memory.buffers
        let quantized = source.quantization.map { ", \($0.rawValue)" } ?? ""
        if json {
            var object = c.jsonObject
            object["model_type"] = .string(source.huggingFace?.modelType ?? "attnchat")
            object["num_key_value_heads"] = .integer(Int64(c.kvHeads))
            object["head_size"] = .integer(Int64(c.headSize))
            object["architecture"] = .string(c.architectureSummary)
            object["memory_bytes"] = .integer(Int64(resident))
            object["parameters"] = .integer(Int64(c.parameterCount))
            object["file"] = .string(source.path)
            object["dtypes"] = .array(source.dtypes.map(JSONValue.string))
            object["tensor_bytes"] = .integer(Int64(source.fileBytes))
            object["weight_bytes"] = .integer(Int64(weightBytes))
            object["held_dtypes"] = .array(model.weights.heldDTypes.map(JSONValue.string))
            if let q = source.quantization { object["quantization"] = .string(q.rawValue) }
            try Stdout.write(JSONValue.object(object).serialized() + "\n")
            return
        }
        try Stdout.write("""
            file        \(TerminalSafe.oneLine(source.path))
            dtype       \(source.dtypes.joined(separator: ", ")) (\(formatBytes(source.fileBytes)) of tensors\(quantized))
            parameters  \(c.parameterCount) (\(NumberText.fixed(Double(c.parameterCount) / 1e6, 2)) M)
            model type  \(source.huggingFace?.modelType ?? "attnchat")
            parts       \(c.architectureSummary)
            memory      \(formatBytes(resident)) resident: weights \(formatBytes(weightBytes)) (\(model.weights.heldDTypes.joined(separator: " + "))), KV cache \(formatBytes(memory.kvCache)) for \(c.contextLength) tokens, buffers \(formatBytes(memory.buffers))
            layers      \(c.layers)
            heads       \(c.heads)\(c.kvHeads == c.heads ? "" : " over \(c.kvHeads) key/value heads") (head size \(c.headSize))
            width       \(c.width) (MLP \(c.mlpWidth))
            context     \(c.contextLength) tokens
            vocabulary  \(c.vocabSize) tokens
            positions   \(c.positional.rawValue)
            norm eps    \(c.layerNormEpsilon)

            """)
    }
}

/// "1.5 MB"-style sizes, decimal units.
func formatBytes(_ n: Int) -> String { formatBytes(Double(n)) }

/// `formatBytes` for sizes computed in floating point (a user's batch × shape can pass `Int`).
func formatBytes(_ n: Double) -> String {
    guard n.isFinite else { return "more bytes than 64 bits can count" }
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    var value = n
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(Int(n)) B" : NumberText.fixed(value, 1) + " " + units[unit]
}
