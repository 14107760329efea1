import Foundation
import PruneCore
import PrunePluginHost
import PruneRecipes

/// Everything one pruning run needs, independent of how it was asked for (command-line flags, a recipe, code).
///
/// ``PruneEngine/run(_:)`` carries it out. The stages are always a ``Recipe``: flags describe a one-stage recipe,
/// `--recipe` reads one from a file, so both take the same path.
public struct PruneJob: Sendable {
    /// Where calibration data comes from.
    public enum Calibration: Sendable {
        /// No calibration data.
        case none
        /// Calibration batches (a safetensors file or a directory of them); statistics are collected once on the
        /// input model, and saved to `saveStatistics` when given.
        case batches(URL, saveStatistics: URL? = nil)
        /// Statistics saved earlier (no batches: rewriters that run the model cannot use them).
        case statistics(URL)

        /// The batches' file or directory, when there are batches.
        public var batchesURL: URL? {
            if case .batches(let url, _) = self { return url }
            return nil
        }
    }

    /// How `--measure-latency` times the input and output models.
    public struct LatencyOptions: Sendable, Hashable {
        /// The batch sizes timed.
        public var batches: [Int]
        /// Untimed runs before timing.
        public var warmupRuns: Int
        /// Timed runs per model and batch at least.
        public var minimumRuns: Int
        /// Seconds of timed runs per model and batch at least (more runs are made until both minimums hold).
        public var minimumSeconds: Double

        /// Creates options; the defaults warm up 3 runs and time at least 10 runs and 1 s per model and batch.
        public init(batches: [Int] = [1, 8], warmupRuns: Int = 3, minimumRuns: Int = 10, minimumSeconds: Double = 1) {
            self.batches = batches
            self.warmupRuns = warmupRuns
            self.minimumRuns = minimumRuns
            self.minimumSeconds = minimumSeconds
        }
    }

    /// The model file to prune (never modified).
    public var input: URL
    /// Where the pruned model goes.
    public var output: URL
    /// The stages, and plugins the recipe names.
    public var recipe: Recipe
    /// The recipe's file, when it came from one: plugin paths are relative to it and errors name it.
    public var recipeFile: URL?
    /// Plugins to load besides the recipe's (in order).
    public var plugins: [PluginReference]
    /// Directories whose libraries are loaded as plugins too (`PRUNE_PLUGIN_PATH`).
    public var pluginDirectories: [String]
    /// How plugin files are trusted.
    public var pluginOptions: PluginLoadOptions
    /// Calibration data for scorers and rewriters that read it.
    public var calibration: Calibration
    /// Also write the report as JSON here.
    public var reportFile: URL?
    /// Whether existing output, report and statistics files may be replaced.
    public var overwrite: Bool
    /// Time the input and output models, when set (ONNX only).
    public var latency: LatencyOptions?
    /// The seed for anything random.
    public var seed: UInt64
    /// Threads for scans, calibration and timing.
    public var threads: Int
    /// How the output stores its tensors (dense by default; `Docs/Compression.md`).
    public var storage: TensorStorage = .dense
    /// Measure the model after every stage against the dense model, when set (ONNX only; ``StageFidelityOptions``).
    public var stageFidelity: StageFidelityOptions?
    /// Also write the report as a self-contained HTML page here (``PruneReport/htmlPage(fidelity:metric:)``).
    public var htmlReportFile: URL?

    /// Creates a job.
    public init(
        input: URL, output: URL, recipe: Recipe, recipeFile: URL? = nil, plugins: [PluginReference] = [],
        pluginDirectories: [String] = [], pluginOptions: PluginLoadOptions = PluginLoadOptions(),
        calibration: Calibration = .none, reportFile: URL? = nil, overwrite: Bool = false,
        latency: LatencyOptions? = nil, seed: UInt64 = 0, threads: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        self.input = input
        self.output = output
        self.recipe = recipe
        self.recipeFile = recipeFile
        self.plugins = plugins
        self.pluginDirectories = pluginDirectories
        self.pluginOptions = pluginOptions
        self.calibration = calibration
        self.reportFile = reportFile
        self.overwrite = overwrite
        self.latency = latency
        self.seed = seed
        self.threads = threads
    }

    /// Every plugin the job loads: the explicit ones, then the recipe's (relative to its file).
    public var allPlugins: [PluginReference] {
        plugins
            + recipe.plugins.map {
                PluginReference(path: $0.path, sha256: $0.sha256, relativeTo: recipeFile?.deletingLastPathComponent())
            }
    }
}
