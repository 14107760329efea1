import Foundation
import PruneCore
import PruneEvaluation
import PruneFormats

/// The input shapes of one batch of a data set: what a model with dynamic axes beyond the batch (a transformer's
/// sequence length) is counted at when its MACs are reported.
enum SampleInputShapes {
    /// The shapes of `inputNames` in the first batch of `data` (a `.safetensors` file or a directory of them, read
    /// as `prune eval` reads it), or empty when there is no data or it cannot be read: the MACs are then unknown, as
    /// without data.
    static func of(_ data: URL?, inputNames: [String]) -> [String: [Int]] {
        guard let data, !inputNames.isEmpty,
            let evaluation = try? EvaluationData(url: data, inputNames: inputNames), evaluation.batchCount > 0,
            let batch = try? evaluation.batch(0, inputNames: inputNames)
        else { return [:] }
        return batch.inputs.mapValues(\.shape)
    }

    /// The shapes, only when they bind a dynamic axis of `model` beyond the batch that the MAC count needs: empty
    /// when `model` is counted without them.
    static func needed(_ shapes: [String: [Int]], for model: Model) -> [String: [Int]] {
        shapes.isEmpty || ONNXCompute.macs(of: model) != nil ? [:] : shapes
    }
}
