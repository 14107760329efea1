import Foundation
import PruneKit
import PruneTestSupport
import Testing

/// Schedules: a recipe stage pruned in K steps of rising sparsity, re-calibrated between steps.
@Suite struct ScheduleTests {
    static let digits = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Examples/digits-cnn")

    @Test func curvesReachTheFinalSparsityInTheirOwnSteps() {
        #expect(Schedule(steps: 4, curve: .linear).fractions == [0.25, 0.5, 0.75, 1])
        // 1 − (1 − 1/2)³ = 0.875.
        #expect(Schedule(steps: 2, curve: .cubic).fractions == [0.875, 1])
        // Elements: cumulative 0.25, 0.5. Units: first a quarter, then 1 − 0.5 / 0.75 = 1/3 of what is left.
        #expect(Schedule(steps: 2, curve: .linear).stepSparsities(0.5, granularity: .element) == [0.25, 0.5])
        let units = Schedule(steps: 2, curve: .linear).stepSparsities(0.5, granularity: .unit)
        #expect(units[0] == 0.25 && abs(units[1] - 1.0 / 3) < 1e-12)
    }

    @Test func aRecipeScheduleParsesAndExpandsIntoSteps() throws {
        let recipe = try Recipe(
            yaml: """
                stages:
                  - name: wanda
                    scorer: activation
                    selector: row:sparsity=0.6
                    rewriter: reconstruct
                    schedule: {steps: 3, curve: linear}
                """)
        #expect(recipe.stages[0].schedule == Schedule(steps: 3, curve: .linear))
        #expect(try Recipe(yaml: recipe.yaml) == recipe)
        let pipeline = try recipe.pipeline(registry: .standard())
        #expect(pipeline.stages.map(\.name) == ["wanda step 1/3", "wanda step 2/3", "wanda step 3/3"])
        #expect(pipeline.stages.map(\.recalibrate) == [false, true, true])
        #expect(throws: PruneError.self) {
            try Recipe(yaml: "stages:\n  - scorer: magnitude\n    selector: nm:n=2,m=4\n    schedule: {steps: 2}\n")
                .pipeline(registry: .standard())
        }
        #expect(throws: PruneError.self) {
            try Recipe(yaml: "stages:\n  - scorer: magnitude\n    selector: row:sparsity=0.5\n    schedule: {steps: 0}\n")
        }
    }

    /// The scheduled run equals the same steps run one after the other as separate jobs, each calibrating on its own
    /// input file — and differs from the same steps scored with the dense model's statistics, so the equality says
    /// that each step really was scored on statistics of the model it pruned.
    @Test func eachStepIsScoredOnStatisticsOfTheModelItPrunes() throws {
        let directory = try TemporaryDirectory()
        let model = Self.digits.appending(path: "model.onnx")
        let calibration = PruneJob.Calibration.batches(Self.digits.appending(path: "calib.safetensors"))
        func stage(_ selector: String, name: String = "wanda") throws -> Recipe.StageEntry {
            Recipe.StageEntry(
                name: name, scorer: ComponentSpec(name: "activation"), selector: try ComponentSpec(parsing: selector),
                rewriter: try ComponentSpec(parsing: "reconstruct"))
        }
        var scheduled = try stage("row:sparsity=0.7")
        scheduled.schedule = Schedule(steps: 3, curve: .cubic)
        let output = directory.file("scheduled.onnx")
        let report = try PruneEngine().run(
            PruneJob(input: model, output: output, recipe: Recipe(stages: [scheduled]), calibration: calibration,
                     threads: 1))
        #expect(report.stages.count == 3)
        #expect(report.stages.map(\.recalibrated) == [nil, true, true])
        #expect(report.stages.allSatisfy { ($0.reconstruction ?? []).contains { $0.action == .modelOutput } })

        // The same three sparsities as three jobs, each on the previous job's output.
        var input = model
        for (k, sparsity) in Schedule(steps: 3, curve: .cubic).stepSparsities(0.7, granularity: .element).enumerated() {
            let next = directory.file("chained-\(k + 1).onnx")
            _ = try PruneEngine().run(
                PruneJob(input: input, output: next, recipe: Recipe(stages: [try stage("row:sparsity=\(sparsity)")]),
                         calibration: calibration, threads: 1))
            input = next
        }
        let scheduledModel = try ModelFiles.open(output).model
        let chainedModel = try ModelFiles.open(input).model
        func zeros(_ model: Model) -> [String: [Bool]] {
            Dictionary(uniqueKeysWithValues: model.parameterNames.filter { $0.hasSuffix("weight") }.map { name in
                (name, model[name]!.tensor.floatValues().map { $0 == 0 })
            })
        }
        #expect(zeros(scheduledModel) == zeros(chainedModel))
        for name in scheduledModel.parameterNames {
            let (a, b) = (scheduledModel[name]!.tensor.floatValues(), chainedModel[name]!.tensor.floatValues())
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) }, "\(name)")
        }

        // Without re-calibration (every step scored on the dense model's statistics) the masks differ.
        let registry = ComponentRegistry.standard()
        var stale = try Recipe(stages: [scheduled]).pipeline(registry: registry)
        for index in stale.stages.indices { stale.stages[index].recalibrate = false }
        let staleRecipe = try Recipe(stale)
        let staleOutput = directory.file("stale.onnx")
        _ = try PruneEngine().run(
            PruneJob(input: model, output: staleOutput, recipe: staleRecipe, calibration: calibration, threads: 1))
        #expect(zeros(try ModelFiles.open(staleOutput).model) != zeros(scheduledModel))
    }
}
