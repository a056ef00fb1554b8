import Foundation
import Safetensors
import Testing

/// One defect per file (the llama.cpp test-gguf approach): each must give its sysexits code and
/// exactly one stderr line naming the file and the offending tensor or field — never a trap.
@Suite struct BadModelFileTests {
    /// tiny-odd's tensors, to rebuild with one defect.
    static func tensors() throws -> [SafetensorsWriter.Tensor] {
        let file = try SafetensorsFile(path: CLI.fixture("tiny-odd/model.safetensors"))
        return try file.tensors.map { SafetensorsWriter.Tensor(name: $0.name, shape: $0.shape, floats: try file.floats($0.name)) }
    }

    static let goodConfig = try! String(contentsOfFile: CLI.fixture("tiny-odd/config.json"), encoding: .utf8)

    /// Writes a Hugging Face directory with the given config text and tensors.
    static func directory(config: String = goodConfig, tensors: [SafetensorsWriter.Tensor]) throws -> String {
        let dir = try CLI.temporaryDirectory()
        try config.write(to: dir.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        try SafetensorsWriter.write(to: dir.appendingPathComponent("model.safetensors").path, tensors: tensors, existing: .replace)
        return dir.path
    }

    static func file(_ bytes: [UInt8]) throws -> String {
        let url = try CLI.temporaryDirectory().appendingPathComponent("model.safetensors")
        try Data(bytes).write(to: url)
        return url.path
    }

    static func expectError(_ model: String, code: Int32, mentions needles: [String]) throws {
        let r = try CLI.run(["info", "--model", model])
        #expect(r.status == code, "\(model): \(r.stderr)")
        #expect(r.stderrLines.count == 1, "expected one line, got: \(r.stderr)")
        for needle in needles { #expect(r.stderr.contains(needle), "\"\(needle)\" not in: \(r.stderr)") }
        #expect(r.stdout.isEmpty)
    }

    @Test func missingPathIs66() throws { try Self.expectError("/nonexistent/model.safetensors", code: 66, mentions: ["/nonexistent/model.safetensors"]) }

    @Test func directoryWithoutConfigIs66() throws {
        let dir = try CLI.temporaryDirectory().path
        try Self.expectError(dir, code: 66, mentions: [dir, "config.json"])
    }

    @Test(arguments: [[UInt8](), [1, 2, 3], [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7B, 0x7D], [100, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0x7D]])
    func truncatedOrOversizedHeaderIs65(bytes: [UInt8]) throws {
        let path = try Self.file(bytes)
        try Self.expectError(path, code: 65, mentions: [path])
    }

    @Test func headerThatIsNotJSONIs65() throws {
        let header = Array("{not json}".utf8)
        let path = try Self.file([UInt8(header.count), 0, 0, 0, 0, 0, 0, 0] + header)
        try Self.expectError(path, code: 65, mentions: [path])
    }

    @Test func unknownDtypeIs65NamingTheTensor() throws {
        let header = Array(#"{"x":{"dtype":"F8_E9","shape":[1],"data_offsets":[0,1]}}"#.utf8)
        let path = try Self.file([UInt8(header.count), 0, 0, 0, 0, 0, 0, 0] + header + [0])
        try Self.expectError(path, code: 65, mentions: ["x", "F8_E9"])
    }

    @Test(arguments: [("\"n_head\": 3", "\"n_head\": 0", "n_head"), ("\"n_head\": 3", "\"n_head\": 5", "n_embd"), ("\"n_layer\": 2", "\"n_layer\": 1000000", "n_layer"), ("\"vocab_size\": 301", "\"vocab_size\": 2000000", "vocab_size"), ("\"n_positions\": 64", "\"n_positions\": 100000", "n_positions"), ("\"n_positions\": 64", "\"n_positions\": 0", "n_positions"), ("\"vocab_size\": 301", "\"vocab_size\": \"big\"", "vocab_size"), ("\"model_type\": \"gpt2\"", "\"model_type\": \"phi3\"", "phi3"), ("\"model_type\": \"gpt2\"", "\"model_type\": \"llama\"", "num_attention_heads")])
    func nonsenseConfigIs65NamingTheField(from: String, to: String, field: String) throws {
        let config = Self.goodConfig.replacingOccurrences(of: from, with: to)
        #expect(config != Self.goodConfig)
        try Self.expectError(try Self.directory(config: config, tensors: []), code: 65, mentions: [field])
    }

    /// A config within every cap that asks for ~40 GB of parameters, in a file holding none:
    /// the loader checks names and shapes before allocating, so this is a quick exit 65 naming
    /// the first missing tensor, not an allocation that exhausts memory.
    @Test func aHugeConfigWithoutItsTensorsFailsBeforeAllocating() throws {
        let config = #"{"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 2048, "n_layer": 200, "n_head": 16}"#
        let started = Date()
        try Self.expectError(try Self.directory(config: config, tensors: []), code: 65, mentions: ["wte.weight"])
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func missingTensorIs65NamingIt() throws {
        let tensors = try Self.tensors().filter { !$0.name.hasSuffix("h.1.mlp.c_fc.bias") }
        try Self.expectError(try Self.directory(tensors: tensors), code: 65, mentions: ["h.1.mlp.c_fc.bias", "missing"])
    }

    @Test func extraTensorIs65NamingIt() throws {
        let tensors = try Self.tensors() + [SafetensorsWriter.Tensor(name: "h.7.attn.c_attn.weight", shape: [2], floats: [1, 2])]
        try Self.expectError(try Self.directory(tensors: tensors), code: 65, mentions: ["h.7.attn.c_attn.weight"])
    }

    @Test func wrongShapeIs65NamingExpectedAndActual() throws {
        let tensors = try Self.tensors().map { t in
            t.name.hasSuffix("ln_f.weight") ? SafetensorsWriter.Tensor(name: t.name, shape: [47], floats: [Float](repeating: 1, count: 47)) : t
        }
        try Self.expectError(try Self.directory(tensors: tensors), code: 65, mentions: ["ln_f.weight", "[47]", "[48]"])
    }

    @Test func nonFiniteWeightIs65NamingTheTensor() throws {
        let tensors = try Self.tensors().map { t in
            // The writer refuses NaN, so the bytes are written raw.
            t.name.hasSuffix("h.0.ln_2.bias") ? SafetensorsWriter.Tensor(name: t.name, dtype: .F32, shape: t.shape, bytes: [Float](repeating: .nan, count: 48).withUnsafeBytes { Array($0) }) : t
        }
        try Self.expectError(try Self.directory(tensors: tensors), code: 65, mentions: ["h.0.ln_2.bias"])
    }

    @Test func untiedLMHeadIs65() throws {
        let wte = try Self.tensors().first { $0.name.hasSuffix("wte.weight") }!
        let head = SafetensorsWriter.Tensor(name: "lm_head.weight", shape: wte.shape, floats: [Float](repeating: 0.5, count: 301 * 48))
        try Self.expectError(try Self.directory(tensors: try Self.tensors() + [head]), code: 65, mentions: ["lm_head.weight"])
    }

    @Test func attnchatFileOfAnUnknownVersionIs65() throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("m.safetensors").path
        try SafetensorsWriter.write(to: path, tensors: try Self.tensors(), metadata: ["format": "attnchat-gpt", "format_version": "2", "config": "{}"], existing: .replace)
        try Self.expectError(path, code: 65, mentions: ["unsupported version 2 (expected 1)"])
    }

    @Test func attnchatFileWithAnUnknownConfigFieldIs65() throws {
        let path = try CLI.temporaryDirectory().appendingPathComponent("m.safetensors").path
        let config = #"{"vocab_size":301,"n_positions":64,"n_layer":2,"n_head":3,"n_embd":48,"flash":true}"#
        try SafetensorsWriter.write(to: path, tensors: try Self.tensors(), metadata: ["format": "attnchat-gpt", "format_version": "1", "config": config], existing: .replace)
        try Self.expectError(path, code: 65, mentions: ["flash"])
    }
}
