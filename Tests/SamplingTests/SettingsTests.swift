import Foundation
import Testing
@testable import Sampling

@Suite struct SettingsTests {
    @Test func defaultsAndNeutralAreValid() throws {
        try SamplingSettings().validate()
        try SamplingSettings.neutral().validate()
    }

    /// Every bad value names its command-line flag, the value and the allowed range; exit 64.
    @Test(arguments: [
        ("--temperature", { var s = SamplingSettings(); s.temperature = -0.1; return s }()),
        ("--temperature", { var s = SamplingSettings(); s.temperature = .nan; return s }()),
        ("--temperature", { var s = SamplingSettings(); s.temperature = .infinity; return s }()),
        ("--top-k", { var s = SamplingSettings(); s.topK = -1; return s }()),
        ("--top-p", { var s = SamplingSettings(); s.topP = 1.5; return s }()),
        ("--top-p", { var s = SamplingSettings(); s.topP = .nan; return s }()),
        ("--top-p", { var s = SamplingSettings(); s.topP = -0.01; return s }()),
        ("--min-p", { var s = SamplingSettings(); s.minP = -1; return s }()),
        ("--min-p", { var s = SamplingSettings(); s.minP = .nan; return s }()),
        ("--typical-p", { var s = SamplingSettings(); s.typicalP = 2; return s }()),
        ("--typical-p", { var s = SamplingSettings(); s.typicalP = .nan; return s }()),
        ("--repeat-penalty", { var s = SamplingSettings(); s.repeatPenalty = 0; return s }()),
        ("--repeat-penalty", { var s = SamplingSettings(); s.repeatPenalty = -1; return s }()),
        ("--repeat-penalty", { var s = SamplingSettings(); s.repeatPenalty = .nan; return s }()),
        ("--repeat-last-n", { var s = SamplingSettings(); s.repeatLastN = -2; return s }()),
        ("--frequency-penalty", { var s = SamplingSettings(); s.frequencyPenalty = -0.5; return s }()),
        ("--frequency-penalty", { var s = SamplingSettings(); s.frequencyPenalty = .nan; return s }()),
        ("--presence-penalty", { var s = SamplingSettings(); s.presencePenalty = -0.5; return s }()),
        ("--presence-penalty", { var s = SamplingSettings(); s.presencePenalty = .infinity; return s }()),
        ("--mirostat-tau", { var s = SamplingSettings(); s.mirostatTau = -1; return s }()),
        ("--mirostat-eta", { var s = SamplingSettings(); s.mirostatEta = .nan; return s }()),
    ])
    func invalidValuesNameTheirFlag(flag: String, settings: SamplingSettings) {
        do {
            try settings.validate()
            Issue.record("\(flag): accepted")
        } catch {
            #expect(error.description.hasPrefix(flag + " must be "))
            #expect(error.description.contains("(got "))
            #expect(!error.description.contains("\n"))
            #expect(error.exitCode == 64)
        }
    }

    @Test func boundaryValuesAreAccepted() throws {
        try SamplingSettings(temperature: 0, topK: 0, topP: 0, minP: 1, typicalP: 0, repeatPenalty: 0.5, repeatLastN: -1).validate()
        try SamplingSettings(temperature: 100, topK: 1_000_000, topP: 1, minP: 0, typicalP: 1, seed: .max).validate()
    }

    @Test(arguments: ["top-k", "top_k", "--top-k", "TOP_K", "topk"])
    func setAcceptsDashesUnderscoresAndCase(name: String) throws {
        var settings = SamplingSettings()
        if name == "topk" {
            #expect(throws: SamplingSettingsError.unknownSetting(name: "topk")) { try settings.set(name: name, value: "7") }
            return
        }
        try settings.set(name: name, value: "7")
        #expect(settings.topK == 7)
    }

    @Test func setParsesEverySetting() throws {
        var s = SamplingSettings()
        let values = ["0.7", "12", "0.9", "0.1", "0.8", "1.2", "-1", "0.3", "0.4", "2", "4", "0.2", "18446744073709551615"]
        for (name, value) in zip(SamplingSettings.settingNames, values) { try s.set(name: name, value: value) }
        #expect(s == SamplingSettings(
            temperature: 0.7, topK: 12, topP: 0.9, minP: 0.1, typicalP: 0.8, repeatPenalty: 1.2, repeatLastN: -1,
            frequencyPenalty: 0.3, presencePenalty: 0.4, mirostat: .v2, mirostatTau: 4, mirostatEta: 0.2, seed: .max))
        try s.set(name: "mirostat", value: "off")
        try s.set(name: "temp", value: " 0 ")
        #expect(s.mirostat == .off && s.temperature == 0)
    }

    /// A bad `/set` names the flag and leaves the settings as they were.
    @Test(arguments: [
        ("temperature", "hot", "--temperature"), ("temperature", "nan", "--temperature"), ("top-k", "2.5", "--top-k"),
        ("top-p", "1.01", "--top-p"), ("seed", "-1", "--seed"), ("mirostat", "1", "--mirostat"),
        ("repeat-last-n", "-5", "--repeat-last-n"), ("presence_penalty", "-1", "--presence-penalty"),
    ])
    func setRejectsBadValuesAndKeepsTheOldOnes(name: String, value: String, flag: String) {
        var settings = SamplingSettings()
        #expect {
            try settings.set(name: name, value: value)
        } throws: { error in
            (error as? SamplingSettingsError)?.description.hasPrefix(flag + " must be ") == true
        }
        #expect(settings == SamplingSettings())
    }

    @Test func unknownSettingListsTheKnownOnes() {
        var settings = SamplingSettings()
        #expect {
            try settings.set(name: "warmth", value: "1")
        } throws: { error in
            "\(error)".contains("warmth") && "\(error)".contains("top-p")
        }
    }

    @Test func codableRoundTripsAndFillsMissingKeysWithDefaults() throws {
        let settings = SamplingSettings(temperature: 0.3, topK: 5, mirostat: .v2, seed: 9)
        let data = try JSONEncoder().encode(settings)
        #expect(try JSONDecoder().decode(SamplingSettings.self, from: data) == settings)
        let partial = try JSONDecoder().decode(SamplingSettings.self, from: Data(#"{"topP": 0.5}"#.utf8))
        var expected = SamplingSettings()
        expected.topP = 0.5
        #expect(partial == expected)
        #expect(throws: SamplingSettingsError.self) {
            try JSONDecoder().decode(SamplingSettings.self, from: Data(#"{"temperature": -1}"#.utf8))
        }
    }
}
