import Foundation
import Logging
import PruneBuiltins
import PruneCalibration
import PruneCore
import PruneEvaluation
import PruneFormats
import PrunePluginHost
import PruneRuntime
import PruneStructure

/// Measures how a model's fidelity drops when each target alone is pruned to each sparsity of a grid.
///
/// Structured (``SensitivityCurves/Granularity/unit``): each prunable dependency group of the ONNX graph, every
/// other group dense, loses its lowest-scored units (the `layer` selector's count: sparsity × units rounded half to
/// even) through the `remove` rewrite, verified like every structural rewrite; parameters and MACs of the smaller
/// model are recorded. Unstructured (``SensitivityCurves/Granularity/weight``): each candidate tensor alone is
/// masked. Fidelity is measured in the interpreter against the dense model (``FidelityMeter``: the dense model runs
/// once). The structure analysis runs once for the whole sweep and each target is scored once, not once per point.
///
/// ```swift
/// let job = SensitivityJob(model: url, calibration: calibrationURL, grid: [0.25, 0.5])
/// let curves = try SensitivitySweep().run(job)
/// print(curves.curves.map { ($0.target, $0.points.map(\.fidelity)) })
/// ```
public struct SensitivitySweep: Sendable {
    /// Where the scorer is resolved.
    public let registry: ComponentRegistry
    /// Where long steps report how far they got.
    public var progress: any ProgressSink
    /// Receives non-fatal notices (one line each): a target whose pruning failed, data not used.
    public var warn: @Sendable (String) -> Void

    /// Creates a sweep over `registry`'s components (the built-ins by default).
    public init(
        registry: ComponentRegistry = .standard(), progress: any ProgressSink = SilentProgress(),
        warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.registry = registry
        self.progress = progress
        self.warn = warn
    }

