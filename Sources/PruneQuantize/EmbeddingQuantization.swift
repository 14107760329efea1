import ONNXProto
import PruneCore
import PruneFormats

/// Stores embedding tables — float32 initializers that every reader looks up row by row with `Gather` along axis
/// 0 — as int8 (or int4), one symmetric scale per row, and dequantises only the rows a run gathers.
///
/// A table `t` `[V, D…]` becomes `t_quantized` (int8 `[V, D…]`) and `t_scale` (float32 `[V, 1…]`: the scale of
/// row r is max|t[r]| / 127, as ``WeightScales`` computes it per output row), and each reader
/// `Gather(t, ids) → y` becomes
///
/// ```
/// Gather(t_quantized, ids) → y_quantized      (keeps the reader's node name)
/// Gather(t_scale, ids)     → y_scale          ([ids…, 1…]: broadcasts over the row)
/// Cast(y_quantized, FLOAT) → y_float
/// Mul(y_float, y_scale)    → y
/// ```
///
/// which computes exactly what `DequantizeLinear(t_quantized, scales)` followed by the Gather would (an int8
/// level times its float32 scale), but only for the gathered rows: a `DequantizeLinear` on the table itself
/// would make ONNX Runtime dequantise all V rows on every run, because it does not constant-fold
/// DequantizeLinear. Any opset with `Gather` (1), `Cast` (6) and `Mul` runs it, and index errors (a negative index
/// wraps, one out of range fails) come from the same Gather as before.
///
/// int4: ONNX's Gather has no 4-bit type, so a rank-2 table of even width D is stored as uint8 `[V, D/2]`, byte j
/// of a row holding q + 8 of column j (low nibble) and of column j + D/2 (high nibble); after the Gather and the
/// Cast, `Div`/`Floor`/`Mul`/`Sub` split the nibbles, `Concat` puts the halves side by side and `Sub` removes the
/// offset — exact integer arithmetic in float32 — before the same Mul by the gathered scale. Other tables fall
/// back to int8, with the reason in the report.
///
/// A table is left as it is, with the reason reported, when anything else reads it (a tied output projection, a
/// `Slice`, a subgraph), when it is a graph input or output (overridable), or when it is not float32 of rank ≥ 2.
package enum EmbeddingQuantization {
    /// Quantises every embedding table of `model`'s graph not named in `excluding` and returns one report row per
    /// table found (quantised or left, with why).
    ///
    /// - Throws: `.unsupported` when `model` is not an ONNX model.
    static func quantizeTables(bits: Int, excluding: Set<String>, in model: inout Model) throws -> [LayerReconstruction] {
        guard let graph = model.graph as? ONNXModelGraph else {
            throw PruneError(
                .unsupported, "'quantize': embeddings=int\(bits) rewrites Gather nodes, so it needs an ONNX model")
        }
        var rows: [LayerReconstruction] = []
        for candidate in candidates(in: graph.proto, model: model) where !excluding.contains(candidate.name) {
            if let reason = candidate.refusal {
                rows.append(row(candidate.name, note: "embedding table left as float: \(reason)"))
                continue
            }
            let shape = try model.parameter(named: candidate.name).tensor.shape
            let refusal = bits == 4 ? fourBitRefusal(shape: shape) : nil
            let tableBits = refusal == nil ? bits : 8
            try quantize(candidate.name, bits: tableBits, in: &model)
            rows.append(
                row(
                    candidate.name,
                    note: "int\(tableBits) per row\(refusal.map { " (\($0))" } ?? "") (embedding table [\(shape.map(String.init).joined(separator: ", "))] read by "
                        + "\(candidate.readers) Gather node\(candidate.readers == 1 ? "" : "s"); only gathered rows "
                        + "are dequantised), rounded to nearest"))
        }
        return rows
    }

    /// A table some Gather reads as its data input, and why it cannot be quantised (nil when it can).
    struct Candidate: Equatable {
        var name: String
        var readers: Int
        var refusal: String?
    }

    /// Every initializer that at least one Gather reads as its data (input 0), in initializer order.
    static func candidates(in graph: Onnx_GraphProto, model: Model) -> [Candidate] {
        var gathered: [String: Int] = [:]
        var otherReaders: [String: String] = [:]
        for node in graph.node {
            for (position, input) in node.input.enumerated() where !input.isEmpty {
                if node.opType == "Gather" && node.domain.isEmpty && position == 0 {
                    let axis = gatherAxis(node)
                    let rank = model[input]?.tensor.shape.count ?? 0
                    if axis == 0 || axis == -rank {
                        gathered[input, default: 0] += 1
                    } else {
                        otherReaders[input] = otherReaders[input] ?? "Gather '\(node.name)' reads it along axis \(axis)"
                    }
                } else {
                    otherReaders[input] = otherReaders[input] ?? "\(node.opType) '\(node.name)' reads it too"
                }
            }
            for name in subgraphReads(node) where otherReaders[name] == nil {
                otherReaders[name] = "a subgraph of \(node.opType) '\(node.name)' reads it"
            }
        }
        let inputs = Set(graph.input.map(\.name))
        let outputs = Set(graph.output.map(\.name))
        var result: [Candidate] = []
        var seen = Set<String>()
        for initializer in graph.initializer {
            let name = initializer.name
            guard let readers = gathered[name], seen.insert(name).inserted else { continue }
            var refusal: String?
            if let other = otherReaders[name] {
                refusal = other
            } else if inputs.contains(name) || outputs.contains(name) {
                refusal = "it is also a graph \(inputs.contains(name) ? "input" : "output")"
            } else if let tensor = model[name]?.tensor {
                if tensor.dtype != .f32 {
                    refusal = "it is \(tensor.dtype), not float32"
                } else if tensor.shape.count < 2 {
                    refusal = "it has rank \(tensor.shape.count); a table has rows of at least one value"
                }
            } else {
                refusal = "its values are not loaded"
            }
            result.append(Candidate(name: name, readers: readers, refusal: refusal))
        }
        return result
    }

    /// Replaces table `name` by its quantised rows and per-row scales and rewrites every Gather reading it; `bits`
    /// is 8, or 4 for a rank-2 table of even width (``fourBitRefusal(shape:)``).
    static func quantize(_ name: String, bits: Int, in model: inout Model) throws {
        guard var graph = model.graph as? ONNXModelGraph,
            let position = graph.proto.initializer.firstIndex(where: { $0.name == name })
        else { throw PruneError(.unsupported, "'quantize': embedding table '\(name)' is not an initializer of the graph") }
        let tensor = try model.parameter(named: name).tensor
        let values = tensor.floatValues()
        let scales = WeightScales(
            values: values, shape: tensor.shape, layout: .pytorch, scheme: try WeightQuantization(bits: bits, groupSize: 0))
        let levels = scales.levels(of: values)
        let scaleShape = [tensor.shape[0]] + Array(repeating: 1, count: tensor.shape.count - 1)

        let quantizedName = QuantizedGraphEdits.uniqueName(name + "_quantized", in: graph.proto, model: model)
        let scaleName = QuantizedGraphEdits.uniqueName(name + "_scale", in: graph.proto, model: model)
        model.removeParameter(named: name)
        let stored: Tensor
        if bits == 4 {
            stored = try Tensor(
                dtype: .u8, shape: [tensor.shape[0], tensor.shape[1] / 2],
                bytes: packHalves(levels, rows: tensor.shape[0], width: tensor.shape[1]))
        } else {
            stored = try Tensor(dtype: .i8, shape: tensor.shape, bytes: levels.map { UInt8(bitPattern: $0) })
        }
        try model.addParameter(Parameter(name: quantizedName, tensor: stored))
        try model.addParameter(Parameter(name: scaleName, tensor: Tensor(shape: scaleShape, values: scales.scales)))
        var added = [
            QuantizedGraphEdits.initializer(quantizedName, bits == 4 ? .uint8 : .int8, stored.shape),
            QuantizedGraphEdits.initializer(scaleName, .float, scaleShape),
        ]
        var constants: (sixteen: String, eight: String)?
        if bits == 4 {
            let sixteen = QuantizedGraphEdits.uniqueName(name + "_sixteen", in: graph.proto, model: model)
            try model.addParameter(Parameter(name: sixteen, tensor: Tensor(shape: [], values: [16])))
            let eight = QuantizedGraphEdits.uniqueName(name + "_eight", in: graph.proto, model: model)
            try model.addParameter(Parameter(name: eight, tensor: Tensor(shape: [], values: [8])))
            added += [QuantizedGraphEdits.initializer(sixteen, .float, []), QuantizedGraphEdits.initializer(eight, .float, [])]
            constants = (sixteen, eight)
        }
        graph.proto.initializer.replaceSubrange(position...position, with: added)

        var nodes: [Onnx_NodeProto] = []
        nodes.reserveCapacity(graph.proto.node.count)
        for original in graph.proto.node {
            guard original.opType == "Gather", original.input.first == name, let output = original.output.first else {
                nodes.append(original)
                continue
            }
            let base = original.name.isEmpty ? output : original.name
            func fresh(_ suffix: String) -> String {
                let value = QuantizedGraphEdits.uniqueName(output + suffix, in: graph.proto, model: model)
                var reserve = Onnx_NodeProto()
                reserve.output = [value]
                graph.proto.node.append(reserve)  // taken before the next name is chosen; dropped below
                return value
            }
            let gatheredLevels = fresh("_quantized")
            let gatheredScales = fresh("_scale")
            let floats = fresh("_float")
            var levelsGather = original
            levelsGather.input[0] = quantizedName
            levelsGather.output = [gatheredLevels]
            var scalesGather = original
            scalesGather.name = base + "_scale"
            scalesGather.input[0] = scaleName
            scalesGather.output = [gatheredScales]
            var cast = QuantizedGraphEdits.node("Cast", name: base + "_cast", inputs: [gatheredLevels], outputs: [floats])
            cast.attribute = [QuantizedGraphEdits.intAttribute("to", Int(Onnx_TensorProto.DataType.float.rawValue))]
            nodes += [levelsGather, scalesGather, cast]
            var signed = floats
            if let constants {
                // A byte b holds u = q + 8 of column j (low nibble) and of column j + width/2 (high nibble):
                // high = floor(b / 16), low = b − 16·high, q = concat(low, high) − 8, all exact in float32.
                let (high, highTimes16, low, unsigned) = (fresh("_high"), fresh("_high16"), fresh("_low"), fresh("_unsigned"))
                signed = fresh("_levels")
                let divided = fresh("_divided")
                var concat = QuantizedGraphEdits.node(
                    "Concat", name: base + "_concat", inputs: [low, high], outputs: [unsigned])
                concat.attribute = [QuantizedGraphEdits.intAttribute("axis", -1)]
                nodes += [
                    QuantizedGraphEdits.node("Div", name: base + "_div", inputs: [floats, constants.sixteen], outputs: [divided]),
                    QuantizedGraphEdits.node("Floor", name: base + "_floor", inputs: [divided], outputs: [high]),
                    QuantizedGraphEdits.node("Mul", name: base + "_shift", inputs: [high, constants.sixteen], outputs: [highTimes16]),
                    QuantizedGraphEdits.node("Sub", name: base + "_low", inputs: [floats, highTimes16], outputs: [low]),
                    concat,
                    QuantizedGraphEdits.node("Sub", name: base + "_center", inputs: [unsigned, constants.eight], outputs: [signed]),
                ]
            }
            nodes.append(
                QuantizedGraphEdits.node("Mul", name: base + "_dequantize", inputs: [signed, gatheredScales], outputs: [output]))
        }
        graph.proto.node = nodes
        model.graph = graph
    }

    /// Why a table of `shape` cannot be stored as 4-bit rows (nil when it can): the two halves of a row share bytes.
    static func fourBitRefusal(shape: [Int]) -> String? {
        guard shape.count == 2 else { return "4-bit rows need a rank-2 table, this one has rank \(shape.count)" }
        return shape[1] % 2 == 0 ? nil : "4-bit rows need an even width, this table's rows have \(shape[1]) values"
    }

    /// 4-bit levels (−8…7) of a `[rows, width]` table as bytes `[rows, width / 2]`: byte j of a row holds q + 8 of
    /// column j in its low nibble and of column j + width / 2 in its high nibble.
    package static func packHalves(_ levels: [Int8], rows: Int, width: Int) -> [UInt8] {
        let half = width / 2
        var packed = [UInt8](repeating: 0, count: rows * half)
        for row in 0..<rows {
            for j in 0..<half {
                let low = UInt8(Int(levels[row * width + j]) + 8)
                let high = UInt8(Int(levels[row * width + half + j]) + 8)
                packed[row * half + j] = low | high << 4
            }
        }
        return packed
    }

    /// Gather's `axis` attribute as written (default 0).
    private static func gatherAxis(_ node: Onnx_NodeProto) -> Int {
        node.attribute.first { $0.name == "axis" }.map { Int($0.i) } ?? 0
    }

    /// Names the subgraphs of `node` (If, Loop, Scan bodies) read, at any depth.
    private static func subgraphReads(_ node: Onnx_NodeProto) -> [String] {
        var names: [String] = []
        for attribute in node.attribute {
            for body in (attribute.hasG ? [attribute.g] : []) + attribute.graphs {
                for inner in body.node { names += inner.input + subgraphReads(inner) }
            }
        }
        return names
    }

    private static func row(_ name: String, note: String) -> LayerReconstruction {
        LayerReconstruction(
            layer: name, action: .quantized, relativeErrorBefore: nil, relativeErrorAfter: nil, rows: 0, note: note)
    }
}
