/// Streaming statistics of calibration activations, tied to the weights whose inputs and outputs they describe.
///
/// Gathered once by running calibration batches through the model; only sums and counts are kept, never the
/// activations themselves, so the memory they take is proportional to the number of features and units.
/// Keyed by the parameter name of a layer weight (a Conv, Gemm or MatMul weight of an ONNX graph).
public struct CalibrationStatistics: Sendable, Hashable {
    /// Statistics of each weight's input features, by parameter name.
    public var inputs: [String: InputFeatureStatistics]
    /// Statistics of each weight's output units, by parameter name.
    public var outputs: [String: OutputUnitStatistics]
    /// How many calibration batches contributed.
    public var batches: Int

    /// Creates statistics from their parts.
    public init(
        inputs: [String: InputFeatureStatistics] = [:], outputs: [String: OutputUnitStatistics] = [:],
        batches: Int = 0
    ) {
        self.inputs = inputs
        self.outputs = outputs
        self.batches = batches
    }

    /// The kinds of statistic these statistics hold for at least one weight.
    public var kinds: StatisticKinds {
        var kinds: StatisticKinds = []
        if !inputs.isEmpty { kinds.insert(.inputFeatures) }
        if !outputs.isEmpty { kinds.insert(.outputUnits) }
        return kinds
    }
}

/// The sums of squares of the values that feed one weight's input features.
///
/// Feature `j` is the weight's input axis index `j` seen from the layer's input: for a fully connected layer the
/// j-th input feature; for a convolution input channel `j` (all spatial positions pooled). A grouped convolution
/// has `groups` blocks of `featureCount / groups` channels; weights of output group `g` see block `g`.
public struct InputFeatureStatistics: Sendable, Hashable {
    /// Σx² per input feature (per input channel for a convolution), over all calibration positions.
    public var squareSums: [Double]
    /// How many values each feature's sum covers (batch × spatial or sequence positions).
    public var count: Int
    /// The layer's channel groups (1 unless a grouped convolution).
    public var groups: Int

    /// Creates statistics from their parts.
    public init(squareSums: [Double], count: Int, groups: Int = 1) {
        self.squareSums = squareSums
        self.count = count
        self.groups = max(1, groups)
    }

    /// The number of input features (channels).
    public var featureCount: Int { squareSums.count }

    /// ‖x_j‖₂ over all calibration positions, the Wanda input norm of feature `j`.
    public func norm(_ j: Int) -> Double { squareSums[j].squareRoot() }

    /// E[x_j²], the mean square of feature `j` (0 when nothing was counted).
    public func meanSquare(_ j: Int) -> Double { count == 0 ? 0 : squareSums[j] / Double(count) }

    /// Adds another accumulation of the same features.
    ///
    /// - Precondition: both cover the same number of features.
    public mutating func merge(_ other: InputFeatureStatistics) {
        precondition(other.squareSums.count == squareSums.count, "merging statistics of different feature counts")
        for j in squareSums.indices { squareSums[j] += other.squareSums[j] }
        count += other.count
    }
}

/// Statistics of one weight's output units: the layer's output channels or neurons, taken after the ReLU-like
/// activation that follows the layer when there is one.
public struct OutputUnitStatistics: Sendable, Hashable {
    /// Σ|a| per output unit.
    public var absoluteSums: [Double]
    /// How many outputs of each unit were exactly zero.
    public var zeroCounts: [Int]
    /// How many outputs each unit's sums cover.
    public var count: Int
    /// The operator whose output was observed (`Relu`, or the layer itself, e.g. `Gemm`).
    public var observedOp: String

    /// Creates statistics from their parts.
    public init(absoluteSums: [Double], zeroCounts: [Int], count: Int, observedOp: String) {
        precondition(absoluteSums.count == zeroCounts.count, "one zero count per unit")
        self.absoluteSums = absoluteSums
        self.zeroCounts = zeroCounts
        self.count = count
        self.observedOp = observedOp
    }

    /// The number of units.
    public var unitCount: Int { absoluteSums.count }

    /// The mean |a| of unit `u`.
    public func meanAbsolute(_ u: Int) -> Double { count == 0 ? 0 : absoluteSums[u] / Double(count) }

    /// The fraction of unit `u`'s outputs that were non-zero: 1 − APoZ.
    public func density(_ u: Int) -> Double { count == 0 ? 0 : 1 - Double(zeroCounts[u]) / Double(count) }

    /// Adds another accumulation of the same units.
    ///
    /// - Precondition: both cover the same number of units.
    public mutating func merge(_ other: OutputUnitStatistics) {
        precondition(other.absoluteSums.count == absoluteSums.count, "merging statistics of different unit counts")
        for u in absoluteSums.indices {
            absoluteSums[u] += other.absoluteSums[u]
            zeroCounts[u] += other.zeroCounts[u]
        }
        count += other.count
    }
}
