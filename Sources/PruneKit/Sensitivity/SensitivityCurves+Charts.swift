import Foundation
import PruneCharts

extension SensitivityCurves {
    /// The metric's name as axis titles and tables show it.
    var metricTitle: String {
        switch metric {
        case .agreement: "top-1 agreement with the dense model"
        case .cosine: "output cosine with the dense model"
        case .accuracy: "accuracy"
        }
    }

    /// The curves as a line chart: fidelity (y) against sparsity (x), one line per target starting at the dense
    /// model's fidelity at sparsity 0 (nothing pruned), and the dense model's fidelity as a dashed grey line.
    public func lineChart() -> LineChart {
        let sparsities = curves.flatMap { $0.points.map(\.sparsity) }
        let fidelities = curves.flatMap { $0.points.map(\.fidelity) } + [dense.fidelity]
        let low = fidelities.min() ?? 0
        let yDomain = LinearScale.nice(min(low, dense.fidelity)...max(1, fidelities.max() ?? 1))
        // Sparsity 0 prunes nothing, so every curve starts at the dense model's fidelity.
        var series = curves.map { curve in
            let measured = curve.points.map { (x: $0.sparsity, y: $0.fidelity) }
            let start = measured.first?.x == 0 ? [] : [(x: 0.0, y: dense.fidelity)]
            return LineChart.Series(name: curve.target, points: start + measured)
        }
        if let last = sparsities.max() {
            series.append(
                LineChart.Series(
                    name: "dense", points: [(0, dense.fidelity), (last, dense.fidelity)], color: "#888888",
                    dash: "4 4"))
        }
        let unitWord = granularity == .unit ? "units removed" : "weights masked"
        return LineChart(
            title: "Sensitivity of \(model) (\(curves.count) \(granularity == .unit ? "groups" : "tensors"), \(scorer))",
            xTitle: "sparsity of the target alone (fraction of \(unitWord))", yTitle: metricTitle, series: series,
            xDomain: 0...LinearScale.nice(0...(sparsities.max() ?? 1), count: 5).upperBound, yDomain: yDomain)
    }

    /// The table `prune sensitivity` prints: one row per target with its units, the fidelity at each sparsity of
    /// `grid` (`–` where not measured) and, for structured curves, the MACs at the largest grid point.
    public func table(grid: [Double]) -> (header: [String], rows: [[String]]) {
        let structured = granularity == .unit
        let largest = grid.max()
        let cost: (Point) -> String = { Self.count(structured ? $0.macs : $0.parameters) }
        var header = ["target", structured ? "units" : "weights"] + grid.map { String(format: "%g", $0) }
        if let largest { header.append((structured ? "MACs@" : "params@") + String(format: "%g", largest)) }
        var rows = [["dense", ""] + grid.map { _ in Self.format(dense.fidelity) } + (largest == nil ? [] : [cost(dense)])]
        for curve in curves {
            let point = { (sparsity: Double) in
                curve.points.first { abs($0.sparsity - sparsity) < Self.sparsityTolerance }
            }
            var row = [curve.target, Self.count(curve.units)]
            row += grid.map { point($0).map { Self.format($0.fidelity) } ?? "–" }
            if let largest { row.append(point(largest).map(cost) ?? "–") }
            rows.append(row)
        }
        return (header, rows)
    }

    /// A self-contained HTML page with the chart and the table for `grid`.
    public func htmlPage(grid: [Double]) -> HTMLPage {
        var page = HTMLPage(title: "Sensitivity of \(model)")
        page.add(
            .paragraph(
                "Each \(granularity == .unit ? "dependency group" : "tensor") pruned alone (every other one dense) with "
                    + "\(scorer); fidelity is \(metricTitle). Dense: \(Self.format(dense.fidelity)), "
                    + "\(Self.count(dense.parameters)) parameters"
                    + (dense.macs.map { ", \(Self.count($0)) MACs per sample" } ?? "") + ". Model SHA-256 \(modelDigest)."))
        page.add(.chart(lineChart().element(), caption: "Fidelity against the sparsity of each target alone"))
        let (header, rows) = table(grid: grid)
        page.add(.heading("Fidelity per target"))
        page.add(.table(header: header, rows: rows))
        return page
    }

    static func format(_ value: Double) -> String { String(format: "%.4f", value) }

    static func count(_ value: Int?) -> String {
        guard let value else { return "–" }
        var digits = Array(String(value.magnitude))
        var groups: [String] = []
        while digits.count > 3 {
            groups.insert(String(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(String(digits), at: 0)
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}
