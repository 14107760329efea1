import Foundation
import PruneCore
import PruneEvaluation

/// What `prune eval` reports: the evaluation result with the files and settings that produced it (schema:
/// `Docs/Eval.md`).
public struct EvalReport: Encodable, Sendable {
    /// The tool and its version.
    public var tool: String
    /// The evaluated model's path as given.
    public var model: String
    /// The reference model's path, when there is one.
    public var reference: String?
    /// The data's path as given.
    public var data: String
    /// Samples per batch; nil when the data is a directory (one file per batch).
    public var batchSize: Int?
    /// Threads the interpreter used.
    public var threads: Int
    /// The measurements.
    public var result: EvaluationResult

    /// Creates a report.
    public init(
        tool: String, model: String, reference: String?, data: String, batchSize: Int?, threads: Int,
        result: EvaluationResult
    ) {
        self.tool = tool
        self.model = model
        self.reference = reference
        self.data = data
        self.batchSize = batchSize
        self.threads = threads
        self.result = result
    }

    private enum CodingKeys: String, CodingKey {
        case tool, model, reference, data, batchSize, threads, samples, batches, accuracy, referenceAccuracy
        case agreement, latency
    }

    private enum LatencyKeys: String, CodingKey { case model, reference }

    /// Encodes the schema of `Docs/Eval.md`; absent metrics are `null`, not missing.
    public func encode(to encoder: any Encoder) throws {
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

    /// The report as pretty-printed JSON with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
