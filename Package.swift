// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "microgen",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "microgen", targets: ["microgen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
    ],
    targets: [
        // Typed tensors, operators and graphs: the value every stage hands to the next.
        .target(name: "MicrogenIR"),
        // Model file readers (TFLite flatbuffers) that build the IR.
        .target(name: "MicrogenFrontend", dependencies: ["MicrogenIR"]),
        // Graph passes, quantization math and the static memory plan.
        .target(name: "MicrogenCompiler", dependencies: ["MicrogenIR"]),
        // The C emitter: one lowering per kernel family, plus the model.c/model.h writer.
        .target(name: "MicrogenCodegen", dependencies: ["MicrogenIR", "MicrogenCompiler"]),
        // Board descriptions, template rendering and project emission (firmware projects and the host program).
        .target(name: "MicrogenProject", dependencies: ["MicrogenIR", "MicrogenCodegen", .product(name: "Mustache", package: "swift-mustache")]),
        // Host-side tools: .npy files, the host C toolchain, the RPC driver and its transports, reports.
        .target(name: "MicrogenHost", dependencies: ["MicrogenIR", "MicrogenFrontend", "MicrogenCompiler", "MicrogenCodegen", "MicrogenProject"]),
        .executableTarget(
            name: "microgen",
            dependencies: [
                "MicrogenHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MicrogenFrontendTests", dependencies: ["MicrogenFrontend", "MicrogenCodegen"]),
        .testTarget(name: "MicrogenCompilerTests", dependencies: ["MicrogenCompiler", "MicrogenFrontend"]),
        .testTarget(name: "MicrogenCodegenTests", dependencies: ["MicrogenCodegen", "MicrogenFrontend"]),
        .testTarget(name: "MicrogenProjectTests", dependencies: ["MicrogenProject", "MicrogenFrontend", "MicrogenHost"]),
        .testTarget(name: "MicrogenHostTests", dependencies: ["MicrogenHost"]),
        .testTarget(name: "EndToEndTests", dependencies: ["MicrogenHost", "MicrogenProject"]),
    ]
)
