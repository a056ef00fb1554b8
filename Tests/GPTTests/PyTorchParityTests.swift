import Foundation
import JSON
import Testing
@testable import GPT

/// The fixtures of `Scripts/make-gpt2-fixtures.py`: small random GPT-2s saved by transformers,
/// with the logits, attention probabilities and greedy continuation PyTorch computed.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct Sequence {
        let inputIDs: [Int]
        let logits: [[Float]]  // (T, V)
        let attentionRows: String  // "all" or "last"
        let attentions: [[[[Float]]]]  // (L, H, rows, T)
    }

    struct Expected {
        let sequences: [Sequence]
        let greedyPrompt: [Int]
        let greedyNew: [Int]
    }

    static func expected(_ name: String) throws -> Expected {
        let json = try JSONValue.parse(try Data(contentsOf: directory.appendingPathComponent(name).appendingPathComponent("expected.json")))
        func ints(_ v: JSONValue?) -> [Int] { v?.arrayValue?.compactMap(\.intValue) ?? [] }
        func floats(_ v: JSONValue?) -> [Float] { v?.arrayValue?.compactMap { $0.doubleValue.map(Float.init) } ?? [] }
        let sequences = (json["sequences"]?.arrayValue ?? []).map { s in
            Sequence(
                inputIDs: ints(s["input_ids"]),
                logits: (s["logits"]?.arrayValue ?? []).map(floats),
                attentionRows: s["attentions_rows"]?.stringValue ?? "all",
                attentions: (s["attentions"]?.arrayValue ?? []).map { l in
                    (l.arrayValue ?? []).map { h in (h.arrayValue ?? []).map(floats) }
                })
        }
        return Expected(sequences: sequences, greedyPrompt: ints(json["greedy"]?["prompt_ids"]), greedyNew: ints(json["greedy"]?["new_ids"]))
    }
}

@Suite struct PyTorchParityTests {
    /// (fixture directory, the directory whose expected.json applies)
    static let cases = [
        ("tiny-odd", "tiny-odd"), ("small", "small"), ("tiny-odd-official-layout", "tiny-odd"),
        ("tiny-odd-f16", "tiny-odd-f16"), ("tiny-odd-bf16", "tiny-odd-bf16"),
        // Scripts/make-llama-family-fixtures.py: grouped-query attention, half-split rotary
        // positions, RMSNorm, SwiGLU, head_dim apart from the width, biases, untied heads, shards.
        ("llama-gqa", "llama-gqa"), ("llama-headdim-bias", "llama-headdim-bias"), ("qwen2-sharded", "qwen2-sharded"),
        ("mistral-mqa", "mistral-mqa"),
    ]

    @Test(arguments: cases)
    func prefillLogitsAndAttentionMatchPyTorch(fixture: String, expectedFrom: String) throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path(fixture))
        let expected = try Fixtures.expected(expectedFrom)
        let c = model.config
        for sequence in expected.sequences {
            let T = sequence.inputIDs.count
            let state = GPTState(model: model, chunkSize: 32)  // several chunks for the long sequence
            var logits = [Float](repeating: 0, count: T * c.vocabSize)
            var attention = [Float](repeating: 0, count: c.layers * c.heads * T * T)
            try logits.withUnsafeMutableBufferPointer { l in
                try attention.withUnsafeMutableBufferPointer { a in _ = try state.prefill(sequence.inputIDs, allLogits: l, fullAttention: a) }
            }
            var worstLogit: Float = 0
            for t in 0..<T {
                for v in 0..<c.vocabSize { worstLogit = max(worstLogit, abs(logits[t * c.vocabSize + v] - sequence.logits[t][v])) }
            }
            #expect(worstLogit < 1e-4, "\(fixture) T=\(T): logits differ by \(worstLogit)")
            var worstAttention: Float = 0
            let firstRow = sequence.attentionRows == "last" ? T - 1 : 0
            for l in 0..<c.layers {
                for h in 0..<c.heads {
                    for (r, row) in sequence.attentions[l][h].enumerated() {
                        let t = firstRow + r
                        for j in 0...t { worstAttention = max(worstAttention, abs(attention[((l * c.heads + h) * T + t) * T + j] - row[j])) }
                    }
                }
            }
            #expect(worstAttention < 1e-5, "\(fixture) T=\(T): attention differs by \(worstAttention)")
        }
    }

    @Test(arguments: cases)
    func kvCachedDecodeMatchesPyTorch(fixture: String, expectedFrom: String) throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path(fixture))
        let sequence = try #require(try Fixtures.expected(expectedFrom).sequences.last)
        let state = GPTState(model: model)
        var worst: Float = 0
        for (t, token) in sequence.inputIDs.enumerated() {
            let logits = try state.decode(token)
            for v in logits.indices { worst = max(worst, abs(logits[v] - sequence.logits[t][v])) }
        }
        #expect(worst < 1e-4, "\(fixture): decode logits differ by \(worst)")
    }

    @Test(arguments: cases)
    func greedyContinuationMatchesPyTorch(fixture: String, expectedFrom: String) throws {
        let (model, _) = try GPTModel.load(path: Fixtures.path(fixture))
        let expected = try Fixtures.expected(expectedFrom)
        let state = GPTState(model: model)
        var logits = try state.prefill(expected.greedyPrompt)
        var generated: [Int] = []
        for _ in 0..<expected.greedyNew.count {
            var best = 0
            for v in logits.indices where logits[v] > logits[best] { best = v }
            generated.append(best)
            logits = try state.decode(best)
        }
        #expect(generated == expected.greedyNew)
    }
}
