import PruneCore

/// Registers PruneKit's built-in scorers and selectors and the `mask` rewriter, through the same API plugins
/// use. (`remove` and `reconstruct` are registered by their own targets; `ComponentRegistry.standard()` in PruneKit
/// collects all of them.)
public enum BuiltinComponents {
    /// Adds these built-ins to `registry`.
    ///
    /// - Throws: `PruneError.Kind.duplicateComponent` if one of the names is already taken.
    public static func register(into registry: ComponentRegistry) throws {
        try registerScorers(registry)
        try registerSelectors(registry)
        try registry.register(
            rewriter: info(.rewriter, "mask", "write zeros in place; shapes and dtypes stay", "")
        ) { _ in MaskRewriter() }
    }

    private static func registerScorers(_ registry: ComponentRegistry) throws {
        try registry.register(
            scorer: info(
                .scorer, "magnitude",
                "|w| per element; the Lp norm of a unit's weights (p = 1, 2, inf; depthwise=exclude leaves depthwise "
                    + "Conv weights out, as Torch-Pruning does)",
                "p:f64[1..inf]=1,depthwise:str{include|exclude}=include")
        ) { values in
            let depthwise = MagnitudeScorer.Depthwise(rawValue: values.string("depthwise")) ?? .include
            return MagnitudeScorer(p: values.double("p"), depthwise: depthwise)
        }
        try registry.register(
            scorer: info(
                .scorer, "energy", "w²·E[x²] (w² without calibration), normalised within each tensor the LAMP way", "")
        ) { _ in EnergyScorer() }
        try registry.register(
            scorer: info(.scorer, "random", "seeded uniform scores: the baseline to beat", "seed:i64=0")
        ) { RandomScorer(seed: UInt64(bitPattern: Int64($0.int("seed")))) }
        try registry.register(
            scorer: info(
                .scorer, "activation", "calibration: Wanda |w|·‖x‖₂ per element (use with row); mean |a| per unit", "")
        ) { _ in ActivationScorer() }
        try registry.register(
            scorer: info(.scorer, "density", "calibration: fraction of non-zero outputs per unit (1 − APoZ)", "")
        ) { _ in DensityScorer() }
        try registry.register(
            scorer: info(
                .scorer, "contribution",
                "calibration: per unit, sqrt(Σ E[x_j²]·‖W_j‖²) over the layers reading it (exact=true: the unit's "
                    + "full second-moment block; centered=true: variances, the cost when a bias absorbs the mean)",
                "exact:bool=false,centered:bool=false")
        ) { values in ContributionScorer(exact: values.bool("exact"), centered: values.bool("centered")) }
    }

    private static func registerSelectors(_ registry: ComponentRegistry) throws {
        try registry.register(
            selector: info(.selector, "threshold", "prune every score ≤ tau", "tau:f64")
        ) { ThresholdSelector(tau: Float($0.double("tau"))) }
        try registry.register(
            selector: info(
                .selector, "layer", "prune the same fraction of each tensor or group",
                "sparsity:f64[0..1),rounding:str{nearest|floor-keep}=nearest,round:i64[1..]=1")
        ) { values in
            LayerSelector(
                sparsity: values.double("sparsity"),
                rounding: LayerSelector.Rounding(rawValue: values.string("rounding")) ?? .nearest,
                multiple: values.int("round"))
        }
        try registry.register(
            selector: info(
                .selector, "global", "one ranking across all tensors, with per-tensor floors and caps",
                "sparsity:f64[0..1),min:f64[0..1]=0,max:f64[0..1]=1,round:i64[1..]=1")
        ) { values in
            let (minimum, maximum) = (values.double("min"), values.double("max"))
            guard minimum <= maximum else {
                throw PruneError(.invalidParameter, "'global': min=\(minimum) is above max=\(maximum)")
            }
            return GlobalSelector(
                sparsity: values.double("sparsity"), minimum: minimum, maximum: maximum, multiple: values.int("round"))
        }
        try registry.register(
            selector: info(
                .selector, "targets", "prune each named target by its own fraction (the allocation a budget chose)",
                "sparsities:str,default:f64[0..1)=0,round:i64[1..]=1")
        ) { values in
            try TargetSparsitySelector(
                parsing: values.string("sparsities"), defaultSparsity: values.double("default"),
                multiple: values.int("round"))
        }
        try registry.register(
            selector: info(
                .selector, "owl",
                "outlier-weighted layer sparsity (OWL): layers with more outlier scores (> m × mean) keep more",
                "sparsity:f64[0..1),m:f64(0..]=5,lambda:f64[0..1)=0.08,per:str{row|layer}=row")
        ) { values in
            OutlierWeightedSelector(
                sparsity: values.double("sparsity"), outlierMultiple: values.double("m"),
                spread: values.double("lambda"),
                comparison: OutlierWeightedSelector.Comparison(rawValue: values.string("per")) ?? .row)
        }
        try registry.register(
            selector: info(.selector, "row", "prune the same fraction of each output row", "sparsity:f64[0..1)")
        ) { RowSelector(sparsity: $0.double("sparsity")) }
        try registry.register(
            selector: info(
                .selector, "nm", "keep n of every m weights along the input dimension", "n:i64[0..]=2,m:i64[1..]=4")
        ) { values in
            let (n, m) = (values.int("n"), values.int("m"))
            guard n <= m else { throw PruneError(.invalidParameter, "'nm': n=\(n) is larger than m=\(m)") }
            return NMSelector(n: n, m: m)
        }
    }

    private static func info(_ kind: ComponentKind, _ name: String, _ summary: String, _ signature: String)
        -> ComponentInfo
    {
        // The signatures above are literals checked by the tests; a parse failure is a programming error.
        let parsed = try! ParameterSignature(parsing: signature)
        return ComponentInfo(kind: kind, name: name, summary: summary, signature: parsed, source: .builtin)
    }
}
