import ArgumentParser
import Dispatch
import FoundationEssentials
@_spi(Training) import GPT  // the training benchmark steps the optimiser
import JSON
import Kernels
import SIMDMath
import Training

/// `attnchat bench`: memory bandwidth, prefill and decode speed, and the cost of attention capture.
/// `Scripts/bench` runs it next to PyTorch on the same weights and prints the ratios.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure memory bandwidth and the model's prefill and decode speed.",
        discussion: "Without --model, a randomly initialised model of --shape is used.")

    enum Shape: String, ExpressibleByArgument, CaseIterable {
        case gpt2Small = "gpt2-small", default4x256 = "4x256", smolLM2 = "smollm2-135m"
        var config: GPTConfig {
            switch self {
            case .gpt2Small: return GPTConfig(vocabSize: 50_257, contextLength: 1024, layers: 12, heads: 12, width: 768)
            case .default4x256: return GPTConfig(vocabSize: 4096, contextLength: 256, layers: 4, heads: 4, width: 256)
            case .smolLM2:
                // HuggingFaceTB/SmolLM2-135M's config.json as the loader reads it: a Llama with 9 query
                // heads over 3 key/value heads, 8,192 trained positions of which attnchat allocates
                // `GPTModel.defaultContextLimit`.
                var c = GPTConfig(
                    vocabSize: 49_152, contextLength: min(8192, GPTModel.defaultContextLimit), layers: 30, heads: 9, width: 576,
                    mlpWidth: 1536, layerNormEpsilon: 1e-5, positional: .rope, ropeTheta: 100_000)
                c.norm = .rmsNorm
                c.activation = .swiglu
                c.kvHeads = 3
                c.rotaryLayout = .halfSplit
                c.qkvBias = false
                c.attentionOutputBias = false
                c.mlpBias = false
                c.tiedEmbeddings = true
                return c
            }
        }
    }

    @Option(name: .long, help: "A model to measure (file or Hugging Face directory).")
    var model: String?

    @Option(name: .long, help: "Shape of the random model when no --model is given: \(Shape.allCases.map(\.rawValue).joined(separator: ", ")).")
    var shape: Shape = .default4x256

    @Option(name: .long, help: "How the random model's matrices are held: F32, F16, BF16, Q8 or Q4 (a --model is measured as its file stores it).")
    var dtype = "F32"

    @Option(name: .long, help: "Prompt length for the prefill measurement.")
    var promptTokens = 128

    @Option(name: .long, help: "Tokens decoded for the decode measurement.")
    var newTokens = 128

    @Option(name: .long, help: "Repetitions; the best is reported.")
    var repeats = 3

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    @Flag(name: .long, help: "Measure training instead: tokens/s of forward + backward + AdamW, and the share of the GEMM peak.")
    var train = false

    @Option(name: .long, help: "Sequences per training batch (with --train).")
    var batch = 16

    @Option(name: .long, help: "Training steps to time (with --train).")
    var steps = 5

    /// --dtype values → the packed format (nil: F32 as initialised).
    static let formats: [String: PackedMatrix.Format?] = ["F32": nil, "F16": .f16, "BF16": .bf16, "Q8": .q8, "Q4": .q4]

    func validate() throws {
        guard promptTokens > 0, newTokens > 0, repeats > 0 else { throw ValidationError("--prompt-tokens, --new-tokens and --repeats must be positive") }
        guard Self.formats[dtype.uppercased()] != nil else { throw ValidationError("--dtype must be F32, F16, BF16, Q8 or Q4 (got \(dtype))") }
        if model != nil && dtype.uppercased() != "F32" { throw ValidationError("--dtype applies to a random --shape; a --model is measured as its file stores it") }
        if train && dtype.uppercased() != "F32" { throw ValidationError("--train measures F32 training; --dtype is for inference") }
        guard batch > 0, steps > 0 else { throw ValidationError("--batch and --steps must be positive (got \(batch) and \(steps))") }
        if train, !shape.config.isGPT2Architecture {
            throw ValidationError("--train: attnchat trains GPT-2's architecture only; --shape \(shape.rawValue) is a Llama")
        }
    }

    func run() throws {
        if train { return try runTraining() }
        let gpt: GPTModel
        if let model {
            gpt = try GPTModel.load(path: model).model
        } else {
            let random = GPTModel(weights: GPTWeights(config: shape.config, seed: 1))
            gpt = Self.formats[dtype.uppercased()]!.map { random.packed(as: $0) } ?? random
        }
        let c = gpt.config
        // Compared without adding: two typed sizes can overflow Int.
        guard promptTokens <= c.contextLength, newTokens <= c.contextLength - promptTokens else {
            throw UsageError(description: "--prompt-tokens \(promptTokens) + --new-tokens \(newTokens) exceeds the context (\(c.contextLength))")
        }
        var rng = SystemRandomNumberGenerator()
        let prompt = (0..<promptTokens).map { _ in Int.random(in: 0..<c.vocabSize, using: &rng) }
        let state = GPTState(model: gpt)

        let triad = measureTriad()
        var prefill = Double.infinity
        var decode = Double.infinity
        var decodeCapture = Double.infinity
        for _ in 0..<repeats {
            state.reset()
            prefill = min(prefill, try time { try state.prefill(prompt) })
            for capture in [false, true] {
                state.truncate(to: promptTokens)
                var token = prompt[promptTokens - 1]
                let seconds = try time {
                    for _ in 0..<newTokens {
                        let logits = try state.decode(token)
                        if capture { _ = state.attentionSnapshot() }
                        token = argmax(logits)
                    }
                }
                if capture { decodeCapture = min(decodeCapture, seconds) } else { decode = min(decode, seconds) }
            }
        }
        // Every weight but the position table is read once per decoded token, in the dtype it is held in.
        let bytesPerToken = gpt.weights.residentBytes - (c.positional == .learned ? 4 * c.contextLength * c.width : 0)
        let results: [(String, Double)] = [
            ("triad_gb_per_s", triad),
            ("prefill_tokens_per_s", Double(promptTokens) / prefill),
            ("decode_tokens_per_s", Double(newTokens) / decode),
            ("decode_capture_tokens_per_s", Double(newTokens) / decodeCapture),
            ("capture_overhead_percent", 100 * (decodeCapture - decode) / decode),
            ("bandwidth_bound_tokens_per_s", triad * 1e9 / Double(bytesPerToken)),
        ]
        if json {
            var object: JSONObject = [
                "layers": .integer(Int64(c.layers)), "width": .integer(Int64(c.width)), "vocab_size": .integer(Int64(c.vocabSize)),
                "threads": .integer(Int64(Threads.count)), "blas_core": .string(Threads.blasCoreName),
                "prompt_tokens": .integer(Int64(promptTokens)), "new_tokens": .integer(Int64(newTokens)),
                "weights": .string(gpt.weights.heldDTypes.joined(separator: "+")), "weight_bytes": .integer(Int64(gpt.weights.residentBytes)),
            ]
            for (key, value) in results { object[key] = .number((value * 100).rounded() / 100) }
            try Stdout.write(JSONValue.object(object).serialized() + "\n")
        } else {
            try Stdout.write("model \(c.layers)x\(c.width), vocab \(c.vocabSize), weights \(gpt.weights.heldDTypes.joined(separator: " + ")); \(Threads.count) threads; OpenBLAS core \(Threads.blasCoreName)\n")
            for (key, value) in results { try Stdout.write(NumberText.left(key, 30) + " " + NumberText.right(NumberText.fixed(value, 2), 10) + "\n") }
        }
    }

    /// Training throughput at batch × context tokens per step, with the model FLOPs it achieves
    /// (6 per parameter per token for the matmuls, forward and backward, plus attention's
    /// 12·L·T·C per token, as llm.c counts them) against OpenBLAS's measured SGEMM peak.
    private func runTraining() throws {
        let config = shape.config
        var probe = RunSettings()
        probe.batch = batch
        let memory = Double(ProcessInfo.processInfo.physicalMemory)
        if probe.memoryBytes(config: config) > memory {
            throw UsageError(description: "--batch \(batch): training \(shape.rawValue) needs \(formatBytes(probe.memoryBytes(config: config))) of memory; this machine has \(formatBytes(memory))")
        }
        let weights = GPTWeights(config: config, seed: 1)
        let model = GPTModel(weights: weights)
        let T = config.contextLength
        let pass = GPTTrainingPass(model: model, B: batch, T: T)
        let grads = GPTWeights(config: config)
        let adam = AdamW(weights: weights)
        var rng = SystemRandomNumberGenerator()
        let stream = (0..<(batch * T + 1)).map { _ in Int32.random(in: 0..<Int32(config.vocabSize), using: &rng) }
        let inputs = Array(stream.dropLast()), targets = Array(stream.dropFirst())
        func step() {
            grads.withMutableStorage { $0.update(repeating: 0) }
            _ = pass.forward(inputs: inputs, targets: targets, prepareBackward: true)
            pass.backward(into: grads)
            weights.withMutableStorage { p in grads.withStorage { g in adam.update(params: p, grads: g, lr: 1e-4) } }
        }
        step()  // warm-up
        var best = Double.infinity
        for _ in 0..<repeats { best = min(best, try time { for _ in 0..<steps { step() } } / Double(steps)) }
        let tokens = Double(batch * T)
        let positions = config.positional == .learned ? config.contextLength * config.width : 0
        let flopsPerToken = 6.0 * Double(config.parameterCount - positions) + 12.0 * Double(config.layers * T * config.width)
        let achieved = flopsPerToken * tokens / best / 1e9
        let peak = measureGEMMPeak()
        let results: [(String, Double)] = [
            ("train_tokens_per_s", tokens / best), ("step_seconds", best), ("model_gflop_per_s", achieved),
            ("sgemm_peak_gflop_per_s", peak), ("fraction_of_peak", achieved / peak),
        ]
        if json {
            var object: JSONObject = [
                "layers": .integer(Int64(config.layers)), "width": .integer(Int64(config.width)), "batch": .integer(Int64(batch)),
                "context": .integer(Int64(T)), "threads": .integer(Int64(Threads.count)), "blas_core": .string(Threads.blasCoreName),
            ]
            for (key, value) in results { object[key] = .number((value * 1000).rounded() / 1000) }
            try Stdout.write(JSONValue.object(object).serialized() + "\n")
        } else {
            try Stdout.write("training \(config.layers)x\(config.width), batch \(batch)x\(T); \(Threads.count) threads; OpenBLAS core \(Threads.blasCoreName)\n")
            for (key, value) in results { try Stdout.write(NumberText.left(key, 24) + " " + NumberText.right(NumberText.fixed(value, 3), 10) + "\n") }
        }
    }

    /// The best SGEMM rate of a large square product, GFLOP/s: the ceiling for GEMM-shaped work.
    private func measureGEMMPeak() -> Double {
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            matmulForward(out: &c, inp: a, weight: b, bias: nil, rows: n, inDim: n, outDim: n)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(n * n * n) / best / 1e9
    }

    private func time(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    private func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in logits.indices where logits[i] > logits[best] { best = i }
        return best
    }

    /// STREAM's triad a[i] = b[i] + s·c[i] over arrays far larger than the caches, on all threads:
    /// the bandwidth decode is bound by. Counts 12 bytes per element (two reads, one write).
    private func measureTriad() -> Double {
        let n = 1 << 25
        let a = UnsafeMutablePointer<Float>.allocate(capacity: n), b = UnsafeMutablePointer<Float>.allocate(capacity: n), cc = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { a.deallocate(); b.deallocate(); cc.deallocate() }
        nonisolated(unsafe) let (pa, pb, pc) = (a, b, cc)  // each thread writes its own range
        parallelFor(n) { range in
            for i in range { pa[i] = 0; pb[i] = 1; pc[i] = 2 }
        }
        var best = Double.infinity
        for _ in 0..<5 {
            let start = DispatchTime.now().uptimeNanoseconds
            parallelFor(n) { range in
                let s = FloatVector(repeating: 3)
                var i = range.lowerBound
                while i + 16 <= range.upperBound {
                    let v = UnsafeRawPointer(pb + i).loadUnaligned(as: FloatVector.self) + s * UnsafeRawPointer(pc + i).loadUnaligned(as: FloatVector.self)
                    UnsafeMutableRawPointer(pa + i).storeBytes(of: v, as: FloatVector.self)
                    i += 16
                }
                while i < range.upperBound { pa[i] = pb[i] + 3 * pc[i]; i += 1 }
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Double(12 * n) / best / 1e9
    }
}
