import ArgumentParser
import CEmbedded
import FoundationEssentials
import GPT

/// `--model M`: `default` (the embedded model), an attnchat `.safetensors` file, or a Hugging
/// Face directory (GPT-2, Llama, Qwen2, Mistral).
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "default (the embedded model), a .safetensors file written by attnchat, or a Hugging Face model directory (config.json + model.safetensors or its shards; GPT-2, Llama, Qwen2, Mistral).")
    var model = "default"

    @Option(name: .customLong("context"), help: "Hugging Face Llama-family models: the most tokens of context to allocate (default \(GPTModel.defaultContextLimit); never more than the model's max_position_embeddings). The KV cache grows with it.")
    var contextLimit = GPTModel.defaultContextLimit

    /// The name `default` always means the embedded model; a file of that name needs a path (./default).
    var isDefault: Bool { model == "default" }

    func validate() throws {
        guard !model.isEmpty else { throw ValidationError("--model is empty: give default, a .safetensors file or a model directory") }
        guard contextLimit > 0 && contextLimit <= GPTConfig.limits.contextLength else {
            throw ValidationError("--context must be in 1...\(GPTConfig.limits.contextLength) (got \(contextLimit))")
        }
    }

    func load() throws(GPTError) -> (model: GPTModel, source: ModelSource) {
        if isDefault { return try loadDefaultModel() }
        // The embedded translation model's name, given to a chat command: said as a file of it would be.
        if model == TranslationModel.embeddedName {
            throw GPTModel.notAChatModel(path: model, format: "attnchat-seq2seq")
        }
        return try GPTModel.load(path: model, contextLimit: contextLimit)
    }

    /// What the status bar and transcripts call the model: the file's name without its
    /// extension, or the Hugging Face directory's name.
    func displayName(_ source: ModelSource) -> String {
        let path = source.huggingFace == nil ? source.path : model
        return URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
}

/// The chat model compiled into the binary.
func loadDefaultModel() throws(GPTError) -> (model: GPTModel, source: ModelSource) {
    var count = 0
    guard let start = attnchat_embedded_default_model(&count), count > 0 else {
        throw .missingModel(path: "default", reason: "this build has no embedded model")
    }
    return try GPTModel.load(bytes: UnsafeBufferPointer(start: start, count: count), name: "default")
}

/// Parses a list of token ids, e.g. "15496 11 995" or "1,2,3". A bad one is a `UsageError`:
/// one stderr line naming `flag` and the text (ArgumentParser would add the root's usage).
func parseTokenIDs(_ text: String, flag: String) throws(UsageError) -> [Int] {
    let parts = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" })
    var ids: [Int] = []
    for part in parts {
        guard let id = Int(part), id >= 0 else { throw UsageError(description: "\(flag): \"\(part)\" is not a token id") }
        ids.append(id)
    }
    return ids
}
