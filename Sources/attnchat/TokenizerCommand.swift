import ArgumentParser
import Chat
import Corpus
import FileIO
import FoundationEssentials
import Tokenizer

/// `attnchat tokenizer train | encode | decode`.
struct TokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Train, run and inspect byte-level BPE tokenizers.",
        subcommands: [Train.self, Encode.self, Decode.self]
    )

    /// Loads `--vocab DIR`, or the default (embedded) tokenizer when no directory is given.
    static func load(_ directory: String?) throws(TokenizerError) -> BPETokenizer {
        if let directory { return try BPETokenizer(directory: directory) }
        let files = defaultTokenizerFiles()
        return try BPETokenizer(vocabJSON: files.vocabJSON, merges: files.merges, paths: ("<default>/vocab.json", "<default>/merges.txt"))
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Learn a BPE vocabulary from text files or the chit-chat dataset.json (training split only).")

        @Option(help: "Vocabulary size, special tokens and the 256 bytes included.")
        var vocabSize: Int

        @Option(name: .customLong("special"), help: "A special token (repeatable); ids 0, 1, … in the order given.")
        var specials: [String] = []

        @Option(help: "Directory for vocab.json, merges.txt and tokenizer.json.")
        var output: String

        @Flag(help: "Replace vocab.json, merges.txt and tokenizer.json if OUTPUT has them (else exit 73).")
        var force = false

        @Argument(help: "Text files, or the chit-chat dataset.json.")
        var files: [String]

        func validate() throws {
            if files.isEmpty { throw ValidationError("give at least one FILE to train on") }
            if vocabSize < 256 + specials.count || vocabSize > 65536 {
                throw ValidationError("--vocab-size must be between \(256 + specials.count) and 65536")
            }
        }

        func run() throws {
            // Checked before the training, which can take minutes, and again by the writes.
            let existing = overwritePolicy(force: force)
            try checkOutputs(BPETokenizer.fileNames.map { Path.join(output, $0) }, in: output, existing: existing)
            var trainer = BPETrainer(vocabularySize: vocabSize, specialTokens: specials)
            for file in files {
                if ChitChat.looksLikeDataset(path: file) {
                    let corpus = try ChitChat(path: file)
                    for conversation in corpus.training {
                        for case .text(let text) in conversation.segments { trainer.add(text) }
                    }
                    printError("\(file): \(corpus.training.count) training conversations")
                } else {
                    trainer.add(try TextCorpus.read(path: file))
                }
            }
            var bar = ProgressBar(label: "merges")
            let tokenizer = try trainer.train { done, total in bar.update(done, total) }
            bar.finish()
            try tokenizer.save(to: output, existing: existing)
            printError("wrote \(output)/vocab.json, merges.txt, tokenizer.json: \(tokenizer.vocabularySize) tokens, \(tokenizer.mergeCount) merges")
        }
    }

    struct Encode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the tokens of TEXT (or of stdin with -).")

        @Option(help: "Tokenizer directory (default: the embedded one).")
        var vocab: String?

        @Flag(help: "Print ids separated by spaces instead of the token pieces.")
        var ids = false

        @Argument(help: "Text to encode; - or nothing reads stdin.")
        var text: String?

        func run() throws {
            let tokenizer = try TokenizerCommand.load(vocab)
            let input: String
            if let text, text != "-" {
                input = text
            } else {
                input = String(decoding: try InputFile.readStandardInput(), as: UTF8.self)
            }
            let tokens = tokenizer.encode(input)
            if ids {
                try Stdout.write(TokenizerCommand.idLine(tokens))
            } else {
                // Pieces in brackets, with invisible characters shown as escapes: [Hello][ world][\n]
                let pieces = tokens.map { id in "[" + TokenizerCommand.visible((try? tokenizer.bytes(of: id)) ?? []) + "]" }
                try Stdout.write(pieces.joined() + "\n")
            }
        }

    }

    /// `ids` as one line of decimal numbers separated by spaces, formatted straight into bytes:
    /// for a whole corpus this is faster than `map(String.init).joined` by several times.
    static func idLine(_ ids: [Int]) -> Data {
        var out = [UInt8]()
        out.reserveCapacity(ids.count * 5 + 1)
        var digits = [UInt8](repeating: 0, count: 20)
        for (index, id) in ids.enumerated() {
            if index > 0 { out.append(0x20) }
            var value = id.magnitude
            var count = 0
            repeat {
                digits[count] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
                count += 1
            } while value > 0
            if id < 0 { out.append(UInt8(ascii: "-")) }
            for position in stride(from: count - 1, through: 0, by: -1) { out.append(digits[position]) }
        }
        out.append(0x0A)
        return Data(out)
    }

    /// A token's bytes made visible: control characters escaped, and a token that is not valid
    /// UTF-8 on its own (part of an emoji, say) shown as hex bytes: `\xF0\x9F`.
    static func visible(_ bytes: [UInt8]) -> String {
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            return bytes.map { byte in
                (0x21..<0x7F).contains(byte) && byte != 0x5C && byte != 0x5B && byte != 0x5D
                    ? String(UnicodeScalar(byte)) : "\\x" + NumberText.hex(byte)
            }.joined()
        }
        return text.unicodeScalars.map { scalar in
            switch scalar {
            case "\n": "\\n"
            case "\t": "\\t"
            case "\r": "\\r"
            case "\\": "\\\\"
            case "[": "\\["
            case "]": "\\]"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value):
                "\\u{" + String(scalar.value, radix: 16) + "}"
            default: String(scalar)
            }
        }.joined()
    }

    struct Decode: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the text of token ids.")

        @Option(help: "Tokenizer directory (default: the embedded one).")
        var vocab: String?

        @Argument(help: "Token ids (spaces or commas between them), or - to read them from stdin.")
        var ids: [String]

        func run() throws {
            let tokenizer = try TokenizerCommand.load(vocab)
            let text = ids == ["-"] ? String(decoding: try InputFile.readStandardInput(), as: UTF8.self) : ids.joined(separator: " ")
            let tokenIDs = try parseTokenIDs(text, flag: "tokenizer decode")
            // Token text is from outside (a vocabulary file): inert, as generate prints it.
            try Stdout.write(TerminalSafe.inert(try tokenizer.decode(tokenIDs)) + "\n")
        }
    }
}

