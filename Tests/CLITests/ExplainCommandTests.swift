import Foundation
import JSON
import Testing

@Suite struct ExplainCommandTests {
    static let prompt = "hi! how are you doing today?"

    @Test func jsonHoldsEveryStepInFull() throws {
        let r = try CLI.run(["explain", "--prompt", Self.prompt, "--layer", "2", "--head", "3", "--position", "4", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONValue.parse(Data(r.stdout.utf8))
        func floats(_ v: JSONValue?) -> [Float] { v?.arrayValue?.compactMap { $0.doubleValue.map(Float.init) } ?? [] }
        func matrix(_ key: String) -> [[Float]] { json[key]?.arrayValue?.map { floats($0) } ?? [] }
        let tokens = json["tokens"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(tokens.count == 8 && tokens[2] == " how")
        #expect(json["layer"]?.intValue == 2 && json["head"]?.intValue == 3 && json["position"]?.intValue == 4)
        let hs = try #require(json["head_size"]?.intValue)
        #expect(floats(json["query"]).count == hs && floats(json["output"]).count == hs)
        let keys = matrix("keys"), values = matrix("values")
        #expect(keys.count == 4 && values.count == 4 && keys.allSatisfy { $0.count == hs } && values.allSatisfy { $0.count == hs })
        let scores = floats(json["scores"]), scaled = floats(json["scaled"]), weights = floats(json["weights"])
        #expect(scores.count == 4 && scaled.count == 4 && weights.count == 4)
        let scale = try #require(json["scale"]?.doubleValue)
        #expect(abs(scale - 1 / Double(hs).squareRoot()) < 1e-7)
        // Each step follows from the one before.
        let query = floats(json["query"])
        for j in 0..<4 {
            let dot = zip(query, keys[j]).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            #expect(abs(dot - scores[j]) < 1e-4 * max(1, abs(dot)))
            #expect(abs(scaled[j] - scores[j] * Float(scale)) < 1e-5 * max(1, abs(scaled[j])))
        }
        #expect(abs(weights.reduce(0, +) - 1) < 1e-5)
        #expect(json["masked"]?.arrayValue?.compactMap(\.intValue) == [5, 6, 7, 8])
        let output = floats(json["output"])
        for d in 0..<hs {
            let sum = (0..<4).reduce(Float(0)) { $0 + weights[$1] * values[$1][d] }
            #expect(abs(output[d] - sum) < 1e-5 * max(1, abs(sum)), "dimension \(d)")
        }
    }

    @Test func textShowsTheStepsInOrderWithOneSentenceEach() throws {
        let r = try CLI.run(["explain", "--prompt", Self.prompt])
        #expect(r.status == 0, "\(r.stderr)")
        var rest = Substring(r.stdout)
        for step in ["1. Q, K, V.", "2. Scores.", "3. Scale.", "4. Mask.", "5. Softmax.", "6. Weighted sum."] {
            let found = try #require(rest.range(of: step), "missing \(step)")
            rest = rest[found.upperBound...]
        }
        #expect(r.stdout.contains("query at position 8/8 \"?\""))
        #expect(r.stdout.contains("no later position exists"))
        #expect(r.stderr.isEmpty)
    }

    @Test(arguments: [
        (["--layer", "0"], "--layer"), (["--layer", "99"], "--layer 99"), (["--head", "5"], "--head 5"),
        (["--position", "9"], "--position 9"), (["--position", "0"], "--position"), (["--dims", "0"], "--dims"),
    ])
    func outOfRangeValuesAreUsageErrorsNamingTheFlag(extra: [String], named: String) throws {
        let r = try CLI.run(["explain", "--prompt", Self.prompt] + extra)
        #expect(r.status == 64)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(named), "\(r.stderr)")
    }

    @Test func anEmptyPromptIsAUsageError() throws {
        let r = try CLI.run(["explain", "--prompt", ""])
        #expect(r.status == 64)
        #expect(r.stderrLines.count == 1 && r.stderr.contains("--prompt is empty"))
    }
}
