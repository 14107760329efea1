import Foundation
import Logging

/// Everything a scorer, selector or rewriter may read besides its own parameters, passed as one value.
///
/// New fields arrive here with defaults, so conformers written today keep compiling.
public struct PruneContext: Sendable {
    /// The model as it stands before the current stage.
    public var model: Model
    /// The seed for anything random; the same seed gives the same result.
    public var seed: UInt64
    /// Where components log.
    public var logger: Logger
    /// Where long-running work reports how far it got.
    public var progress: any ProgressSink
    /// How many threads scans may use.
    public var threads: Int
    /// Calibration statistics of the pipeline's input model, when calibration ran or saved statistics were loaded.
    public var statistics: CalibrationStatistics?
    /// The calibration batches themselves, for rewriters that run the model (``Rewriter/dataNeeds``).
    public var calibrationBatches: (any CalibrationBatches)?
    /// Collects the pipeline's calibration statistics on another model (the input of a stage with
    /// ``Stage/recalibrate``); nil when the caller cannot (no calibration batches).
    public var recalibrate: (@Sendable (Model) throws -> CalibrationStatistics)? = nil
    /// Called by ``Pipeline/run(on:context:)`` with each stage's name and the model it produced (e.g. to measure
    /// what the stage cost); an error stops the pipeline.
    public var stageFinished: (@Sendable (_ stage: String, _ model: Model) throws -> Void)? = nil

    /// Creates a context for `model`.
    public init(
        model: Model, seed: UInt64 = 0, logger: Logger = Logger(label: "prunekit"),
        progress: any ProgressSink = SilentProgress(), threads: Int = ProcessInfo.processInfo.activeProcessorCount,
        statistics: CalibrationStatistics? = nil, calibrationBatches: (any CalibrationBatches)? = nil
    ) {
        self.statistics = statistics
        self.calibrationBatches = calibrationBatches
        self.model = model
        self.seed = seed
        self.logger = logger
        self.progress = progress
        self.threads = max(1, threads)
    }
}

/// Receives progress of long-running work (scoring, selecting, writing).
public protocol ProgressSink: Sendable {
    /// Reports that `completed` of `total` steps of `phase` are done.
    func update(phase: String, completed: Int, total: Int)
    /// Reports that all work is done and any display can be cleared.
    func finish()
}

/// A progress sink that shows nothing.
public struct SilentProgress: ProgressSink {
    /// Creates the sink.
    public init() {}
    /// Ignores the update.
    public func update(phase: String, completed: Int, total: Int) {}
    /// Does nothing.
    public func finish() {}
}
