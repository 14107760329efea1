import ONNXOperators
import ONNXProto

/// The rule for recurrent layers (LSTM, GRU, RNN; ``ONNXOperators/recurrent``).
extension GroupBuilder {
    /// A recurrent layer reading the group's channels as its input features consumes them: feature `f` meets column
    /// `f` of `W` (axis 2) in every gate and direction, so the group takes those columns and stops there. The hidden
    /// size is not pruned: it is shared by `R`, `B`, the initial states and every output, which in a streaming model
    /// are graph inputs and outputs (silero-vad's `state`), so a group reaching the layer from any other side is
    /// excluded.
    mutating func recurrent(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard !isOutput else {
            return excludeNode(n, "its hidden units are one width for the weights, states and outputs; not pruned")
        }
        guard layout.axis == 2 else {
            return excludeNode(n, "the group does not run along the input features (axis 2)")
        }
        guard node.input.count > 1, let weight = index.parameterShape(node.input[1]), weight.count == 3 else {
            return excludeNode(n, "its W input is not a 3-D initializer")
        }
        slice(node.input[1], axis: 2, offset: layout.offset, width: layout.width, scored: true, node: n)
    }
}
