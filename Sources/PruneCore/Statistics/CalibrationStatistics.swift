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
        if !inputs.isEmpty, inputs.values.allSatisfy({ $0.sums != nil }) { kinds.insert(.inputMeans) }
        return kinds
    }
}

/// The sums of squares (and, when collected, the plain sums and block second moments) of the values that feed one
/// weight's input features.
///
/// Feature `j` is the weight's input axis index `j` seen from the layer's input: for a fully connected layer the
/// j-th input feature; for a convolution input channel `j` (all spatial positions pooled). A grouped convolution
/// has `groups` blocks of `featureCount / groups` channels; weights of output group `g` see block `g`.
public struct InputFeatureStatistics: Sendable, Hashable {
    /// Σx² per input feature (per input channel for a convolution), over all calibration positions.
    public var squareSums: [Double]
    /// Σx per input feature, when means were collected (``StatisticKinds/inputMeans``); nil otherwise.
    public var sums: [Double]?
    /// Σ x_j·x_k within blocks of consecutive features, when collected; nil otherwise.
    public var blockMoments: BlockMoments?
    /// How many values each feature's sum covers (batch × spatial or sequence positions).
    public var count: Int
    /// The layer's channel groups (1 unless a grouped convolution).
    public var groups: Int

    /// Creates statistics from their parts.
    public init(
        squareSums: [Double], count: Int, groups: Int = 1, sums: [Double]? = nil, blockMoments: BlockMoments? = nil
    ) {
        precondition(sums == nil || sums!.count == squareSums.count, "one sum per feature")
        self.squareSums = squareSums
        self.sums = sums
        self.blockMoments = blockMoments
        self.count = count
        self.groups = max(1, groups)
    }

    /// The number of input features (channels).
    public var featureCount: Int { squareSums.count }

    /// ‖x_j‖₂ over all calibration positions, the Wanda input norm of feature `j`.
    public func norm(_ j: Int) -> Double { squareSums[j].squareRoot() }

    /// E[x_j²], the mean square of feature `j` (0 when nothing was counted).
    public func meanSquare(_ j: Int) -> Double { count == 0 ? 0 : squareSums[j] / Double(count) }

    /// E[x_j], the mean of feature `j`; nil when sums were not collected (0 when nothing was counted).
    public func mean(_ j: Int) -> Double? {
        guard let sums else { return nil }
        return count == 0 ? 0 : sums[j] / Double(count)
    }

    /// E[(x_j − E x_j)²], the variance of feature `j`; nil when sums were not collected.
    public func variance(_ j: Int) -> Double? {
        guard let mean = mean(j) else { return nil }
        return max(0, meanSquare(j) - mean * mean)
    }

    /// E[x_j·x_k] for features `j` and `k` of the same block; nil when block moments were not collected or the
    /// two features lie in different blocks.
    public func secondMoment(_ j: Int, _ k: Int) -> Double? {
        guard let blockMoments, let sum = blockMoments.sum(j, k) else { return nil }
        return count == 0 ? 0 : sum / Double(count)
    }

    /// Adds another accumulation of the same features.
    ///
    /// Sums and block moments survive only when both sides have them (of the same block width).
    ///
    /// - Precondition: both cover the same number of features.
    public mutating func merge(_ other: InputFeatureStatistics) {
        precondition(other.squareSums.count == squareSums.count, "merging statistics of different feature counts")
        for j in squareSums.indices { squareSums[j] += other.squareSums[j] }
        if let mine = sums, let theirs = other.sums {
            sums = zip(mine, theirs).map { $0 + $1 }
        } else {
            sums = nil
        }
        if var mine = blockMoments, let theirs = other.blockMoments, mine.width == theirs.width,
            mine.values.count == theirs.values.count
        {
            for i in mine.values.indices { mine.values[i] += theirs.values[i] }
            blockMoments = mine
        } else {
            blockMoments = nil
        }
        count += other.count
    }
}

/// Σ x_j·x_k over calibration positions for every pair of features in the same block of `width` consecutive
/// features: one `width × width` matrix per block, never the full feature Gram.
///
/// Block `b` covers features `b·width ..< (b+1)·width` (the last block may be shorter only if the feature count
/// is not a multiple of `width`, which collection avoids). Stored row-major, block after block.
public struct BlockMoments: Sendable, Hashable {
    /// The number of features per block (an attention head's dimension, for example).
    public var width: Int
    /// The blocks' entries: `values[b·width² + r·width + c]` is Σ x_{b·width+r}·x_{b·width+c}.
    public var values: [Double]

    /// Creates block moments from their parts.
    ///
    /// - Precondition: `values.count` is a multiple of `width²`.
    public init(width: Int, values: [Double]) {
        precondition(width > 0 && values.count % (width * width) == 0, "whole width × width blocks")
        self.width = width
        self.values = values
    }

    /// The number of features covered.
    public var featureCount: Int { values.count / width }

    /// Σ x_j·x_k, or nil when `j` and `k` are in different blocks or out of range.
    public func sum(_ j: Int, _ k: Int) -> Double? {
        guard j >= 0, k >= 0, j < featureCount, k < featureCount, j / width == k / width else { return nil }
        let block = j / width
        return values[block * width * width + (j % width) * width + (k % width)]
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
