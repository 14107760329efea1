import Foundation
import PruneCore
import PruneFormats
import PruneRuntime

/// Where and how `prune run --fidelity-data` measures what each stage cost.
public struct StageFidelityOptions: Sendable, Hashable {
    /// Held-out batches (a safetensors file or a directory of them) with the model's input names.
    public var data: URL
    /// The integer labels tensor in the batches, for `accuracy`.
    public var labels: String?
    /// The metric.
    public var metric: SensitivityCurves.Metric

    /// Creates options.
    public init(data: URL, labels: String? = nil, metric: SensitivityCurves.Metric = .agreement) {
        self.data = data
        self.labels = labels
        self.metric = metric
    }
}

/// Measures the model after each pipeline stage against the dense input model, through the pipeline's
/// `stageFinished` hook; the dense model runs once, when the step is made (``FidelityProbe``).
final class StageFidelityStep: @unchecked Sendable {
    private let probe: FidelityProbe
    private let options: StageFidelityOptions
    private let progress: any ProgressSink
    private let lock = NSLock()
    private var measured: [StageFidelity] = []

    /// Runs the dense `model` over the options' batches.
    ///
    /// - Throws: `.unsupported` for a model without an ONNX graph, and `PruneError` when the data does not fit it.
    init(model: Model, input: URL, options: StageFidelityOptions, threads: Int, progress: any ProgressSink) throws {
        guard model.graph is ONNXModelGraph else {
            throw PruneError(
                .unsupported,
                "--fidelity-data runs the model after each stage, so it needs an ONNX model; \(input.path) has no graph")
        }
        progress.update(phase: "running the dense model on \(options.data.lastPathComponent)", completed: 0, total: 1)
        probe = try FidelityProbe(
            dense: try ONNXGraph.of(model), name: input.lastPathComponent, data: options.data, labels: options.labels,
            metric: options.metric, threads: threads)
        self.options = options
        self.progress = progress
    }

    /// The hook for ``PruneContext/stageFinished``: measures the stage's model and keeps the value.
    var hook: @Sendable (String, Model) throws -> Void {
        { [self] stage, model in
            progress.update(phase: "measuring the model after '\(stage)'", completed: 0, total: 1)
            let value = try probe.measure(graph: try ONNXGraph.of(model), name: "the model after stage '\(stage)'")
            lock.withLock { measured.append(StageFidelity(stage: stage, fidelity: value)) }
        }
    }

    /// The report section, after the pipeline ran.
    var report: PruneReport.FidelityReport {
        lock.withLock {
            PruneReport.FidelityReport(
                metric: options.metric.rawValue, data: options.data.relativePath, samples: probe.samples,
                dense: probe.denseValue, stages: measured)
        }
    }
}
