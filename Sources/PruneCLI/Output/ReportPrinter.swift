import Foundation
import PruneKit

/// Renders a run report for people (tables) and machines (JSON).
enum ReportPrinter {
    static func text(_ report: PruneReport) -> String {
        // Candidates and changed tensors only: running statistics, biases left alone and the like are noise here.
        let targets = Set(report.stages.flatMap { $0.targets.map(\.name) })
        var table = TextTable(columns: ["tensor", "shape", "parameters", "sparsity before", "sparsity after"])
        for row in report.tensors where row.changed || targets.contains(row.name) {
            let before = row.parametersBefore == 0 ? 0 : Double(row.zerosBefore) / Double(row.parametersBefore)
            let after = row.parametersAfter == 0 ? 0 : Double(row.zerosAfter) / Double(row.parametersAfter)
            let shape =
                row.shapeBefore == row.shapeAfter
                ? Format.shape(row.shapeAfter) : "\(Format.shape(row.shapeBefore)) → \(Format.shape(row.shapeAfter))"
            table.add([
                row.name, shape, Format.count(row.parametersAfter), Format.percent(before), Format.percent(after),
            ])
        }
        let t = report.totals
        var lines = headline(report) + [table.render(), ""]
        lines.append(
            "parameters: \(Format.count(t.parametersBefore)) → \(Format.count(t.parametersAfter)); "
                + "non-zero: \(Format.count(t.parametersBefore - t.zerosBefore)) → \(Format.count(t.nonzerosAfter)); "
                + "sparsity: \(Format.percent(t.sparsityBefore)) → \(Format.percent(t.sparsityAfter))")
        if let macs = report.macs {
            if macs.after == macs.before {
                lines.append(
                    Format.paragraph(
                        "MACs (batch 1): \(Format.count(macs.before)), unchanged: zeros in dense kernels do not make "
                            + "them faster (`--rewriter remove` cuts whole channels)", indent: 2))
            } else {
                let ratio =
                    macs.after > 0 ? String(format: " (%.2f× fewer)", Double(macs.before) / Double(macs.after)) : ""
                lines.append("MACs (batch 1): \(Format.count(macs.before)) → \(Format.count(macs.after))\(ratio)")
            }
        }
        if report.macsUnknown == true {
            lines.append("MACs (batch 1): unknown (the shapes of some layers could not be inferred)")
        }
        for row in report.latency ?? [] {
            let speedup =
                row.medianSecondsAfter > 0
                ? String(format: " (%.2f×)", row.medianSecondsBefore / row.medianSecondsAfter) : ""
            var spread = ""
            if let b10 = row.p10SecondsBefore, let b90 = row.p90SecondsBefore, let a10 = row.p10SecondsAfter,
                let a90 = row.p90SecondsAfter
            {
                spread = String(format: "; p10–p90 %.3f–%.3f → %.3f–%.3f ms", b10 * 1e3, b90 * 1e3, a10 * 1e3, a90 * 1e3)
            }
            let warmup = row.warmupRuns.map { ", after \($0) warm-up" } ?? ""
            lines.append(
                "latency (interpreter, batch \(row.batch), median of \(row.runs)\(warmup)): "
                    + String(format: "%.3f ms → %.3f ms", row.medianSecondsBefore * 1e3, row.medianSecondsAfter * 1e3)
                    + speedup + spread)
        }
        for stage in report.stages {
            for target in stage.targets where target.skipReason != nil {
                lines.append("skipped \(target.name): \(target.skipReason!)")
            }
            for passed in stage.passedOver { lines.append("skipped \(passed.name): \(passed.reason)") }
            for layer in stage.reconstruction ?? [] { lines.append(Self.line(for: layer)) }
        }
        if let output = report.output {
            lines.append(
                "read \(Format.bytes(report.bytesRead)) from \(report.input.path); "
                    + "wrote \(Format.bytes(report.bytesWritten)) to \(output.path)")
        }
        let p = report.phases
        lines.append(
            "time: load \(Format.seconds(p.load)), score \(Format.seconds(p.score)), select \(Format.seconds(p.select)), "
                + "rewrite \(Format.seconds(p.rewrite)), analyse \(Format.seconds(p.analyse)), "
                + "save \(Format.seconds(p.save)); total \(Format.seconds(p.total))")
        return lines.joined(separator: "\n")
    }

    /// What was asked, answered first: per stage, how many of its candidates were pruned, and the rule that chose
    /// the candidates.
    static func headline(_ report: PruneReport) -> [String] {
        var lines: [String] = []
        for stage in report.stages {
            let unit = stage.granularity == .unit ? "units" : "weights"
            let total = stage.candidatePositions
            let share = total == 0 ? 0 : Double(stage.prunedPositions) / Double(total) * 100
            let name = report.stages.count > 1 ? "stage '\(stage.name)': " : ""
            let places = stage.targets.count == 1 ? "1 target" : "\(Format.count(stage.targets.count)) targets"
            lines.append(
                "\(name)pruned \(Format.count(stage.prunedPositions)) of \(Format.count(total)) candidate \(unit) "
                    + String(format: "(%.1f %%)", share) + " in \(places)")
            if let rule = stage.candidates { lines.append(Format.paragraph("  candidates: \(rule)", indent: 4)) }
        }
        return lines + [""]
    }

    /// The report line of one reconstruction row.
    private static func line(for layer: LayerReconstruction) -> String {
        func errors(_ separator: String) -> String {
            guard let before = layer.relativeErrorBefore, let after = layer.relativeErrorAfter else { return "n/a" }
            return String(format: "%.4f", before) + separator + String(format: "%.4f", after)
        }
        switch layer.action {
        case .leastSquares, .sparseOBS:
            let method = layer.action == .sparseOBS ? "OBS" : "least squares"
            return "reconstructed \(layer.layer) (\(method)): relative error on calibration data \(errors(" → ")) "
                + "(\(Format.count(layer.rows)) rows)"
        case .batchNormStatistics:
            return "re-estimated \(layer.layer): BatchNorm running statistics (\(Format.count(layer.rows)) values per channel)"
        case .maskOnly:
            return "masked \(layer.layer) without an update: \(layer.note ?? "not reconstructed")"
        case .modelOutput:
            return "model output \(layer.layer): relative error to the dense model on calibration data "
                + "\(errors(" without the update → ")) (\(Format.count(layer.rows)) samples)"
        }
    }
}
