import Foundation
import PruneCharts

/// The fidelity of a pipeline's model after one stage, as a report row for ``PruneReport/fidelityChart(_:metric:)``.
public struct StageFidelity: Sendable, Hashable, Codable {
    /// The stage's name.
    public var stage: String
    /// The metric's value for the model after the stage.
    public var fidelity: Double

    /// Creates a row.
    public init(stage: String, fidelity: Double) {
        self.stage = stage
        self.fidelity = fidelity
    }
}

extension PruneReport {
    /// Per-layer sparsity before and after the run as a bar chart: for each changed tensor, the fraction of its
    /// weights that are zero or removed (relative to its size before the run).
    public func sparsityChart() -> BarChart {
        let rows = tensors.filter(\.changed)
        let before = rows.map { Self.sparsity(zeros: $0.zerosBefore, of: $0.parametersBefore, removed: 0) }
        let after = rows.map {
            Self.sparsity(
                zeros: $0.zerosAfter, of: $0.parametersBefore, removed: $0.parametersBefore - $0.parametersAfter)
        }
        return BarChart(
            title: "Per-layer sparsity before and after", yTitle: "zero or removed weights (fraction)",
            xTitle: "tensor", categories: rows.map(\.name),
            series: [BarChart.Series(name: "before", values: before), BarChart.Series(name: "after", values: after)],
            yDomain: 0...1)
    }

    /// Fidelity after each stage (e.g. agreement with the dense model) as a bar chart, the first row usually the
    /// dense model.
    public static func fidelityChart(_ stages: [StageFidelity], metric: String) -> BarChart {
        let values = stages.map(\.fidelity)
        return BarChart(
            title: "Fidelity per stage", yTitle: metric, xTitle: "stage", categories: stages.map(\.stage),
            series: [BarChart.Series(name: metric, values: values)],
            yDomain: LinearScale.nice(min(0, values.min() ?? 0)...max(1, values.max() ?? 1)))
    }

    /// A self-contained HTML page of the run: totals, the per-layer sparsity chart and table (with stored bytes), and
    /// the fidelity per stage when given (`prune run --html-report` passes the measured ``fidelity``).
    public func htmlPage(fidelity: [StageFidelity] = [], metric: String = "agreement") -> HTMLPage {
        var page = HTMLPage(title: "Pruning report: \(input.path)")
        let macsText = macs.map { ", MACs \($0.before) → \($0.after)" } ?? ""
        page.add(
            .paragraph(
                "Parameters \(totals.parametersBefore) → \(totals.parametersAfter), sparsity "
                    + String(format: "%.2f%% → %.2f%%", totals.sparsityBefore * 100, totals.sparsityAfter * 100)
                    + macsText + "; written to \(output?.path ?? "–")."))
        page.add(.chart(sparsityChart().element(), caption: "Per-layer sparsity before and after"))
        if !fidelity.isEmpty {
            page.add(.chart(Self.fidelityChart(fidelity, metric: metric).element(), caption: "Fidelity per stage"))
        }
        if let report = self.fidelity {
            page.add(
                .table(
                    header: ["model", report.metric, "cost"],
                    rows: [["dense", String(format: "%.4f", report.dense), ""]]
                        + zip(report.stages, report.costs).map { stage, cost in
                            ["after '\(stage.stage)'", String(format: "%.4f", stage.fidelity), String(format: "%.4f", cost)]
                        }))
        }
        page.add(.heading("Tensors"))
        page.add(
            .table(
                header: [
                    "tensor", "shape before", "shape after", "params before", "params after", "zeros after",
                    "bytes before", "bytes after", "stored as",
                ],
                rows: tensors.map { row in
                    let stored = row.storageAfter.map { size in
                        (size.bits.map { "int\($0) " } ?? "") + size.format
                    }
                    return [row.name, "\(row.shapeBefore)", "\(row.shapeAfter)", "\(row.parametersBefore)",
                     "\(row.parametersAfter)", "\(row.zerosAfter)", row.storageBefore.map { "\($0.bytes)" } ?? "–",
                     row.storageAfter.map { "\($0.bytes)" } ?? "–", stored ?? "–"]
                }))
        return page
    }

    private static func sparsity(zeros: Int, of total: Int, removed: Int) -> Double {
        total == 0 ? 0 : Double(zeros + removed) / Double(total)
    }
}
