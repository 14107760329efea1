import ArgumentParser
import Foundation
import Logging
import PruneKit

/// `prune run`: score, select and rewrite a model, write the result and report what changed.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Prune a model and write the smaller model with a report.",
        discussion: """
            Components are written NAME[:key=value,...], the same for built-ins and
            plugins, e.g.
              --scorer magnitude:p=2 --selector global:sparsity=0.5,max=0.9

            `prune run --list` shows every component with its parameters;
            --plugin PATH loads more. Data-aware scorers (activation, density,
            energy) read statistics of --calibration batches. --recipe FILE runs
            the stages of a YAML recipe (see Examples/recipes/) instead.
            """)

    @Argument(help: "The model file to prune (never modified).")
    var input: String?

    @Option(name: .shortAndLong, help: "Where to write the pruned model (required unless --list).")
    var output: String?

    @Option(help: "How to score weights or units.")
    var scorer = "magnitude"

    @Option(help: "Which scored positions go: threshold, layer, global, row, nm (required unless --recipe or --list).")
    var selector: String?

    @Option(help: "How the model is changed: mask, remove (implies --granularity unit), reconstruct, quantize, qdq.")
    var rewriter = "mask"

    @Option(help: "Regular expression of tensor names to prune (repeatable; replaces the default candidates).")
    var include: [String] = []

    @Option(help: "Regular expression of tensor names to leave alone (repeatable).")
    var exclude: [String] = []

    @Option(help: "Score and prune single weights (element) or whole output units (unit; the default for remove).")
    var granularity: PruneTarget.Granularity?

    @Option(
        help:
            "Regular expression of node, tensor or value names whose channel groups are never removed (repeatable; --granularity unit on ONNX)."
    )
    var ignore: [String] = []

    @Flag(
        help:
            "Also prune a transformer's hidden width (the residual stream: embeddings, every LayerNorm, every projection's input side; --granularity unit on ONNX). Refused by default."
    )
    var includeHiddenWidth = false

    @Flag(
        name: .customLong("head-dims"),
        help:
            "Prune attention by head dimension: each attention block offers its Q/K and V/O features of every head (d units each) instead of whole heads (--granularity unit on ONNX; separate Q, K, V projections)."
    )
    var headDimensions = false

    @Option(help: "Also write the report as JSON to this file.")
    var report: String?

    @Option(
        help: ArgumentHelp(
            "Also write the report as a self-contained HTML page (charts of sparsity and per-stage fidelity, tensor table).",
            valueName: "path"))
    var htmlReport: String?

    @Flag(help: "Overwrite the output and report files (--report, --html-report) if they exist.")
    var force = false

    @Option(
        help:
            "How the output stores pruned weights: dense (every tool reads it), sparse (ONNX sparse_initializer; safetensors in the compressed-tensors bitmask layout with a config.json), or auto (sparse only where that is smaller)."
    )
    var storage: TensorStorage = .dense

    @Flag(
        help:
            "Time the input and output ONNX models in the interpreter (random inputs, batch 1 and 8; 3 warm-up runs, then at least 10 runs and 1 s; median and p10-p90)."
    )
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

    @OptionGroup(title: "Budgets") var budget: BudgetFlags

    @OptionGroup(title: "Fidelity per stage") var fidelity: FidelityFlags

    func validate() throws {
        if list { return }
        guard input != nil else { throw ValidationError("missing the model file to prune") }
        guard output != nil else { throw ValidationError("missing --output (-o): where to write the pruned model") }
        if recipe != nil {
            guard selector == nil, scorer == "magnitude", rewriter == "mask", include.isEmpty, exclude.isEmpty,
                granularity == nil
            else {
                throw ValidationError(
                    "--recipe replaces --scorer, --selector, --rewriter, --include, --exclude and --granularity")
            }
            return
        }
        if budget.isActive, selector != nil { throw ValidationError("--target chooses the sparsities; drop --selector") }
        guard selector != nil || budget.isActive else {
            throw ValidationError("missing --selector, e.g. --selector global:sparsity=0.5 (see --list)")
        }
    }

    func run() throws {
        var logger = Logger(label: "prune")
        logger.logLevel = .warning
        let engine = PruneEngine(
            registry: .standard(), logger: logger, progress: TerminalProgress(), warn: { Warnings.print([$0]) })
        let job = try makeJob()
        if list {
            try engine.loadPlugins(for: job)
            print(PluginListing.table(engine.registry.components), terminator: "")
            return
        }
        let report =
            budget.isActive
            ? try BudgetedRun(engine: engine).run(job, options: budget.options(calibration: calibration.calibration))
            : try engine.run(job)
        print(json ? try report.json() : ReportPrinter.text(report) + (report.budget.map(BudgetFlags.text) ?? ""))
    }


    /// The job these flags describe: a one-stage recipe from --scorer/--selector/--rewriter, or --recipe's.
    private func makeJob() throws -> PruneJob {
        let recipeURL = recipe.map { URL(fileURLWithPath: $0) }
        var stages: Recipe
        if let recipeURL {
            stages = try Recipe(contentsOf: recipeURL)
            for index in stages.stages.indices {
                stages.stages[index].targets.ignore += ignore
                if includeHiddenWidth { stages.stages[index].targets.includeHiddenWidth = true }
                if headDimensions { stages.stages[index].targets.headDimensions = true }
            }
        } else {
            // `--list` needs no stage; every other run has a selector (checked in `validate`).
            let rewriter = try ComponentSpec(parsing: rewriter)
            stages = Recipe(
                stages: try (selector ?? (budget.isActive ? "targets:sparsities=" : nil)).map { selector in
                    [
                        Recipe.StageEntry(
                            name: "prune", scorer: try ComponentSpec(parsing: scorer),
                            selector: try ComponentSpec(parsing: selector), rewriter: rewriter,
                            targets: TargetFilter(
                                include: include, exclude: exclude,
                                granularity: granularity ?? Recipe.StageEntry.impliedGranularity(rewriter: rewriter),
                                ignore: ignore, includeHiddenWidth: includeHiddenWidth,
                                headDimensions: headDimensions))
                    ]
                } ?? [])
        }
        let source: PruneJob.Calibration =
            if let path = calibration.calibration {
                .batches(URL(fileURLWithPath: path), saveStatistics: calibration.saveStats.map { URL(fileURLWithPath: $0) })
            } else if let path = calibration.stats {
                .statistics(URL(fileURLWithPath: path))
            } else {
                .none
            }
        var job = PruneJob(
            input: URL(fileURLWithPath: input ?? "."), output: URL(fileURLWithPath: output ?? "."), recipe: stages,
            recipeFile: recipeURL, plugins: plugins.paths.map { PluginReference(path: $0) },
            pluginDirectories: PluginSearchPath.directories(), pluginOptions: plugins.loadOptions,
            calibration: source, reportFile: report.map { URL(fileURLWithPath: $0) }, overwrite: force,
            latency: measureLatency ? PruneJob.LatencyOptions() : nil, seed: execution.seed,
            threads: execution.threadCount)
        job.storage = storage
        job.stageFidelity = fidelity.options
        job.htmlReportFile = htmlReport.map { URL(fileURLWithPath: $0) }
        return job
    }
}
