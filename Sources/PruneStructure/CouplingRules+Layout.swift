import ONNXOperators
import ONNXProto
import PruneCore
import PruneFormats

/// Rules for operators that move, keep or reduce axes around the group's channels: Transpose, Squeeze, Unsqueeze,
/// reductions, Softmax, LayerNormalization, Pad, Resize/Upsample, ConvTranspose, Expand and Gather.
extension GroupBuilder {
    /// Applies a rule of this file; false when `op` has none here.
    mutating func coupleLayout(_ op: String, node n: Int, through value: String, _ layout: Layout) -> Bool {
        let isOutput = index.graph.node[n].output.contains(value)
        switch op {
        case "Transpose": transpose(n, layout, isOutput: isOutput)
        case "Squeeze", "Unsqueeze": squeezeOrUnsqueeze(n, layout, isOutput: isOutput, squeezes: op == "Squeeze")
        case "Softmax", "LogSoftmax", "Hardmax": softmax(n, layout)
        case "LayerNormalization": layerNormalization(n, layout)
        case "Pad": pad(n, layout)
        case "Resize", "Upsample": resize(n, layout)
        case "ConvTranspose": convTranspose(n, layout, isOutput: isOutput)
        case "Expand": expand(n, layout, isOutput: isOutput)
        case "Gather": gather(n, layout, isOutput: isOutput)
        default:
            guard ONNXOperators.reductions.contains(op) else { return false }
            reduction(n, layout, isOutput: isOutput)
        }
        return true
    }

    /// Expand: the group passes when its axis keeps its extent (the input's extent there is known and greater than
    /// 1, so nothing is broadcast along it; a constant target has 1 or that extent there, which the rewrite
    /// lowers); axes before it may be added, which shifts it.
    private mutating func expand(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let input = index.shapes[node.input[0]], let output = index.shapes[node.output[0]],
            output.count >= input.count
        else { return excludeNode(n, "the shapes are unknown") }
        let shift = output.count - input.count
        let inputAxis = isOutput ? layout.axis - shift : layout.axis
        guard inputAxis >= 0, let extent = input[inputAxis], extent > 1 else {
            return excludeNode(n, "broadcasts along the group's axis")
        }
        guard index.isParameter(node.input[0]) else {
            // A constant target (not one read by `Shape`, which follows the input) leaves the group's axis to the
            // input (entry 1 or absent) or repeats its extent, which the rewrite lowers. A computed one is checked
            // by the rewrite's verification.
            if node.input.count > 1, let target = index.int64s(node.input[1]),
                index.model[node.input[1]] != nil
                    || index.producer[node.input[1]].map({ index.graph.node[$0].opType == "Constant" }) == true
            {
                let entry = inputAxis + shift - (output.count - target.count)
                guard entry < 0 || target[entry] == 1 || target[entry] == Int64(extent) else {
                    return excludeNode(n, "its constant target shape fixes the extent of the group's axis")
                }
            }
            return passAlong(n, layout, inputAxis: inputAxis, outputAxis: inputAxis + shift)
        }
        // An expanded parameter (ViT's class token, `[1, 1, E] → [b, 1, E]`): its slice follows the units, and the
        // target shape must leave the group's axis to the parameter (entry 1 or absent).
        let target = node.input.count > 1 ? index.int64s(node.input[1]) : nil
        let entry = target.map { inputAxis + shift - (output.count - $0.count) }
        guard let target, let entry, entry < 0 || target[entry] == 1 else {
            return excludeNode(n, "its target shape fixes the extent of the group's axis")
        }
        slice(node.input[0], axis: inputAxis, offset: layout.offset, width: layout.width, scored: false, node: n)
        add(node.output[0], axis: inputAxis + shift, offset: layout.offset, width: layout.width)
    }

