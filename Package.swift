// swift-tools-version: 6.0
import PackageDescription

/// Strict checks for every target: Swift 6 language mode (the tools version's default) plus `any` spelled out.
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "PruneKit",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "PruneKit", targets: ["PruneKit"]),
        .executable(name: "prune", targets: ["prune"]),
        .library(name: "PruneFPGM", type: .dynamic, targets: ["PruneFPGM"]),
        .library(name: "PruneKMeans", type: .dynamic, targets: ["PruneKMeans"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.30.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .target(
            name: "PruneCore",
            dependencies: [.product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(
            name: "ONNXProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"]),
        .target(name: "ONNXOperators", swiftSettings: strict),
        .target(name: "PruneFormats", dependencies: ["PruneCore", "ONNXProto", "ONNXOperators"], swiftSettings: strict),
        .target(
            name: "PruneBuiltins", dependencies: ["PruneCore"],
            swiftSettings: strict),
        .target(
            name: "PruneStructure",
            dependencies: ["PruneCore", "PruneFormats", "PruneRuntime", "ONNXProto", "ONNXOperators"],
            swiftSettings: strict),
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(
            name: "PruneRuntime",
            dependencies: [
                "PruneCore", "ONNXProto", "ONNXOperators", "CPruneKernels",
                .target(name: "CBLAS", condition: .when(platforms: [.linux])),
            ],
            exclude: ["README.md"], swiftSettings: strict),
        .target(name: "CPruneKernels", exclude: ["README.md"]),
        .systemLibrary(
            name: "CLAPACK", path: "Sources/CLAPACK", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .target(
            name: "PruneReconstruct",
            dependencies: [
                "PruneCore", "PruneFormats", "PruneStructure", "PruneRuntime", "ONNXProto",
                .target(name: "CBLAS", condition: .when(platforms: [.linux])),
                .target(name: "CLAPACK", condition: .when(platforms: [.linux])),
            ],
            swiftSettings: strict),
        .target(
            name: "PruneQuantize",
            dependencies: [
                "PruneCore", "PruneFormats", "PruneStructure", "PruneRuntime", "PruneReconstruct", "ONNXProto",
            ],
            swiftSettings: strict),
        .target(
            name: "PruneEvaluation", dependencies: ["PruneCore", "PruneFormats", "PruneRuntime"], exclude: ["README.md"],
            swiftSettings: strict),
        .target(
            name: "PruneKit",
            dependencies: [
                "PruneCore", "PruneFormats", "PruneBuiltins", "PrunePluginHost", "PruneRuntime", "PruneEvaluation",
                "PruneStructure", "PruneCalibration", "PruneRecipes", "PruneReconstruct", "PruneCharts",
                "PruneQuantize",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(name: "PruneCharts", swiftSettings: strict),
        .testTarget(name: "PruneChartsTests", dependencies: ["PruneCharts"], swiftSettings: strict),
        .target(
            name: "PruneCalibration", dependencies: ["PruneCore", "PruneRuntime", "PruneFormats"],
            exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "PruneRecipes", dependencies: ["PruneCore", .product(name: "Yams", package: "Yams")],
            swiftSettings: strict),
        .target(
            name: "PruneCLI",
            dependencies: [
                "PruneKit",
                "PrunePluginHost",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(name: "prune", dependencies: ["PruneCLI"], swiftSettings: strict),
        .testTarget(name: "PruneCoreTests", dependencies: ["PruneCore"], swiftSettings: strict),
        .testTarget(
            name: "PruneFormatsTests", dependencies: ["PruneFormats"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(
            name: "PruneBuiltinsTests", dependencies: ["PruneKit"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "PruneKitTests", dependencies: ["PruneKit", "PruneTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "PruneCLITests",
            dependencies: [
                "PruneCLI", "PruneKit", "PrunePluginHost", "PruneRuntime", "PruneTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["Golden"], swiftSettings: strict),
        .target(name: "CPrunePlugin"),
        .systemLibrary(name: "CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        .target(
            name: "PrunePluginHost",
            dependencies: ["PruneCore", "CPrunePlugin", "CFFI", .product(name: "Logging", package: "swift-log")],
            exclude: ["README.md"], swiftSettings: strict),
        .target(
            name: "PruneFPGM", dependencies: ["CPrunePlugin"], path: "Plugins/FPGM", exclude: ["README.md"],
            publicHeadersPath: ".",
            linkerSettings: [.linkedLibrary("m")]),
        .target(
            name: "PruneKMeans", dependencies: ["CPrunePlugin"], path: "Plugins/KMeans", exclude: ["README.md"],
            swiftSettings: strict),
        .testTarget(
            name: "PrunePluginHostTests", dependencies: ["PrunePluginHost", "PruneTestSupport"],
            exclude: ["Fixtures"],
            swiftSettings: strict),
        .testTarget(
            name: "PruneONNXTests", dependencies: ["PruneFormats", "PruneCore", "ONNXProto", "PruneTestSupport"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .executableTarget(
            name: "calibration-bench", dependencies: ["PruneKit"], path: "Benchmarks/CalibrationBench",
            swiftSettings: strict),
        .testTarget(
            name: "PruneCalibrationTests",
            dependencies: ["PruneKit", "PruneRuntime", "ONNXProto", "PruneTestSupport"],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(
            name: "PruneRecipesTests", dependencies: ["PruneRecipes", "PruneKit", "PruneTestSupport"],
            swiftSettings: strict),
        .testTarget(name: "ONNXOperatorsTests", dependencies: ["ONNXOperators"], exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "PruneStructureTests",
            dependencies: [
                "PruneStructure", "PruneBuiltins", "PruneRuntime", "PruneFormats", "PruneCore", "ONNXProto",
                "PruneTestSupport",
            ],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(
            name: "PruneReconstructTests",
            dependencies: [
                "PruneKit", "PruneReconstruct", "PruneRuntime", "PruneFormats", "PruneCore", "ONNXProto",
                "PruneTestSupport",
            ],
            exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "PruneQuantizeTests",
            dependencies: [
                "PruneKit", "PruneQuantize", "PruneRuntime", "PruneFormats", "PruneCore", "ONNXProto", "PruneTestSupport",
            ],
            resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(
            name: "PruneEvaluationTests",
            dependencies: [
                "PruneEvaluation", "PruneRuntime", "PruneFormats", "PruneCore", "PruneTestSupport", "ONNXProto",
            ],
            swiftSettings: strict),
        .target(
            name: "PruneTestSupport", dependencies: ["PruneCore", "PruneRuntime", "ONNXProto"],
            path: "Tests/PruneTestSupport", swiftSettings: strict),
        .testTarget(
            name: "PruneRuntimeTests", dependencies: ["PruneRuntime", "PruneCore", "ONNXProto", "PruneTestSupport"],
            swiftSettings: strict),
    ]
)

/// Fuzz targets (`Scripts/fuzz`): only when `PRUNEKIT_FUZZ` is set, so ordinary builds never see them; the
/// script builds them with `-sanitize=fuzzer` into `.build-fuzz`.
if Context.environment["PRUNEKIT_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "prune-fuzz",
            dependencies: ["PruneCore", "PruneFormats", "PruneRuntime", "PruneRecipes", "PrunePluginHost", "ONNXProto"],
            path: "Fuzz/PruneFuzz", swiftSettings: strict + [.unsafeFlags(["-parse-as-library"])]))
}
