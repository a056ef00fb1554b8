import Foundation
import Testing
import JSON
@testable import ChatTemplates

/// One expectation from `Fixtures/cases.json`, written by `Scripts/make-chat-template-fixtures.py`
/// from what transformers' `apply_chat_template` renders (or raises).
struct FixtureCase: Sendable, CustomTestStringConvertible {
    let name: String
    let source: String
    let messages: [JSONObject]
    let addGenerationPrompt: Bool
    let tools: [JSONValue]?
    let variables: JSONObject
    let expected: String?
    /// "raised", "runtime" or "syntax", with Jinja2's message.
    let error: (kind: String, message: String)?

    var testDescription: String { name }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func load() throws -> [FixtureCase] {
        let data = try Data(contentsOf: directory.appendingPathComponent("cases.json"))
        let root = try JSONValue.parse(String(decoding: data, as: UTF8.self))
        var cases: [FixtureCase] = []
        for entry in root["cases"]?.arrayValue ?? [] {
            let source: String
            if let file = entry["template"]?.stringValue {
                source = String(decoding: try Data(contentsOf: directory.appendingPathComponent(file)), as: UTF8.self)
            } else {
                source = entry["source"]?.stringValue ?? ""
            }
            var error: (String, String)? = nil
            if let e = entry["error"] {
                error = (e["kind"]?.stringValue ?? "", e["message"]?.stringValue ?? "")
            }
            cases.append(FixtureCase(
                name: entry["name"]?.stringValue ?? "?",
                source: source,
                messages: (entry["messages"]?.arrayValue ?? []).compactMap(\.objectValue),
                addGenerationPrompt: entry["add_generation_prompt"]?.boolValue ?? false,
                tools: entry["tools"]?.arrayValue,
                variables: entry["variables"]?.objectValue ?? JSONObject(),
                expected: entry["expected"]?.stringValue,
                error: error))
        }
        return cases
    }

    static let all: [FixtureCase] = (try? load()) ?? []

    /// The fixtures' strftime_now clock: 2025-03-07 09:05:03 in the local time zone, as Python's
    /// naive `datetime.now()` was pinned.
    static let now: Date = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone.current
        return calendar.date(from: DateComponents(year: 2025, month: 3, day: 7, hour: 9, minute: 5, second: 3))!
    }()

    func render() throws(JinjaError) -> String {
        let template = try JinjaTemplate(source)
        return try template.render(
            messages: messages, addGenerationPrompt: addGenerationPrompt,
            tools: tools, variables: variables, now: Self.now)
    }
}

@Test func fixturesAreThere() {
    // Guards the parameterized test below against silently running over nothing.
    #expect(FixtureCase.all.count > 250)
    #expect(FixtureCase.all.contains { $0.name.hasPrefix("qwen2.5-instruct / tool-call-round-trip") && $0.expected != nil })
}

@Test(arguments: FixtureCase.all)
func rendersLikeTransformers(_ fixture: FixtureCase) {
    do {
        let output = try fixture.render()
        if let expected = fixture.expected {
            // Compared as scalars: Swift's String == would equate canonically equivalent text.
            #expect(Array(output.unicodeScalars) == Array(expected.unicodeScalars), "rendered:\n\(output)\nexpected:\n\(expected)")
        } else {
            Issue.record("rendered \(output.debugDescription) where Jinja2 raised \(fixture.error!)")
        }
    } catch {
        guard let expectedError = fixture.error else {
            Issue.record("\(error) where Jinja2 rendered \(fixture.expected!.debugDescription)")
            return
        }
        switch expectedError.kind {
        case "raised":
            #expect(error.kind == .raised)
            #expect(error.message == expectedError.message)
        case "syntax":
            #expect(error.kind == .syntax, "\(error) vs Jinja2's \(expectedError.message)")
        default:
            #expect(error.kind == .runtime, "\(error) vs Jinja2's \(expectedError.message)")
        }
        #expect(error.line >= 1)
    }
}
