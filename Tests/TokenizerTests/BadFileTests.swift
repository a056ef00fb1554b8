import Foundation
import Testing
@testable import Tokenizer

/// RELIABILITY.md 14-16: broken vocabulary files are errors (exit 65) naming the file and line.
@Suite struct BadFileTests {
    let goodVocab = #"{"a":0,"b":1,"ab":2,"Ġ":3}"#
    let goodMerges = "#version: 0.2\na b\n"

    func loadError(vocab: String? = nil, merges: String? = nil) -> TokenizerError? {
        do {
            _ = try BPETokenizer(vocabJSON: Data((vocab ?? goodVocab).utf8), merges: Data((merges ?? goodMerges).utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsTheGoodFiles() throws {
        let tokenizer = try BPETokenizer(vocabJSON: Data(goodVocab.utf8), merges: Data(goodMerges.utf8))
        #expect(tokenizer.encode("ab a") == [2, 3, 0])
        // The `#version` line is optional.
        #expect(loadError(merges: "a b\n") == nil)
        #expect(loadError(merges: "a b") == nil)
    }

    @Test(arguments: [
        ("[1, 2]", "not a JSON object"),
        ("{\"a\": 0,", "not valid JSON"),
        ("{\"a\": 0, \"b\": 1.5, \"ab\": 2}", "1.5"),
        ("{\"a\": 0, \"b\": \"1\", \"ab\": 2}", "expected a non-negative integer"),
        ("{\"a\": 0, \"b\": true, \"ab\": 2}", "expected a non-negative integer"),
        // Only integer literals, as serde_json reads a token id: 1.0 and 1e0 are numbers, not ids.
        ("{\"a\": 0, \"b\": 1.0, \"ab\": 2}", "expected a non-negative integer"),
        ("{\"a\": 0, \"b\": -4, \"ab\": 2}", "expected a non-negative integer"),
        ("{\"a\": 0,\n\"b\": 0,\n\"ab\": 2}", "duplicate id 0"),
        ("{\"a\": 0, \"b\": 1, \"ab\": 99999999}", "limit"),
        // An id beyond the limit must not overflow on the way to the check.
        ("{\"a\": 0, \"b\": 1, \"ab\": 9223372036854775807}", "limit"),
        ("{\"a\": 0, \"b\": 1, \"a\": 2}", "duplicate key \"a\""),
    ])
    func rejectsBadVocabularies(vocab: String, message: String) throws {
        let error = try #require(loadError(vocab: vocab))
        #expect(error.exitCode == 65)
        #expect(error.description.contains("vocab.json"))
        #expect(error.description.contains(message), "\(error)")
    }

    @Test func pointsAtTheLineAndColumnOfASyntaxError() throws {
        let error = try #require(loadError(vocab: "{\"a\": 0,\n\"b\": 1,\n\"ab\": x}"))
        #expect(error.line == 3, "\(error)")
        #expect(error.description.hasPrefix("vocab.json:3: column 7: not valid JSON"), "\(error)")
    }

    @Test func namesTheLineOfADuplicateId() throws {
        let error = try #require(loadError(vocab: "{\"a\": 0,\n\"b\": 0,\n\"ab\": 2}"))
        #expect(error.line == 2, "\(error)")
        #expect(error.description.hasPrefix("vocab.json:2: "))
    }

    @Test(arguments: [
        ("#version: 0.2\na\n", 2, "1 fields"),
        ("#version: 0.2\na b\na b ab\n", 3, "3 fields"),
        ("a b\nab zz\n", 2, "unknown token \"zz\""),
        ("a b\nb a\n", 2, "unknown token \"ba\""),
        ("a b\n\nb a\n", 2, "0 fields"),
    ])
    func rejectsBadMergesWithTheLineNumber(merges: String, line: Int, message: String) throws {
        let error = try #require(loadError(merges: merges))
        #expect(error.exitCode == 65)
        #expect(error.line == line, "\(error)")
        #expect(error.description.hasPrefix("merges.txt:\(line): "), "\(error)")
        #expect(error.description.contains(message), "\(error)")
    }

    func jsonError(_ mutate: (inout [String: Any]) -> Void) throws -> TokenizerError {
        var object = try #require(JSONSerialization.jsonObject(with: Fixture.data("hf/tokenizer.json")) as? [String: Any])
        mutate(&object)
        let data = try JSONSerialization.data(withJSONObject: object)
        do {
            _ = try BPETokenizer(tokenizerJSON: data, path: "x/tokenizer.json")
        } catch {
            return error
        }
        Issue.record("loaded a bad tokenizer.json")
        return .unsupported(path: "", what: "")
    }

    @Test func rejectsTokenizerJSONOfAnotherModelType() throws {
        let error = try jsonError { object in
            var model = object["model"] as? [String: Any] ?? [:]
            model["type"] = "WordPiece"
            object["model"] = model
        }
        #expect(error.exitCode == 65)
        #expect(error.description == "x/tokenizer.json: unsupported tokenizer.json: model type \"WordPiece\" (expected \"BPE\")")
    }

    @Test func rejectsTokenizerJSONWithMissingFields() throws {
        let noModel = try jsonError { $0["model"] = nil }
        #expect(noModel.description.contains("unsupported"), "\(noModel)")
        let noMerges = try jsonError { object in
            var model = object["model"] as? [String: Any] ?? [:]
            model["merges"] = nil
            object["model"] = model
        }
        #expect(noMerges.description.contains("unsupported") && noMerges.description.contains("merges"))
        // Components this tokenizer does not implement are named (NFC, add_prefix_space and a
        // missing pre-tokenizer load now: HuggingFaceFamilyTests).
        let preTokenizer = try jsonError { $0["pre_tokenizer"] = ["type": "Whitespace"] }
        #expect(preTokenizer.description.contains("pre_tokenizer \"Whitespace\""), "\(preTokenizer)")
        let normalizer = try jsonError { $0["normalizer"] = ["type": "Lowercase"] }
        #expect(normalizer.description.contains("normalizer \"Lowercase\""), "\(normalizer)")
    }

    @Test func reportsMissingDirectoriesAndFilesAsMissingInput() throws {
        do {
            _ = try BPETokenizer(directory: "/nonexistent/vocab")
            Issue.record("loaded a missing directory")
        } catch {
            #expect(error.exitCode == 66)
            #expect(error.description.contains("/nonexistent/vocab"))
        }
        let empty = NSTemporaryDirectory() + "attnchat-empty-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        do {
            _ = try BPETokenizer(directory: empty)
            Issue.record("loaded an empty directory")
        } catch {
            #expect(error.exitCode == 66)
            #expect(error.description.contains("vocab.json"))
        }
    }

    /// Random bytes as any of the three files: an error or a tokenizer, never a trap.
    @Test func survivesGarbageFiles() {
        var rng = SeededGenerator(seed: 13)
        for _ in 0..<200 {
            let garbage = Data((0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            _ = try? BPETokenizer(vocabJSON: garbage, merges: Data(goodMerges.utf8))
            _ = try? BPETokenizer(vocabJSON: Data(goodVocab.utf8), merges: garbage)
            _ = try? BPETokenizer(tokenizerJSON: garbage)
        }
    }
}
