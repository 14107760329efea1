import PruneCore

/// Pruning in steps of rising sparsity instead of at once, without training: each step scores, selects and rewrites
/// (`reconstruct` re-fits) the model the previous step produced, with calibration statistics re-collected on it.
///
/// Step k of K reaches s·f(k/K) of the stage's sparsity s: f(x) = x (`linear`) or f(x) = 1 − (1 − x)³ (`cubic`,
/// Zhu & Gupta's gradual schedule: large steps first, small ones near the end).
public struct Schedule: Sendable, Hashable {
    /// How the sparsity rises over the steps.
    public enum Curve: String, Sendable, Hashable, CaseIterable {
        /// Equal steps.
        case linear
        /// 1 − (1 − k/K)³: most of the pruning early, fine steps at the end.
        case cubic
    }

    /// The number of steps K (1 is one-shot).
    public var steps: Int
    /// The curve.
    public var curve: Curve

    /// Creates a schedule.
    ///
    /// - Precondition: `steps >= 1`.
    public init(steps: Int, curve: Curve = .cubic) {
        precondition(steps >= 1, "a schedule needs at least one step")
        self.steps = steps
        self.curve = curve
    }

    /// The fraction of the final sparsity reached after each step, f(k/K) for k = 1…K (the last is 1).
    public var fractions: [Double] {
        (1...steps).map { k in
            let x = Double(k) / Double(steps)
            return switch curve {
            case .linear: x
            case .cubic: 1 - (1 - x) * (1 - x) * (1 - x)
            }
        }
    }

    /// The selector `sparsity` of every step for a stage whose selector asks for `sparsity` in total.
    ///
    /// Element selections see the weights earlier steps zeroed (they score lowest and are chosen again), so step k
    /// asks for the cumulative s·f(k/K). Unit selections act on the units still there, so step k removes the share
    /// of them that brings the kept fraction from 1 − s·f((k−1)/K) down to 1 − s·f(k/K).
    public func stepSparsities(_ sparsity: Double, granularity: PruneTarget.Granularity) -> [Double] {
        let targets = fractions.map { sparsity * $0 }
        guard granularity == .unit else { return targets }
        var kept = 1.0
        return targets.map { target in
            let share = kept > 0 ? max(0, 1 - (1 - target) / kept) : 0
            kept = 1 - target
            return share
        }
    }
}

extension Recipe.StageEntry {
    /// The stages this entry runs: itself, or one per step of its schedule (named `NAME step k/K`, the selector's
    /// `sparsity` set per ``Schedule/stepSparsities(_:granularity:)``, every step after the first re-calibrated).
    ///
    /// - Throws: `PruneError.Kind.invalidParameter` when a scheduled stage's selector has no numeric `sparsity`.
    func expanded() throws -> [(entry: Recipe.StageEntry, recalibrate: Bool)] {
        guard let schedule else { return [(self, false)] }
        guard let index = selector.arguments.firstIndex(where: { $0.key == "sparsity" }),
            let sparsity = Double(selector.arguments[index].value)
        else {
            throw PruneError(
                .invalidParameter,
                "a schedule needs a selector with a numeric 'sparsity' parameter (the final sparsity); "
                    + "'\(selector)' has none")
        }
        let steps = schedule.stepSparsities(sparsity, granularity: targets.granularity)
        return steps.enumerated().map { k, stepSparsity in
            var arguments = selector.arguments
            arguments[index].value = String(stepSparsity)
            var step = self
            step.name = "\(name) step \(k + 1)/\(steps.count)"
            step.selector = ComponentSpec(name: selector.name, arguments: arguments)
            step.schedule = nil
            return (step, k > 0)
        }
    }
}
