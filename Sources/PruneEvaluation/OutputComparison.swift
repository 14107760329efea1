import PruneCore

/// How a model output is read for accuracy and compared with a reference: which values form one row, and whether
/// a row is a class distribution (so that top-1 means something).
///
/// Chosen from the output's shape: top-1 only where each row is one class distribution; any other output is
/// compared by cosine and differences alone. A single argmax over a whole flattened sequence or detection output
/// says nothing about how closely two models agree.
public enum OutputComparison: String, Codable, Sendable, Hashable, CaseIterable {
    /// `[batch, classes]` (or `[batch, classes, 1, …]`, at least two classes): one class distribution per sample;
    /// top-1 and cosine per sample.
    case classesPerSample
    /// `[batch, positions, classes]`, declared so by the caller: one class distribution per position; top-1 and
    /// cosine per position.
    case classesPerPosition
    /// Any other rank-3 output (`[batch, positions, features]`, e.g. an encoder's hidden states): cosine per
    /// position, no top-1.
    case valuesPerPosition
    /// Anything else (detection heads, feature maps, one value per sample): cosine per sample over all its
    /// values, no top-1.
    case valuesPerSample
    /// An output whose dimension 0 does not count the samples (a sequence-first `[positions, batch, classes]`
    /// recogniser output): each batch's whole output is one row; cosine and differences, no top-1.
    case valuesPerBatch

    /// The comparison for an output of `shape` (dimension 0 counts samples).
    ///
    /// - Parameter classesPerPosition: whether a rank-3 output holds one class distribution per position.
    /// - Throws: `PruneError.Kind.invalidInput` naming `output` when `classesPerPosition` is set and the output is
    ///   not `[batch, positions, classes]` with at least two classes.
    /// - Parameter samples: the samples of the batch the output came from; an output whose dimension 0 differs
    ///   is read as ``valuesPerBatch``.
    public static func of(shape: [Int], output: String, classesPerPosition: Bool, samples: Int? = nil) throws
        -> OutputComparison
    {
        if let samples, shape.first != samples { return .valuesPerBatch }
        if classesPerPosition {
            guard shape.count == 3, shape[2] >= 2 else {
                throw PruneError(
                    .invalidInput,
                    "output '\(output)' has shape \(Format.shape(shape)); one class distribution per position "
                        + "needs [batch, positions, classes] with at least two classes")
            }
            return .classesPerPosition
        }
        if shape.count >= 2, shape[1] >= 2, shape.dropFirst(2).allSatisfy({ $0 == 1 }) { return .classesPerSample }
        return shape.count == 3 ? .valuesPerPosition : .valuesPerSample
    }

    /// Whether each row is a class distribution (top-1 is reported).
    public var classifies: Bool { self == .classesPerSample || self == .classesPerPosition }

    /// The number of values in one compared row of an output of `shape`.
    public func rowSize(shape: [Int]) -> Int {
        switch self {
        case .classesPerPosition, .valuesPerPosition: max(1, shape.last ?? 1)
        case .classesPerSample, .valuesPerSample: max(1, shape.dropFirst().reduce(1, *))
        case .valuesPerBatch: max(1, shape.reduce(1, *))
        }
    }

    /// What a row is, for people: "sample" or "position".
    public var rowName: String {
        switch self {
        case .classesPerSample, .valuesPerSample: "sample"
        case .classesPerPosition, .valuesPerPosition: "position"
        case .valuesPerBatch: "batch"
        }
    }
}
