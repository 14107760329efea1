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
///
/// Two variants (``exact`` and ``centered``) make the score the energy removal really takes from the consumer's
/// output; see their documentation and Docs/Transformers.md.
public struct ContributionScorer: Scorer {
    /// Whether to score by the exact energy removed, s_u² = Σ_consumers trace(W_uᵀ G_uu W_u), with G_uu the
    /// `d × d` second moments E[x_j·x_k] (j, k ∈ J_u) instead of their diagonal. Needs block moments of the
    /// unit width in the statistics (``InputFeatureStatistics/blockMoments``); width-1 units need only the
    /// diagonal and score as without it.
    public var exact: Bool
    /// Whether to use (co)variances E[(x_j − μ_j)(x_k − μ_k)] instead of raw second moments: the cost of removal
    /// when a bias absorbs the removed units' mean contribution (FLAP's fluctuation). Needs input means.
    public var centered: Bool

    /// Creates the scorer.
    public init(exact: Bool = false, centered: Bool = false) {
        self.exact = exact
        self.centered = centered
    }

    /// Input features of the consumers (and their means when centered); calibration is required.
    public var dataNeeds: DataNeeds {
        DataNeeds(statistics: StatisticsRequirement(required: centered ? [.inputFeatures, .inputMeans] : .inputFeatures))
    }

    /// One score per unit.
    ///
    /// - Throws: `PruneError` for element targets, missing statistics (including means for `centered` and block
    ///   moments of the unit width for `exact`), or a group with no consumer slice.
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
            let moments = try ConsumerMoments(inputs, parameter: slice.parameter, centered: centered)
            if exact && slice.width > 1 {
                let products = Self.blockProducts(parameter, along: layout.inputAxis, width: slice.width, offset: slice.offset)
                for u in 0..<count {
                    let first = slice.offset + u * slice.width
                    for r in 0..<slice.width {
                        for c in 0..<slice.width {
                            let g = try moments.covariance(first + r, first + c, unitWidth: slice.width)
                            energy[u] += g * products[(u * slice.width + r) * slice.width + c]
                        }
                    }
                }
            } else {
                let rows = Self.squaredNorms(parameter, along: layout.inputAxis)
                for u in 0..<count {
                    let first = slice.offset + u * slice.width
                    for j in first..<(first + slice.width) { energy[u] += try moments.covariance(j, j, unitWidth: 1) * rows[j] }
                }
            }
        }
        guard consumers > 0 else {
            throw PruneError(
                .invalidInput,
                "scorer 'contribution': group '\(target.name)' has no weight that reads its units with calibration "
                    + "statistics (it needs a consumer layer, such as a down or output projection)")
        }
        return Scores(energy.map { Float(max(0, $0).squareRoot()) })
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

    /// ⟨W_j, W_k⟩ for j, k in the same block of `width` indices of `axis` starting at `offset`: the weights that
    /// read index j dotted with those that read k. Entry `(b·width + r)·width + c` pairs `offset + b·width + r`
    /// with `offset + b·width + c`.
    static func blockProducts(_ parameter: Parameter, along axis: Int, width: Int, offset: Int) -> [Double] {
        let shape = parameter.tensor.shape
        let extent = shape[axis]
        let outer = shape[..<axis].reduce(1, *)
        let inner = shape[(axis + 1)...].reduce(1, *)
        let blocks = (extent - offset) / width
        var products = [Double](repeating: 0, count: blocks * width * width)
        parameter.tensor.withFloatValues { w in
            for o in 0..<outer {
                for b in 0..<blocks {
                    for r in 0..<width {
                        let rowR = (o * extent + offset + b * width + r) * inner
                        for c in r..<width {
                            let rowC = (o * extent + offset + b * width + c) * inner
                            var dot = 0.0
                            for i in 0..<inner { dot += Double(w[rowR + i]) * Double(w[rowC + i]) }
                            products[(b * width + r) * width + c] += dot
                            if c != r { products[(b * width + c) * width + r] += dot }
                        }
                    }
                }
            }
        }
        return products
    }
}

/// A consumer's input second moments as the contribution scorer reads them: raw or centered, diagonal or within
/// blocks.
struct ConsumerMoments {
    let inputs: InputFeatureStatistics
    let parameter: String
    let centered: Bool

    init(_ inputs: InputFeatureStatistics, parameter: String, centered: Bool) throws {
        if centered && inputs.sums == nil {
            throw PruneError(
                .invalidInput,
                "scorer 'contribution:centered=true' needs input means of '\(parameter)'; the statistics have only "
                    + "mean squares (calibrate again, or save statistics with this version)")
        }
        self.inputs = inputs
        self.parameter = parameter
        self.centered = centered
    }

    /// E[x_j·x_k] (minus μ_j·μ_k when centered); `j == k` needs only the diagonal.
    func covariance(_ j: Int, _ k: Int, unitWidth: Int) throws -> Double {
        let raw: Double
        if j == k {
            raw = inputs.meanSquare(j)
        } else if let moment = inputs.secondMoment(j, k) {
            raw = moment
        } else {
            throw PruneError(
                .invalidInput,
                "scorer 'contribution:exact=true' needs the input second moments of '\(parameter)' in blocks of "
                    + "\(unitWidth) features (calibrate with this scorer, or save statistics with block moments)")
        }
        guard centered else { return raw }
        if j == k, let variance = inputs.variance(j) { return variance }
        guard let mj = inputs.mean(j), let mk = inputs.mean(k) else { return raw }
        return raw - mj * mk
    }
}
