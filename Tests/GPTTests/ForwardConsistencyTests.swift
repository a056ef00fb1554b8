import Testing
@_spi(Training) @testable import GPT

@Suite struct ForwardConsistencyTests {
    static func model(_ positional: GPTConfig.Positional, seed: UInt64 = 3) -> GPTModel {
        let config = GPTConfig(vocabSize: 97, contextLength: 40, layers: 2, heads: 3, width: 48, positional: positional)
        let weights = GPTWeights(config: config)
        weights.initialiseRandomly(seed: seed, std: 0.2)
        return GPTModel(weights: weights)
    }

    static let tokens = [5, 17, 3, 96, 0, 44, 44, 12, 81, 7, 60, 2, 33]

    /// The GEMM path over a whole prompt and the GEMV path one token at a time compute the same logits.
    @Test(arguments: GPTConfig.Positional.allCases)
    func decodeMatchesPrefill(positional: GPTConfig.Positional) throws {
        let model = Self.model(positional)
        let V = model.config.vocabSize
        let full = GPTState(model: model)
        var all = [Float](repeating: 0, count: Self.tokens.count * V)
        try all.withUnsafeMutableBufferPointer { _ = try full.prefill(Self.tokens, allLogits: $0) }

        let stepwise = GPTState(model: model)
        try stepwise.prefill(Array(Self.tokens.prefix(4)))  // a prompt, then decoding
        for (i, token) in Self.tokens.enumerated().dropFirst(4) {
            let logits = Array(try stepwise.decode(token))
            let expected = Array(all[(i * V)..<((i + 1) * V)])
            #expect(zip(logits, expected).allSatisfy { abs($0 - $1) < 1e-4 }, "position \(i)")
        }
    }

    /// Small chunks (several forward calls per prompt) change nothing.
    @Test func chunkedPrefillMatchesOneChunk() throws {
        let model = Self.model(.learned)
        let (one, many) = (GPTState(model: model, chunkSize: 128), GPTState(model: model, chunkSize: 3))
        let a = Array(try one.prefill(Self.tokens))
        let b = Array(try many.prefill(Self.tokens))
        #expect(one.length == many.length)
        #expect(zip(a, b).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func snapshotHoldsEveryHeadAndSumsToOne() throws {
        let model = Self.model(.rope)
        let state = GPTState(model: model)
        try state.prefill(Self.tokens)
        var snapshot = state.attentionSnapshot()
        #expect(snapshot.length == Self.tokens.count)
        #expect(snapshot.layers == 2 && snapshot.heads == 3)
        _ = try state.decode(9)
        snapshot = state.attentionSnapshot()
        #expect(snapshot.length == Self.tokens.count + 1)
        for l in 0..<2 {
            for h in 0..<3 { #expect(abs(snapshot.row(layer: l, head: h).reduce(0, +) - 1) < 1e-5) }
        }
    }

    @Test func fullAttentionLastRowsEqualTheSnapshot() throws {
        let model = Self.model(.sinusoidal)
        let (L, H, T) = (2, 3, Self.tokens.count)
        let state = GPTState(model: model, chunkSize: 5)
        var full = [Float](repeating: 0, count: L * H * T * T)
        try full.withUnsafeMutableBufferPointer { _ = try state.prefill(Self.tokens, fullAttention: $0) }
        let snapshot = state.attentionSnapshot()
        for l in 0..<L {
            for h in 0..<H {
                let lastRow = full[(((l * H + h) * T + T - 1) * T)..<(((l * H + h) * T + T) * T)]
                #expect(Array(lastRow) == Array(snapshot.row(layer: l, head: h)))
            }
        }
    }

    @Test func badTokensAndFullContextThrowWithoutChangingState() throws {
        let state = GPTState(model: Self.model(.learned))
        #expect(throws: GPTError.tokenOutOfRange(id: 97, vocabSize: 97)) { try state.prefill([1, 97]) }
        #expect(throws: GPTError.tokenOutOfRange(id: -1, vocabSize: 97)) { try state.decode(-1) }
        #expect(state.length == 0)
        try state.prefill([Int](repeating: 1, count: 40))
        #expect(throws: GPTError.contextFull(length: 40)) { try state.decode(1) }
        #expect(state.length == 40)
    }
}

@Suite struct GPTConfigTests {
    @Test(arguments: [
        (GPTConfig(vocabSize: 10, contextLength: 8, layers: 1, heads: 0, width: 8), "n_head"),
        (GPTConfig(vocabSize: 10, contextLength: 8, layers: 1, heads: 3, width: 8), "n_embd"),
        (GPTConfig(vocabSize: 0, contextLength: 8, layers: 1, heads: 1, width: 8), "vocab_size"),
        (GPTConfig(vocabSize: 10, contextLength: 0, layers: 1, heads: 1, width: 8), "n_positions"),
        (GPTConfig(vocabSize: 10, contextLength: 8, layers: 100_000, heads: 1, width: 8), "n_layer"),
        (GPTConfig(vocabSize: 10, contextLength: 8, layers: 1, heads: 2, width: 6, positional: .rope), "n_embd"),
    ])
    func nonsenseConfigsAreRejectedNamingTheField(config: GPTConfig, field: String) {
        #expect {
            try config.validate()
        } throws: { error in
            guard case GPTError.invalidConfig(let f, _, _) = error else { return false }
            return f == field
        }
    }

    @Test func gpt2SmallHasItsFamousParameterCount() throws {
        let config = GPTConfig(vocabSize: 50_257, contextLength: 1024, layers: 12, heads: 12, width: 768)
        try config.validate()
        #expect(config.parameterCount == 124_439_808)
    }
}
