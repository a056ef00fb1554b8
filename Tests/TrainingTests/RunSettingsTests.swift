import GPT
import Testing
@testable import Training

/// `RunSettings()` and `ModelShape()` are `attnchat train`'s defaults (its help states them
/// from there), so they must make a run as they are.
@Suite struct RunSettingsTests {
    @Test func theDefaultScheduleSpansTheDefaultRun() {
        let run = RunSettings()
        #expect(run.schedule.totalSteps == run.steps)
        #expect(run.schedule.warmupSteps < run.steps)
        #expect(run.adam == AdamW.Hyperparameters())
        // A checkpoint's settings read back as they were written.
        #expect(RunSettings(json: run.json) == run)
    }

    @Test func theDefaultShapeIsAValidModel() throws {
        let config = ModelShape().config(vocabSize: 4096)
        try config.validate()
        #expect(config.layers == ModelShape().layers && config.contextLength == ModelShape().context)
        #expect(config.mlpWidth == 4 * config.width)
    }
}
