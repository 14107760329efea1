import Foundation
import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime

extension ONNXGraph {
    /// The interpreter graph of `model`: its ONNX graph (possibly edited by a rewriter) with the model's parameters
    /// as initializer data.
    ///
    /// - Throws: `PruneError.Kind.unsupported` when the model carries no ONNX graph; errors from decoding the graph.
    package static func of(_ model: Model) throws -> ONNXGraph {
        guard let onnx = model.graph as? ONNXModelGraph else {
            throw PruneError(.unsupported, "running a model needs an ONNX model")
        }
        let initializers = try onnx.proto.initializer.map { proto -> (String, RuntimeTensor) in
            if let parameter = model[proto.name] {
                do {
                    return (proto.name, try RuntimeTensor(parameter.tensor))
                } catch let error as PruneError {
                    throw PruneError(error.kind, "initializer '\(proto.name)': \(error.message)")
                }
            }
            return (proto.name, try RuntimeTensor(proto: proto, modelURL: model.sourceURL))
        }
        return try ONNXGraph(
            graph: onnx.proto, opset: onnx.opset, initializers: initializers, modelURL: model.sourceURL)
    }
}
