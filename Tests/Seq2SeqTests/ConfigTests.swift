import Testing
@testable import Seq2Seq

@Suite struct ConfigTests {
    @Test func referenceRecipeIsValid() throws {
        let config = Seq2SeqConfig.reference(vocabSize: 8000, contextLength: 128)
        try config.validate()
        #expect(config.width == 256 && config.heads == 4 && config.encoderLayers == 3 && config.decoderLayers == 3 && config.mlpWidth == 1024)
        #expect(config.normPlacement == .pre && config.positional == .sinusoidal)
    }
}
