import Foundation
import PruneKit

extension EvalReport {
    /// The report as `prune eval` prints it: files, a table of metrics, and agreement with the reference.
    func text() -> String {
        var lines = [
            "model:     \(model)",
            "data:      \(data) (\(Format.count(result.samples)) samples, \(result.batches) batches"
                + (batchSize.map { " of up to \($0)" } ?? ", one per file") + ", \(threads) threads)",
        ]
        if let reference { lines.append("reference: \(reference)") }
        lines.append("")
        var table = TextTable(columns: ["", "model"] + (reference == nil ? [] : ["reference"]))
        if let accuracy = result.accuracy {
            table.add(
                ["accuracy (\(accuracy.labels))", Self.accuracy(accuracy)]
                    + (result.referenceAccuracy.map { [Self.accuracy($0)] } ?? []))
        }
        table.add(
            ["latency / batch, median", Format.milliseconds(result.latency.medianSeconds)]
                + (result.referenceLatency.map { [Format.milliseconds($0.medianSeconds)] } ?? []))
        table.add(
            ["latency / batch, p90", Format.milliseconds(result.latency.p90Seconds)]
                + (result.referenceLatency.map { [Format.milliseconds($0.p90Seconds)] } ?? []))
        table.add(
            ["throughput (samples/s)", Format.rate(result.latency.samplesPerSecond)]
                + (result.referenceLatency.map { [Format.rate($0.samplesPerSecond)] } ?? []))
        lines.append(table.render())
        if let agreement = result.agreement {
            lines.append("")
            lines.append("agreement with the reference (first output, \(Self.reading(agreement.comparison))):")
            let top1 = agreement.top1.map {
                "top-1 \(String(format: "%.4f", $0)) (\(agreement.top1Matches)/\(agreement.rows)), "
            }
            lines.append(
                "  " + (top1 ?? "")
                    + "mean cosine \(String(format: "%.6f", agreement.meanCosine)), "
                    + "max |difference| \(String(format: "%.3g", agreement.maxAbsDifference)) "
                    + "(relative to max(1, |reference|): \(String(format: "%.3g", agreement.maxRelativeDifference)))")
        }
        return lines.joined(separator: "\n")
    }

    /// How the rows were read, for the agreement heading.
    private static func reading(_ comparison: OutputComparison) -> String {
        switch comparison {
        case .classesPerSample: "one class distribution per sample"
        case .classesPerPosition: "one class distribution per position"
        case .valuesPerPosition: "per position; not class distributions, so no top-1"
        case .valuesPerSample: "per sample; not class distributions, so no top-1"
        case .valuesPerBatch: "the whole output per batch (dimension 0 does not count samples); no top-1"
        }
    }

    private static func accuracy(_ accuracy: Accuracy) -> String {
        String(format: "%.4f", accuracy.value) + " (\(accuracy.correct)/\(accuracy.total))"
    }
}

extension Format {
    static func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }

    static func rate(_ perSecond: Double) -> String { String(format: "%.1f", perSecond) }
}
