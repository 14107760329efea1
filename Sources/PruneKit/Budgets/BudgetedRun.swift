import Foundation
import PruneBuiltins
import PruneCore
import PruneFormats
import PrunePluginHost
import PruneRecipes

/// How a budgeted run chooses and checks per-target sparsities (`prune run --target … --sensitivity …`).
public struct BudgetOptions: Sendable {
    /// The budget.
    public var target: BudgetTarget
    /// The sensitivity curves of the input model.
    public var curves: SensitivityCurves
    /// The solver (exact by default: see ``BudgetSolver``).
    public var solver: BudgetSolver
    /// Kept widths are rounded to this multiple; nil rounds to 8 for latency modelled by MACs and not otherwise.
    public var round: Int?
    /// The over-pruning guard's floor, when set.
    public var floor: FidelityFloor?
    /// Held-out batches the guard measures on (never the scoring calibration batches).
    public var guardData: URL?
    /// The labels tensor in `guardData`, for an accuracy floor.
    public var guardLabels: String?
    /// Back-off steps the guard may take before it gives up.
    public var guardSteps: Int
    /// Also write the chosen allocation as a recipe here.
    public var recipeFile: URL?
    /// Runs made to correct the additive model's error in the resource kept.
    public var correctionRounds: Int

    /// Creates options.
    public init(
        target: BudgetTarget, curves: SensitivityCurves, solver: BudgetSolver = .exact, round: Int? = nil,
        floor: FidelityFloor? = nil, guardData: URL? = nil, guardLabels: String? = nil, guardSteps: Int = 64,
        recipeFile: URL? = nil, correctionRounds: Int = 4
    ) {
        self.target = target
        self.curves = curves
        self.solver = solver
        self.round = round
        self.floor = floor
        self.guardData = guardData
        self.guardLabels = guardLabels
        self.guardSteps = guardSteps
        self.recipeFile = recipeFile
        self.correctionRounds = correctionRounds
    }
}

/// Runs a one-stage job whose selector is chosen by a budget: solve over the curves, correct the budget on the real
/// pruned model, back off the most sensitive targets until the guard's floor holds, then write the model, the
/// report (with ``PruneReport/budget``) and optionally the recipe.
///
/// Intermediate models go to a private temporary directory and are deleted; when the budget cannot be met or the
/// guard fails, nothing is written and the error says what was reached.
public struct BudgetedRun {
    /// The engine every run goes through.
    public var engine: PruneEngine

    /// Creates a runner over `engine`.
    public init(engine: PruneEngine) { self.engine = engine }