    /// Measures every point of `job` that `cache` does not hold (in `job.shard`'s slice when set) and returns the
    /// cache with them added.
    ///
    /// - Parameters:
    ///   - cache: earlier results for the same model, metric, granularity and scorer, or nil.
    ///   - replacingIncompatible: start afresh (with a warning) instead of failing when `cache` belongs to another
    ///     model, metric, granularity or scorer.
    ///   - checkpoint: called with everything measured so far after each target's points, so a long sweep can be
    ///     saved as it goes.
    /// - Throws: `PruneError` when the cache belongs to another model, metric, granularity or scorer
    ///   (`.invalidInput`), the model is not ONNX, the data does not fit, or the scorer fails. A target whose
    ///   pruning fails (a rewrite that cannot be verified) is reported through ``warn`` and left without points.
    public func run(
        _ job: SensitivityJob, reusing cache: SensitivityCurves? = nil, replacingIncompatible: Bool = false,
        checkpoint: (SensitivityCurves) throws -> Void = { _ in }
    ) throws -> SensitivityCurves {
        try job.validate()
        let document = try ModelFiles.open(job.model)
        document.warnings.forEach(warn)
        let model = document.model
        guard model.graph is ONNXModelGraph else {
            throw PruneError(
                .unsupported,
                "\(job.model.path): sensitivity runs the model in the interpreter, so it needs an ONNX model, not "
                    + document.formatName)
        }
        let digest = try SHA256.hex(ofFileAt: job.model.path)
        let placeholder = SensitivityCurves.Point(sparsity: 0, fidelity: 1, parameters: model.parameterCount)
        var curves = SensitivityCurves(
            model: job.model.lastPathComponent, modelDigest: digest, metric: job.metric, granularity: job.granularity,
            scorer: job.scorer.description, dense: placeholder, curves: [])
        curves.rewriter = job.rewriter?.description
        if let cache {
            if let reason = curves.incompatibility(with: cache) {
                guard replacingIncompatible else {
                    throw PruneError(.invalidInput, Self.incompatibleCachePrefix + reason)
                }
                warn(Self.incompatibleCachePrefix + reason + "; starting it afresh")
            } else {
                curves.curves = cache.curves
            }
        }

        let scorer = try registry.makeScorer(job.scorer)
        var context = try scoringContext(job, scorer: scorer, model: model)
        let rewriter = try job.rewriter.map { try registry.makeRewriter($0) }
        if let rewriter, rewriter.dataNeeds.batches {
            guard let calibration = job.calibration else {
                throw PruneError(
                    .missingData,
                    "rewriter '\(job.rewriter!.name)' runs the model on calibration data: pass --calibration",
                    hint: .calibrationBatches)
            }
            context.calibrationBatches = try CalibrationData(url: calibration)
        }
        let candidates = try SweepTargets(job: job, model: model)
        candidates.skipped.forEach { warn("passed over '\($0.name)': \($0.reason)") }

        let interpreterOptions = Interpreter.Options(threads: job.threads)
        let denseGraph = try ONNXGraph.of(model)
        let dataURL = job.data ?? job.calibration!
        let data = try EvaluationData(
            url: dataURL, batchSize: EvaluationData.batchSize(requested: job.batchSize, for: denseGraph),
            labels: job.labels, inputNames: denseGraph.inputNames)
        let meter = try FidelityMeter(
            reference: try Interpreter(graph: denseGraph, options: interpreterOptions), name: job.model.path,
            data: data, classesPerPosition: job.classesPerPosition, progress: progress)
        if job.metric == .agreement, !meter.comparison.classifies {
            throw PruneError(
                .invalidInput,
                "top-1 agreement needs one class distribution per sample (or per position); the first output of "
                    + "\(job.model.lastPathComponent) is compared as values per \(meter.comparison.rowName): use the "
                    + "cosine metric")
        }
        let measure = PointMeasure(job: job, meter: meter, options: interpreterOptions)
        // A model with dynamic axes beyond the batch (a sequence length) is counted at the data's shapes.
        let shapes = SampleInputShapes.needed(
            SampleInputShapes.of(dataURL, inputNames: denseGraph.inputNames), for: model)
        let denseMACs = ONNXCompute.macs(of: model, inputShapes: shapes)
        curves.macsInputShapes = denseMACs != nil && !shapes.isEmpty ? shapes : nil
        curves.dense = try measure.point(
            of: model, graph: denseGraph, sparsity: 0, parameters: model.parameterCount,
            macs: denseMACs, pruned: 0, name: job.model.lastPathComponent)

        // The work list: every (target, sparsity), whatever the cache holds, so shards agree across machines.
        var work: [(target: Int, sparsity: Double)] = []
        var position = 0
        for (t, target) in candidates.targets.enumerated() {
            for sparsity in job.grid {
                defer { position += 1 }
                guard job.shard?.contains(position) ?? true else { continue }
                guard curves.point(target: target.name, sparsity: sparsity) == nil else { continue }
                work.append((t, sparsity))
            }
        }
        var done = 0
        for t in candidates.targets.indices {
            let sparsities = work.filter { $0.target == t }.map(\.sparsity)
            guard !sparsities.isEmpty else { continue }
            let target = candidates.targets[t]
            let scored = try candidates.score(target, scorer: scorer, scorerName: job.scorer.description, context: context)
            for sparsity in sparsities {
                progress.update(phase: "measuring \(target.name) at \(sparsity)", completed: done, total: work.count)
                do {
                    let selection = try LayerSelector(sparsity: sparsity).select([scored], in: context)
                    let prunedCount = selection.prunedCount
                    let (pruned, parameters) = try candidates.apply(
                        selection, count: prunedCount, rewriter: rewriter, context: context)
                    let graph = prunedCount == 0 ? denseGraph : try ONNXGraph.of(pruned)
                    let point = try measure.point(
                        of: pruned, graph: graph, sparsity: sparsity, parameters: parameters,
                        macs: job.granularity == .unit ? ONNXCompute.macs(of: pruned, inputShapes: shapes) : nil,
                        pruned: prunedCount,
                        name: "'\(target.name)' at sparsity \(sparsity)")
                    curves.insert(point, target: target.name, units: target.scoreCount)
                } catch let error as PruneError {
                    warn("'\(target.name)' at sparsity \(sparsity) was not measured: \(error.message)")
                    done += sparsities.count
                    break
                }
                done += 1
            }
            try checkpoint(curves)
        }
        progress.finish()
        return curves
    }

    /// How the error for a cache of another model, metric, granularity or scorer begins.
    public static let incompatibleCachePrefix = "the sensitivity cache cannot be reused: "

