import FileIO
import Foundation
import Testing
@testable import Translation

@Suite struct TranslationCorpusTests {
    static let corpusPath = Fixture.packageRoot + "/data/tatoeba/spa.tsv"

    func corpus(_ text: String, path: String = "spa.tsv") throws(TranslationError) -> TranslationCorpus {
        try TranslationCorpus(data: Data(text.utf8), path: path)
    }

    /// The error reading `bytes` gives, or nil when it reads.
    func error(_ bytes: [UInt8], path: String = "spa.tsv") -> TranslationError? {
        do {
            _ = try TranslationCorpus(data: Data(bytes), path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func readsSourceTargetAndAttributionPerLine() throws {
        let text = "Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #1 (a) & #2 (b)\nHi.\tHola.\tCC-BY #3\n"
        #expect(try corpus(text).pairs == [
            TranslationPair(source: "Go.", target: "Ve.", attribution: "CC-BY 2.0 (France) Attribution: tatoeba.org #1 (a) & #2 (b)"),
            TranslationPair(source: "Hi.", target: "Hola.", attribution: "CC-BY #3"),
        ])
    }

    @Test func acceptsCRLFAndAMissingFinalNewlineAndSkipsEmptyLinesAndALeadingBOM() throws {
        let text = "\u{FEFF}Go.\tVe.\tA\r\n\nHi.\tHola.\tB"
        #expect(try corpus(text).pairs.map(\.target) == ["Ve.", "Hola."])
        #expect(try corpus("Go.\tVe.\tA\r\n").pairs.first?.attribution == "A")
    }

    @Test func anEmptyFileHasNoPairs() throws {
        #expect(try corpus("").pairs.isEmpty)
        #expect(try corpus("\n\n").pairs.isEmpty)
    }

    @Test func rejectsAWrongColumnCountNamingTheLine() {
        let two = error(Array("Go.\tVe.\tA\n\nHi.\tHola.\n".utf8), path: "data/tatoeba/spa.tsv")
        #expect(two?.description == "data/tatoeba/spa.tsv:3: expected 3 tab-separated columns (source, target, attribution), found 2")
        #expect(two?.exitCode == 65)
        let four = error(Array("Go.\tVe.\tA\tB\n".utf8))
        #expect(four?.description == "spa.tsv:1: expected 3 tab-separated columns (source, target, attribution), found 4")
    }

    @Test func rejectsInvalidUTF8NamingTheLineAndByte() {
        let bytes = Array("Go.\tVe.\tA\n".utf8) + Array("Hi.\tHol".utf8) + [0xFF] + Array("a.\tB\n".utf8)
        let failure = error(bytes)
        #expect(failure?.description == "spa.tsv:2: invalid UTF-8 at byte 8 of the line (0xFF)")
        #expect(failure?.exitCode == 65)
        // A sequence cut short (é is C3 A9) is found where it starts.
        let truncated = error(Array("caf".utf8) + [0xC3] + Array("\tx\ty".utf8))
        #expect(truncated?.description == "spa.tsv:1: invalid UTF-8 at byte 4 of the line (0xC3)")
    }

    @Test func rejectsEmptyColumnsAndAStrayCarriageReturn() {
        #expect(error(Array("\tVe.\tA".utf8))?.description == "spa.tsv:1: empty source (column 1)")
        #expect(error(Array("Go.\tVe.\t\n".utf8))?.description == "spa.tsv:1: empty attribution (column 3)")
        #expect(error(Array("Go.\rNo.\tVe.\tA\n".utf8))?.description
            == "spa.tsv:1: carriage return (\\r) at byte 4 of the line; only a CRLF line ending is accepted")
    }

    @Test func aMissingFileIsExit66NamingThePath() {
        do {
            _ = try TranslationCorpus(path: "/nonexistent/spa.tsv")
            Issue.record("read a missing file")
        } catch {
            #expect(error.description == "/nonexistent/spa.tsv: no such file")
            #expect(error.exitCode == 66)
            #expect(error == .file(.notFound(path: "/nonexistent/spa.tsv")))
        }
    }

    @Test func readsAFileFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("translation-\(getpid()).tsv").path
        try Data("Go.\tVe.\tA\n".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try TranslationCorpus(path: path).pairs.count == 1)
    }

    /// The numbers ARCHITECTURE.md states for the Tatoeba file, and the score of "translating" by
    /// copying the English, which sacreBLEU 2.6.0 gives as 0.533588402466886 for the same
    /// groups (Scripts/make-bleu-fixtures.py's scoring, run on the test split).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: corpusPath)))
    func theTatoebaCorpusSplitsAsDocumented() throws {
        let corpus = try TranslationCorpus(path: Self.corpusPath)
        #expect(corpus.pairs.count == 140_868)
        #expect(corpus.pairs.allSatisfy { $0.attribution.hasPrefix("CC-BY 2.0 (France) Attribution: tatoeba.org #") })
        let split = corpus.split()
        #expect(split.train.count == 135_280)
        #expect(split.validation.count == 2_756)
        #expect(split.test.count == 2_832)
        #expect(ReferenceGroup.grouping(split.train).count == 114_582)
        #expect(ReferenceGroup.grouping(split.validation).count == 2_343)
        let test = ReferenceGroup.grouping(split.test)
        #expect(test.count == 2_417)
        #expect(test.first == ReferenceGroup(source: "Stay.", references: ["Quédate."]))
        let copied = BLEU.corpusScore(test.map { (hypothesis: $0.source, references: $0.references) })
        #expect(abs(copied.score - 0.533588402466886) < 1e-9)
        #expect(copied.systemLength == 18_325 && copied.referenceLength == 17_833)
    }
}
