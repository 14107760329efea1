import ArgumentParser
import Foundation
import PruneKit

extension SensitivityCurves.Metric: ExpressibleByArgument {}

extension SensitivityCurves.Granularity: ExpressibleByArgument {
    /// `unit` or `weight`; `element` (the name `prune run` uses) is accepted for `weight`.
    public init?(argument: String) {
        self.init(rawValue: argument == "element" ? "weight" : argument)
    }
}

/// `prune sensitivity`: how much each group (or tensor) alone costs in fidelity at each sparsity, cached, sharded,
/// merged and drawn.
struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity", abstract: "Measure how fidelity drops when each group or tensor alone is pruned.",
        discussion: """
            Prunes each dependency group (--granularity unit: channels removed) or
            each candidate tensor (weight: weights masked) alone, every other one
            dense, to each sparsity of --grid, and measures the model against the
            dense one in the interpreter. Results are cached (--cache); a second
            run with another grid measures only the new points. --shard i/N
            measures one slice; `prune sensitivity merge` joins the slices.
            Docs/Sensitivity.md has the cache format and examples.
            """,
        subcommands: [SensitivityMeasureCommand.self, SensitivityMergeCommand.self],
        defaultSubcommand: SensitivityMeasureCommand.self)
}

/// `prune sensitivity MODEL …`: the sweep.
struct SensitivityMeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure", abstract: "Measure the sensitivity curves of a model (the default subcommand).")

    @Argument(help: "The ONNX model (never modified).")
    var model: String

    @OptionGroup var calibration: SensitivityDataOptions

    @Option(help: "Fidelity: agreement (top-1 with the dense model), cosine (of the outputs), accuracy (needs --labels).")
    var metric: SensitivityCurves.Metric = .agreement

    @Option(help: "Sparsities to measure, comma-separated, each in [0, 1).")
    var grid = "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"

    @Option(help: "unit: remove channels of each dependency group; weight: mask the weights of each tensor.")
    var granularity: SensitivityCurves.Granularity = .unit

    @Option(help: "How units or weights are ranked (default magnitude:p=2 for units, magnitude for weights).")
    var scorer: String?

    @Option(
        help: ArgumentHelp(
            "How each point is pruned (default: remove for units, mask for weights); e.g. reconstruct, which fits on "
                + "--calibration, so the curves price what recovery cannot win back.", valueName: "rewriter"))
    var rewriter: String?

    @Option(help: "Regular expression: only targets with a parameter matching it (repeatable).")
    var include: [String] = []

    @Option(help: "Regular expression: leave out targets touching a matching name (repeatable).")
    var exclude: [String] = []

    @Option(help: "The JSON cache to read and update (default: MODEL-NAME.sensitivity.METRIC.GRANULARITY.json here).")
    var cache: String?

    @Option(help: "Measure only slice i of N (0 ≤ i < N) of the work list; join slices with `merge`.")
    var shard: String?

    @Option(help: "Where to draw the curves as SVG (default: beside the cache; a PNG too when rsvg-convert is installed).")
    var plot: String?

    @Flag(help: "Do not draw the curves.")
    var noPlot = false

    @Option(help: "Also write a self-contained HTML page with the chart and the table.")
    var html: String?

    @Flag(help: "Time each pruned model in the interpreter (batch 1; 1 warm-up run, then at least 5 runs and 0.2 s).")
    var measureLatency = false

    @Flag(help: "Replace a cache measured on another model, metric or scorer, and existing --plot/--html files.")
    var force = false

    @Flag(help: "Print the curves as JSON on stdout instead of the table.")
    var json = false

    @OptionGroup var execution: ExecutionOptions

    func validate() throws {
        _ = try parsedGrid()
        if let shard { _ = try parsed { try SensitivityShard(parsing: shard) } }
        if calibration.calibration == nil, calibration.data == nil {
            throw ValidationError("missing --calibration or --data: the batches the model is measured on")
        }
        if metric == .accuracy, calibration.labels == nil {
            throw ValidationError("--metric accuracy needs --labels (the tensor of integer labels in the data)")
        }
        if noPlot, plot != nil { throw ValidationError("give --plot or --no-plot, not both") }
    }

    func run() throws {
        let modelURL = URL(fileURLWithPath: model)
        let cacheURL = URL(fileURLWithPath: cache ?? Self.defaultCache(model: modelURL, metric: metric, granularity: granularity))
        var job = SensitivityJob(
            model: modelURL, calibration: calibration.calibration.map { URL(fileURLWithPath: $0) },
            data: calibration.data.map { URL(fileURLWithPath: $0) }, labels: calibration.labels,
            batchSize: calibration.batch, metric: metric, grid: try parsedGrid(), granularity: granularity,
            scorer: try scorer.map { try ComponentSpec(parsing: $0) }, include: include, exclude: exclude,
            shard: try shard.map { try SensitivityShard(parsing: $0) },
            latency: measureLatency ? LatencyProbe.Settings(warmupRuns: 1, minimumRuns: 5, minimumSeconds: 0.2) : nil,
            threads: execution.threadCount, seed: execution.seed)
        job.classesPerPosition = calibration.classesPerPosition
        job.rewriter = try rewriter.map { try ComponentSpec(parsing: $0) }
        job.statistics = calibration.stats.map { URL(fileURLWithPath: $0) }
        var existing: SensitivityCurves?
        if FileManager.default.fileExists(atPath: cacheURL.path) {
            do {
                existing = try SensitivityCurves.load(cacheURL)
            } catch let error as PruneError where force {
                Warnings.print(["\(error.message); --force: starting it afresh"])
            }
        }
        let sweep = SensitivitySweep(progress: TerminalProgress(), warn: { Warnings.print([$0]) })
        let reused = existing?.curves.reduce(0) { $0 + $1.points.count } ?? 0
        let curves: SensitivityCurves
        do {
            curves = try sweep.run(job, reusing: existing, replacingIncompatible: force) { partial in
                try partial.write(to: cacheURL, overwrite: true, sources: [modelURL])
            }
        } catch let error as PruneError where error.message.hasPrefix(SensitivitySweep.incompatibleCachePrefix) {
            throw PruneError(
                error.kind, "\(cacheURL.path): \(error.message) (choose another --cache, or --force to start it afresh)")
        }
        try curves.write(to: cacheURL, overwrite: true, sources: [modelURL])
        let shown = curves.restricted(to: job.grid)
        if json {
            print(try shown.json())
        } else {
            let total = curves.curves.reduce(0) { $0 + $1.points.count }
            print(SensitivityOutput.table(shown, grid: job.grid))
            print(
                "\n\(Format.plural(total - reused, "point")) measured, \(Format.plural(reused, "point")) from the cache"
                    + (job.shard.map { " (shard \($0))" } ?? "") + "; cache: \(cacheURL.path)")
        }
        if !noPlot {
            let svg = plot.map { URL(fileURLWithPath: $0) } ?? cacheURL.deletingPathExtension().appendingPathExtension("svg")
            try SensitivityOutput.drawCurves(shown, to: svg, overwrite: plot == nil || force, sources: [modelURL, cacheURL], quiet: json)
        }
        if let html {
            try SensitivityOutput.writeHTML(shown, grid: job.grid, to: URL(fileURLWithPath: html), overwrite: force, sources: [modelURL, cacheURL])
        }
    }

    /// `MODEL-NAME.sensitivity.METRIC.GRANULARITY.json` in the current directory.
    static func defaultCache(model: URL, metric: SensitivityCurves.Metric, granularity: SensitivityCurves.Granularity) -> String {
        model.deletingPathExtension().lastPathComponent + ".sensitivity.\(metric.rawValue).\(granularity.rawValue).json"
    }

    private func parsedGrid() throws -> [Double] { try parsed { try SensitivityJob.grid(parsing: grid) } }

    private func parsed<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as PruneError { throw ValidationError(error.message) }
    }
}