extension TokenizerCommand.Decode {
    /// `arguments` (the command line after the program name) with each run of bare token ids
    /// after `tokenizer decode` joined into one argument. ArgumentParser copies a repeating
    /// argument's whole array for every element it parses, so 40,000 ids took 55 s; one
    /// argument holding them is parsed in linear time by `parseTokenIDs`.
    static func joiningIDs(_ arguments: [String]) -> [String] {
        guard arguments.count > 3, arguments[0] == "tokenizer", arguments[1] == "decode" else { return arguments }
        func isID(_ argument: String) -> Bool { !argument.isEmpty && argument.utf8.allSatisfy { (0x30...0x39).contains($0) } }
        var out = Array(arguments[..<2])
        var run: Int?  // the element of `out` the current run of ids is joined into
        var options = true
        var index = 2
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if options, argument == "--vocab", index < arguments.count {
                out += [argument, arguments[index]]  // the option's value stays its own argument
                index += 1
                run = nil
                continue
            }
            if argument == "--" { options = false }
            if isID(argument), let run {
                out[run] += " " + argument
            } else {
                run = isID(argument) ? out.count : nil
                out.append(argument)
            }
        }
        return out
    }
}

/// A one-line progress bar on stderr, redrawn at most 100 times.
struct ProgressBar {
    var label: String
    private var lastPercent = -1

    init(label: String) { self.label = label }

    mutating func update(_ done: Int, _ total: Int) {
        let percent = total > 0 ? min(100, done * 100 / total) : 100
        guard percent != lastPercent else { return }
        lastPercent = percent
        let width = 30
        let filled = percent * width / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        UncheckedOutput.standardError("\r\(label) [\(bar)] \(percent)% \(done)/\(total)")
    }

    func finish() { UncheckedOutput.standardError("\n") }
}

/// One line on stderr. Errors and notices quote paths, values and tokens from outside, so the
/// line is made inert (`TerminalSafe.oneLine`): no escape sequence reaches the terminal and no
/// newline splits it.
func printError(_ line: String) {
    UncheckedOutput.standardError(TerminalSafe.oneLine(line) + "\n")
}
