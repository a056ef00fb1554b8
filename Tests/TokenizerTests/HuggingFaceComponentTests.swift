import Foundation
import Testing
@testable import Tokenizer

/// The pieces of the tokenizer.json pipeline on their own: the Split regex engine, and the refusal
/// of files that are malformed or use what is not implemented (exit 65 naming file and field).
@Suite struct HuggingFaceComponentTests {
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#

    func pieces(_ regex: SplitRegex, _ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        return regex.matches(in: scalars).map { String(String.UnicodeScalarView(scalars[$0])) }
    }

    /// The hand-written GPT-2 scanner (the ByteLevel fast path) and the regex engine running
    /// GPT-2's pattern split random Unicode identically.
    @Test func regexEngineAgreesWithTheHandWrittenGPT2Scanner() throws {
        let regex = try SplitRegex(Self.gpt2Pattern)
        var rng = SeededGenerator(seed: 2024)
        for _ in 0..<400 {
            let text = randomText(&rng, length: Int(rng.next() % 30))
            #expect(pieces(regex, text) == PreTokenizer.pieces(text), "\(text.debugDescription)")
        }
    }

    @Test func regexMatchesTheLlama3Subset() throws {
        let llama3 = try SplitRegex(#"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#)
        #expect(pieces(llama3, "I'LL pay 12345 now!!\n\n  ok") == ["I", "'LL", " pay", " ", "123", "45", " now", "!!\n\n", " ", " ok"])
        #expect(pieces(llama3, "x'ſ") == ["x", "'ſ"])  // Oniguruma folds ſ to s
        #expect(pieces(try SplitRegex("a{2,3}|b"), "aaaaab") == ["aaa", "aa", "b"])
        #expect(pieces(try SplitRegex("(?:ab)+(?=c)"), "ababcab") == ["abab"])
        #expect(pieces(try SplitRegex(#"[a-c\d]+"#), "xab1cz") == ["ab1c"])
        // A lookahead that succeeded leaves no "failed" marks for its next run.
        #expect(pieces(try SplitRegex("(?:(?=.*c).)+"), "abcab") == ["abc"])
    }

    @Test(arguments: [
        ("(?<=a)b", "group \"(?<\""), ("a{1,100000}", "repetition bound"), ("(a*)*", "can match nothing"),
        ("^a", "anchor"), ("a+?", "lazy"), ("\\p{Han}", "property"), ("(a", "unclosed group"), ("[a", "unclosed class"),
        ("\\k<x>", "escape \\k"), (String(repeating: "(", count: 5000) + "a" + String(repeating: ")", count: 5000), "nested deeper"),
        ("(a{1000}){1000}", "too large"), ("a)", "unbalanced"), ("*a", "nothing to repeat"), ("(?!a)*", "quantified lookahead"),
    ])
    func refusesRegexFeaturesItLacks(pattern: String, message: String) {
        #expect(throws: SplitRegex.Unsupported.self) { try SplitRegex(pattern) }
        do { _ = try SplitRegex(pattern) } catch { #expect(error.reason.contains(message), "\(error.reason)") }
    }

    /// A pattern with exponential backtracking in a naive engine still finishes quickly.
    @Test func pathologicalPatternsStayPolynomial() throws {
        let regex = try SplitRegex("(a|a)+b|a")
        let text = Array(String(repeating: "a", count: 300).unicodeScalars)
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = regex.matches(in: text) }
        #expect(elapsed < .seconds(20))
    }

    static let minimal = #"{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}"#

    func load(_ json: String) throws(TokenizerError) -> BPETokenizer {
        try BPETokenizer(tokenizerJSON: Data(json.utf8), path: "m/tokenizer.json")
    }

    func with(_ extra: String) -> String { String(Self.minimal.dropLast()) + "," + extra + "}" }

    @Test func loadsAMinimalCharLevelFile() throws {
        let tokenizer = try load(Self.minimal)
        #expect(tokenizer.encode("abab") == [2, 2])
        #expect(try tokenizer.decode([2, 0]) == "ab a")  // no decoder: tokens joined by spaces, as tokenizers does
        let legacy = try load(with(#""pre_tokenizer":{"type":"Metaspace","replacement":"▁","add_prefix_space":true}"#))
        #expect(legacy.encode("ab") == [2])  // "▁ab": "▁" is not in the vocabulary (no unk, no fallback): dropped
    }

    /// Malformed or unsupported files: one clear error naming the file and the field, never a trap.
    @Test(arguments: [
        (#""normalizer":{"type":"Lowercase"}"#, "normalizer \"Lowercase\""),
        (#""normalizer":{"type":"Replace","pattern":{"Regex":" "},"content":"x"}"#, "pattern Regex"),
        (#""normalizer":{"type":"Prepend"}"#, "lacks \"prepend\""),
        (#""normalizer":{"type":"Sequence","normalizers":{}}"#, "normalizers is object"),
        (#""normalizer":[1]"#, "normalizer is array"),
        (#""pre_tokenizer":{"type":"Split","pattern":{"Regex":"a{5000}"},"behavior":"Isolated","invert":false}"#, "repetition bound"),
        (#""pre_tokenizer":{"type":"Split","pattern":{"Regex":"(ab"},"behavior":"Isolated","invert":false}"#, "unclosed group"),
        (#""pre_tokenizer":{"type":"Split","pattern":{"Regex":"a"},"behavior":"Removed","invert":false}"#, "behavior \"Removed\""),
        (#""pre_tokenizer":{"type":"Split","pattern":{"Regex":"a"},"behavior":"Isolated","invert":true}"#, "invert true"),
        (#""pre_tokenizer":{"type":"Split","behavior":"Isolated"}"#, "lacks a \"pattern\""),
        (#""pre_tokenizer":{"type":"Metaspace","replacement":"ab"}"#, "not one character"),
        (#""pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"sometimes"}"#, "prepend_scheme"),
        (#""pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"},{"type":"Digits"}]}"#, "ByteLevel before"),
        (#""pre_tokenizer":{"type":"ByteLevel","use_regex":"yes"}"#, "use_regex is string"),
        (#""pre_tokenizer":{"kind":"ByteLevel"}"#, "lacks a \"type\""),
        (#""decoder":{"type":"WordPiece"}"#, "decoder \"WordPiece\""),
        (#""decoder":{"type":"Sequence","decoders":[{"type":"Fuse"},{"type":"ByteFallback"}]}"#, "out of the order"),
        (#""decoder":{"type":"Strip","content":" ","start":1,"stop":2}"#, "stop is not 0"),
        (#""decoder":{"type":"Strip","content":" ","start":-1,"stop":0}"#, "start is not an integer"),
        (#""post_processor":{"type":"RobertaProcessing"}"#, "post_processor \"RobertaProcessing\""),
        (#""post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{}}"#, "not in post_processor.special_tokens"),
        (#""post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"ids":[-3]}}}"#, "non-id"),
        (#""post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>"}},{"Sequence":{"id":"A"}}],"special_tokens":{"<s>":{"ids":[77]}}}"#, "adds id 77"),
        (#""added_tokens":[{"id":-1,"content":"<s>"}]"#, "added_tokens[0] lacks"),
        (#""added_tokens":[{"id":5,"content":"<s>","special":"yes"}]"#, "special is string"),
        (#""added_tokens":[{"id":0,"content":"<s>","special":true}]"#, "duplicate id 0"),
        (#""added_tokens":{"id":0}"#, "added_tokens is object"),
    ])
    func refusesBadComponentsNamingTheField(extra: String, message: String) {
        do {
            _ = try load(with(extra))
            Issue.record("loaded \(extra)")
        } catch {
            #expect(error.exitCode == 65)
            #expect(error.description.hasPrefix("m/tokenizer.json"), "\(error)")
            #expect(error.description.contains(message), "\(error)")
        }
    }

    @Test(arguments: [
        #"{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"dropout":0.1}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":"<unk>"}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":7}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"continuing_subword_prefix":"@@"}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[["a"]]}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0}}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[],"byte_fallback":1}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0,"<unk>":4294967297},"merges":[],"unk_token":"<unk>"}}"#,
        #"{"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"added_tokens":[{"id":99999999999,"content":"x"}]}"#,
    ])
    func refusesBadModels(json: String) {
        do {
            _ = try load(json)
            Issue.record("loaded \(json)")
        } catch {
            #expect(error.exitCode == 65)
            #expect(error.description.hasPrefix("m/tokenizer.json"), "\(error)")
        }
    }
}

/// The NFC normalizer (the standard library's, since Foundation's would link ICU) composes as
/// Foundation's `precomposedStringWithCanonicalMapping` did for every BMP scalar, alone, after a
/// base letter, and before combining marks out of canonical order. Two known differences are
/// left out: marks new in Unicode 16 and 17 (the standard library knows them, ICU 76 not all),
/// and scalars above U+FFFF, which Foundation on Linux got wrong (U+10041 + U+0323 became U+1EA0,
/// "A with dot below"); those are checked against Python's `unicodedata.normalize("NFC", …)`.
@Test func nfcIsWhatFoundationComposed() {
    var mismatches: [String] = []
    for block in stride(from: 0x80, to: 0x10000, by: 256) {
        var text = String.UnicodeScalarView()
        for value in block..<min(block + 256, 0x10000) {
            guard let scalar = Unicode.Scalar(UInt32(value)), (scalar.properties.age?.major ?? 0) < 16 else { continue }
            text.append(contentsOf: ["a", scalar, " ", scalar, "\u{323}", "\u{301}", "\u{307}", " "])
        }
        let string = String(text)
        if !string.nfcNormalized.unicodeScalars.elementsEqual(string.precomposedStringWithCanonicalMapping.unicodeScalars) {
            mismatches.append(String(block, radix: 16))
        }
    }
    #expect(mismatches.isEmpty, "blocks that compose differently: \(mismatches)")
    let python: [(String, [UInt32])] = [
        ("\u{11099}\u{110BA}", [0x1109A]), ("\u{1D15E}", [0x1D157, 0x1D165]), ("\u{10041}\u{323}\u{301}", [0x10041, 0x323, 0x301]),
        ("\u{11131}\u{11127}", [0x1112E]), ("a\u{1E94A}\u{301}", [0xE1, 0x1E94A]), ("\u{1100}\u{1161}\u{11A8}", [0xAC01]),
    ]
    for (text, expected) in python { #expect(text.nfcNormalized.unicodeScalars.map(\.value) == expected) }
}