/// Where the curves are measured: calibration batches and optional evaluation data with labels.
struct SensitivityDataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Calibration batches (a .safetensors file or a directory of them): read by data-aware scorers, and measured on when --data is absent.", valueName: "path"))
    var calibration: String?

    @Option(help: ArgumentHelp("Evaluation data to measure fidelity on (a .safetensors file or a directory of them).", valueName: "path"))
    var data: String?

    @Option(help: ArgumentHelp("Calibration statistics saved by `prune run --save-stats`, for data-aware scorers (instead of collecting them from --calibration).", valueName: "path"))
    var stats: String?

    @Option(help: "The tensor in the data holding one integer label per sample.")
    var labels: String?

    @Option(help: "Samples per batch when the data is one file (default: the model's fixed batch dimension, else 64).")
    var batch: Int?

    @Flag(help: "The first output is [batch, positions, classes]: compare top-1 per position.")
    var classesPerPosition = false

    func validate() throws {
        if let batch, batch < 1 { throw ValidationError("--batch must be at least 1") }
    }
}

/// `prune sensitivity merge A.json B.json … -o OUT.json`: joins shard files.
struct SensitivityMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Join sensitivity files of one model (shards of a sweep) into one.")

    @Argument(help: "The sensitivity files to join (never modified).")
    var inputs: [String]

    @Option(name: .shortAndLong, help: "Where to write the joined file.")
    var output: String

    @Option(help: "Where to draw the joined curves as SVG (default: beside the output).")
    var plot: String?

    @Flag(help: "Do not draw the curves.")
    var noPlot = false

    @Flag(help: "Overwrite the output (and the plot) if they exist.")
    var force = false

    func validate() throws {
        if inputs.isEmpty { throw ValidationError("missing the sensitivity files to merge") }
        if noPlot, plot != nil { throw ValidationError("give --plot or --no-plot, not both") }
    }

    func run() throws {
        let urls = inputs.map { URL(fileURLWithPath: $0) }
        let merged = try SensitivityCurves.merged(try urls.map(SensitivityCurves.load), names: inputs)
        let outputURL = URL(fileURLWithPath: output)
        try merged.write(to: outputURL, overwrite: force, sources: urls)
        let grid = Array(Set(merged.curves.flatMap { $0.points.map(\.sparsity) })).sorted()
        print(SensitivityOutput.table(merged, grid: grid))
        let points = merged.curves.reduce(0) { $0 + $1.points.count }
        print("\n\(Format.plural(points, "point")) from \(Format.plural(inputs.count, "file")) → \(output)")
        if !noPlot {
            let svg = plot.map { URL(fileURLWithPath: $0) } ?? outputURL.deletingPathExtension().appendingPathExtension("svg")
            try SensitivityOutput.drawCurves(merged, to: svg, overwrite: force, sources: urls + [outputURL], quiet: false)
        }
    }
}
