// swift-tools-version: 6.0
// attnchat: a terminal chatbot you can look inside. See README.md and ARCHITECTURE.md.
import PackageDescription

// Every Swift target is compiled for the x86-64-v3 feature level (AVX2 + FMA + F16C; LLVM calls it
// "haswell"): without it `SIMD8<Float>.addingProduct` becomes a call to `fmaf` per lane.
// The README states this baseline; a CPU older than Haswell (2013) is not supported.
let simdBaseline: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "haswell"])]

let package = Package(
    name: "attnchat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "attnchat", targets: ["attnchat"]),
    ],
    dependencies: [
        // Commands as small types with validation and help text: better than a hand-rolled parser.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // CBLAS prototypes for OpenBLAS; no Swift API. Linked statically in the release build.
        .target(
            name: "CBLAS",
            linkerSettings: [
                .unsafeFlags(["-L/usr/lib/x86_64-linux-gnu/openblas-pthread"]),
                .linkedLibrary("openblas"),
            ]),
        // FloatVector and the SIMD exp, shared by the kernels and the sampler.
        .target(name: "SIMDMath", swiftSettings: simdBaseline),
        .target(name: "Kernels", dependencies: ["CBLAS", "SIMDMath"], swiftSettings: simdBaseline),
        // A strict JSON parser (duplicate keys, line/column errors) for headers, configs, corpora.
        .target(name: "JSON"),
        // safetensors read (memory-mapped, validated before any allocation) and atomic write.
        // Atomic file replacement (temp file, fsync, rename, fsync the directory) for checkpoints and
        // transcripts; whole-file reads with one wording of their failures (vocabularies, corpora).
        .target(name: "FileIO"),
        .target(name: "Safetensors", dependencies: ["JSON", "FileIO"]),
        .target(name: "GPT", dependencies: ["Kernels", "Safetensors", "JSON", "FileIO"], swiftSettings: simdBaseline),
        .target(name: "Sampling", dependencies: ["SIMDMath"], swiftSettings: simdBaseline),
        // Byte-level BPE, Hugging Face compatible; no dependency on the model.
        .target(name: "Tokenizer", dependencies: ["JSON", "FileIO"], swiftSettings: simdBaseline),
        // Chit-chat corpus and plain-text readers: rendering and the train/validation split.
        .target(name: "Corpus", dependencies: ["JSON", "FileIO"]),
        // Translation corpus (Tatoeba English–Spanish TSV), its train/validation/test split, corpus BLEU.
        .target(name: "Translation", dependencies: ["FileIO"]),
        // Jinja interpreter for Hugging Face chat templates, byte-exact with transformers' rendering.
        .target(name: "ChatTemplates", dependencies: ["JSON"]),
        // Vocab/ compiled into the binary (.incbin), so the first run needs no files.
        .target(name: "CEmbedded", cSettings: [.unsafeFlags(["-Wa,-I\(Context.packageDirectory)"])]),
        // The one async-signal-safe signal handler (a flag per signal and a pipe); no Swift API.
        .target(name: "CSignals"),
        // Chat template, history and context window, the token loop (also generate's), slash
        // commands (both front ends'), live settings, the signals that stop attnchat.
        .target(name: "Chat", dependencies: ["GPT", "Tokenizer", "Sampling", "FileIO", "CSignals", "ChatTemplates", "JSON"], swiftSettings: simdBaseline),
        // ncursesw header shim: `static inline` accessors for the C globals and macros Swift cannot
        // import; no Swift API. The static build links Debian's libncursesw.a and libtinfo.a.
        .target(name: "CNCurses", linkerSettings: [.linkedLibrary("ncursesw"), .linkedLibrary("tinfo")]),
        // The ncurses front ends (the chat, the translation view): layout, wrapping and shading as
        // pure functions, a thin drawing layer.
        .target(name: "TUI", dependencies: ["Chat", "CNCurses", "FileIO", "GPT", "Sampling", "Tokenizer", "Seq2Seq"]),
        // Data loading, AdamW and its schedule, checkpoints, evaluation, the training loop.
        .target(name: "Training", dependencies: ["GPT", "Kernels", "JSON", "Safetensors", "Tokenizer", "Corpus", "FileIO", "Seq2Seq", "Translation"], swiftSettings: simdBaseline),
        // The encoder–decoder Transformer ("Attention Is All You Need") from the GPT's named parts:
        // training (teacher forcing, label smoothing) and decoding (greedy, beam search).
        .target(name: "Seq2Seq", dependencies: ["GPT", "Kernels", "Sampling", "Safetensors", "JSON", "FileIO"], swiftSettings: simdBaseline),
        .executableTarget(
            name: "attnchat",
            dependencies: [
                "GPT", "Kernels", "SIMDMath", "Sampling", "Tokenizer", "Corpus", "Chat", "CEmbedded", "Training", "TUI", "FileIO",
                "Seq2Seq", "Translation", "Safetensors",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: simdBaseline),
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "FileIO"], exclude: ["Fixtures"], swiftSettings: simdBaseline),
        .testTarget(name: "CorpusTests", dependencies: ["Corpus"]),
        .testTarget(name: "TranslationTests", dependencies: ["Translation", "FileIO", "JSON"], exclude: ["Fixtures"]),
        .testTarget(name: "JSONTests", dependencies: ["JSON"]),
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates", "JSON"], exclude: ["Fixtures"]),
        .testTarget(name: "SafetensorsTests", dependencies: ["Safetensors", "JSON", "FileIO"]),
        .testTarget(name: "FileIOTests", dependencies: ["FileIO"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "SIMDMath"], swiftSettings: simdBaseline),
        .testTarget(
            name: "GPTTests", dependencies: ["GPT", "Kernels", "Safetensors", "JSON", "FileIO"],
            exclude: ["Fixtures"], swiftSettings: simdBaseline),
        .testTarget(
            name: "TrainingTests", dependencies: ["Training", "GPT", "Kernels", "Safetensors", "JSON", "FileIO", "Seq2Seq", "Translation", "Tokenizer"],
            exclude: ["Fixtures"], swiftSettings: simdBaseline),
        .testTarget(name: "ChatTests", dependencies: ["Chat", "GPT", "Tokenizer", "Sampling", "FileIO", "JSON"], exclude: ["Fixtures"], swiftSettings: simdBaseline),
        .testTarget(
            name: "Seq2SeqTests", dependencies: ["Seq2Seq", "GPT", "Kernels", "Safetensors", "JSON", "FileIO"],
            exclude: ["Fixtures"], swiftSettings: simdBaseline),
        .testTarget(name: "TUITests", dependencies: ["TUI", "Chat", "GPT", "Sampling", "Seq2Seq"]),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"], swiftSettings: simdBaseline),
        .testTarget(
            name: "CLITests", dependencies: ["attnchat", "GPT", "Safetensors", "FileIO"], exclude: ["Fixtures"], swiftSettings: simdBaseline),
    ]
)
