import PruneCore

/// What a budgeted run chose and reached: the `budget` field of a ``PruneReport``.
public struct BudgetReport: Sendable, Codable, Hashable {
    /// One back-off step of the guard.
    public struct BackOff: Sendable, Codable, Hashable {
        /// The target whose sparsity was lowered.
        public var target: String
        /// Its sparsity before.
        public var from: Double
        /// Its sparsity after (the next lower grid point of its curve).
        public var to: Double
        /// The held-out fidelity measured before this step.
        public var fidelityBefore: Double
        /// The resource fraction kept, measured before this step.
        public var keptBefore: Double?

        /// Creates a step.
        public init(target: String, from: Double, to: Double, fidelityBefore: Double, keptBefore: Double?) {
            self.target = target
            self.from = from
            self.to = to
            self.fidelityBefore = fidelityBefore
            self.keptBefore = keptBefore
        }
    }

    /// The guard's outcome.
    public struct GuardOutcome: Sendable, Codable, Hashable {
        /// The floor, `METRIC>=VALUE`.
        public var floor: String
        /// Held-out samples measured (never used for scoring).
        public var heldOutSamples: Int
        /// The value reached by the written model.
        public var reached: Double
        /// The steps taken, in order (empty when the first allocation held the floor).
        public var backOffs: [BackOff]
    }

    /// The budget, `RESOURCE=FRACTION`.
    public var target: String
    /// The solver used.
    public var solver: BudgetSolver
    /// The curves' model file name, metric and granularity.
    public var curves: String
    /// The allocation written.
    public var allocation: Allocation
    /// The fraction of the resource the written model keeps, measured (MACs, non-zero parameters, or file bytes;
    /// latency budgets solved over curve latencies are not re-measured and leave this nil).
    public var measuredKept: Double?
    /// True when latency was modelled as MACs with SIMD-rounded widths (the curves had no latencies).
    public var latencyFromMACs: Bool?
    /// The kept-fraction the solver was last asked for, after correcting the additive model's error.
    public var solvedFor: Double
    /// The guard's outcome, when `--guard` was given.
    public var guardOutcome: GuardOutcome?

    /// Creates a report.
    public init(
        target: String, solver: BudgetSolver, curves: String, allocation: Allocation, measuredKept: Double?,
        latencyFromMACs: Bool?, solvedFor: Double, guardOutcome: GuardOutcome?
    ) {
        self.target = target
        self.solver = solver
        self.curves = curves
        self.allocation = allocation
        self.measuredKept = measuredKept
        self.latencyFromMACs = latencyFromMACs
        self.solvedFor = solvedFor
        self.guardOutcome = guardOutcome
    }
}
