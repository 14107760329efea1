import Foundation
import ONNXProto
import PruneCore
import PruneRuntime

/// Builds small ONNX graphs in memory for unit tests (shared by the runtime and calibration tests).
package struct GraphBuilder {
    /// The model being built.
    package var model = Onnx_ModelProto()

    /// An empty model of the given default-domain opset (IR 8).
    package init(opset: Int = 17) {
        var entry = Onnx_OperatorSetIdProto()
        entry.version = Int64(opset)
        model.opsetImport = [entry]
        model.irVersion = 8
    }

    /// A graph input of element type `elemType` (1 = FLOAT) with no declared shape.
    package mutating func input(_ name: String, elemType: Int32 = 1) {
        var value = Onnx_ValueInfoProto()
        value.name = name
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = elemType
        value.type.tensorType = tensorType
        model.graph.input.append(value)
    }

    /// A graph output.
    package mutating func output(_ name: String) {
        var value = Onnx_ValueInfoProto()
        value.name = name
        model.graph.output.append(value)
    }

    /// A float initializer stored in `float_data`.
    package mutating func initializer(_ name: String, shape: [Int], floats: [Float]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = 1
        tensor.floatData = floats
        model.graph.initializer.append(tensor)
    }

    /// A default-domain node; the name defaults to `<op>_<index>`.
    package mutating func node(
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

    /// Writes the model as an `.onnx` file.
    package func write(to url: URL) throws { try model.serializedData().write(to: url) }

    /// The model as the interpreter's graph.
    package func graph() throws -> ONNXGraph { try ONNXGraph(model: model) }
}

/// Whether two float arrays agree within `tolerance`, relative above magnitude 1 and absolute below.
package func close(_ a: [Float], _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}
