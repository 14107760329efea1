/// A scorer whose scores are another scorer's, normalised within each target.
public struct NormalizedScorer: Scorer {
    /// The scorer whose output is normalised.
    public let base: any Scorer
    /// The normalisation.
    public let normalization: ScoreNormalization

    /// Wraps `base`.
    public init(_ base: any Scorer, _ normalization: ScoreNormalization) {
        self.base = base
        self.normalization = normalization
    }

    /// The base scorer's data needs.
    public var dataNeeds: DataNeeds { base.dataNeeds }

    /// The base scores, normalised.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        var values = try base.scores(for: target, in: context).values
        normalization.apply(to: &values)
        return Scores(values)
    }
}

/// A scorer that scores a unit target by reducing another scorer's element scores over each unit.
///
/// Element targets pass straight through to the base scorer.
public struct UnitReducedScorer: Scorer {
    /// The element scorer.
    public let base: any Scorer
    /// How a unit's element scores combine.
    public let reduction: UnitReduction

    /// Wraps `base`.
    public init(_ base: any Scorer, _ reduction: UnitReduction) {
        self.base = base
        self.reduction = reduction
    }

    /// The base scorer's data needs.
    public var dataNeeds: DataNeeds { base.dataNeeds }

    /// Element scores from the base, reduced per unit for unit targets.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        guard case .units = target.kind else { return try base.scores(for: target, in: context) }
        return try ElementScores.scores(for: target, in: context, reduction: reduction) { parameter in
            try base.scores(for: .elements(of: parameter), in: context).values
        }
    }
}

/// A weighted sum of several scorers' scores: Σ wₖ·sₖ.
public struct WeightedSumScorer: Scorer {
    /// The terms.
    public let terms: [(weight: Float, scorer: any Scorer)]

    /// Creates the sum.
    ///
    /// - Precondition: at least one term.
    public init(_ terms: [(weight: Float, scorer: any Scorer)]) {
        precondition(!terms.isEmpty, "a weighted sum needs at least one term")
        self.terms = terms
    }

    /// What any term reads.
    public var dataNeeds: DataNeeds {
        terms.reduce(.none) { $0.union($1.scorer.dataNeeds) }
    }

    /// The weighted sum of the terms' scores.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        var total = [Float](repeating: 0, count: target.scoreCount)
        for (weight, scorer) in terms {
            let scores = try scorer.scores(for: target, in: context)
            try scores.validate(for: target, source: String(describing: type(of: scorer)))
            for i in total.indices { total[i] += weight * scores.values[i] }
        }
        return Scores(total)
    }
}

/// The element-wise product of several scorers' scores (e.g. |w| × activation norm).
public struct ProductScorer: Scorer {
    /// The factors.
    public let factors: [any Scorer]

    /// Creates the product.
    ///
    /// - Precondition: at least one factor.
    public init(_ factors: [any Scorer]) {
        precondition(!factors.isEmpty, "a product needs at least one factor")
        self.factors = factors
    }

    /// What any factor reads.
    public var dataNeeds: DataNeeds {
        factors.reduce(.none) { $0.union($1.dataNeeds) }
    }

    /// The product of the factors' scores.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        var total = [Float](repeating: 1, count: target.scoreCount)
        for scorer in factors {
            let scores = try scorer.scores(for: target, in: context)
            try scores.validate(for: target, source: String(describing: type(of: scorer)))
            for i in total.indices { total[i] *= scores.values[i] }
        }
        return Scores(total)
    }
}

extension Scorer {
    /// These scores normalised within each target.
    public func normalized(_ normalization: ScoreNormalization) -> NormalizedScorer {
        NormalizedScorer(self, normalization)
    }

    /// These element scores reduced per unit with `reduction` when the target is a unit target.
    public func reducedToUnits(_ reduction: UnitReduction) -> UnitReducedScorer {
        UnitReducedScorer(self, reduction)
    }

    /// `weight` × these scores + `other` weighted by `otherWeight`.
    public func weighted(_ weight: Float, plus other: any Scorer, weighted otherWeight: Float) -> WeightedSumScorer {
        WeightedSumScorer([(weight, self), (otherWeight, other)])
    }

    /// The element-wise product of these scores and `other`'s.
    public func multiplied(by other: any Scorer) -> ProductScorer {
        ProductScorer([self, other])
    }
}
