import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// Budgets and the over-pruning guard on the bundled digits CNN, with held-out data the run never scores on.
@Suite struct BudgetGuardTests {
    static let examples = TestPython.packageRoot.appending(path: "Examples/digits-cnn")
    static let model = examples.appending(path: "model.onnx")
    /// 540 labelled samples; the stage's scorer (magnitude) reads no data, so all of them are held out.
    static let heldOut = examples.appending(path: "test.safetensors")

    /// Curves that call every sparsity free, so the solver prunes hard and only the guard can catch it.
    static func optimisticCurves() throws -> SensitivityCurves {
        let denseMACs = 337_536
        func curve(_ name: String, units: Int, macsAt75: Int) -> SensitivityCurves.Curve {
            .init(
                target: name, units: units,
                points: [0.25, 0.5, 0.75].map { s in
                    .init(sparsity: s, fidelity: 1, parameters: 38_474, macs: denseMACs - Int(Double(macsAt75) * s / 0.75))
                })
        }
        return SensitivityCurves(
            model: "model.onnx", modelDigest: try SHA256.hex(ofFileAt: model.path), metric: .agreement,
            granularity: .unit, scorer: "magnitude:p=2",
            dense: .init(sparsity: 0, fidelity: 1, parameters: 38_474, macs: denseMACs),
            curves: [
                curve("/conv1/Conv", units: 16, macsAt75: 60_000), curve("/conv2/Conv", units: 32, macsAt75: 180_000),
                curve("/fc1/Gemm", units: 64, macsAt75: 30_000),
            ])
    }

    static func job(output: URL) throws -> PruneJob {
        PruneJob(
            input: model, output: output,
            recipe: Recipe(stages: [
                Recipe.StageEntry(
                    name: "prune", scorer: try ComponentSpec(parsing: "magnitude:p=2"),
                    selector: ComponentSpec(name: "targets"), rewriter: ComponentSpec(name: "remove"),
                    targets: TargetFilter(granularity: .unit))
            ]), threads: 2)
    }

    @Test func theGuardBacksOffUntilHeldOutAgreementHoldsAndTheRecipeReproducesIt() throws {
        let directory = try TemporaryDirectory()
        let output = directory.file("pruned.onnx")
        let options = BudgetOptions(
            target: try BudgetTarget(parsing: "macs=0.5"), curves: try Self.optimisticCurves(),
            floor: try FidelityFloor(parsing: "agreement>=0.97"), guardData: Self.heldOut,
            recipeFile: directory.file("recipe.yaml"))
        let report = try BudgetedRun(engine: PruneEngine()).run(try Self.job(output: output), options: options)
        let budget = try #require(report.budget)
        let outcome = try #require(budget.guardOutcome)
        #expect(!outcome.backOffs.isEmpty, "the optimistic curves' allocation must fall below the floor first")
        #expect(outcome.reached >= 0.97)
        #expect(outcome.heldOutSamples == 540)
        // Every step lowers one target to its next lower grid point.
        for step in outcome.backOffs { #expect(step.to < step.from && [0, 0.25, 0.5].contains(step.to)) }

        // Measured independently: the written model against the dense one on the held-out samples.
        let dense = try Interpreter(graph: try ONNXGraph(contentsOf: Self.model))
        let pruned = try Interpreter(graph: try ONNXGraph(contentsOf: output))
        let data = try EvaluationData(url: Self.heldOut, batchSize: 64, inputNames: dense.graph.inputNames)
        let result = try Evaluator(model: pruned, name: "pruned", reference: dense).evaluate(data)
        #expect(try #require(result.agreement?.top1) >= 0.97)
        #expect(abs(try #require(result.agreement?.top1) - outcome.reached) < 1e-9)

        // The recipe reads back to the allocation written.
        let recipe = try Recipe(contentsOf: directory.file("recipe.yaml"))
        let selector = recipe.stages[0].selector
        #expect(selector.name == "targets")
        let table = try TargetSparsitySelector(
            parsing: try #require(selector.arguments.first { $0.key == "sparsities" }?.value))
        #expect(table.sparsities == budget.allocation.table)
        _ = try recipe.pipeline(registry: .standard())
    }

    @Test func aFloorThatCannotBeReachedFailsAndWritesNothing() throws {
        let directory = try TemporaryDirectory()
        let output = directory.file("pruned.onnx")
        let options = BudgetOptions(
            target: try BudgetTarget(parsing: "macs=0.5"), curves: try Self.optimisticCurves(),
            floor: try FidelityFloor(parsing: "agreement>=0.999"), guardData: Self.heldOut, guardSteps: 1,
            recipeFile: directory.file("recipe.yaml"))
        let error = #expect(throws: PruneError.self) {
            try BudgetedRun(engine: PruneEngine()).run(try Self.job(output: output), options: options)
        }
        #expect(error?.kind == .floorNotMet)
        #expect(error?.message.contains("reached") == true)
        #expect(!FileManager.default.fileExists(atPath: output.path))
        #expect(!FileManager.default.fileExists(atPath: directory.file("recipe.yaml").path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path).isEmpty, "no scratch left")
    }

    @Test func curvesOfAnotherModelAreRefused() throws {
        let directory = try TemporaryDirectory()
        var curves = try Self.optimisticCurves()
        curves.modelDigest = String(repeating: "0", count: 64)
        let error = #expect(throws: PruneError.self) {
            try BudgetedRun(engine: PruneEngine()).run(
                try Self.job(output: directory.file("x.onnx")),
                options: BudgetOptions(target: try BudgetTarget(parsing: "macs=0.5"), curves: curves))
        }
        #expect(error?.message.contains("measured on model.onnx") == true)
    }
}
