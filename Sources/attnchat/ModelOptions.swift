import ArgumentParser
import CEmbedded
import Foundation
import GPT

/// `--model M`: `default` (the embedded model), an attnchat `.safetensors` file, or a Hugging
/// Face GPT-2 directory.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "default (the embedded model), a .safetensors file written by attnchat, or a Hugging Face GPT-2 directory (config.json + model.safetensors).")
    var model = "default"

    /// The name `default` always means the embedded model; a file of that name needs a path (./default).
    var isDefault: Bool { model == "default" }

    func validate() throws {
        guard !model.isEmpty else { throw ValidationError("--model is empty: give default, a .safetensors file or a model directory") }
    }

    func load() throws(GPTError) -> (model: GPTModel, source: ModelSource) {
        if isDefault { return try loadDefaultModel() }
        return try GPTModel.load(path: model)
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
