import ArgumentParser
import Foundation
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
        if json {
            var object = c.jsonObject
            object["parameters"] = .integer(Int64(c.parameterCount))
            object["file"] = .string(source.path)
            object["dtypes"] = .array(source.dtypes.map(JSONValue.string))
            object["tensor_bytes"] = .integer(Int64(source.fileBytes))
            print(JSONValue.object(object).serialized())
            return
        }
        print("""
            file        \(source.path)
            dtype       \(source.dtypes.joined(separator: ", ")) (\(formatBytes(source.fileBytes)) of tensors)
            parameters  \(c.parameterCount) (\(String(format: "%.2f", Double(c.parameterCount) / 1e6)) M)
            layers      \(c.layers)
            heads       \(c.heads) (head size \(c.headSize))
            width       \(c.width) (MLP \(c.mlpWidth))
            context     \(c.contextLength) tokens
            vocabulary  \(c.vocabSize) tokens
            positions   \(c.positional.rawValue)
            layer norm  eps \(c.layerNormEpsilon)
            """)
    }
}

/// "1.5 MB"-style sizes, decimal units.
func formatBytes(_ n: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(n)
    var unit = 0
    while value >= 1000 && unit < units.count - 1 {
        value /= 1000
        unit += 1
    }
    return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
}
