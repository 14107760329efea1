import ArgumentParser
import Foundation
import PruneKit

/// `prune run`'s budget options: `--target`, `--sensitivity`, `--solver`, the guard and `--write-recipe`.
struct BudgetFlags: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Keep at most this fraction of a resource, choosing each target's sparsity from --sensitivity curves: macs=F, params=F, latency=F (curve latencies, else MACs with widths rounded to 8), size=F.",
            valueName: "resource=fraction"))
    var target: String?

    @Option(help: ArgumentHelp("Sensitivity curves of the input model (JSON, from `prune sensitivity`).", valueName: "path"))
    var sensitivity: String?

    @Option(help: "How the budget is solved: exact (knapsack by dynamic programming; default) or greedy.")
    var solver: BudgetSolver = .exact

    @Option(
        name: .customLong("round"),
        help: "Round each group's kept width to a multiple of this (default: 8 for latency budgets without curve latencies, else 1).")
    var roundMultiple: Int?

    @Option(
        name: .customLong("guard"),
        help: ArgumentHelp(
            "Fidelity floor on held-out batches, e.g. agreement>=0.95 (or cosine, accuracy): back off the most sensitive targets until it holds, or fail writing nothing.",
            valueName: "floor"))
    var floor: String?

    @Option(help: ArgumentHelp("Held-out batches for --guard (never used for scoring).", valueName: "path"))
    var guardData: String?

    @Option(help: ArgumentHelp("The labels tensor in --guard-data, for an accuracy floor.", valueName: "name"))
    var guardLabels: String?

    @Option(help: "Back-off steps the guard may take before it fails.")
    var guardSteps = 64

    @Option(help: ArgumentHelp("Also write the chosen per-target sparsities as a recipe (YAML).", valueName: "path"))
    var writeRecipe: String?

    /// Whether a budget replaces `--selector`.
    var isActive: Bool { target != nil }

    func validate() throws {
        if target == nil {
            let given = [
                (sensitivity, "--sensitivity"), (floor, "--guard"), (guardData, "--guard-data"),
                (writeRecipe, "--write-recipe"),
            ].compactMap { $0.0 == nil ? nil : $0.1 }
            if let first = given.first { throw ValidationError("\(first) needs --target (a budget)") }
            return
        }
        guard sensitivity != nil else {
            throw ValidationError("--target needs --sensitivity FILE (the curves `prune sensitivity` writes)")
        }
        if floor != nil, guardData == nil {
            throw ValidationError("--guard needs --guard-data: held-out batches, not the calibration batches")
        }
        if let round = roundMultiple, round < 1 { throw ValidationError("--round must be at least 1") }
        if guardSteps < 0 { throw ValidationError("--guard-steps must not be negative") }
    }

    /// The library's options these flags describe.
    ///
    /// - Parameter calibration: the scoring batches, which the guard's held-out data must not be.
    func options(calibration: String?) throws -> PruneKit.BudgetOptions {
        guard let target, let sensitivity else { throw ValidationError("--target needs --sensitivity") }
        let url = URL(fileURLWithPath: sensitivity)
        let curves: SensitivityCurves
        do {
            curves = try JSONDecoder().decode(SensitivityCurves.self, from: Data(contentsOf: url))
        } catch let error as DecodingError {
            throw PruneError(.corruptFile, "\(sensitivity): not sensitivity curves (\(error))")
        } catch {
            throw PruneError(.fileUnreadable, "\(sensitivity): \(error.localizedDescription)")
        }
        if let guardData, let calibration,
            URL(fileURLWithPath: guardData).standardizedFileURL == URL(fileURLWithPath: calibration).standardizedFileURL
        {
            throw ValidationError("--guard-data must be held out: it is the same as --calibration (\(guardData))")
        }
        return PruneKit.BudgetOptions(
            target: try BudgetTarget(parsing: target), curves: curves, solver: solver, round: roundMultiple,
            floor: try floor.map(FidelityFloor.init(parsing:)), guardData: guardData.map { URL(fileURLWithPath: $0) },
            guardLabels: guardLabels, guardSteps: guardSteps, recipeFile: writeRecipe.map { URL(fileURLWithPath: $0) })
    }

    /// The chosen sparsities and what they reached, for people.
    static func text(_ budget: BudgetReport) -> String {
        var table = TextTable(columns: ["target", "sparsity", "loss alone (curve)"])
        for entry in budget.allocation.entries where entry.sparsity > 0 {
            table.add([entry.target, Format.percent(entry.sparsity), String(format: "%.4f", entry.predictedLoss)])
        }
        var lines = ["", "budget \(budget.target) (\(budget.solver.rawValue) solver over \(budget.curves)):", table.render()]
        let kept = budget.measuredKept.map { ", measured \(Format.percent($0))" } ?? ""
        lines.append(
            "kept: predicted \(Format.percent(budget.allocation.predictedKept))\(kept); predicted loss "
                + String(format: "%.4f", budget.allocation.predictedLoss))
        if let outcome = budget.guardOutcome {
            lines.append(
                "guard \(outcome.floor): reached " + String(format: "%.4f", outcome.reached)
                    + " on \(outcome.heldOutSamples) held-out samples after \(outcome.backOffs.count) back-off step(s)")
        }
        return lines.joined(separator: "\n")
    }
}

extension BudgetSolver: ExpressibleByArgument {}