    /// Carries out `job` (one stage; its selector is replaced by the allocation) under `options`.
    ///
    /// - Throws: `PruneError.Kind.floorNotMet` when the guard's floor cannot be reached, `.invalidInput` when the
    ///   curves belong to another model or granularity or cannot meet the budget, and anything ``PruneEngine/run(_:)``
    ///   throws.
    public func run(_ job: PruneJob, options: BudgetOptions) throws -> PruneReport {
        guard job.recipe.stages.count == 1, let stage = job.recipe.stages.first else {
            throw PruneError(.invalidInput, "a budget chooses the sparsities of one stage; the job has \(job.recipe.stages.count)")
        }
        try Self.check(options.curves, fits: job.input, stage: stage)
        try OutputCheck.refuseClobbering(job)
        if let recipeFile = options.recipeFile, !job.overwrite, FileManager.default.fileExists(atPath: recipeFile.path) {
            throw PruneError(.outputExists, "\(recipeFile.path) already exists")
        }
        let problem = try BudgetProblem(curves: options.curves, target: options.target)
        let multiple = options.round ?? (problem.latencyFromMACs ? 8 : 1)
        let scratch = try ScratchDirectory(for: job.output)
        defer { scratch.remove() }
        let trial = Trial(engine: engine, job: job, stage: stage, multiple: multiple, output: scratch.file)

        // 1. Solve, measure the real kept fraction, and tighten the request by the additive model's error.
        var keep = options.target.keep
        var allocation = try Self.solve(problem, options.solver, keep: keep)
        var report = try trial.run(allocation)
        var kept = Self.kept(report, resource: options.target.resource, latencyFromMACs: problem.latencyFromMACs)
        var round = 0
        while let measured = kept, measured > options.target.keep + 1e-9, round < options.correctionRounds {
            keep -= measured - options.target.keep
            // A grid too coarse to move at this request gives the same allocation: no new information.
            guard keep > 0, let next = problem.solve(with: options.solver, keep: keep) else { break }
            if next.table == allocation.table { continue }
            allocation = next
            report = try trial.run(allocation)
            kept = Self.kept(report, resource: options.target.resource, latencyFromMACs: problem.latencyFromMACs)
            round += 1
        }
        if let measured = kept, measured > options.target.keep + 0.01 {
            engine.warn(
                "budget \(options.target): the curves' grid reaches \(Self.percent(measured)) kept at best; "
                    + "a finer grid or larger sparsities would meet it")
        }

        // 2. The guard: back off the most sensitive target until the held-out floor holds.
        var outcome: BudgetReport.GuardOutcome?
        if let floor = options.floor {
            guard let data = options.guardData else {
                throw PruneError(.missingData, "the guard \(floor) needs held-out batches")
            }
            let probe = try FidelityProbe(
                denseModel: job.input, data: data, labels: options.guardLabels, metric: floor.metric,
                threads: job.threads)
            // Agreement and cosine are 1 for the dense model by definition; accuracy may sit below the floor already.
            if floor.metric == .accuracy {
                let dense = try probe.measure(job.input)
                guard dense >= floor.minimum else {
                    throw PruneError(
                        .floorNotMet,
                        "guard \(floor) cannot be met: the dense model itself reaches \(Self.format(dense)) on "
                            + "\(probe.samples) held-out samples; nothing was written")
                }
            }
            var value = try probe.measure(scratch.file)
            var steps: [BudgetReport.BackOff] = []
            while value < floor.minimum {
                guard steps.count < options.guardSteps, let step = Self.backOff(allocation, problem: problem) else {
                    throw PruneError(
                        .floorNotMet,
                        "guard \(floor) not met: reached \(Self.format(value)) on \(probe.samples) held-out samples "
                            + "after \(steps.count) back-off step(s), keeping \(kept.map(Self.percent) ?? "?") of "
                            + "\(options.target.resource.rawValue); nothing was written")
                }
                steps.append(
                    .init(target: step.target, from: step.from, to: step.to, fidelityBefore: value, keptBefore: kept))
                engine.warn(
                    "guard \(floor): \(Self.format(value)) on held-out data; backing off \(step.target) "
                        + "\(step.from) → \(step.to)")
                allocation = step.allocation
                report = try trial.run(allocation)
                kept = Self.kept(report, resource: options.target.resource, latencyFromMACs: problem.latencyFromMACs)
                value = try probe.measure(scratch.file)
            }
            outcome = .init(floor: floor.description, heldOutSamples: probe.samples, reached: value, backOffs: steps)
        }

        // 3. Write: the model and report through the engine once more, then the recipe.
        var final = job
        final.recipe = Recipe(plugins: job.recipe.plugins, stages: [try trial.stage(for: allocation)])
        final.reportFile = nil
        var written = try engine.run(final)
        written.budget = BudgetReport(
            target: options.target.description, solver: options.solver,
            curves: "\(options.curves.model) (\(options.curves.metric.rawValue), \(options.curves.granularity.rawValue))",
            allocation: allocation, measuredKept: kept, latencyFromMACs: problem.latencyFromMACs ? true : nil,
            solvedFor: keep, guardOutcome: outcome)
        if let reportFile = job.reportFile {
            try Self.write(try written.json() + "\n", to: reportFile, job: job)
        }
        if let recipeFile = options.recipeFile {
            try Self.write(final.recipe.yaml, to: recipeFile, job: job)
        }
        return written
    }

    /// Refuses curves of another model file or of the other granularity.
    static func check(_ curves: SensitivityCurves, fits input: URL, stage: Recipe.StageEntry) throws {
        let digest = try SHA256.hex(ofFileAt: input.path)
        guard digest == curves.modelDigest else {
            throw PruneError(
                .invalidInput,
                "the sensitivity curves were measured on \(curves.model) (SHA-256 \(curves.modelDigest.prefix(12))…), "
                    + "not on \(input.lastPathComponent) (\(digest.prefix(12))…)")
        }
        let wanted: SensitivityCurves.Granularity = stage.targets.granularity == .unit ? .unit : .weight
        guard curves.granularity == wanted else {
            throw PruneError(
                .invalidInput,
                "the sensitivity curves are for \(curves.granularity.rawValue) targets but the stage prunes "
                    + "\(stage.targets.granularity.rawValue)s")
        }
    }

