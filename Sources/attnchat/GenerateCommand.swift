import ArgumentParser
import Foundation
import GPT
import Sampling

/// `attnchat generate`: continue a prompt, streaming only the generated tokens to stdout.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt and stream the continuation to stdout.",
        discussion: "Diagnostics go to stderr; stdout holds only the generated output.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .customLong("prompt-ids"), help: "The prompt as token ids, space- or comma-separated.")
    var promptIDs: String

    @Option(name: .long, help: "How many tokens to generate at most.")
    var maxTokens = 64

    @Option(name: .long, help: "Sampling temperature; 0 picks the most likely token (greedy).")
    var temperature = 1.0

    @Option(name: .long, help: "Seed of the sampler's random generator.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Print token ids rather than text.")
    var ids = false

    func validate() throws {
        guard temperature.isFinite && temperature >= 0 else { throw ValidationError("--temperature must be a finite number >= 0 (got \(temperature))") }
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be >= 0 (got \(maxTokens))") }
    }

    func run() throws {
        let prompt = try parseTokenIDs(promptIDs, flag: "--prompt-ids")
        guard !prompt.isEmpty else { throw ValidationError("--prompt-ids: the prompt needs at least one token") }
        guard ids else { throw UsageError(description: "this model has no tokenizer yet: pass --ids to print token ids") }
        let (model, _) = try modelOptions.load()
        let state = GPTState(model: model)
        var sampler = Sampler(temperature: temperature, seed: seed)
        var logits = try state.prefill(prompt)
        let out = FileHandle.standardOutput
        let budget = min(maxTokens, model.config.contextLength - prompt.count)
        for i in 0..<budget {
            let token = sampler.sample(logits)
            try write(out, (i == 0 ? "" : " ") + String(token))
            if i + 1 < budget { logits = try state.decode(token) }
        }
        if budget < maxTokens {
            FileHandle.standardError.write(Data("attnchat: context full after \(budget) tokens (the model attends over \(model.config.contextLength))\n".utf8))
        }
        try write(out, "\n")
    }

    private func write(_ handle: FileHandle, _ text: String) throws {
        do { try handle.write(contentsOf: Data(text.utf8)) } catch { throw OutputError(description: "stdout: \(error.localizedDescription)") }
    }
}
