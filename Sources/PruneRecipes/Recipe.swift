import PruneCore

/// A pruning pipeline written as data: plugins to load and stages to run, with the same component names and
/// parameters as the command line.
///
/// A recipe maps one to one onto a ``Pipeline``: ``Recipe/pipeline(registry:)`` builds one, and
/// ``Recipe/init(_:)`` describes one. See `Docs/Recipes.md` for the YAML form.
public struct Recipe: Sendable, Hashable {
    /// A plugin the recipe needs, optionally pinned to a SHA-256 digest.
    public struct Plugin: Sendable, Hashable {
        /// The path as written (relative paths are taken from the recipe's directory).
        public var path: String
        /// The lowercase hex SHA-256 the file must have, when pinned.
        public var sha256: String?

        /// Creates an entry.
        public init(path: String, sha256: String? = nil) {
            self.path = path
            self.sha256 = sha256
        }
    }

    /// One stage as written.
    public struct StageEntry: Sendable, Hashable {
        /// A label for reports.
        public var name: String
        /// The scorer, e.g. `magnitude:p=2`.
        public var scorer: ComponentSpec
        /// The selector, e.g. `global:sparsity=0.5`.
        public var selector: ComponentSpec
        /// The rewriter; `mask` unless written.
        public var rewriter: ComponentSpec
        /// Which tensors, at which granularity.
        public var targets: TargetFilter
        /// The line the stage starts on in its file (0 when built in code).
        public var line: Int
        /// Steps of rising sparsity, when the stage is not one-shot (``Schedule``).
        public var schedule: Schedule? = nil

        /// Creates a stage entry.
        public init(
            name: String, scorer: ComponentSpec, selector: ComponentSpec,
            rewriter: ComponentSpec = ComponentSpec(name: "mask"), targets: TargetFilter = TargetFilter(), line: Int = 0
        ) {
            self.name = name
            self.scorer = scorer
            self.selector = selector
            self.rewriter = rewriter
            self.targets = targets
            self.line = line
        }

        /// The granularity a stage has when none is written: `unit` for a rewriter that cuts whole units
        /// (`remove`), `element` for the rest. The CLI's `--granularity` default follows the same rule.
        public static func impliedGranularity(rewriter: ComponentSpec) -> PruneTarget.Granularity {
            rewriter.name == "remove" ? .unit : .element
        }

        /// Entries are equal when everything but the source line is.
        public static func == (lhs: StageEntry, rhs: StageEntry) -> Bool {
            lhs.name == rhs.name && lhs.scorer == rhs.scorer && lhs.selector == rhs.selector
                && lhs.rewriter == rhs.rewriter && lhs.targets == rhs.targets && lhs.schedule == rhs.schedule
        }

        /// Hashes everything but the source line.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            hasher.combine(scorer)
            hasher.combine(selector)
            hasher.combine(rewriter)
            hasher.combine(targets)
            hasher.combine(schedule)
        }
    }

    /// Plugins to load before the stages are built.
    public var plugins: [Plugin]
    /// The stages, in the order they run.
    public var stages: [StageEntry]

    /// Creates a recipe from its parts.
    public init(plugins: [Plugin] = [], stages: [StageEntry]) {
        self.plugins = plugins
        self.stages = stages
    }

    /// Describes `pipeline` as a recipe, from each stage's name, targets and component descriptions.
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` when a stage's description is not `NAME[:key=value,...]`
    ///   (a stage built in code from component values describes them by type name, which is not registered).
    public init(_ pipeline: Pipeline) throws {
        self.init(
            stages: try pipeline.stages.map { stage in
                StageEntry(
                    name: stage.name, scorer: try ComponentSpec(parsing: stage.description.scorer),
                    selector: try ComponentSpec(parsing: stage.description.selector),
                    rewriter: try ComponentSpec(parsing: stage.description.rewriter), targets: stage.targets)
            })
    }

    /// Builds the pipeline, resolving every component in `registry`; a stage with a ``Schedule`` becomes one stage
    /// per step (every step after the first re-calibrates, ``Stage/recalibrate``).
    ///
    /// - Throws: `PruneError` for an unknown component, a bad parameter or a bad pattern; the message starts with
    ///   the stage's line when the recipe came from a file, and names the stage unless it is the only one, built in
    ///   code.
    public func pipeline(registry: ComponentRegistry, file: String = "recipe") throws -> Pipeline {
        Pipeline(
            try stages.flatMap { entry in
                do {
                    return try entry.expanded().map { step, recalibrate in
                        var stage = try Stage(
                            name: step.name, targets: step.targets, scorer: step.scorer, selector: step.selector,
                            rewriter: step.rewriter, registry: registry)
                        stage.recalibrate = recalibrate
                        return stage
                    }
                } catch let error as PruneError {
                    // A one-stage recipe built in code (the command line's flags) needs no stage name.
                    guard entry.line > 0 || stages.count > 1 else { throw error }
                    let place = entry.line > 0 ? "\(file):\(entry.line): " : ""
                    throw PruneError(error.kind, "\(place)stage '\(entry.name)': \(error.message)")
                }
            })
    }
}