    /// Gather along another axis than the group's (the class token picked from the sequence, Q, K or V picked from
    /// a stacked projection): the group moves to the output axis that keeps the data axis (after the gather axis it
    /// shifts by the index rank minus 1); an initializer gathered from (an embedding table) is sliced. Gathering
    /// along the group's axis is refused.
    private mutating func gather(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let rank = index.rank(node.input[0]), node.input.count > 1,
            let indexRank = index.rank(node.input[1]) ?? index.parameterShape(node.input[1])?.count
        else { return excludeNode(n, "the ranks of its data and indices are unknown") }
        let raw = node.int("axis", 0)
        let axis = raw < 0 ? raw + rank : raw
        if isOutput {
            let inputAxis: Int
            if layout.axis < axis {
                inputAxis = layout.axis
            } else if layout.axis >= axis + indexRank {
                inputAxis = layout.axis - indexRank + 1
            } else {
                return excludeNode(n, "the group runs along the axes of its indices")
            }
            guard index.isParameter(node.input[0]) else {
                return passAlong(n, layout, inputAxis: inputAxis, outputAxis: layout.axis)
            }
            // A table read by index (a transformer's token embedding): its slice follows the units, unscored.
            slice(node.input[0], axis: inputAxis, offset: layout.offset, width: layout.width, scored: false, node: n)
            return add(node.output[0], axis: layout.axis, offset: layout.offset, width: layout.width)
        }
        guard layout.axis != axis else { return excludeNode(n, "picks entries along the group's axis") }
        passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis < axis ? layout.axis : layout.axis + indexRank - 1)
    }

    /// Carries the group from input 0 to output 0 (or back) on the same axis.
    private mutating func passAlong(_ n: Int, _ layout: Layout, inputAxis: Int, outputAxis: Int) {
        let node = index.graph.node[n]
        if node.output.dropFirst().contains(where: { !$0.isEmpty && index.consumers[$0] != nil }) {
            return excludeNode(n, "its second output is used")
        }
        add(
            node.input[0], axis: inputAxis, offset: layout.offset, width: layout.width, repeats: layout.repeats,
            stride: layout.stride)
        add(
            node.output[0], axis: outputAxis, offset: layout.offset, width: layout.width, repeats: layout.repeats,
            stride: layout.stride)
    }

    private mutating func transpose(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let rank = index.rank(node.input[0]) else { return excludeNode(n, "the input rank is unknown") }
        let perm = node.ints("perm") ?? Array((0..<rank).reversed())
        guard perm.count == rank, Set(perm) == Set(0..<rank) else { return excludeNode(n, "its perm is invalid") }
        if isOutput {
            passAlong(n, layout, inputAxis: perm[layout.axis], outputAxis: layout.axis)
        } else if let outputAxis = perm.firstIndex(of: layout.axis) {
            passAlong(n, layout, inputAxis: layout.axis, outputAxis: outputAxis)
        }
    }

    /// The axes argument of Squeeze, Unsqueeze and reductions: the attribute before opset 13 (18 for most
    /// reductions), input 1 after; nil when absent, `[]`-like unknown when it is not a known constant.
    private func axesArgument(_ node: Onnx_NodeProto) -> (known: Bool, axes: [Int]?) {
        if let attribute = node.ints("axes") { return (true, attribute) }
        guard node.input.count > 1, !node.input[1].isEmpty else { return (true, nil) }
        guard let values = index.int64s(node.input[1]) else { return (false, nil) }
        return (true, values.map { Int($0) })
    }

    private mutating func squeezeOrUnsqueeze(_ n: Int, _ layout: Layout, isOutput: Bool, squeezes: Bool) {
        let node = index.graph.node[n]
        guard let inputRank = index.rank(node.input[0]), let outputRank = index.rank(node.output[0]) else {
            return excludeNode(n, "the ranks are unknown")
        }
        let argument = axesArgument(node)
        guard argument.known else { return excludeNode(n, "its axes are not known at load time") }
        // Map every axis of the input to the output: the axes that are kept keep their order.
        let squeezedRank = squeezes ? inputRank : outputRank
        let listed = (argument.axes ?? []).map { $0 < 0 ? $0 + squeezedRank : $0 }
        var mapping: [Int: Int] = [:]
        if squeezes {
            guard let shape = index.shapes[node.input[0]] else { return excludeNode(n, "the input shape is unknown") }
            let removed = argument.axes == nil ? Set(shape.indices.filter { shape[$0] == 1 }) : Set(listed)
            var next = 0
            for axis in 0..<inputRank where !removed.contains(axis) {
                mapping[axis] = next
                next += 1
            }
        } else {
            let inserted = Set(listed)
            var next = 0
            for axis in 0..<outputRank where !inserted.contains(axis) {
                mapping[next] = axis
                next += 1
            }
        }
        if isOutput {
            guard let inputAxis = mapping.first(where: { $0.value == layout.axis })?.key else { return }
            passAlong(n, layout, inputAxis: inputAxis, outputAxis: layout.axis)
        } else {
            guard let outputAxis = mapping[layout.axis] else {
                return excludeNode(n, "squeezes the group's axis")
            }
            passAlong(n, layout, inputAxis: layout.axis, outputAxis: outputAxis)
        }
    }

    private mutating func reduction(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let rank = index.rank(node.input[0]) else { return excludeNode(n, "the input rank is unknown") }
        let argument = axesArgument(node)
        guard argument.known else { return excludeNode(n, "its axes are not known at load time") }
        let keep = node.int("keepdims", 1) != 0
        var axes = Set((argument.axes ?? []).map { $0 < 0 ? $0 + rank : $0 })
        if argument.axes == nil || axes.isEmpty {
            if node.int("noop_with_empty_axes", 0) != 0 { return passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis) }
            axes = Set(0..<rank)
        }
        let kept = (0..<rank).filter { !axes.contains($0) }
        func outputAxis(_ inputAxis: Int) -> Int { keep ? inputAxis : kept.firstIndex(of: inputAxis)! }
        if isOutput {
            let inputAxis = keep ? layout.axis : kept[layout.axis]
            guard !axes.contains(inputAxis) else { return }
            passAlong(n, layout, inputAxis: inputAxis, outputAxis: layout.axis)
        } else {
            if axes.contains(layout.axis) {
                // A sum over the channels (a layer norm written out as ReduceSum · 1/C, as tf2onnx does) reads them
                // as a consumer: the removed channels' terms are dropped, the output does not carry the group.
                guard ONNXOperators.zeroNeutralReductions.contains(node.opType) else {
                    return excludeNode(n, "reduces over the group's channels")
                }
                return
            }
            passAlong(n, layout, inputAxis: layout.axis, outputAxis: outputAxis(layout.axis))
        }
    }

    private mutating func softmax(_ n: Int, _ layout: Layout) {
        let node = index.graph.node[n]
        guard let rank = index.rank(node.input[0]) else { return excludeNode(n, "the input rank is unknown") }
        let raw = node.int("axis", index.opset >= 13 ? -1 : 1)
        let axis = raw < 0 ? raw + rank : raw
        // Before opset 13 the input is coerced to 2-D at `axis`: every axis from there on is normalised together.
        let normalised = index.opset >= 13 ? layout.axis == axis : layout.axis >= axis
        guard !normalised else { return excludeNode(n, "normalises across the group's channels") }
        passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis)
    }

    /// LayerNormalization over the channel axis alone (ConvNeXt's after a Transpose, a transformer's hidden width):
    /// scale and bias follow the channels. Removing channels changes the statistics the remaining ones are
    /// normalised with, as it does in Torch-Pruning.
    private mutating func layerNormalization(_ n: Int, _ layout: Layout) {
        let node = index.graph.node[n]
        guard let rank = index.rank(node.input[0]) else { return excludeNode(n, "the input rank is unknown") }
        let raw = node.int("axis", -1)
        let first = raw < 0 ? raw + rank : raw
        guard layout.axis >= first else { return passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis) }
        guard first == rank - 1, layout.axis == first else {
            return excludeNode(n, "normalises over several axes including the group's")
        }
        for position in [1, 2] where position < node.input.count && !node.input[position].isEmpty {
            slice(
                node.input[position], axis: 0, offset: layout.offset, width: layout.width, scored: position == 1,
                node: n)
        }
        passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis)
    }

    private mutating func pad(_ n: Int, _ layout: Layout) {
        let node = index.graph.node[n]
        guard let rank = index.rank(node.input[0]) else { return excludeNode(n, "the input rank is unknown") }
        let pads: [Int]
        if let attribute = node.ints("pads") {
            pads = attribute
        } else if node.input.count > 1, let values = index.int64s(node.input[1]) {
            pads = values.map { Int($0) }
        } else {
            return excludeNode(n, "its pads are not known at load time")
        }
        var axes = Array(0..<rank)
        if node.input.count > 3, !node.input[3].isEmpty {
            guard let values = index.int64s(node.input[3]) else {
                return excludeNode(n, "its axes are not known at load time")
            }
            axes = values.map { Int($0) < 0 ? Int($0) + rank : Int($0) }
        }
        guard pads.count == 2 * axes.count else { return excludeNode(n, "its pads do not match its axes") }
        if let k = axes.firstIndex(of: layout.axis), pads[k] != 0 || pads[k + axes.count] != 0 {
            return excludeNode(n, "pads the group's channel axis")
        }
        passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis)
    }

    /// Resize and Upsample scale spatial axes; the channel axis must keep scale 1. A constant `sizes` is rewritten
    /// with the channels.
    private mutating func resize(_ n: Int, _ layout: Layout) {
        let node = index.graph.node[n]
        let op = node.opType
        var scales: [Float]?
        if op == "Upsample", let attribute = node.attribute.first(where: { $0.name == "scales" }) {
            scales = attribute.floats
        }
        let scalesInput = op == "Upsample" ? 1 : (index.opset >= 11 ? 2 : 1)
        if scales == nil, scalesInput < node.input.count, !node.input[scalesInput].isEmpty {
            guard let values = index.floats(node.input[scalesInput]) else {
                if index.opset >= 11, node.input.count > 3, !node.input[3].isEmpty {
                    return resizeBySizes(n, layout)
                }
                return excludeNode(n, "its scales are not known at load time")
            }
            if !values.isEmpty { scales = values }
        }
        if let scales {
            guard layout.axis < scales.count, scales[layout.axis] == 1 else {
                return excludeNode(n, "scales the group's channel axis")
            }
            return passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis)
        }
        resizeBySizes(n, layout)
    }

    private mutating func resizeBySizes(_ n: Int, _ layout: Layout) {
        let node = index.graph.node[n]
        guard node.input.count > 3, !node.input[3].isEmpty else { return excludeNode(n, "has neither scales nor sizes") }
        guard shapeArgumentIsEditable(node.input[3]) else {
            return excludeNode(n, "its sizes are computed in the graph and cannot be rewritten")
        }
        passAlong(n, layout, inputAxis: layout.axis, outputAxis: layout.axis)
    }

    /// ConvTranspose with group 1: weight `[C_in, C_out, k…]`, so output channels are weight axis 1 and input
    /// channels weight axis 0.
    private mutating func convTranspose(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard node.input.count >= 2, index.parameterShape(node.input[1]) != nil else {
            return excludeNode(n, "its weight is not an initializer")
        }
        guard node.int("group", 1) == 1 else { return excludeNode(n, "grouped transposed convolutions are not analysed") }
        guard layout.axis == 1 else { return excludeNode(n, "the group runs along a spatial axis") }
        if isOutput {
            slice(node.input[1], axis: 1, offset: layout.offset, width: layout.width, scored: true, node: n)
            if node.input.count > 2, !node.input[2].isEmpty {
                slice(node.input[2], axis: 0, offset: layout.offset, width: layout.width, scored: false, node: n)
            }
        } else {
            slice(node.input[1], axis: 0, offset: layout.offset, width: layout.width, scored: true, node: n)
        }
    }
}
