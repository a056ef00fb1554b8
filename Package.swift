// swift-tools-version: 6.0
// attnchat: a terminal chatbot you can look inside. See README.md and ../shared/DESIGN.md.
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
        .target(name: "Kernels", dependencies: ["CBLAS"], swiftSettings: simdBaseline),
        // A strict JSON parser (duplicate keys, line/column errors) for headers, configs, corpora.
        .target(name: "JSON"),
        // safetensors read (memory-mapped, validated before any allocation) and atomic write.
        .target(name: "Safetensors", dependencies: ["JSON"]),
        .target(name: "GPT", dependencies: ["Kernels", "Safetensors", "JSON"], swiftSettings: simdBaseline),
        .target(name: "Sampling", swiftSettings: simdBaseline),
        .executableTarget(
            name: "attnchat",
            dependencies: [
                "GPT", "Kernels", "Sampling",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: simdBaseline),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], swiftSettings: simdBaseline),
        .testTarget(
            name: "GPTTests", dependencies: ["GPT", "Kernels", "Safetensors", "JSON"],
            exclude: ["Fixtures"], swiftSettings: simdBaseline),
        .testTarget(name: "SamplingTests", dependencies: ["Sampling"], swiftSettings: simdBaseline),
        .testTarget(
            name: "CLITests", dependencies: ["attnchat", "GPT", "Safetensors"], swiftSettings: simdBaseline),
    ]
)
