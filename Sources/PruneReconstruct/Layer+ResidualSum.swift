import ONNXProto
import PruneCore

/// The residual connection a layer's output is summed into: `sum = output + other`, `other` an activation.
struct ResidualSum {
    /// The `Add`'s output: what the next layers read.
    let sum: String
    /// The `Add`'s other input (the residual stream).
    let other: String
}

extension Layer {
    /// The residual `Add` this layer's output (after any absorbed bias) feeds, when it is the output's only reader
    /// and its other input is an activation (not a parameter).
    ///
    /// A re-fit can then aim at the dense model's sum rather than at the layer's own dense output: the target
    /// becomes `sum_dense − other_pruned`, so the layer also corrects the error that earlier removals left in the
    /// residual stream (what the following LayerNorm or layer reads), instead of reproducing only its own output.
    func residualSum(in graph: Onnx_GraphProto, model: Model, readers: ParameterReaders) -> ResidualSum? {
        guard !graph.output.contains(where: { $0.name == output }) else { return nil }
        let consumers = graph.node.filter { $0.input.contains(output) }
        guard consumers.count == 1, let add = consumers.first, add.opType == "Add", add.input.count == 2,
            add.output.count == 1, add.input[0] != add.input[1]
        else { return nil }
        let other = add.input[0] == output ? add.input[1] : add.input[0]
        guard !other.isEmpty, model[readers.parameter(other)] == nil,
            !graph.initializer.contains(where: { $0.name == other })
        else { return nil }
        return ResidualSum(sum: add.output[0], other: other)
    }
}
