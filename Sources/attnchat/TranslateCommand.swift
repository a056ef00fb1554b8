import ArgumentParser
import CEmbedded
import FileIO
import FoundationEssentials
import GPT
import Glibc
import Safetensors
import Seq2Seq
import Tokenizer
import TUI
import Training
import Translation

/// An encoder–decoder model file with the tokenizer it was trained with (`--vocab`, else the
/// vocab.json + merges.txt beside the model file, where `train --task translate` writes them),
/// or the embedded English→Spanish model with its own tokenizer (`embeddedName`).
struct TranslationModel {
    /// The `--model` name of the translation model compiled into the binary (`translate`'s default).
    static let embeddedName = "default-translate"

    let model: Seq2SeqModel
    let tokenizer: BPETokenizer
    /// The languages the run trained (`source`, `target` in `__metadata__`), when recorded.
    let source: String?, target: String?
    /// The file's `__metadata__` entries beyond the format's own (tokenizer hash, languages):
    /// what `export` carries over.
    let extraMetadata: [String: String]

    /// Whether `path` is an attnchat-seq2seq file (a readable safetensors file that says so),
    /// or the embedded model's name.
    static func isTranslationModel(path: String) -> Bool {
        if path == embeddedName { return true }
        guard let file = try? SafetensorsFile(path: path) else { return false }
        return Seq2SeqModel.isSeq2Seq(metadata: file.metadata)
    }

    init(path: String, vocab: String?) throws {
        if path == Self.embeddedName {
            var count = 0
            guard let start = attnchat_embedded_translation_model(&count), count > 0 else {
                throw Seq2SeqError.badFile(path: path, reason: "this build has no embedded translation model")
            }
            let file = try SafetensorsFile(bytes: UnsafeBufferPointer(start: start, count: count), name: "<embedded>/en-es/model.safetensors")
            let tokenizer: BPETokenizer
            if let vocab {
                tokenizer = try TranslationTraining.tokenizer(directory: vocab)
            } else {
                let files = embeddedTranslationTokenizerFiles()
                tokenizer = try BPETokenizer(
                    vocabJSON: files.vocabJSON, merges: files.merges, specialTokens: TranslationVocabulary.specialTokens,
                    paths: ("<embedded>/en-es/vocab.json", "<embedded>/en-es/merges.txt"))
            }
            try self.init(file: file, tokenizer: tokenizer, tokenizerName: vocab ?? "<embedded>/en-es")
            return
        }
        let file: SafetensorsFile
        do { file = try SafetensorsFile(path: path) } catch { throw error }
        let directory = vocab ?? AtomicFile.split(path).directory
        try self.init(file: file, tokenizer: try TranslationTraining.tokenizer(directory: directory), tokenizerName: directory)
    }

    private init(file: SafetensorsFile, tokenizer: BPETokenizer, tokenizerName: String) throws {
        model = try Seq2SeqModel.load(file: file)
        self.tokenizer = tokenizer
        if let saved = file.metadata["tokenizer"], saved != tokenizerHash(tokenizer) {
            throw Seq2SeqError.badFile(path: file.path, reason: "was trained with another tokenizer than \(tokenizerName)'s (hash \(saved), found \(tokenizerHash(tokenizer))); give --vocab DIR")
        }
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw Seq2SeqError.badFile(path: file.path, reason: "the model has \(model.config.vocabSize) token ids; \(tokenizerName)'s tokenizer has \(tokenizer.vocabularySize)")
        }
        source = file.metadata["source"]
        target = file.metadata["target"]
        let own: Set = [Seq2SeqModel.formatKey, Seq2SeqModel.versionKey, Seq2SeqModel.configKey, GPTModel.quantizationKey]
        extraMetadata = file.metadata.filter { !own.contains($0.key) }
    }
}

