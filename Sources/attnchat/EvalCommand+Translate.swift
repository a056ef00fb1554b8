import FoundationEssentials
import JSON
import Seq2Seq
import Training
import Translation

extension EvalCommand {
    /// `eval` of an encoder–decoder: the test split of `--data` in the model's direction.
    func runTranslation() throws {
        let loaded = try TranslationModel(path: modelOptions.model, vocab: vocab)
        let corpus = try TranslationCorpus(path: data)
        let test = TranslationTraining.oriented(corpus.split().test, source: loaded.source ?? "en")
        guard !test.isEmpty else { throw TrainingError.corpusTooSmall(path: data, tokens: 0, needed: 1) }
        let (tokens, dropped) = TranslationTokens.encoding(test, tokenizer: loaded.tokenizer, config: loaded.model.config)
        let loss = TranslationEvaluation.loss(model: loaded.model, tokens: tokens, tokenBudget: TranslationTraining.defaultBatchTokens)
        let groups = ReferenceGroup.grouping(test)
        let clock = ContinuousClock()
        let started = clock.now
        let bleu = try TranslationEvaluation.bleu(model: loaded.model, groups: groups, tokenizer: loaded.tokenizer, beam: beam, lengthPenalty: lengthPenalty)
        let elapsed = started.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let decoding = beam == 1 ? "greedy" : "beam \(beam), length penalty \(NumberText.fixed(Double(lengthPenalty), 2))"
        let score = TranslationScore(tokens: loss.tokens, totalNats: loss.totalNats, bleu: bleu)
        if json {
            let object: JSONObject = [
                "pairs": .integer(Int64(tokens.count)), "pairs_left_out": .integer(Int64(dropped)), "sentences": .integer(Int64(groups.count)),
                "tokens": .integer(Int64(score.tokens)), "nats_per_token": .number(score.natsPerToken), "perplexity": .number(score.perplexity),
                "bleu": .number(bleu.score), "brevity_penalty": .number(bleu.brevityPenalty), "decoding": .string(beam == 1 ? "greedy" : "beam"),
                "beam": .integer(Int64(beam)), "translate_seconds": .number(seconds),
            ]
            try Stdout.write(JSONValue.object(object).serialized() + "\n")
        } else {
            try Stdout.write("""
                test split: \(tokens.count) pairs (\(dropped) longer than the context left out), \(groups.count) distinct sentences
                nats/token \(NumberText.fixed(score.natsPerToken, 4))
                perplexity \(NumberText.fixed(score.perplexity, 3))
                BLEU       \(NumberText.fixed(bleu.score, 2)) (\(decoding); brevity penalty \(NumberText.fixed(bleu.brevityPenalty, 3)); \(groups.count) sentences translated in \(NumberText.fixed(seconds, 1)) s)

                """)
        }
    }
}
