import ONNXProto
import PruneCore
import PruneFormats

/// Finds the weights of depthwise convolutions in an ONNX model's graph.
enum DepthwiseWeights {
    /// The initializers read as the weight of a depthwise Conv: `group` > 1 and one input channel per group
    /// (weight shape `[C·m, 1, k…]`, so `group` equals the input channel count). Empty without an ONNX graph.
    static func names(in model: Model) -> Set<String> {
        guard let graph = model.graph as? ONNXModelGraph else { return [] }
        var names: Set<String> = []
        for node in graph.proto.node where node.opType == "Conv" && node.domain.isEmpty && node.input.count > 1 {
            let group = node.attribute.first { $0.name == "group" }?.i ?? 1
            guard group > 1, let weight = model[node.input[1]], weight.tensor.shape.count > 2,
                weight.tensor.shape[1] == 1
            else { continue }
            names.insert(weight.name)
        }
        return names
    }
}
