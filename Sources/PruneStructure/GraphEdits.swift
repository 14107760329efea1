import Foundation
import ONNXProto
import PruneCore

/// The graph changes that go with removed channels: declared shapes, depthwise `group` attributes and the shape
/// constants of flattening `Reshape`s.
enum GraphEdits {
    /// Applies `plan` to `graph`; shape constants held in initializers are rewritten in `model`.
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the node when a shape constant cannot be rewritten.
    static func apply(_ plan: RemovalPlan, to graph: inout Onnx_GraphProto, model: inout Model) throws {
        for index in graph.valueInfo.indices { shrink(&graph.valueInfo[index], plan) }
        for index in graph.output.indices { shrink(&graph.output[index], plan) }
        for index in graph.input.indices { shrink(&graph.input[index], plan) }
        var constantNodes: [String: Int] = [:]
        for (n, node) in graph.node.enumerated() where node.opType == "Constant" {
            if let output = node.output.first { constantNodes[output] = n }
        }
        for n in graph.node.indices {
            let node = graph.node[n]
            switch node.opType {
            case "Conv":
                let removed = plan.removedCount(value: node.input[0], axis: 1)
                guard removed > 0, let a = node.attribute.firstIndex(where: { $0.name == "group" }),
                    node.attribute[a].i > 1
                else { continue }
                graph.node[n].attribute[a].i -= Int64(removed)
            case "Reshape":
                let changes = plan.removedAxes(value: node.output[0])
                guard !changes.isEmpty, node.input.count > 1 else { continue }
                try reshape(node, n, changes, constantNodes: constantNodes, graph: &graph, model: &model)
            default:
                continue
            }
        }
    }

    /// Lowers the declared extent of every axis of `info` that loses indices.
    private static func shrink(_ info: inout Onnx_ValueInfoProto, _ plan: RemovalPlan) {
        guard info.type.tensorType.hasShape else { return }
        for (axis, count) in plan.removedAxes(value: info.name) where axis < info.type.tensorType.shape.dim.count {
            if case .dimValue(let extent)? = info.type.tensorType.shape.dim[axis].value {
                info.type.tensorType.shape.dim[axis].dimValue = extent - Int64(count)
            }
        }
    }

    private static func reshape(
        _ node: Onnx_NodeProto, _ n: Int, _ changes: [(axis: Int, count: Int)], constantNodes: [String: Int],
        graph: inout Onnx_GraphProto, model: inout Model
    ) throws {
        let name = node.input[1]
        func edited(_ values: [Int64]) throws -> [Int64] {
            var values = values
            for (axis, count) in changes {
                guard axis < values.count else {
                    throw PruneError(.unsupported, "node '\(node.name)' (Reshape): shape '\(name)' has no axis \(axis)")
                }
                if values[axis] > 0 { values[axis] -= Int64(count) }
            }
            return values
        }
        if let parameter = model[name] {
            let values = try edited(parameter.tensor.withInt64Values { Array($0) })
            let bytes = values.withUnsafeBytes { TensorBytes(copying: $0) }
            try model.setTensor(Tensor(dtype: .i64, shape: parameter.tensor.shape, bytes: bytes), for: name)
        } else if let c = constantNodes[name], let a = graph.node[c].attribute.firstIndex(where: { $0.name == "value" })
        {
            var tensor = graph.node[c].attribute[a].t
            let current: [Int64] =
                tensor.rawData.isEmpty
                ? tensor.int64Data
                : tensor.rawData.withUnsafeBytes { raw in
                    (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
                }
            let values = try edited(current)
            tensor.int64Data = []
            tensor.rawData = values.withUnsafeBytes { Data($0) }
            graph.node[c].attribute[a].t = tensor
        } else {
            throw PruneError(
                .unsupported, "node '\(node.name)' (Reshape): shape '\(name)' is computed and cannot be rewritten")
        }
    }
}
