import ONNXProto
import PruneCore

/// Recognises the projections of multi-head attention, whose output channels are pruned a whole head at a time.
enum AttentionHeads {
    /// ONNX Runtime's contrib operators (domain `com.microsoft`) that hold a whole attention block.
    static let fusedOperators: Set<String> = [
        "Attention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention", "GroupQueryAttention",
        "DecoderAttention", "DecoderMaskedMultiHeadAttention", "DecoderMaskedSelfAttention", "QAttention",
    ]

    /// The head size `d` when the `channels` output features of `output` (the last axis) reach a Reshape that splits
    /// them into `[heads, d]`, through per-feature operators (a bias `Add`, a scale) and optionally a `Split` into
    /// Q, K and V (fused projections, each part a whole number of heads); nil otherwise.
    ///
    /// - Complexity: follows one chain of at most 8 nodes.
    static func headSize(of output: String, channels: Int, index: GraphIndex) -> Int? {
        var value = output
        for _ in 0..<8 {
            let readers = (index.consumers[value] ?? []).filter {
                let op = index.graph.node[$0.node].opType
                return op != "Shape" && op != "Size"
            }
            guard readers.count == 1, index.graphOutputs.contains(value) == false else { return nil }
            let node = index.graph.node[readers[0].node]
            switch node.opType {
            case "Reshape":
                guard let input = index.shapes[node.input[0]], let reshaped = index.shapes[node.output[0]],
                    let mapping = ReshapeMapping.split(input: input, output: reshaped), mapping.inner > 1,
                    channels % mapping.inner == 0
                else { return nil }
                return mapping.inner
            case "Split":
                guard let rank = index.rank(value), node.int("axis", 0) == -1 || node.int("axis", 0) == rank - 1
                else { return nil }
                guard let part = node.output.first(where: { index.consumers[$0] != nil }) else { return nil }
                value = part
            case "Add", "Sub", "Mul", "Div":
                guard node.input.count == 2, node.input.contains(where: index.isParameter) || isConstantNode(node, index)
                else { return nil }
                value = node.output[0]
            default:
                return nil
            }
        }
        return nil
    }

    /// Whether the other operand of a binary node comes from a Constant node.
    private static func isConstantNode(_ node: Onnx_NodeProto, _ index: GraphIndex) -> Bool {
        node.input.contains { index.producer[$0].map { index.graph.node[$0].opType == "Constant" } ?? false }
    }
}
