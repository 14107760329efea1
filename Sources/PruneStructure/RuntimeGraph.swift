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
        var proto = onnx.proto
        for index in proto.initializer.indices {
            let name = proto.initializer[index].name
            guard let parameter = model[name] else { continue }
            var data = Data(capacity: parameter.tensor.byteCount)
            parameter.tensor.forEachByteChunk { data.append(contentsOf: $0) }
            proto.initializer[index].rawData = data
            proto.initializer[index].dims = parameter.tensor.shape.map(Int64.init)
            proto.initializer[index].dataLocation = .default
            proto.initializer[index].externalData = []
            ONNXGraph.clearTypedValues(&proto.initializer[index])
        }
        var message = Onnx_ModelProto()
        message.irVersion = 8
        message.graph = proto
        var opset = Onnx_OperatorSetIdProto()
        opset.version = Int64(onnx.opset)
        message.opsetImport = [opset]
        return try ONNXGraph(model: message, baseDirectory: model.sourceURL?.deletingLastPathComponent())
    }

    private static func clearTypedValues(_ message: inout Onnx_TensorProto) {
        message.floatData = []
        message.int32Data = []
        message.int64Data = []
        message.doubleData = []
        message.uint64Data = []
    }
}
