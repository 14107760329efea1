import PruneCore

/// Scores each weight by its absolute value |w|; a unit by the Lp norm of its weights.
///
/// `magnitude:p=1` on units is PyTorch's `ln_structured(n=1)` criterion, `p=2` its `n=2` and Torch-Pruning's
/// `MagnitudeImportance(p=2)`. Torch-Pruning leaves depthwise convolution weights out of a group's score;
/// `depthwise: .exclude` (`magnitude:p=2,depthwise=exclude`) does the same, `.include` (the default) counts them
/// like every other coupled weight. On elements `p` and `depthwise` do not matter (|w| either way).
public struct MagnitudeScorer: ElementScorer {
    /// Whether the weights of depthwise convolutions count towards a unit's score.
    public enum Depthwise: String, Sendable, CaseIterable {
        /// Count them like every other coupled weight.
        case include
        /// Leave them out, as Torch-Pruning 1.6's `MagnitudeImportance` does.
        case exclude
    }

    /// The norm a unit's weights reduce with (≥ 1; `.infinity` for the max norm).
    public let p: Double
    /// Whether depthwise convolution weights count in a unit's score.
    public let depthwise: Depthwise

    /// Creates the scorer.
    ///
    /// - Precondition: `p >= 1`.
    public init(p: Double = 1, depthwise: Depthwise = .include) {
        precondition(p >= 1, "the Lp norm needs p ≥ 1")
        self.p = p
        self.depthwise = depthwise
    }

    /// The Lp norm of `p`.
    public var unitReduction: UnitReduction { .norm(p: p) }

    /// |w| for every element.
    public func elementScores(of parameter: Parameter, in context: PruneContext) throws -> [Float] {
        ElementwiseKernels.map(parameter.tensor, ElementwiseKernels.absolute)
    }

    /// Element scores, or unit scores reduced over the unit's slices (without depthwise weights when excluded).
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        var target = target
        if depthwise == .exclude, case .units(let count, let slices) = target.kind {
            let depthwiseWeights = DepthwiseWeights.names(in: context.model)
            let kept = slices.filter { !depthwiseWeights.contains($0.parameter) }
            if !kept.isEmpty, kept.count < slices.count {
                target = .group(named: target.name, units: count, slices: kept)
            }
        }
        return try ElementScores.scores(for: target, in: context, reduction: unitReduction) { parameter in
            try elementScores(of: parameter, in: context)
        }
    }
}

/// Scores each weight by its square w²: its share of the layer's output energy when the inputs are white.
///
/// Not registered on its own; `energy` is this, LAMP-normalised.
public struct SquaredMagnitudeScorer: ElementScorer {
    /// Creates the scorer.
    public init() {}

    /// A unit's energy is the sum of its weights' squares.
    public var unitReduction: UnitReduction { .sum }

    /// w² for every element.
    public func elementScores(of parameter: Parameter, in context: PruneContext) throws -> [Float] {
        ElementwiseKernels.map(parameter.tensor, ElementwiseKernels.square)
    }
}

/// The `energy` criterion: each weight's share of its output's signal energy, normalised within each target
/// the LAMP way.
///
/// With calibration statistics a weight scores w_ij²·E[x_j²] (its contribution to the output's mean square
/// when inputs are uncorrelated); without them, or for a weight they do not cover, w² (white inputs). After
/// LAMP normalisation a score says what fraction of the remaining energy a weight carries among the weights at
/// least as large as it, so one global budget prunes layers of very different scale fairly.
public struct EnergyScorer: Scorer {
    /// Creates the scorer.
    public init() {}

    /// Uses input-feature statistics when they exist.
    public var dataNeeds: DataNeeds { DataNeeds(statistics: StatisticsRequirement(optional: .inputFeatures)) }

    /// LAMP(w²·E[x²]) per target (per-unit sums for unit targets).
    public func scores(for target: PruneTarget, in context: PruneContext) throws -> Scores {
        try InputWeightedEnergyScorer().normalized(.lamp).scores(for: target, in: context)
    }
}

/// w_ij²·E[x_j²] when the context holds input statistics for the weight, w² otherwise.
struct InputWeightedEnergyScorer: ElementScorer {
    var unitReduction: UnitReduction { .sum }

    func elementScores(of parameter: Parameter, in context: PruneContext) throws -> [Float] {
        guard let inputs = context.statistics?.inputs[parameter.name] else {
            return try SquaredMagnitudeScorer().elementScores(of: parameter, in: context)
        }
        return try CalibrationLookup.weighted(parameter, by: inputs, factor: inputs.meanSquare) { w, m in w * w * m }
    }
}

/// Loops over float buffers that compile to vector code.
enum ElementwiseKernels {
    /// `kernel` applied to the tensor's values (read in place when possible) into a new array.
    static func map(
        _ tensor: Tensor, _ kernel: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void
    ) -> [Float] {
        tensor.withFloatValues { values in
            [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
                kernel(values, out)
                initialized = values.count
            }
        }
    }

    static func absolute(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        map(input, into: output) { v in
            let bits = unsafeBitCast(v, to: SIMD16<UInt32>.self) & SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
            return unsafeBitCast(bits, to: SIMD16<Float>.self)
        } scalar: {
            abs($0)
        }
    }

    static func square(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) {
        map(input, into: output) {
            $0 * $0
        } scalar: {
            $0 * $0
        }
    }

    @inline(__always)
    private static func map(
        _ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>,
        _ vector: (SIMD16<Float>) -> SIMD16<Float>, scalar: (Float) -> Float
    ) {
        guard let source = input.baseAddress, let target = output.baseAddress else { return }
        let count = input.count
        let from = UnsafeRawPointer(source)
        let to = UnsafeMutableRawPointer(target)
        var i = 0
        while i &+ 16 <= count {
            to.storeBytes(
                of: vector(from.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self)), toByteOffset: i &* 4,
                as: SIMD16<Float>.self)
            i &+= 16
        }
        while i < count {
            target[i] = scalar(source[i])
            i &+= 1
        }
    }
}
