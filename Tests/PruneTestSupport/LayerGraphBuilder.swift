import Foundation
import ONNXProto

/// Builds small ONNX models layer by layer (Conv, BatchNormalization, Linear), with deterministic pseudo-random
/// weights; shared by the structure and reconstruction tests.
package struct LayerGraphBuilder {
    package var graph = Onnx_GraphProto()
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    package init(name: String = "test") { graph.name = name }

    /// A float graph input with the given dims (nil for the symbolic batch).
    package mutating func input(_ name: String, _ dims: [Int?]) {
        graph.input.append(Self.valueInfo(name, dims))
    }

    /// A float graph output with the given dims (nil for the symbolic batch).
    package mutating func output(_ name: String, _ dims: [Int?]) {
        graph.output.append(Self.valueInfo(name, dims))
    }

    /// A float initializer; values are pseudo-random in [-1, 1) unless given. Returns its name.
    @discardableResult
    package mutating func weight(_ name: String, _ shape: [Int], values: [Float]? = nil, positive: Bool = false) -> String {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = shape.map { Int64($0) }
        tensor.dataType = 1
        let count = shape.reduce(1, *)
        let data = values ?? (0..<count).map { _ in positive ? 0.5 + next() * 0.5 : next() * 2 - 1 }
        tensor.rawData = data.withUnsafeBytes { Data($0) }
        graph.initializer.append(tensor)
        return name
    }

    /// An INT64 initializer.
    package mutating func int64s(_ name: String, _ values: [Int64]) {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dims = [Int64(values.count)]
        tensor.dataType = 7
        tensor.rawData = values.withUnsafeBytes { Data($0) }
        graph.initializer.append(tensor)
    }

    /// A node in the default domain.
    package mutating func node(
        _ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil, ints: [String: Int] = [:],
        lists: [String: [Int]] = [:], domain: String = ""
    ) {
        var node = Onnx_NodeProto()
        node.opType = op
        node.name = name ?? "\(op.lowercased())\(graph.node.count)"
        node.input = inputs
        node.output = outputs
        node.domain = domain
        for (key, value) in ints.sorted(by: { $0.key < $1.key }) {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .int
            attribute.i = Int64(value)
            node.attribute.append(attribute)
        }
        for (key, value) in lists.sorted(by: { $0.key < $1.key }) {
            var attribute = Onnx_AttributeProto()
            attribute.name = key
            attribute.type = .ints
            attribute.ints = value.map { Int64($0) }
            node.attribute.append(attribute)
        }
        graph.node.append(node)
    }

    /// Conv with weight `[out, in/group, k, k]` and bias, padding to keep the spatial size.
    package mutating func conv(
        _ x: String, _ y: String, name: String, in inputs: Int, out outputs: Int, k: Int = 3, group: Int = 1
    ) {
        weight("\(name).weight", [outputs, inputs / group, k, k])
        weight("\(name).bias", [outputs])
        node(
            "Conv", [x, "\(name).weight", "\(name).bias"], [y], name: name, ints: ["group": group],
            lists: ["kernel_shape": [k, k], "pads": Array(repeating: k / 2, count: 4)])
    }

    /// BatchNormalization with random scale, bias, mean and positive variance.
    package mutating func batchNorm(_ x: String, _ y: String, name: String, channels: Int) {
        weight("\(name).weight", [channels])
        weight("\(name).bias", [channels])
        weight("\(name).running_mean", [channels])
        weight("\(name).running_var", [channels], positive: true)
        node(
            "BatchNormalization",
            [x, "\(name).weight", "\(name).bias", "\(name).running_mean", "\(name).running_var"], [y], name: name)
    }

    /// Gemm with `transB=1` (PyTorch's Linear).
    package mutating func linear(_ x: String, _ y: String, name: String, in inputs: Int, out outputs: Int) {
        weight("\(name).weight", [outputs, inputs])
        weight("\(name).bias", [outputs])
        node("Gemm", [x, "\(name).weight", "\(name).bias"], [y], name: name, ints: ["transB": 1])
    }

    /// The model (opset 17, IR 8).
    package var model: Onnx_ModelProto {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 17
        model.opsetImport = [opset]
        model.producerName = "PruneKit tests"
        model.graph = graph
        return model
    }

    package static func valueInfo(_ name: String, _ dims: [Int?]) -> Onnx_ValueInfoProto {
        var value = Onnx_ValueInfoProto()
        value.name = name
        value.type.tensorType.elemType = 1
        var shape = Onnx_TensorShapeProto()
        for dim in dims {
            var entry = Onnx_TensorShapeProto.Dimension()
            if let dim { entry.dimValue = Int64(dim) } else { entry.dimParam = "batch" }
            shape.dim.append(entry)
        }
        value.type.tensorType.shape = shape
        return value
    }

    private mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(state >> 40) / Float(1 << 24)
    }
}