    /// The context scorers read: the model, and calibration statistics when the scorer needs them.
    private func scoringContext(_ job: SensitivityJob, scorer: any Scorer, model: Model) throws -> PruneContext {
        var context = PruneContext(model: model, seed: job.seed, progress: progress, threads: job.threads)
        guard !scorer.dataNeeds.statistics.isEmpty else { return context }
        let stage = Stage(
            name: "sensitivity", scorer: scorer, selector: LayerSelector(sparsity: 0), rewriter: MaskRewriter(),
            description: StageDescription(scorer: job.scorer.description, selector: "layer", rewriter: "mask"))
        let pipeline = Pipeline([stage])
        let calibration: PruneJob.Calibration =
            job.statistics.map { .statistics($0) } ?? job.calibration.map { .batches($0) } ?? .none
        try CalibrationStep.checkSupplied(calibration, for: pipeline)
        context.statistics = try CalibrationStep.statistics(
            calibration, for: pipeline, model: model, input: job.model, overwrite: false, threads: job.threads,
            progress: progress, warn: warn)
        return context
    }
}

/// The targets of a sweep and how one is pruned: dependency groups removed through one shared analysis, or
/// tensors masked.
private struct SweepTargets {
    let model: Model
    let targets: [PruneTarget]
    let skipped: [(name: String, reason: String)]
    /// The shared analysis for structured sweeps.
    let removal: GroupRemoval?

    init(job: SensitivityJob, model: Model) throws {
        self.model = model
        switch job.granularity {
        case .unit:
            let removal = try GroupRemoval(model: model, ignoring: job.exclude)
            let found = try GroupTargets.targets(of: removal.analysis, include: job.include)
            targets = found.targets
            skipped = found.skipped
            self.removal = removal
        case .weight:
            let filter = TargetFilter(include: job.include, exclude: job.exclude, granularity: .element)
            try filter.validate()
            let found = try filter.resolve(in: model)
            targets = found.targets
            skipped = found.skipped
            removal = nil
        }
        guard !targets.isEmpty else {
            throw PruneError(
                .noCandidates,
                "\(job.model.lastPathComponent) has no \(job.granularity == .unit ? "prunable dependency group" : "candidate tensor") to measure"
                    + (skipped.isEmpty ? "" : " (\(skipped.count) passed over: \(skipped.prefix(3).map { "'\($0.name)': \($0.reason)" }.joined(separator: "; ")))"))
        }
    }

    /// `target` scored once (the scores do not depend on the sparsity).
    func score(_ target: PruneTarget, scorer: any Scorer, scorerName: String, context: PruneContext) throws
        -> ScoredTarget
    {
        let scores = try scorer.scores(for: target, in: context)
        try scores.validate(for: target, source: scorerName)
        switch target.kind {
        case .elements(let name):
            let parameter = try model.parameter(named: name)
            return ScoredTarget(
                target: target, scores: scores, shape: parameter.tensor.shape, layout: parameter.effectiveLayout)
        case .units(let count, _):
            return ScoredTarget(target: target, scores: scores, shape: [count], layout: nil)
        }
    }

    /// The model with `selection` applied, and its parameter count (kept weights for masks): through `rewriter`
    /// when given, else the shared removal (units) or a mask (weights).
    func apply(_ selection: Selection, count: Int, rewriter: (any Rewriter)?, context: PruneContext) throws -> (Model, Int) {
        guard count > 0 else { return (model, model.parameterCount) }
        if let rewriter {
            let pruned = try rewriter.rewrite(model, applying: selection, in: context).model
            return (pruned, removal == nil ? model.parameterCount - count : pruned.parameterCount)
        }
        if let removal {
            let pruned = try removal.removing(selection)
            return (pruned, pruned.parameterCount)
        }
        return (try MaskRewriter().rewrite(model, applying: selection, in: context).model, model.parameterCount - count)
    }
}

/// Measures one pruned model: fidelity against the dense model, and latency when asked.
private struct PointMeasure {
    let job: SensitivityJob
    let meter: FidelityMeter
    let options: Interpreter.Options

    func point(
        of model: Model, graph: ONNXGraph, sparsity: Double, parameters: Int, macs: Int?, pruned: Int, name: String
    ) throws -> SensitivityCurves.Point {
        let interpreter = try Interpreter(graph: graph, options: options)
        let (agreement, accuracy) = try meter.measure(interpreter, name: name)
        let fidelity = job.metric.value(agreement: agreement, accuracy: accuracy)
        var latency: Double?
        if let settings = job.latency {
            let seconds = try LatencyProbe.timings(
                graph: graph, batch: 1, settings: settings, threads: job.threads, seed: job.seed)
            latency = LatencyStep.quantile(seconds, 0.5)
        }
        return SensitivityCurves.Point(
            sparsity: sparsity, fidelity: fidelity, parameters: parameters, macs: macs, latencySeconds: latency,
            pruned: pruned)
    }
}
