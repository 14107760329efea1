import PruneCore

/// Turns sensitivity curves and a budget into the solver's items: per target, the loss and saving of each grid point.
public struct BudgetProblem: Sendable {
    /// The curves the problem was made from.
    public let curves: SensitivityCurves
    /// The budget.
    public let target: BudgetTarget
    /// One item per curve, in the curves' order.
    public let items: [BudgetSolver.Item]
    /// The dense model's amount of the resource the solver works in.
    public let denseAmount: Double
    /// Whether latency is modelled by MACs (the curves carry no latencies).
    public let latencyFromMACs: Bool

    /// Builds the problem.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` when the curves lack the resource (MACs unknown) or are empty.
    public init(curves: SensitivityCurves, target: BudgetTarget) throws {
        guard !curves.curves.isEmpty else {
            throw PruneError(.invalidInput, "the sensitivity curves of \(curves.model) have no targets")
        }
        let allPoints = [curves.dense] + curves.curves.flatMap(\.points)
        let hasLatency = allPoints.allSatisfy { $0.latencySeconds != nil }
        let amount: (SensitivityCurves.Point) -> Double?
        switch target.resource {
        case .macs: amount = { $0.macs.map(Double.init) }
        case .params, .size: amount = { Double($0.parameters) }
        case .latency: amount = hasLatency ? { $0.latencySeconds } : { $0.macs.map(Double.init) }
        }
        guard let dense = amount(curves.dense), dense > 0 else {
            throw PruneError(
                .invalidInput,
                "the sensitivity curves of \(curves.model) have no \(target.resource == .latency ? "latencies or MACs" : target.resource.rawValue) "
                    + "for the dense model, needed by --target \(target)")
        }
        var items: [BudgetSolver.Item] = []
        for curve in curves.curves {
            var options: [BudgetSolver.Option] = []
            for point in curve.points {
                guard let value = amount(point) else {
                    throw PruneError(
                        .invalidInput,
                        "curve '\(curve.target)' has no \(target.resource.rawValue) at sparsity \(point.sparsity)")
                }
                options.append(
                    .init(sparsity: point.sparsity, loss: curves.dense.fidelity - point.fidelity, saving: dense - value))
            }
            items.append(BudgetSolver.Item(target: curve.target, options: options))
        }
        self.curves = curves
        self.target = target
        self.items = items
        self.denseAmount = dense
        self.latencyFromMACs = target.resource == .latency && !hasLatency
    }

    /// Solves for keeping at most `keep` of the dense amount (the target's own fraction unless corrected).
    ///
    /// - Returns: per-target sparsities (every target, in the curves' order), or nil when the curves' sparsest
    ///   points together cannot save enough.
    public func solve(with solver: BudgetSolver, keep: Double? = nil) -> Allocation? {
        let fraction = keep ?? target.keep
        guard let solution = solver.solve(items, required: (1 - fraction) * denseAmount) else { return nil }
        return Allocation(
            entries: zip(items, solution.choices).map { item, choice in
                Allocation.Entry(
                    target: item.target, sparsity: item.options[choice].sparsity, predictedLoss: item.options[choice].loss)
            }, predictedKept: 1 - solution.saving / denseAmount, predictedLoss: solution.loss)
    }
}

/// Per-target sparsities, with what the curves predict of them.
public struct Allocation: Sendable, Codable, Hashable {
    /// One target's sparsity.
    public struct Entry: Sendable, Codable, Hashable {
        /// The target's name.
        public var target: String
        /// The fraction of its units (or weights) pruned.
        public var sparsity: Double
        /// Fidelity its curve says it loses alone at this sparsity.
        public var predictedLoss: Double

        /// Creates an entry.
        public init(target: String, sparsity: Double, predictedLoss: Double) {
            self.target = target
            self.sparsity = sparsity
            self.predictedLoss = predictedLoss
        }
    }

    /// Every target, in the curves' order.
    public var entries: [Entry]
    /// The fraction of the resource the additive model predicts is kept.
    public var predictedKept: Double
    /// The sum of the entries' predicted losses.
    public var predictedLoss: Double

    /// Creates an allocation.
    public init(entries: [Entry], predictedKept: Double, predictedLoss: Double) {
        self.entries = entries
        self.predictedKept = predictedKept
        self.predictedLoss = predictedLoss
    }

    /// The non-zero sparsities by target name: the `targets` selector's table.
    public var table: [String: Double] {
        entries.reduce(into: [:]) { table, entry in if entry.sparsity > 0 { table[entry.target] = entry.sparsity } }
    }
}
