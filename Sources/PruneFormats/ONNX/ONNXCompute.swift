import ONNXOperators
import PruneCore

/// Multiply-accumulate counts of an ONNX model, from the static shape propagation `prune inspect` uses.
public enum ONNXCompute {
    /// The MACs of one forward pass at batch 1, summed over the Conv, ConvTranspose, Gemm and MatMul nodes; nil
    /// when `model` carries no ONNX graph, when the shapes of one of those nodes cannot be inferred, or when such
    /// nodes sit inside subgraphs (If branches, loop bodies) — a partial sum would understate the cost.
    ///
    /// Shapes come from the graph inputs (a symbolic leading dimension taken as 1) and the model's current
    /// parameter shapes, so a model whose channels were removed reports its smaller cost. A model exported with
    /// other dynamic axes (a transformer's sequence length) is counted at the extents of `inputShapes` — the shapes
    /// of one batch of the data it runs on, by input name — and is nil without them.
    public static func macs(of model: Model, inputShapes: [String: [Int]] = [:]) -> Int? {
        guard let graph = model.graph as? ONNXModelGraph else { return nil }
        let inference = ONNXShapeInference(graph: graph.proto, model: model, inputShapes: inputShapes)
        let counted = graph.proto.node.indices.filter {
            ONNXOperators.layers.contains(graph.proto.node[$0].opType)
        }
        guard counted.allSatisfy({ inference.macs[$0] != nil }) else { return nil }
        // Layers inside If branches or loop bodies are not counted by the main graph's propagation.
        let nested = graph.proto.node.flatMap(\.subgraphs).flatMap { ONNXWeightLayouts.allNodes(of: $0) }
        guard !nested.contains(where: { ONNXOperators.layers.contains($0.opType) }) else { return nil }
        return inference.macs.values.reduce(0, +)
    }
}
