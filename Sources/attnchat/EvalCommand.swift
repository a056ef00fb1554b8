import ArgumentParser
import Corpus
import FoundationEssentials
import GPT
import JSON
import Tokenizer
import Training

/// `attnchat eval`: validation loss, perplexity and bits per byte (ARCHITECTURE.md's metric).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure a model on held-out text: nats/token, perplexity, bits/byte (a translation model: loss, perplexity and BLEU).",
        discussion: "With the chit-chat dataset.json or .jsonl chats the validation split is used (what train holds out); any other file is evaluated whole. A translation model (train --task translate) is measured on the test split of a source<TAB>target<TAB>attribution TSV: cross-entropy over every pair, greedy BLEU with one hypothesis per distinct source sentence and all its translations as references.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "The chit-chat dataset.json, .jsonl chats, or a text file.")
    var data: String
    @Option(help: "Tokenizer directory (default: the model directory's files, else the embedded one).")
    var vocab: String?
    @Flag(help: "Print one JSON object.")
    var json = false
    @Option(help: "A translation model: the beam width of the BLEU translations; 1 is greedy (default 1).")
    var beam = 1
    @Option(name: .customLong("length-penalty"), help: "A translation model with --beam: the GNMT length penalty α (default 1).")
    var lengthPenalty: Float = 1

    func validate() throws {
        guard beam >= 1 && beam <= 64 else { throw ValidationError("--beam must be in 1...64 (got \(beam))") }
        guard lengthPenalty.isFinite && lengthPenalty >= 0 else { throw ValidationError("--length-penalty must be >= 0 (got \(lengthPenalty))") }
    }

    func run() throws {
        // An encoder–decoder file says so in its `format`; everything else is a GPT.
        if !modelOptions.isDefault, TranslationModel.isTranslationModel(path: modelOptions.model) { return try runTranslation() }
        guard beam == 1 else { throw UsageError(description: "--beam measures a translation model's BLEU; \(modelOptions.model) is a GPT") }
        let (model, _) = try modelOptions.load()
        let tokenizer = try loadTokenizer(vocab: vocab, modelPath: modelOptions.isDefault ? nil : modelOptions.model)
        try checkVocabulary(tokenizer, fits: model)
        let stream: [Int32]
        // Read as train reads it: chats (dataset.json, .jsonl) rendered with the template.
        if ChitChat.looksLikeDataset(path: data) || data.hasSuffix(".jsonl") {
            stream = try TrainingCorpus(paths: [data], tokenizer: tokenizer).validation
        } else {
            stream = tokenizer.encode(try TextCorpus.read(path: data)).map(Int32.init)
        }
        guard stream.count >= 2 else { throw TrainingError.corpusTooSmall(path: data, tokens: stream.count, needed: 2) }
        if let bad = stream.first(where: { Int($0) >= model.config.vocabSize }) {
            throw GPTError.tokenOutOfRange(id: Int(bad), vocabSize: model.config.vocabSize)
        }
        let byteCounts = (0..<tokenizer.vocabularySize).map { (try? tokenizer.bytes(of: $0).count) ?? 0 }
        let r = Evaluation.run(model: model, stream: stream, byteLength: { byteCounts[Int($0)] })
        if json {
            let object: JSONObject = [
                "tokens": .integer(Int64(r.tokens)), "bytes": .integer(Int64(r.bytes)), "nats_per_token": .number(r.natsPerToken),
                "perplexity": .number(r.perplexity), "bits_per_byte": .number(r.bitsPerByte),
            ]
            try Stdout.write(JSONValue.object(object).serialized() + "\n")
        } else {
            try Stdout.write("""
                tokens \(r.tokens), bytes \(r.bytes)
                nats/token \(NumberText.fixed(r.natsPerToken, 4))
                perplexity \(NumberText.fixed(r.perplexity, 3))
                bits/byte  \(NumberText.fixed(r.bitsPerByte, 4))

                """)
        }
    }
}
