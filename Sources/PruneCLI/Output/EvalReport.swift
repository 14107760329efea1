import Foundation
import PruneKit

/// What `prune eval` prints: the evaluation result with the files and settings that produced it.
struct EvalReport: Encodable {
    var tool: String
    var model: String
    var reference: String?
    var data: String
    /// Samples per batch; nil when the data is a directory (one file per batch).
    var batchSize: Int?
    var threads: Int
    var result: EvaluationResult

    private enum CodingKeys: String, CodingKey {
        case tool, model, reference, data, batchSize, threads, samples, batches, accuracy, referenceAccuracy
        case agreement, latency
    }

    private enum LatencyKeys: String, CodingKey { case model, reference }

    /// Encodes the schema of `Docs/Eval.md`; absent metrics are `null`, not missing.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tool, forKey: .tool)
        try container.encode(model, forKey: .model)
        try container.encode(reference, forKey: .reference)
        try container.encode(data, forKey: .data)
        try container.encode(batchSize, forKey: .batchSize)
        try container.encode(threads, forKey: .threads)
        try container.encode(result.samples, forKey: .samples)
        try container.encode(result.batches, forKey: .batches)
        try container.encode(result.accuracy, forKey: .accuracy)
        try container.encode(result.referenceAccuracy, forKey: .referenceAccuracy)
        try container.encode(result.agreement, forKey: .agreement)
        var latency = container.nestedContainer(keyedBy: LatencyKeys.self, forKey: .latency)
        try latency.encode(result.latency, forKey: .model)
        try latency.encode(result.referenceLatency, forKey: .reference)
    }

    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

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
