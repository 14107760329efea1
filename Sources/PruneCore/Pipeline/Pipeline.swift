import Foundation

/// A list of stages run in order, each on the model the previous one produced.
///
/// "Weights first, then activations, then structure" is a three-stage pipeline. Each stage scores all its
/// targets (in parallel), hands every score to its selector at once, releases the scores, and rewrites.
public struct Pipeline: Sendable {
    /// The stages, in the order they run.
    public var stages: [Stage]

    /// Creates a pipeline.
    public init(_ stages: [Stage]) { self.stages = stages }

    /// The calibration data the stages' scorers and rewriters read, taken together.
    ///
    /// Callers run calibration (or load saved statistics) when this is not empty and pass the result in the
    /// context; statistics describe the pipeline's input model and every stage sees the same ones.
    public var dataNeeds: DataNeeds { stages.reduce(.none) { $0.union($1.dataNeeds) } }

    /// Runs every stage on `model`.
    ///
    /// - Parameter context: seed, logger, progress and threads; its `model` is replaced by each stage's input.
    /// - Returns: the rewritten model and one report per stage.
    /// - Throws: `PruneError.Kind.noCandidates` when a stage's filter matches nothing, and whatever a component
    ///   throws; a component whose output breaks its contract is reported by name.
    public func run(on model: Model, context: PruneContext) throws -> PipelineResult {
        var current = model
        var reports: [StageReport] = []
        var context = context
        for stage in stages {
            // A scheduled step scores with statistics of the model it prunes, not of the pipeline's input.
            var recalibrated: Bool?
            if stage.recalibrate, !stage.scorer.dataNeeds.statistics.isEmpty {
                if let recalibrate = context.recalibrate {
                    context.progress.update(phase: "re-calibrating for '\(stage.name)'", completed: 0, total: 1)
                    context.statistics = try recalibrate(current)
                    recalibrated = true
                } else {
                    recalibrated = false
                }
            }
            var (next, report) = try run(stage, on: current, context: context)
            report.recalibrated = recalibrated
            current = next
            reports.append(report)
            try context.stageFinished?(stage.name, current)
        }
        context.progress.finish()
        return PipelineResult(model: current, stages: reports)
    }

    /// Exclusion reasons counted by kind, most frequent first: `12 × (Pad): …; 3 × …`. The node named at the start
    /// of a reason (`node 'X' (Op): why`) is left out so that one cause counts once per kind.
    static func countedReasons(_ reasons: [String]) -> String {
        var counts: [String: Int] = [:]
        var order: [String] = []
        for reason in reasons {
            var kind = Substring(reason)
            if reason.hasPrefix("node '"), let end = reason.range(of: "' (") {
                kind = reason[reason.index(before: end.upperBound)...]
            }
            let key = String(kind)
            if counts[key] == nil { order.append(key) }
            counts[key, default: 0] += 1
        }
        let sorted = order.enumerated().sorted { (counts[$0.element]!, -$0.offset) > (counts[$1.element]!, -$1.offset) }
        return sorted.prefix(8).map { "\(counts[$0.element]!) × \($0.element)" }.joined(separator: "; ")
            + (sorted.count > 8 ? "; …" : "")
    }

    private func run(_ stage: Stage, on model: Model, context base: PruneContext) throws -> (Model, StageReport) {
        var context = base
        context.model = model
        let (targets, passedOver) =
            try stage.targetProvider?.targets(in: model, filter: stage.targets) ?? stage.targets.resolve(in: model)
        guard !targets.isEmpty else {
            guard passedOver.isEmpty else {
                throw PruneError(
                    .noCandidates,
                    "stage '\(stage.name)' has nothing to prune: all \(passedOver.count) candidates were passed over ("
                        + Pipeline.countedReasons(passedOver.map(\.reason)) + ")")
            }
            throw PruneError(
                .noCandidates,
                "stage '\(stage.name)' has no tensors to prune (include: \(stage.targets.include), exclude: \(stage.targets.exclude))"
            )
        }
        let clock = ContinuousClock()
        // Scores live only inside `select`, so they are freed before the rewrite allocates anything.
        let (selection, scoringTime, selectionTime) = try select(
            stage, targets: targets, model: model, context: context)

        let rewriteStart = clock.now
        context.progress.update(phase: "rewriting", completed: 0, total: 1)
        let rewritten = try stage.rewriter.rewrite(model, applying: selection, in: context)
        let rewriteTime = clock.now - rewriteStart

        var report = StageReport(
            name: stage.name, description: stage.description, granularity: stage.targets.granularity,
            targets: selection.entries.map(StageReport.TargetOutcome.init),
            passedOver: passedOver.map { StageReport.PassedOver(name: $0.name, reason: $0.reason) },
            scoringSeconds: scoringTime.seconds, selectionSeconds: selectionTime.seconds,
            rewriteSeconds: rewriteTime.seconds)
        report.reconstruction = rewritten.layers.isEmpty ? nil : rewritten.layers
        report.candidates =
            stage.targetProvider == nil ? stage.targets.rule : "dependency groups of " + stage.targets.rule
        return (rewritten.model, report)
    }