    static func solve(_ problem: BudgetProblem, _ solver: BudgetSolver, keep: Double) throws -> Allocation {
        guard let allocation = problem.solve(with: solver, keep: keep) else {
            let most = problem.items.reduce(0.0) { $0 + ($1.options.map(\.saving).max() ?? 0) }
            throw PruneError(
                .invalidInput,
                "budget \(problem.target) cannot be met from the curves: their sparsest points together keep "
                    + "\(percent(1 - most / problem.denseAmount)) of \(problem.target.resource.rawValue)")
        }
        return allocation
    }

    /// The fraction kept by the written model, measured from its report.
    static func kept(_ report: PruneReport, resource: BudgetTarget.Resource, latencyFromMACs: Bool) -> Double? {
        switch resource {
        case .macs:
            return report.macs.map { Double($0.after) / Double(max(1, $0.before)) }
        case .latency:
            return latencyFromMACs ? report.macs.map { Double($0.after) / Double(max(1, $0.before)) } : nil
        case .params:
            let totals = report.totals
            let before = totals.parametersBefore - totals.zerosBefore
            return Double(totals.nonzerosAfter) / Double(max(1, before))
        case .size:
            return Double(report.bytesWritten) / Double(max(1, report.bytesRead))
        }
    }

    /// The guard's next step: the target whose curve loses the most at its current sparsity (ties: the sparser,
    /// then the earlier) goes down to its next lower grid point.
    static func backOff(_ allocation: Allocation, problem: BudgetProblem) -> (
        target: String, from: Double, to: Double, allocation: Allocation
    )? {
        var best: (index: Int, loss: Double, sparsity: Double)?
        for (i, entry) in allocation.entries.enumerated() where entry.sparsity > 0 {
            if best == nil || entry.predictedLoss > best!.loss
                || (entry.predictedLoss == best!.loss && entry.sparsity > best!.sparsity)
            {
                best = (i, entry.predictedLoss, entry.sparsity)
            }
        }
        guard let best else { return nil }
        let entry = allocation.entries[best.index]
        let options = problem.items[best.index].options
        guard let lower = options.last(where: { $0.sparsity < entry.sparsity }) else { return nil }
        var next = allocation
        next.entries[best.index] = .init(target: entry.target, sparsity: lower.sparsity, predictedLoss: lower.loss)
        next.predictedLoss += lower.loss - entry.predictedLoss
        let saving = zip(next.entries, problem.items).reduce(0.0) { sum, pair in
            sum + (pair.1.options.first { $0.sparsity == pair.0.sparsity }?.saving ?? 0)
        }
        next.predictedKept = 1 - saving / problem.denseAmount
        return (entry.target, entry.sparsity, lower.sparsity, next)
    }

    static func write(_ text: String, to url: URL, job: PruneJob) throws {
        _ = try AtomicFileWriter.write(to: url, overwrite: job.overwrite, sources: [job.input]) { sink in
            try sink.write(Array(text.utf8))
        }
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f %%", value * 100) }
    static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}

/// One engine run of the job's stage with an allocation's `targets` selector, written to a scratch file.
struct Trial {
    let engine: PruneEngine
    let job: PruneJob
    let stage: Recipe.StageEntry
    let multiple: Int
    let output: URL

    /// The job's stage with the allocation's selector.
    func stage(for allocation: Allocation) throws -> Recipe.StageEntry {
        var arguments: [(key: String, value: String)] = [("sparsities", try TargetSparsitySelector.text(allocation.table))]
        if multiple > 1 { arguments.append(("round", String(multiple))) }
        var entry = stage
        entry.selector = ComponentSpec(name: "targets", arguments: arguments)
        return entry
    }

    /// Prunes to the scratch file and returns the report.
    func run(_ allocation: Allocation) throws -> PruneReport {
        var trial = job
        trial.recipe = Recipe(plugins: job.recipe.plugins, stages: [try stage(for: allocation)])
        trial.output = output
        trial.reportFile = nil
        trial.latency = nil
        trial.overwrite = true
        return try engine.run(trial)
    }
}

/// A private directory beside the output (same file system), removed when done.
struct ScratchDirectory {
    let url: URL
    let file: URL

    init(for output: URL) throws {
        let parent = output.deletingLastPathComponent()
        url = parent.appendingPathComponent(".prune-budget-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        } catch {
            throw PruneError(.writeFailed, "cannot create a scratch directory in \(parent.path): \(error.localizedDescription)")
        }
        file = url.appendingPathComponent("trial." + output.pathExtension)
    }

    func remove() { try? FileManager.default.removeItem(at: url) }
}
