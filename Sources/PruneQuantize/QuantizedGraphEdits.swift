import Foundation
import ONNXProto
import PruneCore
import PruneFormats

/// Edits of an ONNX model's graph that put quantised tensors in: weights stored as integers behind a
/// DequantizeLinear node, and QuantizeLinear/DequantizeLinear pairs on activations.
///
/// Every edit keeps the names the rest of the graph reads: a quantised weight `w` becomes the initializers
/// `w_quantized` and `w_scale` and a DequantizeLinear node whose output is `w`, so its readers are unchanged — the
/// pattern ONNX Runtime's QDQ transformers look for.
package enum QuantizedGraphEdits {
    /// The smallest default-domain opset with per-axis DequantizeLinear (13) and with `block_size` (21).
    static func requiredOpset(blocked: Bool) -> Int { blocked ? 21 : 13 }

    /// Replaces the float initializer `name` by `levels` (in the weight's shape: int8, or packed int4 for a 4-bit
    /// scheme, which needs opset 21) and the scales, read back through a DequantizeLinear node that outputs `name`
    /// and is put first in the graph. With `zeroPoint`, an all-zero int8 zero point of the scales' shape is written
    /// too (ONNX Runtime fuses a Gemm into QGemm only when the weight's DequantizeLinear has one).
    ///
    /// - Throws: `.unsupported` when the model's opset is too old for the scales' layout, or `name` is not an
    ///   initializer of the graph.
    static func dequantizeWeight(
        _ name: String, levels: [Int8], scales: WeightScales, zeroPoint: Bool = false, in model: inout Model
    ) throws {
        guard var graph = model.graph as? ONNXModelGraph else {
            throw PruneError(.unsupported, "'quantize' writes DequantizeLinear nodes, so it needs an ONNX model")
        }
        let fourBit = scales.scheme.bits == 4
        let needed = fourBit ? 21 : scales.scaleShape.isEmpty ? 10 : requiredOpset(blocked: scales.blockSize > 0)
        guard graph.opset >= needed else {
            throw PruneError(
                .unsupported,
                "'quantize': weight '\(name)' needs DequantizeLinear "
                    + (fourBit ? "of int4" : scales.blockSize > 0 ? "with block_size" : "per axis")
                    + " (opset \(needed)), but the model imports opset \(graph.opset); convert it first")
        }
        guard let position = graph.proto.initializer.firstIndex(where: { $0.name == name }) else {
            throw PruneError(.unsupported, "'quantize': weight '\(name)' is not an initializer of the graph")
        }
        let quantizedName = uniqueName(name + "_quantized", in: graph.proto, model: model)
        let scaleName = uniqueName(name + "_scale", in: graph.proto, model: model)
        let scaleTensor = Tensor(shape: scales.scaleShape, values: scales.scales)
        model.removeParameter(named: name)
        var quantizedMessage: Onnx_TensorProto
        if fourBit {
            // No PruneKit dtype holds 4-bit values: the packed bytes travel inline in the initializer message.
            quantizedMessage = initializer(quantizedName, .int4, scales.shape)
            quantizedMessage.rawData = Data(packFourBit(levels))
        } else {
            let quantized = try Tensor(dtype: .i8, shape: scales.shape, bytes: levels.map { UInt8(bitPattern: $0) })
            try model.addParameter(Parameter(name: quantizedName, tensor: quantized))
            quantizedMessage = initializer(quantizedName, .int8, scales.shape)
        }
        try model.addParameter(Parameter(name: scaleName, tensor: scaleTensor))
        var inputs = [quantizedName, scaleName]
        var added = [quantizedMessage, initializer(scaleName, .float, scales.scaleShape)]
        if zeroPoint && !fourBit {
            let zeroName = uniqueName(name + "_zero_point", in: graph.proto, model: model)
            let count = scales.scaleShape.reduce(1, *)
            let zeros = try Tensor(dtype: .i8, shape: scales.scaleShape, bytes: [UInt8](repeating: 0, count: count))
            try model.addParameter(Parameter(name: zeroName, tensor: zeros))
            inputs.append(zeroName)
            added.append(initializer(zeroName, .int8, scales.scaleShape))
        }
        graph.proto.initializer.replaceSubrange(position...position, with: added)
        graph.proto.input.removeAll { $0.name == name }
        var attributes = scales.scaleShape.isEmpty ? [] : [intAttribute("axis", scales.axis)]
        if scales.blockSize > 0 { attributes.append(intAttribute("block_size", scales.blockSize)) }
        graph.proto.node.insert(
            node("DequantizeLinear", name: name + "_dequantize", inputs: inputs, outputs: [name], attributes: attributes),
            at: 0)
        model.graph = graph
        model.quantizedWeights[name] = QuantizedWeight(
            name: name, shape: scales.shape, bits: scales.scheme.bits, groupSize: scales.blockSize,
            format: "dequantize-linear", parts: added.map(\.name).filter { model[$0] != nil },
            bytesOutsideParameters: fourBit ? quantizedMessage.rawData.count : 0,
            zeros: levels.reduce(0) { $0 + ($1 == 0 ? 1 : 0) })
    }

    /// 4-bit values two to a byte, the first in the low nibble (ONNX's INT4 layout); an odd count pads with 0.
    package static func packFourBit(_ levels: [Int8]) -> [UInt8] {
        var packed = [UInt8](repeating: 0, count: (levels.count + 1) / 2)
        for (index, level) in levels.enumerated() {
            let nibble = UInt8(bitPattern: level) & 0x0F
            packed[index / 2] |= index % 2 == 0 ? nibble : nibble << 4
        }
        return packed
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

extension QuantizedGraphEdits {
    /// Puts a QuantizeLinear → DequantizeLinear pair (uint8) on each activation in `parameters`, right after the
    /// node that computes it (first, for a graph input). Values in `fullyRead` are read through the pair by every
    /// node; the others by the nodes at `layerNodes` only: indices into the graph as it was before `added` nodes
    /// (the weights' DequantizeLinear nodes) were put first.
    static func quantizeActivations(
        _ parameters: [String: ActivationQuantization], layerNodes: Set<Int>, fullyRead: Set<String>, added: Int,
        in model: inout Model
    ) throws {
        guard var graph = model.graph as? ONNXModelGraph else { return }
        var pairs: [String: [Onnx_NodeProto]] = [:]
        var replacement: [String: String] = [:]
        for (value, quantization) in parameters.sorted(by: { $0.key < $1.key }) {
            let scaleName = uniqueName(value + "_scale", in: graph.proto, model: model)
            try model.addParameter(Parameter(name: scaleName, tensor: Tensor(shape: [], values: [quantization.scale])))
            graph.proto.initializer.append(initializer(scaleName, .float, []))
            let zeroName = uniqueName(value + "_zero_point", in: graph.proto, model: model)
            try model.addParameter(
                Parameter(name: zeroName, tensor: try Tensor(dtype: .u8, shape: [], bytes: [quantization.zeroPoint])))
            graph.proto.initializer.append(initializer(zeroName, .uint8, []))
            let quantizedName = uniqueName(value + "_quantized", in: graph.proto, model: model)
            let dequantizedName = uniqueName(value + "_dequantized", in: graph.proto, model: model)
            pairs[value] = [
                node("QuantizeLinear", name: value + "_quantize", inputs: [value, scaleName, zeroName], outputs: [quantizedName]),
                node(
                    "DequantizeLinear", name: value + "_dequantize", inputs: [quantizedName, scaleName, zeroName],
                    outputs: [dequantizedName]),
            ]
            replacement[value] = dequantizedName
        }
        var nodes: [Onnx_NodeProto] = []
        let graphInputs = Set(graph.proto.input.map(\.name))
        for value in parameters.keys.sorted() where graphInputs.contains(value) { nodes += pairs[value]! }
        for (index, original) in graph.proto.node.enumerated() {
            var current = original
            let isLayer = index >= added && layerNodes.contains(index - added)
            for (position, input) in current.input.enumerated() {
                guard let dequantized = replacement[input], isLayer || fullyRead.contains(input) else { continue }
                current.input[position] = dequantized
            }
            nodes.append(current)
            for output in original.output { if let pair = pairs[output], !graphInputs.contains(output) { nodes += pair } }
        }
        // Initializer activations (a constant fed to a layer) get their pair first too.
        let produced = Set(graph.proto.node.flatMap(\.output)).union(graphInputs)
        let constants = parameters.keys.filter { !produced.contains($0) }.sorted()
        nodes.insert(contentsOf: constants.flatMap { pairs[$0]! }, at: 0)
        graph.proto.node = nodes
        model.graph = graph
    }

    /// Replaces the float bias `name` by int32 values round(b / s) with the per-output `scales` (s_x·s_w), read
    /// back through a DequantizeLinear node (axis 0) that outputs `name`.
    static func dequantizeBias(_ name: String, scales: [Float], in model: inout Model) throws {
        guard var graph = model.graph as? ONNXModelGraph,
            let position = graph.proto.initializer.firstIndex(where: { $0.name == name })
        else { return }
        let values = try model.parameter(named: name).tensor.floatValues()
        let levels = zip(values, scales).map { value, scale -> Int32 in
            let scaled = scale > 0 ? (value / scale).rounded(.toNearestOrEven) : 0
            return Int32(min(max(scaled, Float(Int32.min / 2)), Float(Int32.max / 2)))
        }
        let quantizedName = uniqueName(name + "_quantized", in: graph.proto, model: model)
        let scaleName = uniqueName(name + "_scale", in: graph.proto, model: model)
        var bytes: [UInt8] = []
        for level in levels { withUnsafeBytes(of: level.littleEndian) { bytes += $0 } }
        model.removeParameter(named: name)
        try model.addParameter(Parameter(name: quantizedName, tensor: try Tensor(dtype: .i32, shape: [values.count], bytes: bytes)))
        try model.addParameter(Parameter(name: scaleName, tensor: Tensor(shape: [scales.count], values: scales)))
        graph.proto.initializer.replaceSubrange(
            position...position,
            with: [initializer(quantizedName, .int32, [values.count]), initializer(scaleName, .float, [scales.count])])
        graph.proto.input.removeAll { $0.name == name }
        graph.proto.node.insert(
            node(
                "DequantizeLinear", name: name + "_dequantize", inputs: [quantizedName, scaleName], outputs: [name],
                attributes: [intAttribute("axis", 0)]),
            at: 0)
        model.graph = graph
        model.quantizedWeights[name] = QuantizedWeight(
            name: name, shape: [values.count], bits: 32, groupSize: 0, format: "dequantize-linear",
            parts: [quantizedName, scaleName], zeros: levels.reduce(0) { $0 + ($1 == 0 ? 1 : 0) })
    }
}
