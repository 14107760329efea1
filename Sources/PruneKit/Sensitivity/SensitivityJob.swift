import Foundation
import PruneCore
import PruneEvaluation

/// What one sensitivity sweep measures, independent of how it was asked for (command-line flags or code).
///
/// ``SensitivitySweep/run(_:reusing:)`` carries it out.
public struct SensitivityJob: Sendable {
    /// The ONNX model to measure (never modified).
    public var model: URL
    /// Calibration batches: read by data-aware scorers, and the evaluation data when ``data`` is nil.
    public var calibration: URL?
    /// Evaluation data (a safetensors file or a directory of them); the calibration batches when nil.
    public var data: URL?
    /// Calibration statistics saved earlier (`--save-stats`), read by data-aware scorers instead of collecting them
    /// from ``calibration``.
    public var statistics: URL?
    /// The tensor in the data holding one integer label per sample (needed by ``SensitivityCurves/Metric/accuracy``).
    public var labels: String?
    /// Samples per batch when the data is one file; nil takes the model's fixed batch dimension, else 64
    /// (``EvaluationData/batchSize(requested:for:fallback:)``).
    public var batchSize: Int?
    /// How fidelity is measured.
    public var metric: SensitivityCurves.Metric
    /// The sparsities each target is pruned to, each in [0, 1).
    public var grid: [Double]
    /// Dependency groups (structured, removed) or single tensors (unstructured, masked).
    public var granularity: SensitivityCurves.Granularity
    /// How units or weights are ranked, e.g. `magnitude:p=2`.
    public var scorer: ComponentSpec
    /// How each point is pruned, when not the default (`remove` for units, `mask` for weights): e.g. `reconstruct`,
    /// so the curves say what a target costs after the recovery the real run will apply. A rewriter that runs the
    /// model fits on ``calibration``.
    public var rewriter: ComponentSpec?
    /// Regular expressions: only targets with a parameter matching one (all when empty).
    public var include: [String]
    /// Regular expressions: targets touching a matching name are left out.
    public var exclude: [String]
    /// Measure only this slice of the work list (nil: all of it).
    public var shard: SensitivityShard?
    /// Time each pruned model in the interpreter with these settings (nil: no latency).
    public var latency: LatencyProbe.Settings?
    /// Whether a `[batch, positions, classes]` first output holds one class distribution per position.
    public var classesPerPosition: Bool
    /// Threads for the interpreter and scans.
    public var threads: Int
    /// The seed for anything random.
    public var seed: UInt64

    /// The default grid: 0.1, 0.2, …, 0.9.
    public static let defaultGrid: [Double] = (1...9).map { Double($0) / 10 }

    /// Creates a job.
    public init(
        model: URL, calibration: URL? = nil, data: URL? = nil, labels: String? = nil, batchSize: Int? = nil,
        metric: SensitivityCurves.Metric = .agreement, grid: [Double] = SensitivityJob.defaultGrid,
        granularity: SensitivityCurves.Granularity = .unit, scorer: ComponentSpec? = nil, include: [String] = [],
        exclude: [String] = [], shard: SensitivityShard? = nil, latency: LatencyProbe.Settings? = nil,
        classesPerPosition: Bool = false, threads: Int = ProcessInfo.processInfo.activeProcessorCount, seed: UInt64 = 0
    ) {
        self.model = model
        self.calibration = calibration
        self.data = data
        self.labels = labels
        self.batchSize = batchSize
        self.metric = metric
        self.grid = grid
        self.granularity = granularity
        self.scorer =
            scorer
            ?? ComponentSpec(name: "magnitude", arguments: granularity == .unit ? [(key: "p", value: "2")] : [])
        self.include = include
        self.exclude = exclude
        self.shard = shard
        self.latency = latency
        self.classesPerPosition = classesPerPosition
        self.threads = threads
        self.seed = seed
    }

    /// Parses a grid written `0.1,0.2,0.5`: sorted, duplicates dropped.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` naming an entry that is not a number in [0, 1).
    public static func grid(parsing text: String) throws -> [Double] {
        let values = try text.split(separator: ",").map { part -> Double in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let value = Double(trimmed), value >= 0, value < 1 else {
                throw PruneError(
                    .invalidParameter, "grid entry '\(trimmed)' is not a sparsity in [0, 1) (e.g. 0.1,0.3,0.5)")
            }
            return value
        }
        guard !values.isEmpty else { throw PruneError(.invalidParameter, "the grid is empty (e.g. 0.1,0.3,0.5)") }
        return Array(Set(values)).sorted()
    }

    /// Checks what can be checked before the model is read.
    ///
    /// - Throws: `PruneError` for a grid entry outside [0, 1), no data to measure on, accuracy without labels, or a
    ///   batch size below 1.
    func validate() throws {
        if let bad = grid.first(where: { !($0 >= 0 && $0 < 1) }) {
            throw PruneError(.invalidParameter, "grid entry \(bad) is not a sparsity in [0, 1)")
        }
        guard !grid.isEmpty else { throw PruneError(.invalidParameter, "the grid is empty") }
        guard data != nil || calibration != nil else {
            throw PruneError(.missingData, "sensitivity measures the model on data: give evaluation data or calibration batches")
        }
        if metric == .accuracy, labels == nil {
            throw PruneError(.missingData, "the accuracy metric needs labels: name the labels tensor of the data")
        }
        if let batchSize, batchSize < 1 {
            throw PruneError(.invalidParameter, "batch size must be at least 1, not \(batchSize)")
        }
    }
}
