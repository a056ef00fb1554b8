import Testing
@testable import Translation

@Suite struct TranslationSplitTests {
    @Test func hashesWithFNV1a64() {
        #expect(TranslationSplit.fnv1a64("".utf8) == 0xcbf2_9ce4_8422_2325)
        #expect(TranslationSplit.fnv1a64("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(TranslationSplit.fnv1a64("foobar".utf8) == 0x8594_4171_f739_67e8)
        #expect(TranslationSplit.fnv1a64("¿Qué?".utf8) == 0x8ad1_89a9_5362_8b35)
    }

    @Test func zeroModulo50IsTestOneIsValidationTheRestTrain() {
        // Residues, from the hashes above and Python: "" 37, "a" 46, "Go." 9, "¿Qué?" 1.
        #expect(TranslationSplit(source: "") == .train)
        #expect(TranslationSplit(source: "¿Qué?") == .validation)
        #expect(TranslationSplit(source: "Stay.") == .test)
        let sources = (0..<5000).map { "sentence \($0)" }
        for source in sources {
            let residue = TranslationSplit.fnv1a64(source.utf8) % 50
            #expect(TranslationSplit(source: source) == (residue == 0 ? .test : residue == 1 ? .validation : .train))
        }
        // Roughly 1 in 50 each: the hash spreads.
        let tests = sources.filter { TranslationSplit(source: $0) == .test }.count
        #expect((50...150).contains(tests))
    }

    @Test func keepsEveryTranslationOfOneSentenceOnOneSide() {
        let pairs = (0..<3000).flatMap { index in
            ["uno", "dos", "tres"].map { TranslationPair(source: "Sentence \(index % 700).", target: "\($0) \(index)", attribution: "A") }
        }
        let split = TranslationCorpus(pairs: pairs).split()
        #expect(split.train.count + split.validation.count + split.test.count == pairs.count)
        let sides = [split.train, split.validation, split.test].map { Set($0.map(\.source)) }
        #expect(sides[0].isDisjoint(with: sides[1]) && sides[0].isDisjoint(with: sides[2]) && sides[1].isDisjoint(with: sides[2]))
        #expect(!sides[2].isEmpty && !sides[1].isEmpty)
    }

    @Test func groupsReferencesBySourceInFirstAppearanceOrder() {
        let pairs = [
            TranslationPair(source: "Go.", target: "Ve.", attribution: "1"),
            TranslationPair(source: "Hi.", target: "Hola.", attribution: "2"),
            TranslationPair(source: "Go.", target: "Vete.", attribution: "3"),
            TranslationPair(source: "Go.", target: "Ve.", attribution: "4"),
            // Canonically equivalent to "Café." but other bytes: another sentence, as the hash sees it.
            TranslationPair(source: "Cafe\u{301}.", target: "x", attribution: "5"),
            TranslationPair(source: "Caf\u{E9}.", target: "y", attribution: "6"),
        ]
        let groups = ReferenceGroup.grouping(pairs)
        #expect(groups.map(\.references) == [["Ve.", "Vete.", "Ve."], ["Hola."], ["x"], ["y"]])
        #expect(groups.map(\.source).prefix(2) == ["Go.", "Hi."])
    }
}
