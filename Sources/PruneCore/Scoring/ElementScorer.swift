/// A scorer defined element by element on one parameter; unit targets are scored by reducing its element
/// scores over each unit's slices.
///
/// Conform by implementing `elementScores(of:in:)`; `scores(for:in:)` comes for free. Override
/// `unitReduction` to choose how units reduce (L2 by default).
public protocol ElementScorer: Scorer {
    /// One score per element of `parameter`, in row-major order.
    func elementScores(of parameter: Parameter, in context: PruneContext) throws -> [Float]
    /// How element scores combine into a unit's score.
    var unitReduction: UnitReduction { get }
}

extension ElementScorer {
    /// L2: a unit's score is the Euclidean norm of its element scores.
    public var unitReduction: UnitReduction { .l2 }

    /// Scores elements directly, or units by reducing element scores with `unitReduction`.
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        try ElementScores.scores(for: target, in: context, reduction: unitReduction) { parameter in
            try elementScores(of: parameter, in: context)
        }
    }
}

/// Shared plumbing for scorers that work element-wise.
public enum ElementScores {
    /// Scores `target` from per-parameter element scores, reducing them with `reduction` for unit targets.
    public static func scores(
        for target: PruneTarget, in context: PruneContext, reduction: UnitReduction,
        elementScores: (Parameter) throws -> [Float]
    ) throws -> Scores {
        switch target.kind {
        case .elements(let name):
            return Scores(try elementScores(context.model.parameter(named: name)))
        case .units(let count, let slices):
            // A parameter several slices cut (a group repeated across the groups of a grouped convolution has one
            // slice per convolution group) is scored once.
            var byParameter: [String: (scores: [Float], shape: [Int])] = [:]
            var perSlice: [[Float]] = []
            var shapes: [[Int]] = []
            for slice in slices {
                if byParameter[slice.parameter] == nil {
                    let parameter = try context.model.parameter(named: slice.parameter)
                    byParameter[slice.parameter] = (try elementScores(parameter), parameter.tensor.shape)
                }
                let entry = byParameter[slice.parameter]!
                perSlice.append(entry.scores)
                shapes.append(entry.shape)
            }
            return Scores(reduction.reduce(units: count, slices: slices, elementScores: perSlice, shapes: shapes))
        }
    }
}
