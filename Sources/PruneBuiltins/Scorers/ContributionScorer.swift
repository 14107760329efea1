import PruneCore

/// The data-aware `contribution` criterion for units: how much signal a unit sends into the layers that read it.
///
/// For every scored slice of the group that runs along a weight's *input* axis (the consumer: an FFN's down
/// projection, attention's output projection, the next Conv), unit `u` covering input features `J_u` scores
///
///   s_u = sqrt( Σ_consumers Σ_{j ∈ J_u} E[x_j²] · ‖W_j‖² ),
///
/// with E[x_j²] the calibration mean square of input feature `j` and ‖W_j‖² the squared norm of the weights that
/// read it: the expected energy the unit adds to the consumer's output when the features are uncorrelated. For an
/// attention head (`J_u` its `d` context features) that is the norm of the head's output through the output
/// projection; for a feed-forward neuron, its GELU output's energy through the down projection (FLAP and Wanda's
/// structured variants score the same way). Element targets are an error.
public struct ContributionScorer: Scorer {
    /// Creates the scorer.
    public init() {}

    /// Input features of the consumers; calibration is required.
    public var dataNeeds: DataNeeds { DataNeeds(statistics: StatisticsRequirement(required: .inputFeatures)) }

    /// One score per unit.
    ///
    /// - Throws: `PruneError` for element targets, missing statistics, or a group with no consumer slice.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        let statistics = try CalibrationLookup.statistics(context, scorer: "contribution")
        guard case .units(let count, let slices) = target.kind else {
            throw PruneError(
                .unsupported,
                "scorer 'contribution' scores units; '\(target.name)' is an element target (use --granularity unit)")
        }
        var energy = [Double](repeating: 0, count: count)
        var consumers = 0
        for slice in slices {
            guard let parameter = context.model[slice.parameter], let layout = parameter.effectiveLayout,
                slice.axis == layout.inputAxis, let inputs = statistics.inputs[slice.parameter], inputs.groups == 1,
                inputs.featureCount == parameter.tensor.shape[layout.inputAxis]
            else { continue }
            consumers += 1
            let rows = Self.squaredNorms(parameter, along: layout.inputAxis)
            for u in 0..<count {
                let first = slice.offset + u * slice.width
                for j in first..<(first + slice.width) { energy[u] += inputs.meanSquare(j) * rows[j] }
            }
        }
        guard consumers > 0 else {
            throw PruneError(
                .invalidInput,
                "scorer 'contribution': group '\(target.name)' has no weight that reads its units with calibration "
                    + "statistics (it needs a consumer layer, such as a down or output projection)")
        }
        return Scores(energy.map { Float($0.squareRoot()) })
    }

    /// Σ w² over every element of `parameter` that reads index `j` of `axis`, for each `j`.
    static func squaredNorms(_ parameter: Parameter, along axis: Int) -> [Double] {
        let shape = parameter.tensor.shape
        let extent = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        var sums = [Double](repeating: 0, count: extent)
        parameter.tensor.withFloatValues { w in
            for index in 0..<w.count {
                let v = Double(w[index])
                sums[(index / inner) % extent] += v * v
            }
        }
        return sums
    }
}
