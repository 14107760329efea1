import ONNXProto
import PruneCore

extension ONNXModelGraph {
    /// The initializers read as the weight of a depthwise Conv: `group` > 1 and one input channel per group
    /// (weight dims `[C·m, 1, k…]`, so `group` equals the input channel count).
    public var depthwiseWeights: Set<String> {
        let dims = Dictionary(proto.initializer.map { ($0.name, $0.dims) }, uniquingKeysWith: { first, _ in first })
        var names: Set<String> = []
        for node in proto.node where node.opType == "Conv" && ONNXWeightLayouts.isDefaultDomain(node.domain) {
            guard node.input.count > 1, let weight = dims[node.input[1]], weight.count > 2, weight[1] == 1,
                (node.attribute.first { $0.name == "group" }?.i ?? 1) > 1
            else { continue }
            names.insert(node.input[1])
        }
        return names
    }
}
