import Foundation
import Testing

// README-BEGIN
import PruneKit

/// A criterion of your own: weights far from their layer's mean matter most.
struct DistanceFromMean: ElementScorer {
    func elementScores(of parameter: Parameter, in context: PruneContext) throws -> [Float] {
        let values = parameter.tensor.floatValues()
        let mean = values.reduce(0, +) / Float(values.count)
        return values.map { abs($0 - mean) }
    }
}

func pruneTwice(_ input: URL, to output: URL) throws -> PipelineResult {
    // Register it by name next to the built-ins, so CLI-style specs can use it too.
    let registry = ComponentRegistry.standard()
    let info = ComponentInfo(
        kind: .scorer, name: "distance", summary: "|w - mean|", signature: .none, source: .code("my app"))
    try registry.register(scorer: info) { _ in DistanceFromMean() }

    let document = try ModelFiles.open(input)
    let pipeline = Pipeline([
        // 1. Energy scores, 50 % of all weights ranked globally, no tensor pruned beyond 80 %.
        Stage(
            name: "weights", scorer: EnergyScorer(),
            selector: GlobalSelector(sparsity: 0.5, maximum: 0.8), rewriter: MaskRewriter()),
        // 2. Half custom criterion, half magnitude, LAMP-normalised; 60 % of every output row.
        Stage(
            name: "rows",
            scorer: try registry.makeScorer(ComponentSpec(parsing: "distance"))
                .weighted(0.5, plus: MagnitudeScorer(), weighted: 0.5).normalized(.lamp),
            selector: RowSelector(sparsity: 0.6), rewriter: MaskRewriter()),
    ])
    let result = try pipeline.run(on: document.model, context: PruneContext(model: document.model))
    _ = try document.write(result.model, to: output, metadata: ["pruned-by": "my app"], overwrite: true)
    return result
}
// README-END

@Suite("README example")
struct ReadmeExampleTests {
    @Test func theExampleRunsAndPrunes() throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "prunekit-readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appending(path: "model.safetensors")
        let weights = Tensor(shape: [8, 10], values: (0..<80).map { Float(($0 * 37) % 80) - 40 })
        _ = try SafetensorsWriter.write(
            try Model(parameters: [Parameter(name: "w", tensor: weights, layout: .pytorch)]), to: input,
            overwrite: false)

        let result = try pruneTwice(input, to: directory.appending(path: "out.safetensors"))
        let pruned = try SafetensorsDocument(url: directory.appending(path: "out.safetensors")).model
        // Stage 1 zeroes 40 of 80 (one tensor, so the 80 % cap does not bind). Stage 2 then zeroes 6 of the
        // 10 weights of every row; some may already be zero, so each row has at least 6 zeros.
        let values = pruned["w"]!.tensor.floatValues()
        for row in 0..<8 {
            let zeros = values[(row * 10)..<(row * 10 + 10)].filter { $0 == 0 }.count
            #expect(zeros >= 6)
        }
        #expect(result.stages.map(\.name) == ["weights", "rows"])
        #expect(result.stages[0].targets[0].pruned == 40)
        #expect(pruned.metadata["pruned-by"] == "my app")
    }

    @Test func theReadmeShowsThisExactCode() throws {
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../README.md"),
            encoding: .utf8)
        let begin = source.range(of: "// README-BEGIN\n")!.upperBound
        let end = source.range(of: "// README-END")!.lowerBound
        #expect(readme.contains(String(source[begin..<end])), "README's Swift example must match this test's code")
    }
}
