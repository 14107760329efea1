import Foundation
import PruneKit

extension EvalReport {
    /// The report as `prune eval` prints it: files, a table of metrics, and agreement with the reference.
    func text() -> String {
        var lines = [
            "model:     \(model)",
            "data:      \(data) (\(Format.plural(result.samples, "sample")), \(Format.plural(result.batches, "batch"))"
                + (batchSize.map { " of up to \(Format.count($0))" } ?? ", one per file")
                + ", \(Format.plural(threads, "thread")))",
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
                "top-1 \(String(format: "%.4f", $0)) (\(Format.count(agreement.top1Matches))/\(Format.count(agreement.rows))), "
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
        String(format: "%.4f", accuracy.value) + " (\(Format.count(accuracy.correct))/\(Format.count(accuracy.total)))"
    }
}

extension Format {
    static func milliseconds(_ seconds: Double) -> String { String(format: "%.3f ms", seconds * 1000) }

    /// A rate with its digits grouped like every other count: `60,253.4`.
    static func rate(_ perSecond: Double) -> String {
        let tenths = Int((perSecond * 10).rounded())
        return "\(count(tenths / 10)).\(abs(tenths % 10))"
    }
}
