import Foundation
import Logging
import PruneCalibration
import PruneCore
import PruneEvaluation
import PruneFormats
import PrunePluginHost
import PruneRecipes
import PruneStructure

/// Runs a pruning job from end to end: loads plugins, builds the stages, opens the model, calibrates once on it,
/// runs the pipeline, writes the result atomically, measures, and returns the report.
///
/// The CLI maps its flags to a ``PruneJob`` and prints what comes back; benchmarks and tests call the same engine,
/// so there is one flow.
public struct PruneEngine: Sendable {
    /// Where components are resolved; plugins are added to it.
    public let registry: ComponentRegistry
    /// Where components log.
    public var logger: Logger
    /// Where long steps report how far they got.
    public var progress: any ProgressSink
    /// Receives non-fatal notices (one line each).
    public var warn: @Sendable (String) -> Void

    /// Creates an engine over `registry` (the built-ins by default).
    public init(
        registry: ComponentRegistry = .standard(), logger: Logger = Logger(label: "prunekit"),
        progress: any ProgressSink = SilentProgress(), warn: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.registry = registry
        self.logger = logger
        self.progress = progress
        self.warn = warn
    }

    /// Loads `job`'s plugins (explicit, then the recipe's, then the search directories) into ``registry``.
    ///
    /// - Throws: `PluginError` naming the file that could not be loaded.
    @discardableResult
    public func loadPlugins(for job: PruneJob) throws -> [LoadedPlugin] {
        try loadPlugins(job.allPlugins, directories: job.pluginDirectories, options: job.pluginOptions)
    }

    /// Loads plugin files and every library in `directories` into ``registry``, each file once.
    @discardableResult
    public func loadPlugins(
        _ references: [PluginReference], directories: [String], options: PluginLoadOptions
    ) throws -> [LoadedPlugin] {
        try PluginLoader(options: options, logger: logger).loadAll(
            references, directories: directories, into: registry)
    }

    /// Carries out `job` and returns its report (also written to ``PruneJob/reportFile`` when set).
    ///
    /// Everything that can fail on the job's own input (outputs, plugins, components, patterns, missing
    /// calibration) is checked before the model is read.
    ///
    /// - Throws: `PruneError` or `PluginError` with a one-line message naming the file, stage, component or tensor.
    public func run(_ job: PruneJob) throws -> PruneReport {
        let clock = ContinuousClock()
        let started = clock.now
        try OutputCheck.refuseClobbering(job)
        try loadPlugins(for: job)
        var pipeline = try job.recipe.pipeline(registry: registry, file: job.recipeFile?.path ?? "recipe")
        try CalibrationStep.checkSupplied(job.calibration, for: pipeline)

        let loadStart = clock.now
        let document = try ModelFiles.open(job.input)
        document.warnings.forEach(warn)
        let loadTime = clock.now - loadStart
        // Unit targets on a model with a graph are dependency groups: every slice one channel touches, together.
        if document.model.graph is ONNXModelGraph {
            for index in pipeline.stages.indices where pipeline.stages[index].targets.granularity == .unit {
                pipeline.stages[index].targetProvider = GroupTargets()
            }
        }

        let statistics = try CalibrationStep.statistics(
            job.calibration, for: pipeline, model: document.model, input: job.input, overwrite: job.overwrite,
            threads: job.threads, progress: progress, warn: warn)
        var context = PruneContext(
            model: document.model, seed: job.seed, logger: logger, progress: progress, threads: job.threads,
            statistics: statistics, calibrationBatches: try CalibrationStep.batches(job.calibration, for: pipeline))
        context.recalibrate = Recalibration.collector(
            job.calibration, for: pipeline, threads: job.threads, progress: progress)
        let fidelity = try job.stageFidelity.map {
            try StageFidelityStep(
                model: document.model, input: job.input, options: $0, threads: job.threads, progress: progress)
        }
        context.stageFinished = fidelity?.hook
        let result = try pipeline.run(on: document.model, context: context)
        ReconstructionWarnings.worsenedOutputs(in: result.stages).forEach(warn)

        let analyseStart = clock.now
        progress.update(phase: "counting zeros for the report", completed: 0, total: 1)
        let (rows, totals) = PruneReport.compare(before: document.model, after: result.model, threads: job.threads)
        let analyseTime = clock.now - analyseStart

        let saveStart = clock.now
        progress.update(phase: "writing \(job.output.path)", completed: 0, total: 1)
        let summary = try document.write(
            result.model, to: job.output,
            options: WriteOptions(metadata: Self.provenance(pipeline), overwrite: job.overwrite, storage: job.storage))
        let written = summary.bytesWritten
        let saveTime = clock.now - saveStart
        progress.finish()

        let stages = result.stages
        var report = PruneReport(
            tool: "prunekit \(pruneKitVersion)",
            input: .init(path: job.input.relativePath, format: document.formatName, bytes: document.fileSize),
            output: .init(path: job.output.relativePath, format: document.formatName, bytes: written),
            stages: stages, tensors: rows, totals: totals, bytesRead: document.fileSize, bytesWritten: written,
            phases: .init(
                load: loadTime.seconds, score: stages.reduce(0) { $0 + $1.scoringSeconds },
                select: stages.reduce(0) { $0 + $1.selectionSeconds },
                rewrite: stages.reduce(0) { $0 + $1.rewriteSeconds }, analyse: analyseTime.seconds,
                save: saveTime.seconds, total: 0))
        report.recordStorage(
            before: document.storedTensors, after: summary.tensors, quantized: result.model.quantizedWeights)
        report.fidelity = fidelity?.report
        // A model with dynamic axes beyond the batch (a sequence length) is counted at the data's shapes.
        let shapes = SampleInputShapes.needed(
            SampleInputShapes.of(
                job.calibration.batchesURL ?? job.stageFidelity?.data,
                inputNames: (document.model.graph as? ONNXModelGraph)?.proto.input.map(\.name)
                    .filter { document.model[$0] == nil } ?? []),
            for: document.model)
        report.macs = ONNXCompute.macs(of: document.model, inputShapes: shapes).flatMap { before in
            ONNXCompute.macs(of: result.model, inputShapes: shapes).map { PruneReport.Change(before: before, after: $0) }
        }
        if report.macs != nil, !shapes.isEmpty { report.macsInputShapes = shapes }
        if report.macs == nil, document.model.graph is ONNXModelGraph { report.macsUnknown = true }
        if let latency = job.latency {
            guard document.model.graph is ONNXModelGraph else {
                throw PruneError(
                    .unsupported, "latency is measured on ONNX models; \(job.input.path) is \(document.formatName)")
            }
            report.latency = try LatencyStep.measure(job, options: latency, progress: progress)
        }
        report.phases.total = (clock.now - started).seconds
        if let htmlReportFile = job.htmlReportFile {
            let page = report.htmlPage(
                fidelity: report.fidelity?.chartRows ?? [], metric: report.fidelity?.metric ?? "agreement"
            ).render()
            _ = try AtomicFileWriter.write(to: htmlReportFile, overwrite: job.overwrite, sources: [job.input]) { sink in
                try sink.write(Array(page.utf8))
            }
        }
        if let reportFile = job.reportFile {
            let text = try report.json()
            _ = try AtomicFileWriter.write(to: reportFile, overwrite: job.overwrite, sources: [job.input]) { sink in
                try sink.write(Array(text.utf8) + [0x0A])
            }
        }
        return report
    }

