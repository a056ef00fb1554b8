import ArgumentParser
import FileIO
import FoundationEssentials
import GPT
import Safetensors
import Seq2Seq
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
    @Option(help: "Stored dtype: F32, F16, BF16, Q8 or Q4 (8- or 4-bit matrices, one scale per 32 values; attnchat files only).")
    var dtype = "F32"
    @Flag(name: .customLong("hugging-face"), help: "Write config.json + model.safetensors + the tokenizer files (learned positions only).")
    var huggingFace = false
    @Option(help: "Tokenizer directory to copy along with --hugging-face (default: the embedded one).")
    var vocab: String?
    @Flag(help: "Replace the output file (with --hugging-face: the files it writes in the directory) if it exists (else exit 73).")
    var force = false

    private var quantization: Quantization? { Quantization.allCases.first { $0.dtypeName == dtype.uppercased() } }

    func validate() throws {
        guard ["F32", "F16", "BF16", "Q8", "Q4"].contains(dtype.uppercased()) else { throw ValidationError("--dtype must be F32, F16, BF16, Q8 or Q4 (got \(dtype))") }
        if huggingFace && quantization != nil { throw ValidationError("--dtype \(dtype.uppercased()) writes attnchat files only, not --hugging-face") }
    }

    func run() throws {
        if TranslationModel.isTranslationModel(path: modelOptions.model) { return try exportTranslation() }
        let (model, _) = try modelOptions.load()
        let existing = overwritePolicy(force: force)
        if let quantization {
            try model.saveQuantized(to: output, scheme: quantization, existing: existing)
            printError("wrote \(output)")
            return
        }
        let type = DType(rawValue: dtype.uppercased())!
        if huggingFace {
            let tokenizer = try loadTokenizer(vocab: vocab, modelPath: modelOptions.isDefault ? nil : modelOptions.model)
            // Every file is checked before the first is written: a refusal changes nothing.
            let names = ["config.json", "model.safetensors"] + BPETokenizer.fileNames
            try checkOutputs(names.map { Path.join(output, $0) }, in: output, existing: existing)
            try model.saveHuggingFace(directory: output, dtype: type, endOfTextID: tokenizer.specialTokenID("<|endoftext|>"), existing: existing)
            try tokenizer.save(to: output, existing: existing)
        } else {
            try model.save(to: output, dtype: type, existing: existing)
        }
        printError("wrote \(output)")
    }

    /// An encoder–decoder is written as an attnchat-seq2seq file (F32, F16, Q8 or Q4), keeping
    /// its metadata (tokenizer hash, languages). Its tokenizer is not copied: `translate` finds
    /// it beside the model file or through --vocab.
    private func exportTranslation() throws {
        let type = dtype.uppercased()
        guard !huggingFace else { throw UsageError(description: "--hugging-face writes GPT-2 directories; \(modelOptions.model) is an encoder–decoder") }
        guard type != "BF16" else { throw UsageError(description: "--dtype BF16: encoder–decoder files are F32, F16, Q8 or Q4") }
        let loaded = try TranslationModel(path: modelOptions.model, vocab: vocab)
        let existing = overwritePolicy(force: force)
        if let quantization {
            try loaded.model.saveQuantized(to: output, scheme: quantization, metadata: loaded.extraMetadata, existing: existing)
        } else {
            try loaded.model.save(to: output, dtype: DType(rawValue: type)!, metadata: loaded.extraMetadata, existing: existing)
        }
        printError("wrote \(output) (its tokenizer: vocab.json and merges.txt beside it, or --vocab DIR)")
    }
}
