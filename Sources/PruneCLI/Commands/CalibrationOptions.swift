import ArgumentParser
import Foundation
import PruneKit

/// The options that supply calibration statistics: `--calibration`, `--stats` and `--save-stats`.
struct CalibrationOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Calibration batches: a safetensors file, or a directory of them (one batch each), with tensors named as the graph inputs.",
            valueName: "path"))
    var calibration: String?

    @Option(help: ArgumentHelp("Use statistics saved by --save-stats instead of calibrating.", valueName: "path"))
    var stats: String?

    @Option(
        name: .customLong("save-stats"),
        help: ArgumentHelp("Save the calibration statistics (every kind) for reuse with --stats.", valueName: "path"))
    var saveStats: String?

    func validate() throws {
        if calibration != nil, stats != nil {
            throw ValidationError("give --calibration or --stats, not both")
        }
        if saveStats != nil, calibration == nil {
            throw ValidationError("--save-stats needs --calibration (the data to compute statistics from)")
        }
    }

    /// Fails early when a stage's scorer needs statistics and none were supplied.
    func checkSupplied(for pipeline: Pipeline) throws {
        if calibration == nil, let stage = pipeline.stages.first(where: { $0.rewriter.dataNeeds.batches }) {
            throw PruneError(
                .invalidInput,
                "rewriter '\(stage.description.rewriter)' (stage '\(stage.name)') needs calibration data: "
                    + "pass --calibration FILE|DIR (saved --stats are not enough: it runs the batches)")
        }
        guard calibration == nil, stats == nil else { return }
        if let stage = pipeline.stages.first(where: { !$0.scorer.dataNeeds.statistics.required.isEmpty }) {
            throw PruneError(
                .invalidInput,
                "scorer '\(stage.description.scorer)' (stage '\(stage.name)') needs calibration data: "
                    + "pass --calibration FILE|DIR, or --stats FILE saved by --save-stats")
        }
    }

    /// The statistics the pipeline reads: loaded from `--stats`, or computed from `--calibration` on the
    /// pipeline's input model; nil when no stage's scorer reads any (or none were supplied).
    func statistics(
        for pipeline: Pipeline, model: URL, force: Bool, threads: Int, progress: any ProgressSink,
        warn: (String) -> Void
    ) throws -> CalibrationStatistics? {
        let requirement = pipeline.dataNeeds.statistics
        if let stats {
            let loaded = try StatisticsFile.load(URL(fileURLWithPath: stats))
            let missing = requirement.required.subtracting(loaded.kinds)
            guard missing.isEmpty else {
                throw PruneError(
                    .invalidInput, "\(stats) holds no statistics of \(missing.names.joined(separator: " or "))")
            }
            return loaded
        }
        guard let calibration else { return nil }
        guard !requirement.isEmpty || saveStats != nil else {
            if pipeline.stages.contains(where: { $0.rewriter.dataNeeds.batches }) { return nil }
            warn("no stage's scorer reads calibration statistics; --calibration \(calibration) was not used")
            return nil
        }
        guard model.pathExtension.lowercased() == "onnx" else {
            throw PruneError(
                .unsupported, "\(model.path): calibration runs the model's graph, so it needs an .onnx model")
        }
        let graph = try ONNXGraph(contentsOf: model)
        let statistics = try Calibration.collect(
            graph: graph, data: try CalibrationData(url: URL(fileURLWithPath: calibration)),
            kinds: saveStats != nil ? .all : requirement.wanted, threads: threads, progress: progress)
        if let saveStats {
            try StatisticsFile.save(statistics, to: URL(fileURLWithPath: saveStats), overwrite: force)
        }
        return statistics
    }

    /// The calibration batches for rewriters that run them, when a stage's rewriter does and `--calibration` is given.
    func batches(for pipeline: Pipeline) throws -> (any CalibrationBatches)? {
        guard let calibration, pipeline.stages.contains(where: { $0.rewriter.dataNeeds.batches }) else {
            return nil
        }
        return try CalibrationData(url: URL(fileURLWithPath: calibration))
    }
}
