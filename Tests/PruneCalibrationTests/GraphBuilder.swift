import Foundation
import ONNXProto
import PruneCore

import PruneRuntime

/// Builds small ONNX graphs in memory for unit tests.
struct GraphBuilder {
    var model = Onnx_ModelProto()
    init(opset: Int = 17) {
        var entry = Onnx_OperatorSetIdProto()
        entry.version = Int64(opset)
        model.opsetImport = [entry]
        model.irVersion = 8
    }

    mutating func input(_ name: String, elemType: Int32 = 1) {
        var value = Onnx_ValueInfoProto()
        value.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = elemType
        value.type.tensorType = tensorType
        model.graph.input.append(value)
    }

    mutating func output(_ name: String) {
        var value = Onnx_ValueInfoProto()
        value.name = name
        model.graph.output.append(value)
    }

    mutating func initializer(_ name: String, shape: [Int], floats: [Float]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = 1
        tensor.floatData = floats
        model.graph.initializer.append(tensor)
    }

    mutating func node(
        _ op: String, _ inputs: [String], _ outputs: [String], name: String = "", ints: [String: [Int]] = [:],
        int: [String: Int] = [:], string: [String: String] = [:]
    ) {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name.isEmpty ? "\(op.lowercased())_\(model.graph.node.count)" : name
        node.input = inputs
        node.output = outputs
        for (key, value) in ints {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .ints
            attribute.ints = value.map { Int64($0) }
            node.attribute.append(attribute)
        }
        for (key, value) in int {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .int
            attribute.i = Int64(value)
            node.attribute.append(attribute)
        }
        for (key, value) in string {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .string
            attribute.s = Data(value.utf8)
            node.attribute.append(attribute)
        }
        model.graph.node.append(node)
    }

    func graph() throws -> ONNXGraph { try ONNXGraph(model: model) }
}

/// Asserts-friendly comparison of float arrays.
func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}
