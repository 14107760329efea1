import Foundation
import PruneKit

/// Renders a run report for people (tables) and machines (JSON).
enum ReportPrinter {
    static func text(_ report: PruneReport) -> String {
        // Candidates and changed tensors only: running statistics, biases left alone and the like are noise here.
        let targets = Set(report.stages.flatMap { $0.targets.map(\.name) })
        var table = TextTable(
            columns: ["tensor", "shape", "parameters", "sparsity before", "sparsity after", "bytes before", "bytes after"])
        for row in report.tensors where row.changed || targets.contains(row.name) {
            let before = row.parametersBefore == 0 ? 0 : Double(row.zerosBefore) / Double(row.parametersBefore)
            let after = row.parametersAfter == 0 ? 0 : Double(row.zerosAfter) / Double(row.parametersAfter)
            let shape =
                row.shapeBefore == row.shapeAfter
                ? Format.shape(row.shapeAfter) : "\(Format.shape(row.shapeBefore)) → \(Format.shape(row.shapeAfter))"
            table.add([
                row.name, shape, Format.count(row.parametersAfter), Format.percent(before), Format.percent(after),
                Self.stored(row.storageBefore), Self.stored(row.storageAfter),
            ])
        }
        let t = report.totals
        var lines = headline(report) + [table.render(), ""]
        lines.append(
            "parameters: \(Format.count(t.parametersBefore)) → \(Format.count(t.parametersAfter)); "
                + "non-zero: \(Format.count(t.parametersBefore - t.zerosBefore)) → \(Format.count(t.nonzerosAfter)); "
                + "sparsity: \(Format.percent(t.sparsityBefore)) → \(Format.percent(t.sparsityAfter))")
        if let before = t.bytesBefore, let after = t.bytesAfter {
            let ratio =
                after == before || after == 0 || before == 0 ? ""
                : after < before
                    ? String(format: " (%.2f× smaller)", Double(before) / Double(after))
                    : String(format: " (%.2f× larger)", Double(after) / Double(before))
            lines.append(
                "tensor data: \(Format.bytes(before)) → \(Format.bytes(after))\(ratio)"
                    + (report.output.map { "; file: \(Format.bytes(report.input.bytes)) → \(Format.bytes($0.bytes))" } ?? ""))
        }
        if let macs = report.macs {
            if macs.after == macs.before {
                lines.append(
                    Format.paragraph(
                        "MACs (batch 1\(Self.shapesNote(report.macsInputShapes))): \(Format.count(macs.before)), unchanged: zeros in dense kernels do not make "
                            + "them faster (`--rewriter remove` cuts whole channels)", indent: 2))
            } else {
                let ratio =
                    macs.after > 0 ? String(format: " (%.2f× fewer)", Double(macs.before) / Double(macs.after)) : ""
                lines.append(
                    "MACs (batch 1\(Self.shapesNote(report.macsInputShapes))): \(Format.count(macs.before)) → "
                        + "\(Format.count(macs.after))\(ratio)")
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
        if let fidelity = report.fidelity { lines += Self.lines(for: fidelity) }
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

    /// `1.2 KiB` for a dense tensor, `1.2 KiB sparse-coo` for a sparse one, `–` when unknown.
    /// `fidelity (cosine vs the dense model, 512 samples of eval/): dense 1.0000`, then one line per stage with what
    /// it cost.
    static func lines(for fidelity: PruneReport.FidelityReport) -> [String] {
        let head =
            "fidelity (\(fidelity.metric) vs the dense model, \(Format.count(fidelity.samples)) samples of "
            + "\(fidelity.data)): dense " + String(format: "%.4f", fidelity.dense)
        return [head]
            + zip(fidelity.stages, fidelity.costs).map { stage, cost in
                "  after stage '\(stage.stage)': " + String(format: "%.4f (%+.4f)", stage.fidelity, -cost)
            }
    }

    static func stored(_ size: PruneReport.StoredSize?) -> String {
        guard let size else { return "–" }
        let bits = size.bits.map { "int\($0) " } ?? ""
        return size.format == "dense" ? Format.bytes(size.bytes) : "\(Format.bytes(size.bytes)) \(bits)\(size.format)"
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

    /// ", inputs NAME [1, 64], …" for MACs counted at the data's shapes; empty otherwise.
    private static func shapesNote(_ shapes: [String: [Int]]?) -> String {
        guard let shapes, !shapes.isEmpty else { return "" }
        let listed = shapes.keys.sorted().map { name in
            "\(name) [" + (["1"] + shapes[name]!.dropFirst().map(String.init)).joined(separator: ", ") + "]"
        }
        return ", inputs " + listed.joined(separator: ", ")
    }

    /// The report line of one reconstruction row: the errors on the fitted samples, then on the held-out ones.
    private static func line(for layer: LayerReconstruction) -> String {
        func errors(_ separator: String) -> String {
            guard let before = layer.relativeErrorBefore, let after = layer.relativeErrorAfter else { return "n/a" }
            return String(format: "%.4f", before) + separator + String(format: "%.4f", after)
        }
        var heldOut = ""
        if let before = layer.heldOutErrorBefore, let after = layer.heldOutErrorAfter {
            heldOut = ", held-out " + String(format: "%.4f → %.4f", before, after)
        }
        let damping = layer.damping.map { ", damping " + String(format: "%g", $0) } ?? ""
        let kept = layer.reverted == true ? "; NOT KEPT: \(layer.note ?? "it did not help on held-out samples")" : ""
        switch layer.action {
        case .leastSquares, .sparseOBS, .gptq:
            let method =
                switch layer.action {
                case .sparseOBS: layer.note?.hasPrefix("exact") == true ? "exact" : "OBS"
                case .gptq: "GPTQ, before = nearest"
                default:
                    layer.note?.hasPrefix("fitted to the residual sum") == true
                        ? "least squares, \(layer.note!)" : "least squares"
                }
            return "reconstructed \(layer.layer) (\(method)): relative error on fitted samples \(errors(" → "))"
                + "\(heldOut) (\(Format.count(layer.rows)) rows\(damping))\(kept)"
        case .batchNormStatistics:
            return "re-estimated \(layer.layer): BatchNorm running statistics (\(Format.count(layer.rows)) values per "
                + "channel\(heldOut.isEmpty ? "" : "; output error to dense" + heldOut))\(kept)"
        case .unitChoice:
            guard layer.relativeErrorBefore != nil else {
                return "chose units of \(layer.layer) by OBS: \(layer.note ?? "kept the selection")"
            }
            return "chose units of \(layer.layer) by OBS: predicted relative error of its consumers "
                + "\(errors(" for the selection → ")) (\(layer.note ?? ""), \(Format.count(layer.rows)) rows)"
        case .quantized:
            return "quantized \(layer.layer): \(layer.note ?? "rounded to nearest")"
        case .maskOnly:
            return "masked \(layer.layer) without an update: \(layer.note ?? "not reconstructed")"
        case .modelOutput:
            let line = "model output \(layer.layer): relative error to the dense model on fitted samples "
                + "\(errors(" without the update → "))\(heldOut) (\(Format.count(layer.rows)) samples)"
            return layer.worsened
                ? line + "\nWARNING: the update made model output \(layer.layer) WORSE than the selection alone; the "
                    + "model was written anyway" : line
        }
    }
}
