import Foundation
import PruneCore
import PruneEvaluation
import PruneRuntime

/// The guard's floor, `--guard agreement>=0.95`: the fidelity the pruned model must keep on held-out batches.
public struct FidelityFloor: Sendable, Codable, Hashable, CustomStringConvertible {
    /// The metric measured against the dense model (or the labels, for accuracy).
    public var metric: SensitivityCurves.Metric
    /// The lowest acceptable value.
    public var minimum: Double

    /// Creates a floor.
    public init(metric: SensitivityCurves.Metric, minimum: Double) {
        self.metric = metric
        self.minimum = minimum
    }

    /// Parses `METRIC>=VALUE` (agreement, cosine or accuracy).
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` saying what is expected.
    public init(parsing text: String) throws {
        let metrics = SensitivityCurves.Metric.allCases.map(\.rawValue).joined(separator: ", ")
        let parts = text.replacingOccurrences(of: " ", with: "").components(separatedBy: ">=")
        guard parts.count == 2, let metric = SensitivityCurves.Metric(rawValue: parts[0]), let value = Double(parts[1]),
            value.isFinite
        else {
            throw PruneError(.invalidParameter, "guard '\(text)': expected METRIC>=VALUE with METRIC one of \(metrics)")
        }
        self.init(metric: metric, minimum: value)
    }

    /// `METRIC>=VALUE`.
    public var description: String { "\(metric.rawValue)>=\(minimum)" }
}

/// Measures a model file's fidelity against the dense model on evaluation batches.
///
/// The dense model runs once, when the probe is made (``FidelityMeter``, the machinery `prune sensitivity` uses);
/// each ``measure(_:)`` runs only the candidate.
public struct FidelityProbe {
    /// The dense model's outputs on every batch, and the comparison.
    let meter: FidelityMeter
    /// The metric.
    public let metric: SensitivityCurves.Metric
    /// Interpreter threads.
    let threads: Int

    /// Prepares a probe of `denseModel` over `dataURL` (a safetensors file or directory of them).
    ///
    /// - Parameter labels: the tensor of integer labels, required for `accuracy`.
    /// - Throws: `PruneError` when the data does not fit the model or accuracy has no labels.
    public init(denseModel: URL, data dataURL: URL, labels: String?, metric: SensitivityCurves.Metric, threads: Int) throws {
        try self.init(
            dense: try ONNXGraph(contentsOf: denseModel), name: denseModel.lastPathComponent, data: dataURL,
            labels: labels, metric: metric, threads: threads)
    }

    /// Prepares a probe of the dense model's `graph` (named `name` in messages) over `dataURL`.
    ///
    /// - Throws: `PruneError` when the data does not fit the model or accuracy has no labels.
    public init(
        dense graph: ONNXGraph, name: String, data dataURL: URL, labels: String?, metric: SensitivityCurves.Metric,
        threads: Int
    ) throws {
        if metric == .accuracy, labels == nil {
            throw PruneError(.invalidInput, "accuracy needs the name of the labels tensor in \(dataURL.path)")
        }
        let dense = try Interpreter(graph: graph, options: .init(threads: threads))
        let batchSize = EvaluationData.batchSize(requested: nil, for: graph, fallback: 32)
        let data = try EvaluationData(
            url: dataURL, batchSize: batchSize, labels: metric == .accuracy ? labels : nil, inputNames: graph.inputNames)
        self.meter = try FidelityMeter(reference: dense, name: name, data: data)
        self.metric = metric
        self.threads = threads
    }

    /// Samples in the data.
    public var samples: Int { meter.data.sampleCount }

    /// The metric's value for the model in `file` (1 for the dense model on agreement and cosine).
    ///
    /// - Throws: `PruneError` from loading or running the model.
    public func measure(_ file: URL) throws -> Double {
        try measure(graph: try ONNXGraph(contentsOf: file), name: file.lastPathComponent)
    }

    /// The metric's value for the model `graph` (named `name` in messages).
    ///
    /// - Throws: `PruneError` from running the model.
    public func measure(graph: ONNXGraph, name: String) throws -> Double {
        let model = try Interpreter(graph: graph, options: .init(threads: threads))
        let (agreement, accuracy) = try meter.measure(model, name: name)
        return metric.value(agreement: agreement, accuracy: accuracy)
    }

    /// The dense model's own value of the metric: 1 for agreement and cosine, its accuracy for accuracy.
    public var denseValue: Double {
        metric == .accuracy ? (meter.referenceAccuracy?.value ?? 0) : 1
    }
}