    /// Scores every target in parallel and hands all scores to the selector.
    private func select(_ stage: Stage, targets: [PruneTarget], model: Model, context: PruneContext) throws
        -> (Selection, Duration, Duration)
    {
        let clock = ContinuousClock()
        let scoringStart = clock.now
        let scorerName = stage.description.scorer
        let scorer = stage.scorer
        let progress = ProgressCounter(total: targets.count, phase: "scoring", sink: context.progress)
        let scored: [ScoredTarget] = try ParallelFor.map(targets.count, threads: context.threads) { i in
            let target = targets[i]
            let scores = try scorer.scores(for: target, in: context)
            do {
                try scores.validate(for: target, source: scorerName)
            } catch let error as PruneError where error.kind == .invalidOutput {
                throw Pipeline.nonFiniteInput(of: target, in: model, scorer: scorerName) ?? error
            }
            // The scorer is done with these weights for now: let their mapped pages go.
            for name in target.parameterNames { model[name]?.tensor.releaseResidentPages() }
            progress.advance()
            return ScoredTarget(
                target: target, scores: scores, shape: Pipeline.shape(of: target, in: model),
                layout: Pipeline.layout(of: target, in: model))
        }
        let scoringTime = clock.now - scoringStart

        let selectionStart = clock.now
        context.progress.update(phase: "selecting", completed: 0, total: 1)
        let selection = try stage.selector.select(scored, in: context)
        try Pipeline.check(selection, against: targets, selector: stage.description.selector)
        return (selection, scoringTime, clock.now - selectionStart)
    }

    /// Checks that a selector answered every target once, in order, with masks of the right size.
    private static func check(_ selection: Selection, against targets: [PruneTarget], selector: String) throws {
        guard selection.entries.count == targets.count else {
            throw PruneError(
                .invalidOutput,
                "selector '\(selector)' decided on \(selection.entries.count) targets; the stage has \(targets.count)")
        }
        for (entry, target) in zip(selection.entries, targets) {
            guard entry.target == target else {
                throw PruneError(
                    .invalidOutput,
                    "selector '\(selector)' answered '\(entry.target.name)' where '\(target.name)' was due")
            }
            if case .prune(let mask) = entry.decision, mask.count != target.scoreCount {
                throw PruneError(
                    .invalidOutput,
                    "selector '\(selector)' gave '\(target.name)' a mask of \(mask.count) positions; it has \(target.scoreCount)"
                )
            }
        }
    }

    private static func shape(of target: PruneTarget, in model: Model) -> [Int] {
        switch target.kind {
        case .elements(let name): model[name]?.tensor.shape ?? [target.scoreCount]
        case .units(let count, _): [count]
        }
    }

    private static func layout(of target: PruneTarget, in model: Model) -> WeightLayout? {
        guard case .elements(let name) = target.kind, let parameter = model[name] else { return nil }
        return parameter.effectiveLayout
    }
}

/// The outcome of ``Pipeline/run(on:context:)``.
public struct PipelineResult: Sendable {
    /// The rewritten model.
    public let model: Model
    /// One report per stage, in order.
    public let stages: [StageReport]
}

/// Counts finished steps from several threads and forwards them to a progress sink.
private final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var done = 0
    private let total: Int
    private let phase: String
    private let sink: any ProgressSink

    init(total: Int, phase: String, sink: any ProgressSink) {
        self.total = total
        self.phase = phase
        self.sink = sink
    }

    func advance() {
        let completed = lock.withLock {
            done += 1
            return done
        }
        sink.update(phase: phase, completed: completed, total: total)
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    package var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}
