/// One step of a pipeline: which targets, how to score them, how to select, how to rewrite.
public struct Stage: Sendable {
    /// A label for reports.
    public var name: String
    /// Which tensors the stage works on.
    public var targets: TargetFilter
    /// Scores each target.
    public var scorer: any Scorer
    /// Chooses what goes.
    public var selector: any Selector
    /// Applies the choice.
    public var rewriter: any Rewriter
    /// How each component was specified (`NAME:key=value`), for reports and metadata.
    public var description: StageDescription
    /// Where targets come from when not from `targets` alone (structural groups); nil uses the filter.
    public var targetProvider: (any TargetProvider)?
    /// Whether calibration statistics are collected again on the stage's input model before it scores
    /// (``PruneContext/recalibrate``): the steps of a schedule after the first, whose input is no longer the model
    /// the statistics describe.
    public var recalibrate = false

    /// The calibration data the stage's scorer and rewriter read, taken together.
    public var dataNeeds: DataNeeds { scorer.dataNeeds.union(rewriter.dataNeeds) }

    /// Creates a stage from component values.
    ///
    /// - Parameter description: how to name the components in reports; by default their type names.
    public init(
        name: String = "stage", targets: TargetFilter = TargetFilter(), scorer: any Scorer,
        selector: any Selector, rewriter: any Rewriter, description: StageDescription? = nil
    ) {
        self.name = name
        self.targets = targets
        self.scorer = scorer
        self.selector = selector
        self.rewriter = rewriter
        self.description =
            description
            ?? StageDescription(
                scorer: String(describing: type(of: scorer)), selector: String(describing: type(of: selector)),
                rewriter: String(describing: type(of: rewriter)))
    }

    /// Creates a stage from component specs resolved in `registry` (the form the CLI and recipes use).
    ///
    /// - Throws: `PruneError` for unknown components, bad parameters, or bad patterns.
    public init(
        name: String = "stage", targets: TargetFilter = TargetFilter(), scorer: ComponentSpec,
        selector: ComponentSpec, rewriter: ComponentSpec, registry: ComponentRegistry
    ) throws {
        try targets.validate()
        self.init(
            name: name, targets: targets, scorer: try registry.makeScorer(scorer),
            selector: try registry.makeSelector(selector), rewriter: try registry.makeRewriter(rewriter),
            description: StageDescription(
                scorer: scorer.description, selector: selector.description, rewriter: rewriter.description))
    }
}

/// The textual form of a stage's components, as reports and file metadata record them.
public struct StageDescription: Sendable, Hashable, Codable {
    /// The scorer, e.g. `magnitude:p=2`.
    public var scorer: String
    /// The selector, e.g. `global:sparsity=0.5`.
    public var selector: String
    /// The rewriter, e.g. `mask`.
    public var rewriter: String

    /// Creates a description.
    public init(scorer: String, selector: String, rewriter: String) {
        self.scorer = scorer
        self.selector = selector
        self.rewriter = rewriter
    }
}