    /// What the output file records about how it was made.
    static func provenance(_ pipeline: Pipeline) -> [String: String] {
        pipeline.stages.enumerated().reduce(into: ["prunekit.version": pruneKitVersion]) { entries, element in
            let (index, stage) = element
            let targets = stage.targets
            entries[index == 0 ? "prunekit.pipeline" : "prunekit.pipeline.\(index + 1)"] =
                "scorer=\(stage.description.scorer); selector=\(stage.description.selector); "
                + "rewriter=\(stage.description.rewriter); granularity=\(targets.granularity.rawValue)"
                + (targets.include.isEmpty ? "" : "; include=\(targets.include.joined(separator: "|"))")
                + (targets.exclude.isEmpty ? "" : "; exclude=\(targets.exclude.joined(separator: "|"))")
                + (targets.ignore.isEmpty ? "" : "; ignore=\(targets.ignore.joined(separator: "|"))")
        }
    }
}

/// Refuses, before any work, outputs that would clobber the input or an existing file.
enum OutputCheck {
    static func refuseClobbering(_ job: PruneJob) throws {
        let input = job.input.standardizedFileURL.path
        for url in [job.output] + [job.reportFile, job.htmlReportFile].compactMap({ $0 }) {
            if url.standardizedFileURL.path == input {
                throw PruneError(.outputExists, "\(url.path) is the input file; PruneKit never modifies its inputs")
            }
            if !job.overwrite, FileManager.default.fileExists(atPath: url.path) {
                throw PruneError(.outputExists, "\(url.path) already exists", hint: .allowOverwrite)
            }
        }
        let paths = [job.output, job.reportFile, job.htmlReportFile].compactMap { $0?.standardizedFileURL.path }
        if Set(paths).count < paths.count {
            throw PruneError(
                .invalidInput, "the pruned model, --report and --html-report must be different files (\(paths.joined(separator: ", ")))")
        }
        // Regular files only (never a device or FIFO), and an extension whose format the input can become.
        try ModelFiles.checkOutput(job.output, input: job.input, overwrite: job.overwrite)
    }
}
