import PruneCore

/// Multiply-accumulate counts of an ONNX model, from the static shape propagation `prune inspect` uses.
public enum ONNXCompute {
    /// The MACs of one forward pass at batch 1, summed over the Conv, Gemm and MatMul nodes whose shapes are
    /// known; nil when `model` carries no ONNX graph.
    ///
    /// Shapes come from the graph inputs (a symbolic leading dimension taken as 1) and the model's current
    /// parameter shapes, so a model whose channels were removed reports its smaller cost. Nodes whose shapes
    /// cannot be propagated are left out of the sum.
    public static func macs(of model: Model) -> Int? {
        guard let graph = model.graph as? ONNXModelGraph else { return nil }
        var dims: [String: [Int64]] = [:]
        var constants: [String: [Int64]] = [:]
        for initializer in graph.proto.initializer { dims[initializer.name] = initializer.dims }
        for parameter in model.parameters {
            let tensor = parameter.tensor
            dims[parameter.name] = tensor.shape.map { Int64($0) }
            guard tensor.dtype == .i64, tensor.elementCount <= 64 else { continue }
            var bytes: [UInt8] = []
            tensor.forEachByteChunk { bytes.append(contentsOf: $0) }
            constants[parameter.name] = bytes.withUnsafeBytes { raw in
                (0..<tensor.elementCount).map {
                    Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))
                }
            }
        }
        let inference = ONNXShapeInference(graph: graph.proto, initializerDims: dims, constants: constants)
        return inference.macs.values.reduce(0, +)
    }
}
