import PruneCore

/// Chooses one sparsity per target from sensitivity curves so a budget holds while the least fidelity is lost.
///
/// The model is additive: pruning several targets is assumed to lose the sum of the fidelity each loses alone and
/// to save the sum of what each saves alone. Neither is exact (two adjacent groups share a layer whose MACs shrink
/// by the product of both widths), so ``BudgetedRun`` measures the real model and corrects the budget.
public enum BudgetSolver: String, Sendable, Codable, Hashable, CaseIterable {
    /// Repeatedly takes the step (from a target's current grid point to any sparser one) with the least fidelity
    /// lost per unit of resource saved, until the budget holds. Fast, but not optimal when curves are not convex.
    case greedy
    /// A multiple-choice knapsack solved by dynamic programming over savings discretised in `resolution` steps of
    /// the required saving (rounded to the nearest step; an answer that then falls short of the real requirement is
    /// solved again with the requirement raised by the shortfall): the optimum of the additive model up to that
    /// resolution. The default: it costs milliseconds for hundreds of targets.
    case exact

    /// One grid point of one target, as the solver sees it.
    public struct Option: Sendable, Hashable {
        /// The target's sparsity.
        public var sparsity: Double
        /// Fidelity lost against the dense model (dense fidelity − this point's).
        public var loss: Double
        /// Resource saved against the dense model.
        public var saving: Double

        /// Creates an option.
        public init(sparsity: Double, loss: Double, saving: Double) {
            self.sparsity = sparsity
            self.loss = loss
            self.saving = saving
        }
    }

    /// One target's options; a zero-sparsity option (nothing lost, nothing saved) is added when missing.
    public struct Item: Sendable, Hashable {
        /// The target's name.
        public var target: String
        /// Its options, ascending by sparsity.
        public var options: [Option]

        /// Creates an item.
        public init(target: String, options: [Option]) {
            self.target = target
            let sorted = options.sorted { $0.sparsity < $1.sparsity }
            self.options =
                sorted.first?.sparsity == 0 ? sorted : [Option(sparsity: 0, loss: 0, saving: 0)] + sorted
        }
    }

    /// What a solver chose.
    public struct Solution: Sendable, Hashable {
        /// The chosen option index per item.
        public var choices: [Int]
        /// Sum of the chosen options' losses.
        public var loss: Double
        /// Sum of the chosen options' savings.
        public var saving: Double
    }

    /// Chooses an option per item whose savings sum to at least `required`, losing as little as possible.
    ///
    /// - Parameter resolution: for `exact`, the number of saving steps the requirement is divided into.
    /// - Returns: nil when even the sparsest option of every item does not save enough.
    public func solve(_ items: [Item], required: Double, resolution: Int = 2000) -> Solution? {
        let most = items.reduce(0.0) { $0 + ($1.options.map(\.saving).max() ?? 0) }
        guard most >= required else { return nil }
        let choices: [Int]
        if required <= 0 {
            choices = items.map { _ in 0 }
        } else {
            switch self {
            case .greedy: choices = Self.greedy(items, required: required)
            case .exact: choices = Self.exactMeeting(items, required: required, resolution: max(1, resolution))
            }
        }
        let chosen = zip(items, choices).map { $0.options[$1] }
        return Solution(
            choices: choices, loss: chosen.reduce(0) { $0 + $1.loss }, saving: chosen.reduce(0) { $0 + $1.saving })
    }

    /// Least loss per saving first, from each target's current option to any sparser one that saves more.
    static func greedy(_ items: [Item], required: Double) -> [Int] {
        var choices = items.map { _ in 0 }
        var saved = 0.0
        while saved < required {
            var best: (item: Int, option: Int, rate: Double, saving: Double)?
            for (i, item) in items.enumerated() {
                let current = item.options[choices[i]]
                for j in (choices[i] + 1)..<item.options.count {
                    let option = item.options[j]
                    let gained = option.saving - current.saving
                    guard gained > 0 else { continue }
                    let rate = (option.loss - current.loss) / gained
                    // Ties: the larger saving, then the earlier target.
                    if best == nil || rate < best!.rate || (rate == best!.rate && gained > best!.saving) {
                        best = (i, j, rate, gained)
                    }
                }
            }
            guard let step = best else { break }
            choices[step.item] = step.option
            saved += step.saving
        }
        return choices
    }

    /// The exact solver's answer, checked against the undiscretised savings: when rounding to the nearest step let
    /// a choice fall short of `required`, the requirement is raised by the shortfall and one step, and solved again.
    static func exactMeeting(_ items: [Item], required: Double, resolution: Int) -> [Int] {
        var asked = required
        for _ in 0..<4 {
            let choices = exact(items, required: asked, resolution: resolution)
            let saved = zip(items, choices).reduce(0.0) { $0 + $1.0.options[$1.1].saving }
            if saved >= required * (1 - 1e-12) { return choices }
            asked += (required - saved) + asked / Double(resolution)
        }
        return greedy(items, required: required)
    }

    /// Dynamic programming over discretised savings: best[c] = least loss saving at least c steps so far.
    static func exact(_ items: [Item], required: Double, resolution: Int) -> [Int] {
        let step = required / Double(resolution)
        let width = resolution + 1
        var best = [Double](repeating: .infinity, count: width)
        best[0] = 0
        var picks: [[Int]] = []  // picks[i][c]: the option of item i on the best path to c
        picks.reserveCapacity(items.count)
        for item in items {
            var next = [Double](repeating: .infinity, count: width)
            var pick = [Int](repeating: -1, count: width)
            let units = item.options.map { min(resolution, Int(($0.saving / step).rounded())) }
            for c in 0..<width where best[c].isFinite {
                for (j, option) in item.options.enumerated() {
                    let target = min(resolution, c + max(0, units[j]))
                    let loss = best[c] + option.loss
                    if loss < next[target] {
                        next[target] = loss
                        pick[target] = j * width + c
                    }
                }
            }
            best = next
            picks.append(pick)
        }
        guard best[resolution].isFinite else {
            // Unreachable after rounding; the greedy answer meets the requirement whenever anything does.
            return greedy(items, required: required)
        }
        var choices = [Int](repeating: 0, count: items.count)
        var c = resolution
        for i in stride(from: items.count - 1, through: 0, by: -1) {
            let code = picks[i][c]
            choices[i] = code / width
            c = code % width
        }
        return choices
    }
}
