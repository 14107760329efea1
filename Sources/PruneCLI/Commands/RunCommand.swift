import ArgumentParser
import Foundation
import Logging
import PruneKit

/// `prune run`: score, select and rewrite a model, write the result and report what changed.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Prune a model and write the smaller model with a report.",
        discussion: """
            Components are written NAME[:key=value,...], the same for built-ins and plugins, e.g.
              --scorer magnitude:p=2 --selector global:sparsity=0.5,max=0.9 --rewriter mask
            `prune run --list` shows every component with its parameters; `--plugin PATH` loads more.
            Data-aware scorers (activation, density, energy) read statistics of --calibration batches;
            --recipe FILE runs the stages of a YAML recipe instead of --scorer/--selector/--rewriter.
            """)

    @Argument(help: "The model file to prune (never modified).")
    var input: String?

    @Option(name: .shortAndLong, help: "Where to write the pruned model.")
    var output: String?

    @Option(help: "How to score weights or units.")
    var scorer = "magnitude"

    @Option(help: "Which scored positions go (threshold, layer, global, row, nm).")
    var selector: String?

    @Option(help: "How the model is changed.")
    var rewriter = "mask"

    @Option(help: "Regular expression of tensor names to prune (repeatable; replaces the default candidates).")
    var include: [String] = []

    @Option(help: "Regular expression of tensor names to leave alone (repeatable).")
    var exclude: [String] = []

    @Option(help: "Score and prune single weights (element) or whole output units (unit).")
    var granularity: PruneTarget.Granularity = .element

    @Option(
        help:
            "Regular expression of node, tensor or value names whose channel groups are never removed (repeatable; --granularity unit on ONNX)."
    )
    var ignore: [String] = []

    @Option(help: "Also write the report as JSON to this file.")
    var report: String?

    @Flag(help: "Overwrite the output and report files if they exist.")
    var force = false

    @Flag(
        help: "Time the input and output ONNX models in the interpreter (random inputs, batch 1 and 8, median of 5 runs).")
    var measureLatency = false

    @Flag(help: "Print the report as JSON on stdout instead of tables.")
    var json = false

    @Flag(help: "List the available scorers, selectors and rewriters and exit.")
    var list = false

    @Option(help: ArgumentHelp("Run the stages of a YAML recipe (replaces --scorer, --selector, --rewriter).", valueName: "path"))
    var recipe: String?

    @OptionGroup var calibration: CalibrationOptions

    @OptionGroup var execution: ExecutionOptions

    @OptionGroup var plugins: PluginOptions

    func validate() throws {
        if list { return }
        guard input != nil else { throw ValidationError("missing the model file to prune") }
        guard output != nil else { throw ValidationError("missing --output (-o): where to write the pruned model") }
        if recipe != nil {
            guard selector == nil, scorer == "magnitude", rewriter == "mask", include.isEmpty, exclude.isEmpty,
                granularity == .element
            else {
                throw ValidationError(
                    "--recipe replaces --scorer, --selector, --rewriter, --include, --exclude and --granularity")
            }
            return
        }
        guard selector != nil else {
            throw ValidationError("missing --selector, e.g. --selector global:sparsity=0.5 (see --list)")
        }
    }

    func run() throws {
        let registry = ComponentRegistry.standard()
        var logger = Logger(label: "prune")
        logger.logLevel = .warning
        let recipeURL = recipe.map { URL(fileURLWithPath: $0) }
        let parsedRecipe = try recipeURL.map { try Recipe(contentsOf: $0) }
        _ = try plugins.loadPlugins(
            into: registry, logger: logger,
            recipe: (parsedRecipe?.plugins ?? []).map {
                PluginReference(path: $0.path, sha256: $0.sha256, relativeTo: recipeURL?.deletingLastPathComponent())
            })
        if list {
            print(PluginListing.table(registry.components), terminator: "")
            return
        }
        let clock = ContinuousClock()
        let started = clock.now
        let inputURL = URL(fileURLWithPath: input!)
        let outputURL = URL(fileURLWithPath: output!)
        let reportURL = report.map { URL(fileURLWithPath: $0) }
        try checkOutputs(inputURL: inputURL, outputURL: outputURL, reportURL: reportURL)

        // Build everything that can fail on user input before touching the model.
        var pipeline: Pipeline
        if let parsedRecipe {
            pipeline = try parsedRecipe.pipeline(registry: registry, file: recipe!)
        } else {
            let targets = TargetFilter(include: include, exclude: exclude, granularity: granularity)
            pipeline = Pipeline([
                try Stage(
                    name: "prune", targets: targets, scorer: ComponentSpec(parsing: scorer),
                    selector: ComponentSpec(parsing: selector!), rewriter: ComponentSpec(parsing: rewriter),
                    registry: registry)
            ])
        }
        try calibration.checkSupplied(for: pipeline)

        let loadStart = clock.now
        let document = try ModelFiles.open(inputURL)
        Warnings.print(document.warnings)
        let loadTime = clock.now - loadStart
        // Unit targets on a model with a graph are dependency groups: every slice one channel touches, together.
        // This holds for recipe stages too.
        if document.model.graph is ONNXModelGraph {
            for index in pipeline.stages.indices where pipeline.stages[index].targets.granularity == .unit {
                pipeline.stages[index].targetProvider = GroupTargets(ignore: ignore)
            }
        }

        let progress = TerminalProgress()
        let statistics = try calibration.statistics(
            for: pipeline, model: inputURL, force: force, threads: execution.threadCount, progress: progress
        ) { Warnings.print([$0]) }
        let context = PruneContext(
            model: document.model, seed: execution.seed, logger: logger, progress: progress,
            threads: execution.threadCount, statistics: statistics,
            calibrationBatches: try calibration.batches(for: pipeline))
        let result = try pipeline.run(on: document.model, context: context)

        let analyseStart = clock.now
        progress.update(phase: "counting zeros for the report", completed: 0, total: 1)
        let (rows, totals) = PruneReport.compare(
            before: document.model, after: result.model, threads: execution.threadCount)
        let analyseTime = clock.now - analyseStart

        let saveStart = clock.now
        progress.update(phase: "writing \(output!)", completed: 0, total: 1)
        let written = try document.write(
            result.model, to: outputURL, metadata: provenance(pipeline), overwrite: force)
        let saveTime = clock.now - saveStart
        progress.finish()

        let stages = result.stages
        let macs = ONNXCompute.macs(of: document.model).flatMap { before in
            ONNXCompute.macs(of: result.model).map { PruneReport.Change(before: before, after: $0) }
        }
        var latency: [PruneReport.LatencyRow]?
        if measureLatency {
            guard document.model.graph is ONNXModelGraph else {
                throw PruneError(.unsupported, "--measure-latency runs ONNX models; \(input!) is \(document.formatName)")
            }
            latency = try [1, 8].map { batch in
                progress.update(phase: "timing batch \(batch)", completed: 0, total: 1)
                let runs = 5
                let before = try LatencyProbe.measure(
                    url: inputURL, batch: batch, runs: runs, threads: execution.threadCount)
                let after = try LatencyProbe.measure(
                    url: outputURL, batch: batch, runs: runs, threads: execution.threadCount)
                return PruneReport.LatencyRow(
                    batch: batch, runs: runs, medianSecondsBefore: before.medianSeconds,
                    medianSecondsAfter: after.medianSeconds)
            }
            progress.finish()
        }
        var fullReport = PruneReport(
            tool: "prunekit \(pruneKitVersion)",
            input: .init(path: input!, format: document.formatName, bytes: document.fileSize),
            output: .init(path: output!, format: document.formatName, bytes: written),
            stages: stages, tensors: rows, totals: totals, bytesRead: document.fileSize, bytesWritten: written,
            phases: .init(
                load: loadTime.seconds, score: stages.reduce(0) { $0 + $1.scoringSeconds },
                select: stages.reduce(0) { $0 + $1.selectionSeconds },
                rewrite: stages.reduce(0) { $0 + $1.rewriteSeconds }, analyse: analyseTime.seconds,
                save: saveTime.seconds, total: (clock.now - started).seconds))
        fullReport.macs = macs
        fullReport.latency = latency
        let jsonText = try ReportPrinter.json(fullReport)
        if let reportURL {
            _ = try AtomicFileWriter.write(to: reportURL, overwrite: force, sources: [inputURL]) { sink in
                try sink.write(Array(jsonText.utf8) + [0x0A])
            }
        }
        print(json ? jsonText : ReportPrinter.text(fullReport))
    }

    /// Refuses, before any work, outputs that would clobber the input or an existing file.
    private func checkOutputs(inputURL: URL, outputURL: URL, reportURL: URL?) throws {
        let fileManager = FileManager.default
        for url in [outputURL] + (reportURL.map { [$0] } ?? []) {
            if url.standardizedFileURL.path == inputURL.standardizedFileURL.path {
                throw PruneError(.outputExists, "\(url.path) is the input file; PruneKit never modifies its inputs")
            }
            if !force, fileManager.fileExists(atPath: url.path) {
                throw PruneError(.outputExists, "\(url.path) already exists (use --force to overwrite it)")
            }
        }
        if reportURL?.standardizedFileURL.path == outputURL.standardizedFileURL.path {
            throw PruneError(.invalidInput, "--report and --output name the same file")
        }
        try ModelFiles.checkOutput(outputURL, input: inputURL, overwrite: force)
    }

    /// What the output file records about how it was made.
    private func provenance(_ pipeline: Pipeline) -> [String: String] {
        pipeline.stages.enumerated().reduce(into: ["prunekit.version": pruneKitVersion]) { entries, element in
            let (index, stage) = element
            let targets = stage.targets
            entries[index == 0 ? "prunekit.pipeline" : "prunekit.pipeline.\(index + 1)"] =
                "scorer=\(stage.description.scorer); selector=\(stage.description.selector); "
                + "rewriter=\(stage.description.rewriter); granularity=\(targets.granularity.rawValue)"
                + (targets.include.isEmpty ? "" : "; include=\(targets.include.joined(separator: "|"))")
                + (targets.exclude.isEmpty ? "" : "; exclude=\(targets.exclude.joined(separator: "|"))")
        }
    }
}
