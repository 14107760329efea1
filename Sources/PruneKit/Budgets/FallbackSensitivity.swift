import Foundation
import PruneCore
import PruneFormats
import PrunePluginHost
import PruneRecipes
import PruneStructure

/// A stand-in for `prune sensitivity` (built separately), so budgets and the guard can be tested and measured
/// before it is merged: prunes each target of one stage alone over a grid and measures the model each time.
///
/// This is the one seam to replace: when the sensitivity library is merged, its call takes the place of
/// ``curves(engine:input:stage:calibration:data:labels:metric:grid:threads:progress:)`` and this file goes. It is
/// deliberately plain — one full engine run (to a scratch file) and one evaluation per target and grid point, no
/// caching, no sharding, no latency (budgets model latency by MACs with rounded widths then).
public enum FallbackSensitivity {
    /// Measures one curve per target of `stage` (its scorer, rewriter and targets; the selector is replaced).
    ///
    /// - Parameters:
    ///   - data: evaluation batches the fidelity is measured on (the scoring side: never the guard's held-out set).
    ///   - grid: sparsities to try, each in (0, 1).
    ///   - progress: called with (target, sparsity, fidelity) after each point.
    /// - Throws: anything the engine or the evaluation throws.
    public static func curves(
        engine: PruneEngine, input: URL, stage: Recipe.StageEntry, calibration: PruneJob.Calibration, data: URL,
        labels: String?, metric: SensitivityCurves.Metric, grid: [Double], threads: Int,
        progress: (String, Double, Double) -> Void = { _, _, _ in }
    ) throws -> SensitivityCurves {
        let document = try ModelFiles.open(input)
        let targets: [PruneTarget]
        if stage.targets.granularity == .unit {
            targets = try GroupTargets().targets(in: document.model, filter: stage.targets).targets
        } else {
            targets = try stage.targets.resolve(in: document.model).targets
        }
        let probe = try FidelityProbe(denseModel: input, data: data, labels: labels, metric: metric, threads: threads)
        let scratch = try ScratchDirectory(for: FileManager.default.temporaryDirectory.appendingPathComponent("x." + input.pathExtension))
        defer { scratch.remove() }
        let job = PruneJob(
            input: input, output: scratch.file, recipe: Recipe(stages: [stage]), calibration: calibration,
            overwrite: true, threads: threads)
        let trial = Trial(engine: engine, job: job, stage: stage, multiple: 1, output: scratch.file)

        func point(_ table: [String: Double], sparsity: Double) throws -> SensitivityCurves.Point {
            let report = try trial.run(Allocation(entries: table.map { .init(target: $0.key, sparsity: $0.value, predictedLoss: 0) }, predictedKept: 1, predictedLoss: 0))
            let fidelity = try probe.measure(scratch.file)
            return .init(
                sparsity: sparsity, fidelity: fidelity, parameters: report.totals.nonzerosAfter, macs: report.macs?.after)
        }
        let dense = try point([:], sparsity: 0)
        var curves: [SensitivityCurves.Curve] = []
        for target in targets {
            var points: [SensitivityCurves.Point] = []
            for sparsity in grid.sorted() {
                let measured = try point([target.name: sparsity], sparsity: sparsity)
                progress(target.name, sparsity, measured.fidelity)
                points.append(measured)
            }
            curves.append(.init(target: target.name, units: target.scoreCount, points: points))
        }
        return SensitivityCurves(
            model: input.lastPathComponent, modelDigest: try SHA256.hex(ofFileAt: input.path), metric: metric,
            granularity: stage.targets.granularity == .unit ? .unit : .weight, scorer: stage.scorer.description,
            dense: dense, curves: curves)
    }
}
