import Foundation
import PruneCalibration
import PruneCore
import PruneFormats
import PruneReconstruct

/// Meets a pipeline's ``DataNeeds``: checks data was supplied, calibrates once on the loaded input model, hands
/// batches to rewriters that run them.
enum CalibrationStep {
    /// Fails before the model is read when a stage needs data the job does not supply.
    ///
    /// - Throws: `PruneError.Kind.missingData` naming the stage and component.
    static func checkSupplied(_ calibration: PruneJob.Calibration, for pipeline: Pipeline) throws {
        // Saved statistics meet a scorer's needs, never a rewriter's: it runs the batches.
        let hasBatches: Bool
        let hasData: Bool
        switch calibration {
        case .none: (hasBatches, hasData) = (false, false)
        case .batches: (hasBatches, hasData) = (true, true)
        case .statistics: (hasBatches, hasData) = (false, true)
        }
        if !hasBatches, let stage = pipeline.stages.first(where: { $0.rewriter.dataNeeds.batches }) {
            throw PruneError(
                .missingData,
                "rewriter '\(stage.description.rewriter)' (stage '\(stage.name)') needs calibration data",
                hint: .calibrationBatches)
        }
        if !hasData, let stage = pipeline.stages.first(where: { !$0.scorer.dataNeeds.statistics.required.isEmpty }) {
            throw PruneError(
                .missingData,
                "scorer '\(stage.description.scorer)' (stage '\(stage.name)') needs calibration data",
                hint: .calibrationData)
        }
    }

    /// The statistics the pipeline reads: loaded from a statistics file, or collected from the batches on `model`
    /// (the already-loaded input); nil when no stage reads any.
    static func statistics(
        _ calibration: PruneJob.Calibration, for pipeline: Pipeline, model: Model, input: URL, overwrite: Bool,
        threads: Int, progress: any ProgressSink, warn: (String) -> Void
    ) throws -> CalibrationStatistics? {
        let needs = pipeline.dataNeeds
        switch calibration {
        case .none:
            return nil
        case .statistics(let url):
            let loaded = try StatisticsFile.load(url)
            let missing = needs.statistics.required.subtracting(loaded.kinds)
            guard missing.isEmpty else {
                throw PruneError(
                    .invalidInput, "\(url.path) holds no statistics of \(missing.names.joined(separator: " or "))")
            }
            return loaded
        case .batches(let url, let saveStatistics):
            guard !needs.statistics.isEmpty || saveStatistics != nil else {
                if !needs.batches { warn("no stage reads calibration data; \(url.path) was not used") }
                return nil
            }
            guard model.graph is ONNXModelGraph else {
                throw PruneError(
                    .unsupported, "\(input.path): calibration runs the model's graph, so it needs an ONNX model")
            }
            let statistics = try Calibration.collect(
                graph: try RuntimeModel.graph(of: model), data: try CalibrationData(url: url),
                kinds: saveStatistics != nil ? .all : needs.statistics.wanted, threads: threads, progress: progress)
            if let saveStatistics {
                _ = try StatisticsFile.save(statistics, to: saveStatistics, overwrite: overwrite)
            }
            return statistics
        }
    }

    /// The batches for rewriters that run them.
    static func batches(_ calibration: PruneJob.Calibration, for pipeline: Pipeline) throws
        -> (any CalibrationBatches)?
    {
        guard case .batches(let url, _) = calibration, pipeline.dataNeeds.batches else { return nil }
        return try CalibrationData(url: url)
    }
}

/// Times the input and output models for the report.
enum LatencyStep {
    static func measure(_ job: PruneJob, options: PruneJob.LatencyOptions, progress: any ProgressSink) throws
        -> [PruneReport.LatencyRow]
    {
        let rows = try options.batches.map { batch in
            progress.update(phase: "timing batch \(batch)", completed: 0, total: 1)
            let settings = LatencyProbe.Settings(
                warmupRuns: options.warmupRuns, minimumRuns: options.minimumRuns,
                minimumSeconds: options.minimumSeconds)
            let before = try LatencyProbe.timings(
                url: job.input, batch: batch, settings: settings, threads: job.threads, seed: job.seed)
            let after = try LatencyProbe.timings(
                url: job.output, batch: batch, settings: settings, threads: job.threads, seed: job.seed)
            var row = PruneReport.LatencyRow(
                batch: batch, runs: min(before.count, after.count), medianSecondsBefore: quantile(before, 0.5),
                medianSecondsAfter: quantile(after, 0.5))
            row.warmupRuns = options.warmupRuns
            row.p10SecondsBefore = quantile(before, 0.1)
            row.p90SecondsBefore = quantile(before, 0.9)
            row.p10SecondsAfter = quantile(after, 0.1)
            row.p90SecondsAfter = quantile(after, 0.9)
            return row
        }
        progress.finish()
        return rows
    }

    /// The `q`-quantile of `values` (nearest rank; the median of an even count is the mean of the middle two).
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let n = sorted.count
        guard n > 0 else { return 0 }
        if q == 0.5 { return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2 }
        return sorted[min(n - 1, max(0, Int((q * Double(n)).rounded(.up)) - 1))]
    }
}