/// `attnchat translate`: a sentence, or every line of stdin, translated by an encoder–decoder.
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate with an encoder–decoder model trained by train --task translate.",
        discussion: """
            With TEXT, prints its translation. With - (or TEXT left out and stdin piped), translates each line of stdin \
            to one line of stdout: an empty line stays empty; a line longer than the model's context is refused \
            (exit 65, naming the line), never cut. Greedy decoding unless --beam. With neither on a terminal, opens \
            the full-screen view: each sentence typed is translated token by token beside its cross-attention.
            """)

    @Option(help: "default-translate (the embedded English→Spanish model), or an attnchat-seq2seq .safetensors file (train --task translate writes OUTPUT/model.safetensors).")
    var model = TranslationModel.embeddedName
    @Option(help: "Tokenizer directory (default: the model file's directory).")
    var vocab: String?
    @Option(help: "Beam width; 1 is greedy decoding (default 1).")
    var beam = 1
    @Option(name: .customLong("length-penalty"), help: "Beam search's GNMT length penalty α (default 1).")
    var lengthPenalty: Float = 1
    @Flag(help: "After the translation, print its alignment map: each target token's cross-attention over the source tokens, as shades (one TEXT, greedy).")
    var alignment = false
    @Option(help: "With --alignment: the decoder layer whose cross-attention is shown, 1-based (default: the last).")
    var layer: Int?
    @Option(help: "With --alignment: one head, 1-based (default: the mean over the heads).")
    var head: Int?
    @Argument(help: "The text to translate, or - for stdin's lines.")
    var text: String?

    func validate() throws {
        guard beam >= 1 && beam <= 64 else { throw ValidationError("--beam must be in 1...64 (got \(beam))") }
        if alignment {
            guard let text, text != "-" else { throw ValidationError("--alignment maps one sentence: give it as TEXT") }
            guard beam == 1 else { throw ValidationError("--alignment follows greedy decoding; leave out --beam") }
        } else if layer != nil || head != nil {
            throw ValidationError("--layer and --head choose what --alignment shows")
        }
        guard lengthPenalty.isFinite && lengthPenalty >= 0 else { throw ValidationError("--length-penalty must be >= 0 (got \(lengthPenalty))") }
    }

    func run() throws {
        if text == nil && isatty(STDIN_FILENO) == 1 { return try runFullScreen() }
        let loaded = try TranslationModel(path: model, vocab: vocab)
        let lines: [String]
        let name: String
        if let text, text != "-" {
            lines = [text]
            name = "TEXT"
        } else {
            lines = try Self.readLines(InputFile.readStandardInput())
            name = "stdin"
        }
        let c = loaded.model.config
        // Every line is checked before any is translated: a refusal leaves stdout empty.
        var sources: [[Int32]] = []
        for (number, line) in lines.enumerated() {
            let ids = loaded.tokenizer.encode(line).map(Int32.init)
            if ids.count > c.contextLength {
                throw Seq2SeqError.badFile(path: name, reason: "line \(number + 1): \(ids.count) tokens, longer than the model's context of \(c.contextLength); split it")
            }
            sources.append(ids)
        }
        if alignment { return try printAlignment(loaded, source: sources[0]) }
        let nonEmpty = sources.indices.filter { !sources[$0].isEmpty }
        var outputs = [String](repeating: "", count: lines.count)
        let translations: [[Int32]]
        if beam == 1 {
            translations = try TranslationEvaluation.greedy(model: loaded.model, sources: nonEmpty.map { sources[$0] })
        } else {
            translations = try TranslationEvaluation.beamSearch(
                model: loaded.model, sources: nonEmpty.map { sources[$0] }, beam: beam, lengthPenalty: lengthPenalty)
        }
        for (i, ids) in zip(nonEmpty, translations) { outputs[i] = try loaded.tokenizer.decode(ids.map(Int.init)) }
        try Stdout.write(outputs.map { $0 + "\n" }.joined())
    }

    /// Greedy decoding of one sentence that keeps, at every step, the chosen layer's
    /// cross-attention of the token being produced; prints the translation, then the map.
    private func printAlignment(_ loaded: TranslationModel, source: [Int32]) throws {
        let c = loaded.model.config
        let L = (layer ?? c.decoderLayers) - 1
        guard (0..<c.decoderLayers).contains(L) else { throw UsageError(description: "--layer must be in 1...\(c.decoderLayers) (got \(layer!))") }
        if let head, !(1...c.heads).contains(head) { throw UsageError(description: "--head must be in 1...\(c.heads) (got \(head))") }
        guard !source.isEmpty else { return try Stdout.write("\n") }
        let S = source.count
        var rows: [[Float]] = []
        let output = try loaded.model.greedy(sources: [source], maxLength: TranslationEvaluation.maxLength(sourceTokens: S, config: c)) { _, decoder in
            let heads = decoder.crossAttention(layer: L, row: 0)  // H rows of S
            if let head {
                rows.append(Array(heads[((head - 1) * S)..<(head * S)]))
            } else {
                rows.append((0..<S).map { j in (0..<c.heads).reduce(Float(0)) { $0 + heads[$1 * S + j] } / Float(c.heads) })
            }
        }
        // Step t's attention is that of the query producing output token t; the step that
        // produced the end of sentence has no token to label.
        let piece = { (id: Int32) in String(decoding: (try? loaded.tokenizer.bytes(of: Int(id))) ?? [], as: UTF8.self) }
        let map = AlignmentMap(source: source.map(piece), target: output[0].map(piece), weights: Array(rows.prefix(output[0].count).joined()))
        let which = head.map { "head \($0)/\(c.heads)" } ?? "mean of \(c.heads) heads"
        try Stdout.write(try loaded.tokenizer.decode(output[0].map(Int.init)) + "\n\ncross-attention, layer \(L + 1)/\(c.decoderLayers), \(which)\n" + map.text(ascii: false))
    }

    /// stdin's lines (a last line without a newline counts; "\r\n" is one line break).
    /// - Throws: exit 65 naming the first line that is not UTF-8.
    static func readLines(_ data: Data) throws -> [String] {
        var lines: [String] = []
        var bytes = [UInt8](data)
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        if bytes.isEmpty && data.isEmpty { return [] }
        for (number, var raw) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            if raw.last == UInt8(ascii: "\r") { raw = raw.dropLast() }
            guard let line = String(validating: raw, as: UTF8.self) else {
                throw Seq2SeqError.badFile(path: "stdin", reason: "line \(number + 1): not valid UTF-8")
            }
            lines.append(line)
        }
        return lines
    }
}
