import ONNXOperators
import ONNXProto

/// A shape as static propagation knows it: one entry per dimension, nil where unknown.
package typealias ONNXShape = [Int?]

/// Static shape propagation through the main graph, enough to estimate the MACs of Conv, Gemm and MatMul nodes.
///
/// Graph inputs seed it, with a symbolic leading (batch) dimension taken as 1 wherever that symbol appears;
/// other symbolic dimensions stay unknown. Shapes then flow in node order through the operators below; where an
/// operator is not covered or an input is unknown, the output takes the shape `value_info` (or the graph's
/// outputs) declare, else it stays unknown — and so does everything downstream of it.
///
/// Covered: Conv, Gemm, MatMul, pooling (Max, Average, Lp, Global…), BatchNormalization and other normalisations,
/// unary elementwise ops and activations, broadcasting binary and variadic ops, Flatten, Reshape (with a shape
/// known at load time), Transpose, Concat, Squeeze, Unsqueeze, Pad, Gather, reductions, Constant and Shape.
/// Small integer tensors known at load time (initializers, Constant, Shape, and Gather/Unsqueeze/Concat/Cast of
/// those) are folded so that the usual `Shape → Gather → Concat → Reshape` chains resolve.
package struct ONNXShapeInference {
    /// The shape of each value whose shape is known.
    package private(set) var shapes: [String: ONNXShape] = [:]
    /// Integer values known at load time (shape arguments), by value name.
    package private(set) var values: [String: [Int64]] = [:]
    /// Integer lists known only in part at load time, nil where an entry is unknown: a shape read from a value with
    /// a symbolic sequence length (`Shape → Gather → Concat` builds `[1, ?, 12, 32]`). Lists fully known are in
    /// ``values`` only.
    package internal(set) var partialValues: [String: [Int64?]] = [:]
    /// For integer lists built from `Shape`: the value and axis whose extent each entry is read from, nil for entries
    /// of another origin (`Concat(Unsqueeze(Gather(Shape(x), 0)), [-1], [8])` gives `[x:0, nil, nil]`).
    package internal(set) var dimensionSources: [String: [DimensionSource?]] = [:]
    /// For values whose extents provably equal an earlier value's (element-wise operators, Transpose, Split along
    /// another axis, a bias `Add`): per axis, the earliest value and axis with the same extent. See ``root(of:axis:)``.
    package internal(set) var axisRoots = DimensionRoots()
    /// Small float values known at load time (Resize scales), by value name.
    package private(set) var floatValues: [String: [Float]] = [:]
    /// Multiply-accumulates of each Conv, Gemm and MatMul node (by index) whose shapes are all known.
    package private(set) var macs: [Int: Int] = [:]
    /// Symbolic dimension names taken as 1: the leading dimension of the graph inputs.
    package private(set) var batchSymbols: Set<String> = []
    /// Extents of other symbolic dimensions, read from sample input shapes (a sequence length).
    package private(set) var boundSymbols: [String: Int] = [:]
    /// Extents of unnamed non-leading input dimensions, by input name and axis, read from sample input shapes.
    private var boundInputAxes: [String: [Int: Int]] = [:]
    /// Disagreements found while propagating, each naming the node: an inferred shape that contradicts the one
    /// the graph declares, or operands whose extents do not fit (a Conv's input channels against its weight, a
    /// normalisation's parameters against the channels, a matrix product's inner extents, broadcasting operands).
    package private(set) var conflicts: [String] = []
    private var declared: [String: ONNXShape] = [:]

    /// Propagates shapes through `graph`.
    ///
    /// - Parameters:
    ///   - initializerDims: the dimensions of every initializer.
    ///   - constants: the values of small INT64 initializers.
    ///   - floatConstants: the values of small FLOAT initializers (Resize scales).
    ///   - inputShapes: shapes of one sample batch by graph input name: their non-leading symbolic (or unnamed)
    ///     dimensions take these extents wherever the symbol appears (a sequence length), so shapes and MACs of a
    ///     model exported with dynamic axes become known at that size. The leading dimension stays the batch (1).
    package init(
        graph: Onnx_GraphProto, initializerDims: [String: [Int64]], constants: [String: [Int64]],
        floatConstants: [String: [Float]] = [:], inputShapes: [String: [Int]] = [:]
    ) {
        for (name, dims) in initializerDims { shapes[name] = dims.map { Int($0) } }
        values = constants
        floatValues = floatConstants
        for input in graph.input where shapes[input.name] == nil {
            guard input.type.tensorType.hasShape else { continue }
            let dims = input.type.tensorType.shape.dim
            if let first = dims.first, case .dimParam(let symbol)? = first.value { batchSymbols.insert(symbol) }
        }
        for input in graph.input where shapes[input.name] == nil {
            guard input.type.tensorType.hasShape, let sample = inputShapes[input.name] else { continue }
            let dims = input.type.tensorType.shape.dim
            guard sample.count == dims.count else { continue }
            for (axis, dim) in dims.enumerated().dropFirst() {
                switch dim.value {
                case .dimParam(let symbol)? where !batchSymbols.contains(symbol): boundSymbols[symbol] = sample[axis]
                case .dimValue?: break
                default: boundInputAxes[input.name, default: [:]][axis] = sample[axis]
                }
            }
        }
        for input in graph.input where shapes[input.name] == nil {
            if var shape = declaredShape(input.type, isGraphInput: true) {
                for (axis, extent) in boundInputAxes[input.name] ?? [:] where axis < shape.count && shape[axis] == nil {
                    shape[axis] = extent
                }
                shapes[input.name] = shape
            }
        }
        for info in graph.valueInfo + graph.output {
            if let shape = declaredShape(info.type, isGraphInput: false) { declared[info.name] = shape }
        }
        for (index, node) in graph.node.enumerated() {
            let inferred = ONNXWeightLayouts.isDefaultDomain(node.domain) ? infer(node, index: index) : []
            for (position, output) in node.output.enumerated() where !output.isEmpty {
                if position < inferred.count, let shape = inferred[position] {
                    if let expected = declared[output], !ONNXShapeInference.agree(shape, expected) {
                        conflict(
                            node, index,
                            "output '\(output)' has shape \(ONNXShapeInference.text(shape)) but the graph declares "
                                + ONNXShapeInference.text(expected))
                    }
                    shapes[output] = shape
                } else if let shape = declared[output] {
                    shapes[output] = shape
                }
            }
            recordAxisRoots(node)
            if let sources = traceSources(node), let output = node.output.first {
                dimensionSources[output] = sources
            }
            if let folded = fold(node), let output = node.output.first {
                values[output] = folded
            } else if let partial = foldPartially(node), let output = node.output.first {
                let known = partial.compactMap { $0 }
                if known.count == partial.count { values[output] = known } else { partialValues[output] = partial }
            }
        }
    }

    /// A declared type's shape; for graph inputs an unnamed or symbolic leading dimension is the batch (1).
    private func declaredShape(_ type: Onnx_TypeProto, isGraphInput: Bool) -> ONNXShape? {
        guard case .tensorType(let tensor)? = type.value, tensor.hasShape else { return nil }
        return tensor.shape.dim.enumerated().map { position, dim -> Int? in
            switch dim.value {
            case .dimValue(let value)? where value >= 0: return Int(value)
            case .dimParam(let symbol)?: return batchSymbols.contains(symbol) ? 1 : boundSymbols[symbol]
            default: return isGraphInput && position == 0 ? 1 : nil
            }
        }
    }

    func shape(_ node: Onnx_NodeProto, _ position: Int) -> ONNXShape? {
        guard position < node.input.count, !node.input[position].isEmpty else { return nil }
        return shapes[node.input[position]]
    }

    func value(_ node: Onnx_NodeProto, _ position: Int) -> [Int64]? {
        guard position < node.input.count, !node.input[position].isEmpty else { return nil }
        return values[node.input[position]]
    }

    // MARK: - Operators

    private static let sameShape = ONNXOperators.elementwise.union(ONNXOperators.shapePreserving)
    private static let broadcasting = ONNXOperators.broadcasting
    private static let reductions = ONNXOperators.reductions.union(["ArgMax", "ArgMin"])

    /// The shapes of `node`'s outputs, as far as known; records MACs for Conv, Gemm and MatMul.
    private mutating func infer(_ node: Onnx_NodeProto, index: Int) -> [ONNXShape?] {
        let op = node.opType
        if ONNXShapeInference.sameShape.contains(op) {
            let input = shape(node, 0)
            if ["BatchNormalization", "InstanceNormalization"].contains(op), let x = input, x.count >= 2,
                let channels = x[1]
            {
                for position in 1..<node.input.count {
                    if let parameter = shape(node, position), parameter != [channels] {
                        conflict(
                            node, index,
                            "'\(node.input[position])' has shape \(ONNXShapeInference.text(parameter)) but the input "
                                + "has \(channels) channels")
                    }
                }
            }
            return Array(repeating: input, count: max(1, node.output.count))
        }
        if ONNXShapeInference.broadcasting.contains(op) {
            let inputs = node.input.indices.map { shape(node, $0) }
            if inputs.allSatisfy({ $0 != nil }),
                inputs.dropFirst().reduce(inputs.first ?? nil, { ONNXShapeInference.broadcast($0, $1) }) == nil
            {
                conflict(
                    node, index,
                    "operands of shapes " + inputs.map { ONNXShapeInference.text($0 ?? []) }.joined(separator: ", ")
                        + " do not broadcast")
            }
            return [inputs.dropFirst().reduce(inputs.first ?? nil) { ONNXShapeInference.broadcast($0, $1) }]
        }
        if ONNXShapeInference.reductions.contains(op) { return [reduce(node)] }
        switch op {
        case "Conv": return [conv(node, index: index)]
        case "Gemm": return [gemm(node, index: index)]
        case "MatMul": return [matMul(node, index: index)]
        case _ where ONNXOperators.pooling.contains(op):
            let pooled = pool(node)
            return [pooled, pooled]
        case _ where ONNXOperators.globalPooling.contains(op):
            guard let x = shape(node, 0), x.count >= 2 else { return [] }
            return [Array(x.prefix(2)) + Array(repeating: 1, count: x.count - 2)]
        case "Flatten":
            guard let x = shape(node, 0) else { return [] }
            guard let axis = ONNXShapeInference.axis(node.intAttribute("axis") ?? 1, rank: x.count, inclusiveEnd: true)
            else { return [] }
            return [[ONNXShapeInference.product(x[..<axis]), ONNXShapeInference.product(x[axis...])]]
        case "Reshape": return [reshape(node)]
        case "Transpose":
            guard let x = shape(node, 0) else { return [] }
            let perm = node.intsAttribute("perm") ?? Array((0..<Int64(x.count)).reversed())
            guard perm.count == x.count, Set(perm) == Set(0..<Int64(x.count)) else { return [] }
            return [perm.map { x[Int($0)] }]
        case "Concat": return [concat(node)]
        case "Split": return split(node)
        case "Slice": return [slice(node)]
        case "Squeeze": return [squeeze(node)]
        case "Unsqueeze": return [unsqueeze(node)]
        case "Pad": return [pad(node)]
        case "Gather": return [gather(node)]
        case "Shape":
            guard let x = shape(node, 0) else { return [] }
            return [[ONNXShapeInference.shapeRange(node, rank: x.count).count]]
        case "Constant": return [constantShape(node)]
        case "Resize", "Upsample": return [resize(node)]
        case "ConvTranspose": return [convTranspose(node, index: index)]
        case "ConstantOfShape": return [value(node, 0).map { $0.map { Int($0) } }]
        case "Expand":
            guard let x = shape(node, 0), let target = partialValue(node, 1) else { return [] }
            return [ONNXShapeInference.broadcast(x, target.map { $0.map { Int($0) } })]
        case "Tile":
            guard let x = shape(node, 0), let repeats = value(node, 1), repeats.count == x.count else { return [] }
            return [zip(x, repeats).map { extent, factor in extent.map { $0 * Int(factor) } }]
        case "Range":
            return [[value(node, 0).flatMap { start in
                value(node, 1).flatMap { end in value(node, 2).map { (start, end, $0) } }
            }.flatMap { start, end, delta -> Int? in
                guard let s = start.first, let e = end.first, let d = delta.first, d != 0 else { return nil }
                return Int(Swift.max(0, (e - s + d - (d > 0 ? 1 : -1)) / d))
            }]]
        case _ where ONNXOperators.recurrent.contains(op):
            guard let x = shape(node, 0), x.count == 3, let hidden = node.intAttribute("hidden_size") else { return [] }
            if let features = x[2], let w = shape(node, 1), w.count == 3, let columns = w[2], columns != features {
                conflict(
                    node, index,
                    "input '\(node.input[0])' has \(features) features but the weight '\(node.input[1])' expects "
                        + "\(columns)")
            }
            let directions = node.stringAttribute("direction") == "bidirectional" ? 2 : 1
            let h = Int(hidden)
            let layout = node.intAttribute("layout") ?? 0
            let (sequence, batch) = layout == 0 ? (x[0], x[1]) : (x[1], x[0])
            let state: ONNXShape = layout == 0 ? [directions, batch, h] : [batch, directions, h]
            let output: ONNXShape = layout == 0 ? [sequence, directions, batch, h] : [batch, sequence, directions, h]
            return [output, state, state]
        default: return []
        }
    }

    /// Resize (scales or sizes, opset 10 on) and Upsample (scales attribute or input): the spatial extents scaled
    /// and floored, or the given sizes.
    private func resize(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let x = shape(node, 0) else { return nil }
        if node.opType == "Resize", node.input.count > 3, let sizes = value(node, 3), sizes.count == x.count {
            return sizes.map { Int($0) }
        }
        let scales: [Float]?
        if let attribute = node.attribute(named: "scales"), !attribute.floats.isEmpty {
            scales = attribute.floats
        } else {
            let position = node.opType == "Upsample" || node.input.count == 2 ? 1 : 2
            scales = position < node.input.count ? floatValues[node.input[position]] : nil
        }
        guard let scales, scales.count == x.count else { return x.map { _ in nil } }
        return zip(x, scales).map { extent, scale in extent.map { Int((Float($0) * scale).rounded(.down)) } }
    }

    /// ConvTranspose: output channels from the weight `[C_in, C_out/group, k…]`; spatial extents from
    /// `output_shape` or stride·(in − 1) + output_padding + (k − 1)·dilation + 1 − pads.
    private mutating func convTranspose(_ node: Onnx_NodeProto, index: Int) -> ONNXShape? {
        guard let x = shape(node, 0), let w = shape(node, 1), x.count >= 3, w.count == x.count else { return nil }
        let rank = x.count - 2
        let groups = Int(node.intAttribute("group") ?? 1)
        let channels = w[1].map { $0 * groups }
        if let given = node.intsAttribute("output_shape"), given.count == rank {
            return [x[0], channels] + given.map { Int($0) }
        }
        let strides = (node.intsAttribute("strides") ?? []).map { Int($0) }
        let dilations = (node.intsAttribute("dilations") ?? []).map { Int($0) }
        let pads = (node.intsAttribute("pads") ?? []).map { Int($0) }
        let extra = (node.intsAttribute("output_padding") ?? []).map { Int($0) }
        let kernel = node.intsAttribute("kernel_shape").map { $0.map { Int($0) } } ?? Array(w.dropFirst(2))
        let autoPad = node.stringAttribute("auto_pad") ?? "NOTSET"
        let spatial: ONNXShape = (0..<rank).map { axis -> Int? in
            guard let extent = x[axis + 2], axis < kernel.count, let k = kernel[axis] else { return nil }
            let stride = strides.count == rank ? strides[axis] : 1
            if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" { return extent * stride }
            let dilation = dilations.count == rank ? dilations[axis] : 1
            let padding = pads.count == 2 * rank ? pads[axis] + pads[axis + rank] : 0
            let outputPadding = extra.count == rank ? extra[axis] : 0
            return stride * (extent - 1) + outputPadding + (k - 1) * dilation + 1 - padding
        }
        if let batch = x[0], let inputs = ONNXShapeInference.product(x.dropFirst(2)),
            let weights = ONNXShapeInference.product(w[...])
        {
            macs[index] = ONNXShapeInference.multiply([batch, inputs, weights])
        }
        return [x[0], channels] + spatial
    }

    private mutating func conv(_ node: Onnx_NodeProto, index: Int) -> ONNXShape? {
        guard let x = shape(node, 0), let w = shape(node, 1), x.count >= 3, w.count == x.count else { return nil }
        let kernel = node.intsAttribute("kernel_shape").map { $0.map { Int($0) } } ?? Array(w.dropFirst(2))
        guard let spatial = window(node, input: Array(x.dropFirst(2)), kernel: kernel, ceilMode: false) else {
            return nil
        }
        let groups = Int(node.intAttribute("group") ?? 1)
        if let channels = x[1], let perGroup = w[1], channels != perGroup * groups {
            conflict(
                node, index,
                "input '\(node.input[0])' has \(channels) channels but the weight '\(node.input[1])' expects "
                    + "\(perGroup * groups) (\(perGroup) per group × group=\(groups))")
        }
        if let outputs = w[0], let bias = shape(node, 2), bias != [outputs] {
            conflict(node, index, "bias '\(node.input[2])' has shape \(ONNXShapeInference.text(bias)), expected [\(outputs)]")
        }
        let out: ONNXShape = [x[0], w[0]] + spatial
        if let batch = x[0], let outputs = ONNXShapeInference.product(spatial[...]),
            let weights = ONNXShapeInference.product(w[...])
        {
            macs[index] = ONNXShapeInference.multiply([batch, outputs, weights])
        }
        return out
    }

    private mutating func gemm(_ node: Onnx_NodeProto, index: Int) -> ONNXShape? {
        guard let a = shape(node, 0), let b = shape(node, 1), a.count == 2, b.count == 2 else { return nil }
        let (m, k) = node.intAttribute("transA") ?? 0 != 0 ? (a[1], a[0]) : (a[0], a[1])
        let n = node.intAttribute("transB") ?? 0 != 0 ? b[0] : b[1]
        let inner = node.intAttribute("transB") ?? 0 != 0 ? b[1] : b[0]
        if let k, let inner, k != inner {
            conflict(node, index, "A has \(k) columns but B has \(inner) rows")
        }
        if let m, let n, let k { macs[index] = ONNXShapeInference.multiply([m, n, k]) }
        return [m, n]
    }

    private mutating func matMul(_ node: Onnx_NodeProto, index: Int) -> ONNXShape? {
        guard var a = shape(node, 0), var b = shape(node, 1), !a.isEmpty, !b.isEmpty else { return nil }
        let vectorA = a.count == 1
        let vectorB = b.count == 1
        if vectorA { a.insert(1, at: 0) }
        if vectorB { b.append(1) }
        var batch: ONNXShape? = []
        let batchA = Array(a.dropLast(2))
        let batchB = Array(b.dropLast(2))
        if !batchA.isEmpty || !batchB.isEmpty { batch = ONNXShapeInference.broadcast(batchA, batchB) }
        guard let batch else { return nil }
        let m = a[a.count - 2]
        let k = a[a.count - 1]
        let n = b[b.count - 1]
        if let k, let inner = b[b.count - 2], k != inner {
            conflict(node, index, "'\(node.input[0])' has \(k) columns but '\(node.input[1])' has \(inner) rows")
        }
        if let m, let n, let k, let batchCount = ONNXShapeInference.product(batch[...]) {
            macs[index] = ONNXShapeInference.multiply([batchCount, m, n, k])
        }
        return batch + (vectorA ? [] : [m]) + (vectorB ? [] : [n])
    }

    private func pool(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let x = shape(node, 0), x.count >= 3, let kernel = node.intsAttribute("kernel_shape") else { return nil }
        let ceilMode = (node.intAttribute("ceil_mode") ?? 0) != 0
        guard
            let spatial = window(node, input: Array(x.dropFirst(2)), kernel: kernel.map { Int($0) }, ceilMode: ceilMode)
        else { return nil }
        return Array(x.prefix(2)) + spatial
    }

    /// Output extents of a sliding window (Conv and pooling): strides, pads, dilations, `auto_pad`, `ceil_mode`.
    private func window(_ node: Onnx_NodeProto, input: ONNXShape, kernel: ONNXShape, ceilMode: Bool) -> ONNXShape? {
        let rank = input.count
        guard kernel.count == rank else { return nil }
        let strides = (node.intsAttribute("strides") ?? []).map { Int($0) }
        let dilations = (node.intsAttribute("dilations") ?? []).map { Int($0) }
        let pads = (node.intsAttribute("pads") ?? []).map { Int($0) }
        guard strides.isEmpty || strides.count == rank, dilations.isEmpty || dilations.count == rank,
            pads.isEmpty || pads.count == 2 * rank
        else { return nil }
        let autoPad = node.stringAttribute("auto_pad") ?? "NOTSET"
        return (0..<rank).map { axis -> Int? in
            guard let extent = input[axis], let k = kernel[axis] else { return nil }
            let stride = strides.isEmpty ? 1 : strides[axis]
            let dilation = dilations.isEmpty ? 1 : dilations[axis]
            guard stride > 0, dilation > 0, k > 0 else { return nil }
            let span = (k - 1) * dilation + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                return (extent + stride - 1) / stride
            case "VALID":
                return extent >= span ? (extent - span) / stride + 1 : nil
            default:
                let padded = extent + (pads.isEmpty ? 0 : pads[axis] + pads[axis + rank])
                guard padded >= span else { return nil }
                var out = ceilMode ? (padded - span + stride - 1) / stride + 1 : (padded - span) / stride + 1
                // With ceil_mode the last window must start inside the input or its leading padding.
                if ceilMode, (out - 1) * stride >= extent + (pads.isEmpty ? 0 : pads[axis]) { out -= 1 }
                return out
            }
        }
    }

    private func reshape(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let target = partialValue(node, 1) else { return nil }
        let input = shape(node, 0)
        let allowZero = (node.intAttribute("allowzero") ?? 0) != 0
        var out: ONNXShape = []
        var inferred: Int?
        for (position, dim) in target.enumerated() {
            guard let dim else {
                out.append(nil)
                continue
            }
            switch dim {
            case -1:
                guard inferred == nil else { return nil }
                inferred = position
                out.append(nil)
            case 0 where !allowZero:
                guard let input, position < input.count else { return nil }
                out.append(input[position])
            case let dim where dim >= 0: out.append(Int(dim))
            default: return nil
            }
        }
        if let inferred, let input, let total = ONNXShapeInference.product(input[...]) {
            var rest = out
            rest.remove(at: inferred)
            if let known = ONNXShapeInference.product(rest[...]), known > 0, total % known == 0 {
                out[inferred] = total / known
            }
        } else if let inferred, let input {
            out[inferred] = inferredExtent(node, target: out, at: inferred, input: input)
        }
        return out
    }

    /// Split: sizes from the `split` attribute, the `split` input, or equal parts (the last one smaller from
    /// opset 18, as the interpreter splits).
    private func split(_ node: Onnx_NodeProto) -> [ONNXShape?] {
        guard let x = shape(node, 0), let axis = ONNXShapeInference.axis(node.intAttribute("axis") ?? 0, rank: x.count),
            let extent = x[axis]
        else { return [] }
        guard let sizes = ONNXShapeInference.splitSizes(node, extent: extent, splitInput: value(node, 1)) else {
            return []
        }
        return sizes.map { size in
            var out = x
            out[axis] = size
            return out
        }
    }

    /// The part sizes of a Split of `extent` entries: the `split` attribute, else `splitInput`, else equal parts of
    /// ⌈extent / outputs⌉ with a smaller last part; nil when they do not add up to `extent`.
    package static func splitSizes(_ node: Onnx_NodeProto, extent: Int, splitInput: [Int64]?) -> [Int]? {
        let outputs = node.output.count
        var sizes: [Int]
        if let attribute = node.intsAttribute("split") {
            sizes = attribute.map { Int($0) }
        } else if node.input.count > 1, !node.input[1].isEmpty {
            guard let splitInput else { return nil }
            sizes = splitInput.map { Int($0) }
        } else {
            guard outputs > 0 else { return nil }
            let part = (extent + outputs - 1) / outputs
            sizes = (0..<outputs).map { min(part, max(0, extent - $0 * part)) }
        }
        guard sizes.count == outputs, sizes.reduce(0, +) == extent, sizes.allSatisfy({ $0 >= 0 }) else { return nil }
        return sizes
    }

    /// Slice with starts, ends, axes and steps known at load time (inputs from opset 10, attributes before).
    private func slice(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard var x = shape(node, 0) else { return nil }
        let starts: [Int64]
        let ends: [Int64]
        var axes: [Int64]?
        var steps: [Int64]?
        if let attributeStarts = node.intsAttribute("starts") {
            guard let attributeEnds = node.intsAttribute("ends") else { return nil }
            (starts, ends, axes) = (attributeStarts, attributeEnds, node.intsAttribute("axes"))
        } else {
            guard let s = value(node, 1), let e = value(node, 2) else { return sliceWithUnknownBounds(node, x) }
            (starts, ends) = (s, e)
            if node.input.count > 3, !node.input[3].isEmpty {
                guard let a = value(node, 3) else { return nil }
                axes = a
            }
            if node.input.count > 4, !node.input[4].isEmpty {
                guard let t = value(node, 4) else { return nil }
                steps = t
            }
        }
        let axisList = axes ?? (0..<Int64(starts.count)).map { $0 }
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count else {
            return nil
        }
        for k in starts.indices {
            guard let axis = ONNXShapeInference.axis(axisList[k], rank: x.count) else { return nil }
            guard let extent = x[axis] else { continue }
            let step = Int(stepList[k])
            guard step != 0 else { return nil }
            x[axis] = ONNXShapeInference.sliceCount(start: starts[k], end: ends[k], step: step, extent: extent)
        }
        return x
    }

    /// How many indices a Slice keeps along an axis of `extent` entries, clamped as the ONNX specification says.
    static func sliceCount(start: Int64, end: Int64, step: Int, extent: Int) -> Int {
        let e = Int64(extent)
        var first = start < 0 ? start + e : start
        var last = end < 0 ? end + e : end
        if step > 0 {
            first = min(max(first, 0), e)
            last = min(max(last, 0), e)
            return max(0, Int((last - first + Int64(step) - 1) / Int64(step)))
        }
        first = min(max(first, 0), e - 1)
        last = min(max(last, -1), e - 1)
        return max(0, Int((first - last - Int64(step) - 1) / -Int64(step)))
    }

    private func concat(_ node: Onnx_NodeProto) -> ONNXShape? {
        let inputs = node.input.indices.map { shape(node, $0) }
        guard let first = inputs.first ?? nil, inputs.allSatisfy({ $0?.count == first.count }),
            let axis = ONNXShapeInference.axis(node.intAttribute("axis") ?? 0, rank: first.count)
        else { return nil }
        var out = first
        out[axis] = ONNXShapeInference.sum(inputs.map { $0?[axis] })
        for position in out.indices where position != axis && out[position] == nil {
            out[position] = inputs.lazy.compactMap { $0?[position] }.first
        }
        return out
    }

    /// The axes of Squeeze/Unsqueeze/reductions: an attribute before opset 13 (18 for most reductions), input 1 after.
    private func axesArgument(_ node: Onnx_NodeProto) -> [Int64]? {
        node.intsAttribute("axes") ?? value(node, 1)
    }

    private func squeeze(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let x = shape(node, 0) else { return nil }
        guard let axes = axesArgument(node) else {
            guard x.allSatisfy({ $0 != nil }) else { return nil }
            return x.filter { $0 != 1 }
        }
        let normalized = Set(axes.compactMap { ONNXShapeInference.axis($0, rank: x.count) })
        guard normalized.count == axes.count else { return nil }
        return x.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
    }

    private func unsqueeze(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let x = shape(node, 0), let axes = axesArgument(node) else { return nil }
        let rank = x.count + axes.count
        let normalized = Set(axes.compactMap { ONNXShapeInference.axis($0, rank: rank) })
        guard normalized.count == axes.count else { return nil }
        var remaining = x.makeIterator()
        return (0..<rank).map { normalized.contains($0) ? 1 : (remaining.next() ?? nil) }
    }

    private func pad(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let x = shape(node, 0), let pads = node.intsAttribute("pads") ?? value(node, 1) else { return nil }
        if node.input.count > 3, !node.input[3].isEmpty { return nil }  // explicit axes: not covered
        guard pads.count == 2 * x.count else { return nil }
        return x.enumerated().map { axis, extent in
            extent.map { $0 + Int(pads[axis]) + Int(pads[axis + x.count]) }
        }
    }

    private func gather(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let data = shape(node, 0), let indices = shape(node, 1),
            let axis = ONNXShapeInference.axis(node.intAttribute("axis") ?? 0, rank: data.count)
        else { return nil }
        return Array(data[..<axis]) + indices + Array(data[(axis + 1)...])
    }

    private func reduce(_ node: Onnx_NodeProto) -> ONNXShape? {
        guard let x = shape(node, 0) else { return nil }
        let keep = (node.intAttribute("keepdims") ?? 1) != 0
        let axes: [Int64]
        if node.opType == "ArgMax" || node.opType == "ArgMin" {
            axes = [node.intAttribute("axis") ?? 0]
        } else if let given = axesArgument(node), !given.isEmpty {
            axes = given
        } else {
            if (node.intAttribute("noop_with_empty_axes") ?? 0) != 0 { return x }
            axes = (0..<Int64(x.count)).map { $0 }
        }
        let normalized = Set(axes.compactMap { ONNXShapeInference.axis($0, rank: x.count) })
        guard normalized.count == Set(axes).count else { return nil }
        return x.enumerated().compactMap { axis, extent -> Int?? in
            normalized.contains(axis) ? (keep ? .some(1) : nil) : .some(extent)
        }
    }

    private func constantShape(_ node: Onnx_NodeProto) -> ONNXShape? {
        if let tensor = node.attribute(named: "value"), tensor.hasT { return tensor.t.dims.map { Int($0) } }
        if let ints = node.intsAttribute("value_ints") { return [ints.count] }
        if let floats = node.attribute(named: "value_floats") { return [floats.floats.count] }
        if node.intAttribute("value_int") != nil || node.attribute(named: "value_float") != nil { return [] }
        return nil
    }

    // MARK: - Folding shape arithmetic

    /// The value of `node`'s first output when it is a small integer tensor known at load time.
    private func fold(_ node: Onnx_NodeProto) -> [Int64]? {
        guard ONNXWeightLayouts.isDefaultDomain(node.domain) else { return nil }
        switch node.opType {
        case "Constant":
            if let ints = node.intsAttribute("value_ints") { return ints }
            if let int = node.intAttribute("value_int") { return [int] }
            guard let attribute = node.attribute(named: "value"), attribute.hasT else { return nil }
            return ONNXShapeInference.int64Values(attribute.t)
        case "Shape":
            guard let x = shape(node, 0) else { return nil }
            let dims = Array(x[ONNXShapeInference.shapeRange(node, rank: x.count)])
            guard dims.allSatisfy({ $0 != nil }) else { return nil }
            return dims.map { Int64($0 ?? 0) }
        case "Identity", "Cast":
            return value(node, 0)
        case "Gather":
            guard let data = value(node, 0), let indices = value(node, 1), (node.intAttribute("axis") ?? 0) == 0
            else { return nil }
            let picked = indices.compactMap { index -> Int64? in
                let position = index < 0 ? Int(index) + data.count : Int(index)
                return position >= 0 && position < data.count ? data[position] : nil
            }
            return picked.count == indices.count ? picked : nil
        case "Unsqueeze", "Squeeze":
            return value(node, 0)
        case "Concat":
            var out: [Int64] = []
            for position in node.input.indices {
                guard let part = value(node, position) else { return nil }
                out += part
            }
            return out
        default:
            return foldArithmetic(node)
        }
    }

    /// Folding of the shape arithmetic exporters write around computed pads, sizes and reshape targets: integer
    /// Add/Sub/Mul/Div/Mod/Max/Min/Neg/Abs, Equal/Where, Slice and Transpose of a tensor of any rank
    /// (`ONNXTensorFolding`), Reshape/Flatten/Squeeze of a list, ConstantOfShape, Range, Expand, ReduceProd/ReduceSum
    /// and Size. Values stay small (≤ 64).
    private func foldArithmetic(_ node: Onnx_NodeProto) -> [Int64]? {
        let limit = 64
        switch node.opType {
        case "Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Equal", "Less", "Greater":
            guard node.input.count == 2, let a = value(node, 0), let b = value(node, 1),
                a.count == b.count || a.count == 1 || b.count == 1
            else { return nil }
            let count = max(a.count, b.count)
            var out: [Int64] = []
            for position in 0..<count {
                let x = a[a.count == 1 ? 0 : position]
                let y = b[b.count == 1 ? 0 : position]
                switch node.opType {
                case "Add": out.append(x &+ y)
                case "Sub": out.append(x &- y)
                case "Mul": out.append(x &* y)
                case "Div":
                    let (quotient, overflow) = x.dividedReportingOverflow(by: y)
                    guard y != 0, !overflow else { return nil }
                    out.append(quotient)
                case "Mod":
                    let (remainder, overflow) = x.remainderReportingOverflow(dividingBy: y)
                    guard y != 0, !overflow else { return nil }
                    out.append(remainder)
                case "Max": out.append(Swift.max(x, y))
                case "Min": out.append(Swift.min(x, y))
                case "Equal": out.append(x == y ? 1 : 0)
                case "Less": out.append(x < y ? 1 : 0)
                default: out.append(x > y ? 1 : 0)
                }
            }
            return out
        case "Neg": return value(node, 0)?.map { 0 &- $0 }
        case "Abs": return value(node, 0)?.map { $0 == .min ? $0 : Swift.abs($0) }
        case "Where":
            guard node.input.count == 3, let c = value(node, 0), let x = value(node, 1), let y = value(node, 2)
            else { return nil }
            let count = Swift.max(c.count, x.count, y.count)
            guard [c, x, y].allSatisfy({ $0.count == count || $0.count == 1 }) else { return nil }
            return (0..<count).map { i in
                c[c.count == 1 ? 0 : i] != 0 ? x[x.count == 1 ? 0 : i] : y[y.count == 1 ? 0 : i]
            }
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Cast":
            return value(node, 0)
        case "Transpose":
            guard let data = value(node, 0), let extents = foldedExtents(node, data) else { return nil }
            return ONNXTensorFolding.transpose(data, shape: extents, perm: node.intsAttribute("perm"))
        case "Slice":
            guard let data = value(node, 0), let extents = foldedExtents(node, data), let bounds = sliceBounds(node)
            else { return nil }
            return ONNXTensorFolding.slice(
                data, shape: extents, starts: bounds.starts, ends: bounds.ends, axes: bounds.axes, steps: bounds.steps)
        case "ConstantOfShape":
            guard let dims = value(node, 0), dims.allSatisfy({ $0 >= 0 && $0 <= Int64(limit) }) else { return nil }
            let count = dims.reduce(1, { Swift.min($0 * $1, Int64(limit) + 1) })
            guard count <= limit else { return nil }
            var fill: Int64 = 0
            if let attribute = node.attribute(named: "value"), attribute.hasT {
                guard let values = ONNXShapeInference.int64Values(attribute.t), values.count == 1 else { return nil }
                fill = values[0]
            }
            return Array(repeating: fill, count: Int(count))
        case "Range":
            guard let start = value(node, 0)?.first, let end = value(node, 1)?.first, let delta = value(node, 2)?.first,
                delta != 0
            else { return nil }
            let (span, overflow) = end.subtractingReportingOverflow(start)
            guard !overflow else { return nil }
            let (rounded, wrapped) = span.addingReportingOverflow(delta - (delta > 0 ? 1 : -1))
            guard !wrapped else { return nil }
            let count = Swift.max(0, rounded / delta)
            guard count <= limit else { return nil }
            return (0..<count).map { start + $0 * delta }
        case "Expand":
            guard let data = value(node, 0), let target = value(node, 1), data.count == 1 else { return nil }
            guard target.allSatisfy({ $0 >= 0 && $0 <= Int64(limit) }) else { return nil }
            let count = target.reduce(1, { Swift.min($0 * Swift.max($1, 1), Int64(limit) + 1) })
            guard count <= limit else { return nil }
            return Array(repeating: data[0], count: Int(count))
        case "ReduceProd", "ReduceSum":
            guard let data = value(node, 0), shape(node, 0)?.count ?? 1 <= 1 else { return nil }
            return [node.opType == "ReduceProd" ? data.reduce(1, { $0 &* $1 }) : data.reduce(0, { $0 &+ $1 })]
        case "Size":
            guard let x = shape(node, 0), let count = ONNXShapeInference.product(x[...]) else { return nil }
            return [Int64(count)]
        default:
            return nil
        }
    }

    /// A Slice's starts, ends, axes and steps when all are known at load time (attributes before opset 10, else the
    /// inputs; axes and steps nil when absent).
    func sliceBounds(_ node: Onnx_NodeProto) -> (starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?)? {
        let fromInputs = node.intsAttribute("starts") == nil
        guard let starts = node.intsAttribute("starts") ?? value(node, 1),
            let ends = node.intsAttribute("ends") ?? value(node, 2)
        else { return nil }
        func optional(_ position: Int) -> [Int64]?? {
            guard position < node.input.count, !node.input[position].isEmpty else { return .some(nil) }
            return value(node, position).map { .some($0) }
        }
        guard fromInputs else { return (starts, ends, node.intsAttribute("axes"), nil) }
        guard let axes = optional(3), let steps = optional(4) else { return nil }
        return (starts, ends, axes, steps)
    }

    /// The extents of `node`'s first input, whose values are `data`: its inferred shape when fully known, a list
    /// when no shape was inferred.
    private func foldedExtents(_ node: Onnx_NodeProto, _ data: [Int64]) -> [Int]? {
        guard let x = shape(node, 0) else { return [data.count] }
        let extents = x.compactMap { $0 }
        return extents.count == x.count ? extents : nil
    }

    /// The INT64 values of a small constant tensor (at most 64 elements), from `int64_data` or `raw_data`.
    package static func int64Values(_ tensor: Onnx_TensorProto) -> [Int64]? {
        guard tensor.dataType == Int32(Onnx_TensorProto.DataType.int64.rawValue),
            tensor.dims.allSatisfy({ $0 >= 0 }), tensor.dims.reduce(1, { $0 * max($1, 0) }) <= 64
        else { return nil }
        if tensor.hasRawData {
            let data = tensor.rawData
            guard data.count % 8 == 0 else { return nil }
            return data.withUnsafeBytes { raw in
                (0..<(raw.count / 8)).map {
                    Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))
                }
            }
        }
        return tensor.int64Data
    }

    // MARK: - Helpers

    /// The dimensions a Shape node reports (`start`/`end` attributes, opset 15).
    static func shapeRange(_ node: Onnx_NodeProto, rank: Int) -> Range<Int> {
        func clamp(_ value: Int64) -> Int {
            let position = value < 0 ? Int(value) + rank : Int(min(value, Int64(rank)))
            return min(max(position, 0), rank)
        }
        let start = clamp(node.intAttribute("start") ?? 0)
        let end = clamp(node.intAttribute("end") ?? Int64(rank))
        return start..<max(start, end)
    }

    /// `axis` made non-negative for a tensor of rank `rank`; nil when out of range.
    static func axis(_ axis: Int64, rank: Int, inclusiveEnd: Bool = false) -> Int? {
        let upper = inclusiveEnd ? rank : rank - 1
        let position = axis < 0 ? Int(axis) + rank : Int(axis)
        return position >= 0 && position <= upper ? position : nil
    }

    /// Numpy's multidirectional broadcasting of two shapes.
    static func broadcast(_ a: ONNXShape?, _ b: ONNXShape?) -> ONNXShape? {
        guard let a, let b else { return nil }
        let rank = max(a.count, b.count)
        let paddedA = Array(repeating: 1, count: rank - a.count) + a
        let paddedB = Array(repeating: 1, count: rank - b.count) + b
        var out: ONNXShape = []
        for (x, y) in zip(paddedA, paddedB) {
            switch (x, y) {
            case (1?, _): out.append(y)
            case (_, 1?): out.append(x)
            case (let x?, let y?): if x == y { out.append(x) } else { return nil }
            case (let x?, nil): out.append(x)
            case (nil, let y?): out.append(y)
            case (nil, nil): out.append(nil)
            }
        }
        return out
    }

    /// Whether two shapes can describe the same value: equal ranks, and equal extents wherever both are known.
    static func agree(_ a: ONNXShape, _ b: ONNXShape) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in x == nil || y == nil || x == y }
    }

    /// A shape as text, `?` for unknown extents.
    static func text(_ shape: ONNXShape) -> String {
        "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", ") + "]"
    }

    /// Records a conflict at `node`.
    private mutating func conflict(_ node: Onnx_NodeProto, _ index: Int, _ message: String) {
        let label = node.name.isEmpty ? "#\(index)" : node.name
        conflicts.append("node '\(label)' (\(node.opType)): \(message)")
    }

    /// The product of known extents; nil when one is unknown or the product overflows.
    static func product(_ extents: ArraySlice<Int?>) -> Int? {
        var result = 1
        for extent in extents {
            guard let extent else { return nil }
            let (next, overflow) = result.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            result = next
        }
        return result
    }

    private static func multiply(_ factors: [Int]) -> Int? {
        product(factors.map { Optional($0) }[...])
    }

    private static func sum(_ extents: [Int?]) -> Int? {
        var result = 0
        for extent in extents {
            guard let extent else { return nil }
            result += extent
        }
        return result
    }
}
