import Foundation
import Testing
import JSON
@testable import ChatTemplates

private func failure(_ source: String, variables: JSONObject = JSONObject()) -> JinjaError? {
    do {
        let template = try JinjaTemplate(source)
        _ = try template.render(messages: [["role": "user", "content": "Hi"]], addGenerationPrompt: true, variables: variables)
        return nil
    } catch {
        return error
    }
}

/// Valid Jinja this interpreter does not implement: each must stop with the line (and column) of
/// the construct, never render something else.
@Test(arguments: [
    ("{% include 'other.jinja' %}", 1, 4),
    ("x\n{% import 'm' as m %}", 2, 4),
    ("{% extends 'base' %}", 1, 4),
    ("{% call helper() %}x{% endcall %}", 1, 4),
    ("{% filter upper %}x{% endfilter %}", 1, 4),
    ("{% for x in [1] recursive %}{% endfor %}", 1, 17),
    ("a\nb\n  {{ messages | dictsort }}", 3, 15),
    ("{{ messages | batch(2) }}", 1, 13),
    ("{{ 'x' | safe }}", 1, 8),
    ("{{ 'Hi %s' % 'you' }}", 1, 12),
    ("{{ 'x'.format(1) }}", 1, 14),
    ("{{ 'x'.strip }}", 1, 7),
    ("{% set ns = namespace(a=1) %}\n{{ ns }}", 2, 4),
    ("{% for x in [1] %}{{ loop }}{% endfor %}", 1, 22),
    ("{{ lipsum() }}", 1, 10),
    ("{{ strftime_now('%Z') }}", 1, 16),
    ("{{ 2 ** 70 }}", 1, 6),
    ("{{ range(*[3]) }}", 1, 10),
    ("{{ x is divisible 3 }}", 1, 6),
    ("{{ [1][0, 1] }}", 1, 9),
    ("{{ {1: 'a'} }}", 1, 5),
    ("{{ 'caf\\N{LATIN SMALL LETTER E WITH ACUTE}' }}", 1, 4),
] as [(String, Int, Int)])
func unsupportedFeatureIsATypedErrorWithItsLine(_ source: String, _ line: Int, _ column: Int) throws {
    let error = try #require(failure(source))
    #expect(error.kind == .unsupported, "\(error)")
    #expect(error.line == line, "\(error)")
    #expect(error.column == column, "\(error)")
    #expect(error.description.hasPrefix("chat template line \(line), column \(column): not supported: "))
}

@Test func raiseExceptionSurfacesTheTemplatesMessageAndLine() throws {
    let source = "{% for m in messages %}\n  {% if m.role == 'user' %}\n    {{ raise_exception('No users here: ' ~ m.content) }}\n  {% endif %}\n{% endfor %}"
    let error = try #require(failure(source))
    #expect(error.kind == .raised)
    #expect(error.message == "No users here: Hi")
    #expect(error.line == 3)
    // The column is the call's opening parenthesis.
    #expect(error.description == "chat template line 3, column 23: raise_exception: No users here: Hi")
}

@Test func syntaxErrorsNameTheirLine() throws {
    // Like Jinja2, an unclosed block is reported where the template ends.
    let unclosed = try #require(failure("a\n{% if true %}\nb"))
    #expect(unclosed.kind == .syntax)
    #expect(unclosed.line == 3)
    let badExpression = try #require(failure("\n\n{{ 1 + }}"))
    #expect(badExpression.kind == .syntax)
    #expect(badExpression.line == 3)
    let unknownTag = try #require(failure("{% frobnicate %}"))
    #expect(unknownTag.kind == .syntax)
    #expect(unknownTag.message == "Encountered unknown tag 'frobnicate'.")
    let unterminated = try #require(failure("x\n{{ 'open }}"))
    #expect(unterminated.kind == .syntax)
    #expect(unterminated.line == 2)
    let comment = try #require(failure("x {# never closed"))
    #expect(comment.kind == .syntax)
}

@Test func runtimeErrorsNameTheirLine() throws {
    let error = try #require(failure("ok\n{{ missing.attribute }}"))
    #expect(error.kind == .runtime)
    #expect(error.line == 2)
    let macroRecursion = try #require(failure("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"))
    #expect(macroRecursion.kind == .runtime)
}

@Test func templateSourceComesFromTokenizerConfig() throws {
    let plain = try JSONValue.parse(#"{"chat_template": "{{ messages[0].content }}", "eos_token": "</s>"}"#)
    #expect(JinjaTemplate.source(fromTokenizerConfig: plain) == "{{ messages[0].content }}")
    let named = try JSONValue.parse(#"{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}"#)
    #expect(JinjaTemplate.source(fromTokenizerConfig: named) == "D")
    #expect(JinjaTemplate.source(fromTokenizerConfig: try JSONValue.parse("{}")) == nil)
}

@Test func variablesOverrideTheSpecialTokens() throws {
    let template = try JinjaTemplate("{{ bos_token }}|{{ eos_token }}|{{ date_string }}")
    let output = try template.render(
        messages: [], addGenerationPrompt: false, bosToken: "<s>", eosToken: "</s>",
        variables: ["eos_token": "<|end|>", "date_string": "today"])
    #expect(output == "<s>|<|end|>|today")
}

@Test func aTemplateRendersManyTimesAndConcurrently() async throws {
    let template = try JinjaTemplate("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}")
    let results = await withTaskGroup(of: String.self) { group in
        for count in 1...8 {
            group.addTask {
                let messages = Array(repeating: JSONObject(uniqueKeysWithValues: [("role", "user"), ("content", "x")]), count: count)
                return (try? template.render(messages: messages, addGenerationPrompt: false)) ?? "failed"
            }
        }
        var all: [String] = []
        for await result in group { all.append(result) }
        return all.sorted()
    }
    #expect(results == (1...8).map(String.init).sorted())
}
