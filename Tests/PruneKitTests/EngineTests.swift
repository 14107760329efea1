import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// The engine runs the whole flow the CLI runs; these tests call it directly.
@Suite struct EngineTests {
    /// Two layer weights with the distinct values 1…12 and 13…20, and a bias that is not a candidate.
    static func writeModel(in directory: TemporaryDirectory) throws -> URL {
        let model = try Model(
            parameters: [
                Parameter(name: "fc1.weight", tensor: Tensor(shape: [4, 3], values: (1...12).map(Float.init)), layout: .pytorch),
                Parameter(name: "fc1.bias", tensor: Tensor(shape: [4], values: [0.5, 0.5, 0.5, 0.5])),
                Parameter(name: "fc2.weight", tensor: Tensor(shape: [2, 4], values: (13...20).map(Float.init)), layout: .pytorch),
            ], metadata: ["format": "pt"])
        let url = directory.file("model.safetensors")
        _ = try SafetensorsWriter.write(model, to: url, overwrite: true)
        return url
    }

    static func oneStage(_ selector: String, include: [String] = []) throws -> Recipe {
        Recipe(stages: [
            Recipe.StageEntry(
                name: "prune", scorer: try ComponentSpec(parsing: "magnitude"), selector: try ComponentSpec(parsing: selector),
                targets: TargetFilter(include: include))
        ])
    }

    @Test func aGlobalHalfPrunesTheTenSmallestOfTwentyCandidates() throws {
        let directory = try TemporaryDirectory()
        let input = try Self.writeModel(in: directory)
        let job = PruneJob(
            input: input, output: directory.file("out.safetensors"), recipe: try Self.oneStage("global:sparsity=0.5"),
            reportFile: directory.file("report.json"), threads: 1)
        let report = try PruneEngine().run(job)
        // Candidates: the 12 + 8 layer weights (the bias has no layout); the 10 smallest are 1…10.
        #expect(report.stages[0].candidatePositions == 20)
        #expect(report.stages[0].prunedPositions == 10)
        #expect(report.stages[0].candidates?.hasPrefix("layer weights") == true)
        let written = try ModelFiles.open(directory.file("out.safetensors")).model
        #expect(try written.parameter(named: "fc1.weight").tensor.floatValues() == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11, 12])
        #expect(try written.parameter(named: "fc2.weight").tensor.floatValues() == (13...20).map(Float.init))
        #expect(try written.parameter(named: "fc1.bias").tensor.floatValues() == [0.5, 0.5, 0.5, 0.5])
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.file("report.json"))) as! [String: Any]
        #expect((json["totals"] as? [String: Any])?["zerosAfter"] as? Int == 10)
    }

    @Test func nothingIsWrittenWhenTheOutputExists() throws {
        let directory = try TemporaryDirectory()
        let input = try Self.writeModel(in: directory)
        let output = directory.file("out.safetensors")
        try Data("keep".utf8).write(to: output)
        let job = PruneJob(input: input, output: output, recipe: try Self.oneStage("layer:sparsity=0.5"), threads: 1)
        let error = #expect(throws: PruneError.self) { try PruneEngine().run(job) }
        #expect(error?.kind == .outputExists)
        #expect(error?.hint == .allowOverwrite, "the front end says how to allow it")
        #expect(error?.message.contains("--") == false, "library errors name no flags")
        #expect(try Data(contentsOf: output) == Data("keep".utf8))
    }

    @Test func aScorerThatNeedsDataFailsBeforeTheModelIsRead() throws {
        let directory = try TemporaryDirectory()
        let job = PruneJob(
            input: directory.file("absent.onnx"), output: directory.file("out.onnx"),
            recipe: Recipe(stages: [
                Recipe.StageEntry(
                    name: "wanda", scorer: ComponentSpec(name: "activation"),
                    selector: try ComponentSpec(parsing: "row:sparsity=0.5"))
            ]))
        let error = #expect(throws: PruneError.self) { try PruneEngine().run(job) }
        #expect(error?.kind == .missingData)
        #expect(error?.hint == .calibrationData)
        #expect(error?.message.contains("--") == false, "library errors name no flags")
    }

    @Test func theExampleRecipeRunsOnTheBundledCNN() throws {
        let directory = try TemporaryDirectory()
        let examples = Repository.examples
        let recipeFile = examples.appending(path: "recipes/digits-cnn-channels-then-weights.yaml")
        let job = PruneJob(
            input: examples.appending(path: "digits-cnn/model.onnx"), output: directory.file("small.onnx"),
            recipe: try Recipe(contentsOf: recipeFile), recipeFile: recipeFile, threads: 1)
        let report = try PruneEngine().run(job)
        #expect(report.stages.map(\.name) == ["channels", "weights"])
        #expect(report.stages[0].granularity == .unit && report.stages[0].prunedPositions > 0)
        #expect(report.stages[1].prunedPositions * 2 == report.stages[1].candidatePositions)
        let macs = try #require(report.macs)
        #expect(macs.after < macs.before)
        #expect(report.stages[0].candidates?.contains("never groups touching /fc2/") == true)
    }

    @Test func macsOfAModelWithSymbolicSpatialDimensionsAreUnknownNotZero() throws {
        let directory = try TemporaryDirectory()
        var b = LayerGraphBuilder(name: "symbolic")
        b.input("input", [nil, 3, nil, nil])
        b.graph.input[0].type.tensorType.shape.dim[2].dimParam = "height"
        b.graph.input[0].type.tensorType.shape.dim[3].dimParam = "width"
        b.conv("input", "c", name: "conv", in: 3, out: 4)
        b.node("GlobalAveragePool", ["c"], ["p"], name: "pool")
        b.node("Flatten", ["p"], ["logits"], name: "flatten")
        b.output("logits", [nil, 4])
        let input = directory.file("symbolic.onnx")
        try Data(b.model.serializedBytes() as [UInt8]).write(to: input)
        let job = PruneJob(
            input: input, output: directory.file("out.onnx"), recipe: try Self.oneStage("layer:sparsity=0.5"),
            threads: 1)
        let report = try PruneEngine().run(job)
        #expect(report.macs == nil)
        #expect(report.macsUnknown == true)

        let digits = TestPython.packageRoot.appending(path: "Examples/digits-cnn/model.onnx")
        let known = try PruneEngine().run(
            PruneJob(
                input: digits, output: directory.file("digits.onnx"), recipe: try Self.oneStage("layer:sparsity=0.5"),
                threads: 1))
        #expect(known.macs != nil && known.macsUnknown == nil)
    }
}
