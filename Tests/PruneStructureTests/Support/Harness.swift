import Foundation
import ONNXProto
import PruneBuiltins
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure
import Testing

/// Writes models, runs them through the pipeline and the interpreter.
struct Harness {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "prune-structure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Writes `proto` and opens it as a document.
    func open(_ proto: Onnx_ModelProto, as name: String) throws -> ONNXDocument {
        let url = directory.appendingPathComponent("\(name).onnx")
        try Data(proto.serializedBytes() as [UInt8]).write(to: url)
        return try ONNXDocument(url: url)
    }

    /// Runs one stage with group targets on `document` and writes the result as `name`.
    func prune(
        _ document: ONNXDocument, scorer: any Scorer = MagnitudeScorer(p: 2), selector: any Selector,
        rewriter: any Rewriter, name: String
    ) throws -> (model: Model, url: URL) {
        var stage = Stage(
            targets: TargetFilter(granularity: .unit), scorer: scorer, selector: selector, rewriter: rewriter)
        stage.targetProvider = GroupTargets()
        let result = try Pipeline([stage]).run(on: document.model, context: PruneContext(model: document.model))
        let url = directory.appendingPathComponent("\(name).onnx")
        _ = try document.write(result.model, to: url, metadata: [:], overwrite: true)
        return (result.model, url)
    }

    /// The interpreter's output `output` for `input` fed to the model at `url`.
    static func run(_ url: URL, input: String, shape: [Int], values: [Float], output: String) throws -> [Float] {
        let interpreter = try Interpreter(graph: ONNXGraph(contentsOf: url), options: .init(threads: 1))
        let outputs = try interpreter.run([input: RuntimeTensor(shape: shape, floats: values)])
        return try #require(outputs[output]).tensor().floatValues()
    }

    /// Deterministic inputs in [-1, 1).
    static func inputs(_ count: Int, seed: UInt64 = 7) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(state >> 40) / Float(1 << 24) * 2 - 1
        }
    }
}

/// Whether every pair differs by at most `tolerance` (relative above 1).
func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

extension Harness {
    /// The package's root directory.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
}
