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
            lines.append("agreement with the reference (first output, per sample):")
            lines.append(
                "  top-1 \(String(format: "%.4f", agreement.top1)) (\(agreement.top1Matches)/\(agreement.samples)), "
                    + "mean cosine \(String(format: "%.6f", agreement.meanCosine)), "
                    + "max |difference| \(String(format: "%.3g", agreement.maxAbsDifference))")
        }
        return lines.joined(separator: "\n")
    }

    private static func accuracy(_ accuracy: Accuracy) -> String {
        String(format: "%.4f", accuracy.value) + " (\(accuracy.correct)/\(accuracy.total))"
    }
}

extension Format {
    static func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }

    static func rate(_ perSecond: Double) -> String { String(format: "%.1f", perSecond) }
}
