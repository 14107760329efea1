import Foundation
import PruneCalibration
import PruneCore
import PruneReconstruct

/// Collecting calibration statistics again on an intermediate model, for the steps of a schedule.
enum Recalibration {
    /// A closure that runs the job's calibration batches through a model and returns the statistics `pipeline`
    /// reads; nil when the job has no batches or no stage asks to re-calibrate.
    static func collector(
        _ calibration: PruneJob.Calibration, for pipeline: Pipeline, threads: Int, progress: any ProgressSink
    ) -> (@Sendable (Model) throws -> CalibrationStatistics)? {
        guard case .batches(let url, _) = calibration, pipeline.stages.contains(where: \.recalibrate) else { return nil }
        let kinds = pipeline.dataNeeds.statistics.wanted
        return { model in
            try Calibration.collect(
                graph: try RuntimeModel.graph(of: model), data: try CalibrationData(url: url), kinds: kinds,
                threads: threads, progress: progress)
        }
    }
}
