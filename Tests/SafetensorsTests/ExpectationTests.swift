import Testing
@testable import Safetensors

private func gpt2Like() throws -> SafetensorsFile {
    let tensors: [SafetensorsWriter.Tensor] = [
        .init(name: "wte.weight", shape: [10, 4], floats: Array(repeating: 0, count: 40)),
        .init(name: "wpe.weight", shape: [8, 4], floats: Array(repeating: 0, count: 32)),
        .init(name: "h.0.attn.bias", dtype: .U8, shape: [1, 8, 8], bytes: Array(repeating: 1, count: 64)),
    ]
    return try SafetensorsFile(bytes: SafetensorsWriter.serialize(tensors: tensors, metadata: [
        "attnchat": #"{"version":1,"n_layer":0}"#, "broken": "{nope",
    ]), name: "m.safetensors")
}

@Test func matchingTensorsPassWithOptionalAndIgnoredNames() throws {
    let file = try gpt2Like()
    try file.checkTensors(
        ["wte.weight": [10, 4], "wpe.weight": [8, 4], "lm_head.weight": [10, 4]],
        optional: ["lm_head.weight"], allowExtra: { $0.hasSuffix(".attn.bias") })
}

@Test func missingExtraAndMisshapenTensorsAreListedInOneError() throws {
    let file = try gpt2Like()
    do {
        try file.checkTensors(["wte.weight": [50257, 4], "ln_f.weight": [4], "ln_f.bias": [4]])
        Issue.record("accepted a file that does not match")
    } catch {
        #expect(error == .tensorsMismatch(
            path: "m.safetensors", missing: ["ln_f.bias", "ln_f.weight"], unexpected: ["h.0.attn.bias", "wpe.weight"],
            wrongShapes: [ShapeMismatch(name: "wte.weight", expected: [50257, 4], actual: [10, 4])]))
        #expect(error.description == #"m.safetensors: tensors do not match the model: missing "ln_f.bias", "ln_f.weight"; unexpected "h.0.attn.bias", "wpe.weight"; "wte.weight" has shape [10, 4], expected [50257, 4]"#)
        #expect(error.exitCode == 65)
    }
}

@Test func longNameListsAreShortened() {
    let error = SafetensorsError.tensorsMismatch(path: "m", missing: (0..<12).map { "h.\($0).ln_1.weight" }, unexpected: [], wrongShapes: [])
    #expect(error.description.hasSuffix(#""h.4.ln_1.weight" and 7 more"#))
}

@Test func metadataJSONParsesOrNamesTheKey() throws {
    let file = try gpt2Like()
    #expect(try file.metadataJSON("attnchat")?["version"]?.intValue == 1)
    #expect(try file.metadataJSON("absent") == nil)
    do {
        _ = try file.metadataJSON("broken")
        Issue.record("accepted invalid JSON")
    } catch {
        guard case .invalidMetadata("m.safetensors", "broken", let reason) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(reason.hasPrefix("is not valid JSON: line 1, column 2"))
    }
}
