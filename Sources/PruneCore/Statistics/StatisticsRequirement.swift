/// Kinds of calibration statistic a scorer can ask for.
public struct StatisticKinds: OptionSet, Sendable, Hashable {
    /// The raw bits.
    public let rawValue: UInt8
    /// Creates a set from raw bits.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Σx² per input feature of each weight (``InputFeatureStatistics``).
    public static let inputFeatures = StatisticKinds(rawValue: 1 << 0)
    /// Σ|a|, zero counts per output unit of each weight (``OutputUnitStatistics``).
    public static let outputUnits = StatisticKinds(rawValue: 1 << 1)
    /// Σx per input feature of each weight besides Σx² (``InputFeatureStatistics/sums``), for means and variances.
    public static let inputMeans = StatisticKinds(rawValue: 1 << 2)

    /// Every kind.
    public static let all: StatisticKinds = [.inputFeatures, .outputUnits, .inputMeans]

    /// Names for messages: `input features`, `output units`, `input means`.
    public var names: [String] {
        var names: [String] = []
        if contains(.inputFeatures) { names.append("input features") }
        if contains(.outputUnits) { names.append("output units") }
        if contains(.inputMeans) { names.append("input means") }
        return names
    }
}

/// What calibration statistics a scorer reads: those it cannot work without, and those it uses when present.
///
/// The pipeline's caller runs calibration only when some stage's scorer asks for statistics, and collects only
/// the kinds asked for.
public struct StatisticsRequirement: Sendable, Hashable {
    /// Kinds without which the scorer fails.
    public var required: StatisticKinds
    /// Kinds the scorer uses when they exist and does without otherwise.
    public var optional: StatisticKinds

    /// Creates a requirement.
    public init(required: StatisticKinds = [], optional: StatisticKinds = []) {
        self.required = required
        self.optional = optional
    }

    /// Needs nothing: a data-free scorer.
    public static let none = StatisticsRequirement()

    /// Every kind the scorer would read.
    public var wanted: StatisticKinds { required.union(optional) }

    /// Whether nothing is read.
    public var isEmpty: Bool { wanted.isEmpty }

    /// The requirement of a scorer that reads what either of two does.
    public func union(_ other: StatisticsRequirement) -> StatisticsRequirement {
        StatisticsRequirement(required: required.union(other.required), optional: optional.union(other.optional))
    }
}
