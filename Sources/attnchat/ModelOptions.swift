import ArgumentParser
import GPT

/// `--model M`: an attnchat `.safetensors` file or a Hugging Face GPT-2 directory.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "A .safetensors file written by attnchat, or a Hugging Face GPT-2 directory (config.json + model.safetensors).")
    var model: String

    func load() throws(GPTError) -> (model: GPTModel, source: ModelSource) {
        try GPTModel.load(path: model)
    }
}

/// Parses a list of token ids, e.g. "15496 11 995" or "1,2,3".
func parseTokenIDs(_ text: String, flag: String) throws -> [Int] {
    let parts = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" || $0 == "\n" })
    var ids: [Int] = []
    for part in parts {
        guard let id = Int(part), id >= 0 else { throw ValidationError("\(flag): \"\(part)\" is not a token id") }
        ids.append(id)
    }
    return ids
}
