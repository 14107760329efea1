import Foundation

extension PruneReport {
    /// What each stage of the pipeline cost in fidelity: the model after every stage measured against the dense input
    /// model on the same held-out batches (``FidelityProbe``, the measurement `--guard` and `prune sensitivity` use).
    public struct FidelityReport: Sendable, Codable, Hashable {
        /// `agreement` (top-1 equal to the dense model's), `cosine` (mean cosine of the outputs) or `accuracy`.
        public var metric: String
        /// The batches, as given.
        public var data: String
        /// Samples measured.
        public var samples: Int
        /// The dense model's value: 1 for agreement and cosine, its accuracy for accuracy.
        public var dense: Double
        /// The model after each stage, in pipeline order (the last one is the written model).
        public var stages: [StageFidelity]

        /// Creates a report.
        public init(metric: String, data: String, samples: Int, dense: Double, stages: [StageFidelity]) {
            self.metric = metric
            self.data = data
            self.samples = samples
            self.dense = dense
            self.stages = stages
        }

        /// What each stage cost: the value before it (the dense model's for the first) minus the value after it.
        public var costs: [Double] {
            zip([dense] + stages.map(\.fidelity), stages).map { $0 - $1.fidelity }
        }

        /// The rows ``PruneReport/fidelityChart(_:metric:)`` draws: the dense model first, then every stage.
        public var chartRows: [StageFidelity] { [StageFidelity(stage: "dense", fidelity: dense)] + stages }
    }
}
