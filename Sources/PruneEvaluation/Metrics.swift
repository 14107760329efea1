/// Top-1 accuracy against integer labels: the fraction of samples whose largest output value is at the
/// label's index.
public struct Accuracy: Codable, Sendable, Hashable {
    /// The name of the labels tensor.
    public var labels: String
    /// Samples whose argmax equals their label.
    public var correct: Int
    /// Samples counted.
    public var total: Int
    /// `correct / total` (0 when nothing was counted).
    public var value: Double { total == 0 ? 0 : Double(correct) / Double(total) }

    /// An empty tally for the labels tensor `labels`.
    public init(labels: String, correct: Int = 0, total: Int = 0) {
        self.labels = labels
        self.correct = correct
        self.total = total
    }

    private enum CodingKeys: String, CodingKey { case labels, correct, total, value }

    /// Encodes every field, `value` included.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(labels, forKey: .labels)
        try container.encode(correct, forKey: .correct)
        try container.encode(total, forKey: .total)
        try container.encode(value, forKey: .value)
    }

    /// Decodes the counts (`value` is derived).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            labels: try container.decode(String.self, forKey: .labels),
            correct: try container.decode(Int.self, forKey: .correct),
            total: try container.decode(Int.self, forKey: .total))
    }

    /// Counts the samples of `predictions` (one predicted class per sample) that equal `labels`.
    ///
    /// - Precondition: both have the same count.
    public mutating func add(predictions: [Int], labels: [Int64]) {
        precondition(predictions.count == labels.count, "\(predictions.count) predictions for \(labels.count) labels")
        correct += zip(predictions, labels).filter { Int64($0) == $1 }.count
        total += labels.count
    }
}

/// How closely a model's outputs follow a reference model's, row by row: top-1 agreement (only where a row is a
/// class distribution), cosine similarity, and the largest absolute and relative differences.
///
/// A row is what ``OutputComparison`` says: a sample, or one position of a `[batch, positions, …]` output.
public struct Agreement: Codable, Sendable, Hashable {
    /// How the outputs are read and compared.
    public var comparison: OutputComparison
    /// Rows whose argmax is the same in both outputs (counted only when ``comparison`` classifies).
    public var top1Matches: Int = 0
    /// Rows compared (samples, or samples × positions).
    public var rows: Int = 0
    /// Samples compared.
    public var samples: Int = 0
    /// The sum of per-row cosine similarities (for the mean).
    var cosineSum: Double = 0
    /// The largest |model − reference| over every output value.
    public var maxAbsDifference: Double = 0
    /// The largest |model − reference| / max(1, |reference|) over every output value.
    public var maxRelativeDifference: Double = 0

    /// The fraction of rows with the same argmax (1 when nothing was compared); nil when rows are not class
    /// distributions.
    public var top1: Double? {
        guard comparison.classifies else { return nil }
        return rows == 0 ? 1 : Double(top1Matches) / Double(rows)
    }
    /// The mean over rows of cos(model row, reference row); two all-zero rows count as 1, one as 0.
    public var meanCosine: Double { rows == 0 ? 1 : cosineSum / Double(rows) }

    /// An empty tally for outputs read as `comparison` says.
    public init(comparison: OutputComparison = .classesPerSample) { self.comparison = comparison }

    /// Adds the samples of one batch: `model` and `reference` hold `samples` samples of `rowSize` values per row,
    /// row-major (``OutputComparison/rowSize(shape:)``).
    ///
    /// - Precondition: equal counts, a multiple of `rowSize` and of `samples`.
    public mutating func add(model: [Float], reference: [Float], rowSize: Int, samples: Int) {
        precondition(
            model.count == reference.count && rowSize > 0 && model.count % rowSize == 0 && samples > 0
                && (comparison == .valuesPerBatch || model.count % samples == 0), "rows do not match")
        let classifies = comparison.classifies
        for start in stride(from: 0, to: model.count, by: rowSize) {
            var dot = 0.0
            var modelNorm = 0.0
            var referenceNorm = 0.0
            var modelBest = start
            var referenceBest = start
            for i in start..<(start + rowSize) {
                let a = Double(model[i])
                let b = Double(reference[i])
                dot += a * b
                modelNorm += a * a
                referenceNorm += b * b
                let difference = abs(a - b)
                maxAbsDifference = max(maxAbsDifference, difference)
                maxRelativeDifference = max(maxRelativeDifference, difference / max(1, abs(b)))
                if model[i] > model[modelBest] { modelBest = i }
                if reference[i] > reference[referenceBest] { referenceBest = i }
            }
            if modelNorm == 0 || referenceNorm == 0 {
                cosineSum += modelNorm == referenceNorm ? 1 : 0
            } else {
                cosineSum += dot / (modelNorm.squareRoot() * referenceNorm.squareRoot())
            }
            if classifies, modelBest == referenceBest { top1Matches += 1 }
            rows += 1
        }
        self.samples += samples
    }

    private enum CodingKeys: String, CodingKey {
        case comparison, top1, top1Matches, rows, samples, meanCosine, maxAbsDifference, maxRelativeDifference
    }

    /// Encodes the counts and the derived `top1` and `meanCosine`; `top1` and `top1Matches` are null when rows are
    /// not class distributions.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(comparison, forKey: .comparison)
        try container.encode(top1, forKey: .top1)
        try container.encode(comparison.classifies ? top1Matches : nil, forKey: .top1Matches)
        try container.encode(rows, forKey: .rows)
        try container.encode(samples, forKey: .samples)
        try container.encode(meanCosine, forKey: .meanCosine)
        try container.encode(maxAbsDifference, forKey: .maxAbsDifference)
        try container.encode(maxRelativeDifference, forKey: .maxRelativeDifference)
    }

    /// Decodes what ``encode(to:)`` wrote.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        comparison = try container.decode(OutputComparison.self, forKey: .comparison)
        top1Matches = try container.decodeIfPresent(Int.self, forKey: .top1Matches) ?? 0
        rows = try container.decode(Int.self, forKey: .rows)
        samples = try container.decode(Int.self, forKey: .samples)
        cosineSum = try container.decode(Double.self, forKey: .meanCosine) * Double(rows)
        maxAbsDifference = try container.decode(Double.self, forKey: .maxAbsDifference)
        maxRelativeDifference = try container.decode(Double.self, forKey: .maxRelativeDifference)
    }
}

/// Per-batch run times of one model, summarised.
public struct Latency: Codable, Sendable, Hashable {
    /// Batches timed.
    public var batches: Int
    /// Samples in the timed batches.
    public var samples: Int
    /// The median batch time in seconds (the mean of the middle two for an even count).
    public var medianSeconds: Double
    /// The 90th-percentile batch time in seconds (nearest rank).
    public var p90Seconds: Double
    /// The sum of batch times in seconds.
    public var totalSeconds: Double
    /// `samples / totalSeconds`.
    public var samplesPerSecond: Double

    /// Summarises `seconds`, one entry per batch, over `samples` samples in all.
    public init(seconds: [Double], samples: Int) {
        let sorted = seconds.sorted()
        let n = sorted.count
        batches = n
        self.samples = samples
        totalSeconds = sorted.reduce(0, +)
        medianSeconds = n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        p90Seconds = n == 0 ? 0 : sorted[max(0, Int((0.9 * Double(n)).rounded(.up)) - 1)]
        samplesPerSecond = totalSeconds > 0 ? Double(samples) / totalSeconds : 0
    }
}
