import ONNXProto
import PruneCore
import PruneFormats

/// Edits of an ONNX model's graph that put quantised tensors in: weights stored as integers behind a
/// DequantizeLinear node, and QuantizeLinear/DequantizeLinear pairs on activations.
///
/// Every edit keeps the names the rest of the graph reads: a quantised weight `w` becomes the initializers
/// `w_quantized` and `w_scale` and a DequantizeLinear node whose output is `w`, so its readers are unchanged — the
/// pattern ONNX Runtime's QDQ transformers look for.
enum QuantizedGraphEdits {
    /// The smallest default-domain opset with per-axis DequantizeLinear (13) and with `block_size` (21).
    static func requiredOpset(blocked: Bool) -> Int { blocked ? 21 : 13 }

    /// Replaces the float initializer `name` by `levels` (int8, in the weight's shape) and the scales, read back
    /// through a DequantizeLinear node that outputs `name`.
    ///
    /// - Throws: `.unsupported` when the model's opset is too old for the scales' layout, or `name` is not an
    ///   initializer of the graph.
    static func dequantizeWeight(
        _ name: String, levels: [Int8], scales: WeightScales, zeroPoint: Bool = false, in model: inout Model
    ) throws {
        guard var graph = model.graph as? ONNXModelGraph else {
            throw PruneError(.unsupported, "'quantize' writes DequantizeLinear nodes, so it needs an ONNX model")
        }
        let needed = requiredOpset(blocked: scales.blockSize > 0)
        guard graph.opset >= needed else {
            throw PruneError(
                .unsupported,
                "'quantize': weight '\(name)' needs DequantizeLinear "
                    + (scales.blockSize > 0 ? "with block_size" : "per axis")
                    + " (opset \(needed)), but the model imports opset \(graph.opset); convert it first")
        }
        guard let position = graph.proto.initializer.firstIndex(where: { $0.name == name }) else {
            throw PruneError(.unsupported, "'quantize': weight '\(name)' is not an initializer of the graph")
        }
        let quantizedName = uniqueName(name + "_quantized", in: graph.proto, model: model)
        let scaleName = uniqueName(name + "_scale", in: graph.proto, model: model)
        let quantized = try Tensor(
            dtype: .i8, shape: scales.shape, bytes: levels.map { UInt8(bitPattern: $0) })
        let scaleTensor = Tensor(shape: scales.scaleShape, values: scales.scales)
        model.removeParameter(named: name)
        try model.addParameter(Parameter(name: quantizedName, tensor: quantized))
        try model.addParameter(Parameter(name: scaleName, tensor: scaleTensor))
        var inputs = [quantizedName, scaleName]
        var added = [initializer(quantizedName, .int8, scales.shape), initializer(scaleName, .float, scales.scaleShape)]
        if zeroPoint {
            let zeroName = uniqueName(name + "_zero_point", in: graph.proto, model: model)
            let count = scales.scaleShape.reduce(1, *)
            try model.addParameter(
                Parameter(
                    name: zeroName,
                    tensor: try Tensor(dtype: .i8, shape: scales.scaleShape, bytes: [UInt8](repeating: 0, count: count))))
            inputs.append(zeroName)
            added.append(initializer(zeroName, .int8, scales.scaleShape))
        }
        graph.proto.initializer.replaceSubrange(position...position, with: added)
        graph.proto.input.removeAll { $0.name == name }
        var attributes = [intAttribute("axis", scales.axis)]
        if scales.blockSize > 0 { attributes.append(intAttribute("block_size", scales.blockSize)) }
        graph.proto.node.insert(
            node("DequantizeLinear", name: name + "_dequantize", inputs: inputs, outputs: [name], attributes: attributes),
            at: 0)
        model.graph = graph
    }

    /// A fresh initializer message (name, type, dims; the data comes from the parameter of that name).
    static func initializer(_ name: String, _ type: Onnx_TensorProto.DataType, _ shape: [Int]) -> Onnx_TensorProto {
        var message = Onnx_TensorProto()
        message.name = name
        message.dataType = Int32(type.rawValue)
        message.dims = shape.map { Int64($0) }
        return message
    }

    /// A default-domain node.
    static func node(
        _ opType: String, name: String, inputs: [String], outputs: [String], attributes: [Onnx_AttributeProto] = []
    ) -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = name
        node.input = inputs
        node.output = outputs
        node.attribute = attributes
        return node
    }

    /// An integer attribute.
    static func intAttribute(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .int
        attribute.i = Int64(value)
        return attribute
    }

    /// `base`, or `base_2`, `base_3`, … — the first name no value, node output or parameter of the graph uses.
    static func uniqueName(_ base: String, in graph: Onnx_GraphProto, model: Model) -> String {
        var used = Set(graph.initializer.map(\.name))
        for node in graph.node { used.formUnion(node.output) }
        used.formUnion(graph.input.map(\.name))
        var candidate = base
        var suffix = 2
        while used.contains(candidate) || model[candidate] != nil {
            candidate = "\(base)_\(suffix)"
            suffix += 1
        }
        return candidate
    }
}
