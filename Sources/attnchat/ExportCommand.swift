import ArgumentParser
import Foundation
import GPT
import Safetensors
import Tokenizer

/// `attnchat export`: write a model in another dtype, or as a Hugging Face GPT-2 directory that
/// `transformers.GPT2LMHeadModel.from_pretrained` (and `AutoTokenizer`) load as they are.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a model as an attnchat file in another dtype, or as a Hugging Face GPT-2 directory.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "Output: a .safetensors file, or a directory with --hugging-face.")
    var output: String
    @Option(help: "Stored dtype: F32, F16 or BF16.")
    var dtype = "F32"
    @Flag(name: .customLong("hugging-face"), help: "Write config.json + model.safetensors + the tokenizer files (learned positions only).")
    var huggingFace = false
    @Option(help: "Tokenizer directory to copy along with --hugging-face (default: the embedded one).")
    var vocab: String?

    func validate() throws {
        guard ["F32", "F16", "BF16"].contains(dtype.uppercased()) else { throw ValidationError("--dtype must be F32, F16 or BF16 (got \(dtype))") }
    }

    func run() throws {
        let (model, _) = try modelOptions.load()
        let type = DType(rawValue: dtype.uppercased())!
        if huggingFace {
            let tokenizer = try loadTokenizer(vocab: vocab, modelPath: modelOptions.isDefault ? nil : modelOptions.model)
            try model.saveHuggingFace(directory: output, dtype: type, endOfTextID: tokenizer.specialTokenID("<|endoftext|>"))
            try tokenizer.save(to: output)
        } else {
            try model.save(to: output, dtype: type)
        }
        printError("wrote \(output)")
    }
}
