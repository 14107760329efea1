import ONNXOperators
import ONNXProto
import PruneCore
import PruneFormats

/// Per-operator rules: given that one value of a node carries the group's channels, which other values and
/// parameter slices carry them too. An operator without a rule excludes the group.
extension GroupBuilder {
    /// Operators whose output 0 has the same channels as input 0, element for element.
    static let passThrough = ONNXOperators.elementwise
    /// Pooling keeps channels on axis 1.
    static let pooling = ONNXOperators.pooling.union(ONNXOperators.globalPooling)
    /// Broadcasting elementwise operators: every operand with the channel axis is coupled.
    static let broadcasting = ONNXOperators.broadcasting

    /// Applies the rule of node `node`, reached through `value`.
    mutating func couple(node n: Int, through value: String, layout: Layout) {
        let node = index.graph.node[n]
        if AttentionHeads.fusedOperators.contains(node.opType), !node.isDefaultDomain {
            return excludeNode(
                n,
                "ONNX Runtime's fused attention operator (domain '\(node.domain)') packs the heads inside one node; "
                    + "its heads are not analysed (export the model without attention fusion)")
        }
        guard node.isDefaultDomain else { return excludeNode(n, "operators outside the ONNX domain are not analysed") }
        if !node.subgraphs.isEmpty {
            let side = node.output.contains(value) ? "come out of" : "are read inside"
            return excludeNode(
                n, "the group's channels \(side) its subgraphs; a group stays inside one graph (each If branch is "
                    + "analysed on its own)")
        }
        let isOutput = node.output.contains(value)
        let op = node.opType
        if headDimensions, headDimensionRule(n, value, layout, isOutput: isOutput) { return }
        if layout.repeats > 1, op != "Transpose", op != "Reshape", !headDimensions {
            return excludeNode(
                n, "reads attention heads merged into the batch axis; only Transpose and the Reshape that splits them out are understood")
        }
        // Shape and Size read only the extents, which the interpreter recomputes after a cut: nothing to couple.
        if !isOutput, op == "Shape" || op == "Size" { return }
        if !isOutput, let position = node.input.firstIndex(of: value), position > 0,
            !Self.broadcasting.contains(op), op != "Concat", !(op == "MatMul" && !node.input.contains(where: index.isParameter))
        {
            return excludeNode(n, "reads the group's channels as input \(position), which is not its data input")
        }
        if Self.passThrough.contains(op) || Self.pooling.contains(op) {
            if Self.pooling.contains(op), layout.axis != 1 { return excludeNode(n, "pools over the channel axis") }
            if node.output.dropFirst().contains(where: { index.consumers[$0] != nil || index.graphOutputs.contains($0) }
            ) {
                return excludeNode(n, "its second output is used")
            }
            add(node.input[0], axis: layout.axis, offset: layout.offset, width: layout.width)
            add(node.output[0], axis: layout.axis, offset: layout.offset, width: layout.width)
            return
        }
        switch op {
        case _ where ONNXOperators.channelAffine.contains(op): normalization(n, layout)
        case "Conv": conv(n, layout, isOutput: isOutput)
        case "Gemm": gemm(n, layout, isOutput: isOutput)
        case "MatMul": matMul(n, value, layout, isOutput: isOutput)
        case "Concat": concat(n, value, layout, isOutput: isOutput)
        case "Split": split(n, value, layout, isOutput: isOutput)
        case "Slice": slice(n, layout, isOutput: isOutput)
        case "Flatten": flatten(n, layout, isOutput: isOutput, axis: node.int("axis", 1))
        case "Reshape": reshapeAxes(n, layout, isOutput: isOutput)
        case _ where ONNXOperators.recurrent.contains(op): recurrent(n, layout, isOutput: isOutput)
        default:
            if Self.broadcasting.contains(op) { return broadcast(n, value, layout) }
            if coupleLayout(op, node: n, through: value, layout) { return }
            excludeNode(n, "the structure analysis does not understand this operator")
        }
    }

    private mutating func normalization(_ n: Int, _ layout: Layout) {
        let node = index.graph.node[n]
        guard layout.axis == 1 else { return excludeNode(n, "normalises across the group's channels") }
        if node.output.dropFirst().contains(where: { !$0.isEmpty && index.consumers[$0] != nil }) {
            return excludeNode(n, "its training outputs are used")
        }
        for (position, parameter) in node.input.enumerated().dropFirst() where !parameter.isEmpty {
            slice(parameter, axis: 0, offset: layout.offset, width: layout.width, scored: position == 1, node: n)
        }
        add(node.input[0], axis: 1, offset: layout.offset, width: layout.width)
        add(node.output[0], axis: 1, offset: layout.offset, width: layout.width)
    }

    private mutating func conv(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard node.input.count >= 2, let weight = index.parameterShape(node.input[1]) else {
            return excludeNode(n, "its weight is not an initializer")
        }
        guard layout.axis == 1 else { return excludeNode(n, "the group runs along a spatial axis") }
        let groups = node.int("group", 1)
        let inputChannels = weight[1] * groups
        let bias = node.input.count > 2 && !node.input[2].isEmpty ? node.input[2] : nil
        if groups == 1 {
            if isOutput {
                slice(node.input[1], axis: 0, offset: layout.offset, width: layout.width, scored: true, node: n)
                if let bias { slice(bias, axis: 0, offset: layout.offset, width: layout.width, scored: false, node: n) }
            } else {
                slice(node.input[1], axis: 1, offset: layout.offset, width: layout.width, scored: true, node: n)
            }
            return
        }
        guard weight[0] % groups == 0 else {
            return excludeNode(n, "\(weight[0]) output channels do not divide into \(groups) groups")
        }
        guard groups == inputChannels, weight[1] == 1 else {
            return groupedConv(n, layout, isOutput: isOutput, groups: groups, weight: weight, bias: bias)
        }
        // Depthwise: input channel c feeds output channels c·m ..< (c+1)·m.
        let multiplier = weight[0] / groups
        var input = layout
        var output = layout
        if isOutput {
            guard layout.offset % multiplier == 0, layout.width % multiplier == 0 else {
                return excludeNode(n, "the group splits a depthwise channel's outputs")
            }
            input.offset /= multiplier
            input.width /= multiplier
        } else {
            output.offset *= multiplier
            output.width *= multiplier
        }
        slice(node.input[1], axis: 0, offset: output.offset, width: output.width, scored: true, node: n)
        if let bias { slice(bias, axis: 0, offset: output.offset, width: output.width, scored: false, node: n) }
        add(node.input[0], axis: 1, offset: input.offset, width: input.width)
        add(node.output[0], axis: 1, offset: output.offset, width: output.width)
    }

    /// A grouped Conv (1 < group < C_in: ResNeXt's and RegNet's bottlenecks), as Torch-Pruning 1.6 prunes it: its
    /// input and output channels belong to different groups, and each is pruned by in-group position, the same
    /// positions in every convolution group (the group's units repeat every in-group width, ``repeatEvery``).
    /// Through the output: the weight rows and the bias. Through the input: the weight columns, scored as
    /// Torch-Pruning scores them (``GroupedColumn``). Either way the group must cover all the Conv's channels on
    /// that side, so that every convolution group loses the same positions.
    private mutating func groupedConv(
        _ n: Int, _ layout: Layout, isOutput: Bool, groups: Int, weight: [Int], bias: String?
    ) {
        let node = index.graph.node[n]
        let channels = isOutput ? weight[0] : weight[1] * groups
        let perGroup = channels / groups
        let side = isOutput ? "output" : "input"
        guard layout.offset == 0, count * layout.width == channels else {
            return excludeNode(
                n,
                "the group covers part of the \(side) channels of a grouped convolution (group=\(groups)); "
                    + "only all of them can be pruned, the same in-group positions in every group")
        }
        guard perGroup % layout.width == 0 else {
            return excludeNode(n, "a unit of \(layout.width) channels straddles two groups of the grouped convolution")
        }
        if isOutput {
            repeatEvery(perGroup / layout.width, node: n)
            slice(node.input[1], axis: 0, offset: 0, width: layout.width, scored: true, node: n)
            if let bias { slice(bias, axis: 0, offset: 0, width: layout.width, scored: false, node: n) }
        } else {
            guard index.parameterShape(node.input[1]) != nil else {
                return excludeNode(n, "'\(node.input[1])' is not an initializer PruneKit can slice")
            }
            groupedColumns(
                GroupedColumn(
                    parameter: node.input[1], width: layout.width, positions: perGroup / layout.width, groups: groups,
                    node: index.label(n)),
                node: n)
        }
    }

    /// Split: along another axis every output carries the group; along the group's axis the group is divided at
    /// the parts' boundaries and each part maps to its output with the part's start subtracted.
    private mutating func split(_ n: Int, _ value: String, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let shape = index.shapes[node.input[0]] else { return excludeNode(n, "the input shape is unknown") }
        let raw = node.int("axis", 0)
        let axis = raw < 0 ? raw + shape.count : raw
        guard axis == layout.axis else {
            for name in [node.input[0]] + node.output where !name.isEmpty {
                add(name, axis: layout.axis, offset: layout.offset, width: layout.width)
            }
            return
        }
        let splitInput = node.input.count > 1 && !node.input[1].isEmpty ? node.input[1] : nil
        guard axis >= 0, axis < shape.count, let extent = shape[axis] else {
            return excludeNode(n, "the extent of the split axis is unknown")
        }
        guard
            let sizes = ONNXShapeInference.splitSizes(
                node, extent: extent, splitInput: splitInput.flatMap(index.int64s))
        else { return excludeNode(n, "its split sizes are not constants known at load time") }
        let starts = sizes.indices.map { sizes[..<$0].reduce(0, +) }
        if isOutput {
            guard let position = node.output.firstIndex(of: value) else { return }
            return add(node.input[0], axis: axis, offset: layout.offset + starts[position], width: layout.width)
        }
        if divide(layout, at: Array(starts.dropFirst()), node: n, reason: "the split starts a new part") { return }
        let end = layout.offset + count * layout.width
        for (position, output) in node.output.enumerated()
        where starts[position] <= layout.offset && end <= starts[position] + sizes[position] {
            return add(output, axis: axis, offset: layout.offset - starts[position], width: layout.width)
        }
        excludeNode(n, "the group's channels do not fall inside one output")
    }

    /// Slice with constant starts, ends and axes: along the group's axis (step 1) the group is divided at the
    /// kept range's ends; units inside it reach the output shifted by the start, units outside are dropped there.
    private mutating func slice(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let shape = index.shapes[node.input[0]] else { return excludeNode(n, "the input shape is unknown") }
        guard let spec = SliceSpec(node, index: index, rank: shape.count) else {
            return excludeNode(n, "its starts, ends, axes or steps are not INT64 constants known at load time")
        }
        guard let k = spec.axes.firstIndex(of: layout.axis) else {
            add(node.input[0], axis: layout.axis, offset: layout.offset, width: layout.width)
            add(node.output[0], axis: layout.axis, offset: layout.offset, width: layout.width)
            return
        }
        guard spec.steps[k] == 1 else { return excludeNode(n, "slices the group's axis with step \(spec.steps[k])") }
        guard let extent = shape[layout.axis] else { return excludeNode(n, "the extent of the sliced axis is unknown") }
        let kept = spec.range(k, extent: extent)
        if isOutput {
            return add(node.input[0], axis: layout.axis, offset: layout.offset + kept.lowerBound, width: layout.width)
        }
        let boundaries = [kept.lowerBound, kept.upperBound]
        if divide(layout, at: boundaries, node: n, reason: "the slice's kept range ends") { return }
        if kept.lowerBound <= layout.offset && layout.offset + count * layout.width <= kept.upperBound {
            add(node.output[0], axis: layout.axis, offset: layout.offset - kept.lowerBound, width: layout.width)
        }
    }

    private mutating func gemm(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard node.int("transA", 0) == 0 else { return excludeNode(n, "transA=1 is not handled") }
        guard node.input.count >= 2, index.parameterShape(node.input[1]) != nil else {
            return excludeNode(n, "its B input is not an initializer")
        }
        guard layout.axis == 1 else { return excludeNode(n, "the group runs along the batch axis") }
        let transB = node.int("transB", 0) != 0
        if !isOutput {
            slice(
                node.input[1], axis: transB ? 1 : 0, offset: layout.offset, width: layout.width, scored: true, node: n)
            if let weight = index.parameterShape(node.input[1]),
                AttentionHeads.heads(of: node.output[0], channels: weight[transB ? 0 : 1], index: index) != nil
            {
                feedsHeads = true
            }
            return
        }
        slice(node.input[1], axis: transB ? 0 : 1, offset: layout.offset, width: layout.width, scored: true, node: n)
        guard node.input.count > 2, !node.input[2].isEmpty else { return }
        let bias = node.input[2]
        guard let shape = index.parameterShape(bias) else { return excludeNode(n, "its C input is not an initializer") }
        if shape.last.map({ $0 > 1 }) ?? false {
            slice(bias, axis: shape.count - 1, offset: layout.offset, width: layout.width, scored: false, node: n)
        }
    }

    private mutating func matMul(_ n: Int, _ value: String, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        if node.input.count == 2, !node.input.contains(where: index.isParameter) {
            return matMulActivations(n, value, layout, isOutput: isOutput)
        }
        guard node.input.count == 2, let weight = index.parameterShape(node.input[1]), weight.count == 2 else {
            return excludeNode(n, "its second input is not a 2-D initializer")
        }
        guard let rank = index.rank(isOutput ? node.output[0] : node.input[0]), layout.axis == rank - 1 else {
            return excludeNode(n, "the group does not run along the feature axis")
        }
        slice(
            node.input[1], axis: isOutput ? 1 : 0, offset: layout.offset, width: layout.width,
            repeats: layout.repeats, stride: layout.stride, scored: true, node: n)
        if !isOutput, AttentionHeads.heads(of: node.output[0], channels: weight[1], index: index) != nil {
            feedsHeads = true
        }
    }

    private mutating func broadcast(_ n: Int, _ value: String, _ layout: Layout) {
        let node = index.graph.node[n]
        let output = node.output[0]
        guard let outputRank = index.rank(output), let valueRank = index.rank(value) else {
            return excludeNode(n, "operand ranks are unknown")
        }
        let isOutput = value == output
        let axis = isOutput ? layout.axis : layout.axis + outputRank - valueRank
        for input in node.input where !input.isEmpty && input != value {
            let shape: [Int?]? = index.parameterShape(input).map { $0.map { Optional($0) } } ?? index.shapes[input]
            guard let shape else { return excludeNode(n, "the shape of '\(input)' is unknown") }
            let dimension = axis - (outputRank - shape.count)
            if dimension < 0 { continue }
            guard let extent = shape[dimension] else {
                return excludeNode(n, "the extent of '\(input)' on the group's axis is unknown")
            }
            if extent == 1 { continue }
            if index.isParameter(input) {
                slice(
                    input, axis: dimension, offset: layout.offset, width: layout.width, repeats: layout.repeats,
                    stride: layout.stride, scored: false, node: n)
            } else if let producer = index.producer[input], index.graph.node[producer].opType == "Constant" {
                return excludeNode(n, "per-channel constant '\(input)' comes from a Constant node")
            } else if shape.count == outputRank {
                add(
                    input, axis: axis, offset: layout.offset, width: layout.width, repeats: layout.repeats,
                    stride: layout.stride)
            } else {
                return excludeNode(n, "operand '\(input)' broadcasts over the channels with another rank")
            }
        }
        if !isOutput {
            add(
                output, axis: axis, offset: layout.offset, width: layout.width, repeats: layout.repeats,
                stride: layout.stride)
        }
    }

    private mutating func concat(_ n: Int, _ value: String, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        let output = node.output[0]
        guard let rank = index.rank(output) else { return excludeNode(n, "the output rank is unknown") }
        let axis = node.int("axis", 0) < 0 ? node.int("axis", 0) + rank : node.int("axis", 0)
        guard axis == layout.axis else {
            for input in node.input + [output] {
                add(input, axis: layout.axis, offset: layout.offset, width: layout.width)
            }
            return
        }
        var starts: [Int] = []
        var start = 0
        for input in node.input {
            guard let extent = index.shapes[input]?[axis] ?? index.parameterShape(input)?[axis] else {
                return excludeNode(n, "the size of '\(input)' along axis \(axis) is unknown")
            }
            starts.append(start)
            start += extent
        }
        if isOutput {
            let end = layout.offset + count * layout.width
            for (position, input) in node.input.enumerated()
            where starts[position] <= layout.offset
                && end <= (position + 1 < starts.count ? starts[position + 1] : start)
            {
                guard !index.isParameter(input) else {
                    return excludeNode(n, "concatenates the initializer '\(input)'")
                }
                return add(input, axis: axis, offset: layout.offset - starts[position], width: layout.width)
            }
            if divide(layout, at: Array(starts.dropFirst()), node: n, reason: "an input starts") { return }
            return excludeNode(n, "the group's channels span several inputs")
        }
        for (position, input) in node.input.enumerated() where input == value {
            add(output, axis: axis, offset: starts[position] + layout.offset, width: layout.width)
        }
    }

    private mutating func flatten(_ n: Int, _ layout: Layout, isOutput: Bool, axis: Int) {
        let node = index.graph.node[n]
        guard let shape = index.shapes[node.input[0]] else { return excludeNode(n, "the input shape is unknown") }
        let start = axis < 0 ? axis + shape.count : axis
        guard start >= 0, start < shape.count else { return excludeNode(n, "its axis is outside the input") }
        let trailing = shape[(start + 1)...].compactMap { $0 }
        guard trailing.count == shape.count - start - 1 else {
            return excludeNode(n, "the extents it flattens into the channels are unknown")
        }
        flattened(n, layout, isOutput: isOutput, start: start, inner: trailing.reduce(1, *))
    }

    /// `[d0, …, C, h, w] → [d0, …, C·h·w]`: channel c becomes the block of h·w features starting at c·h·w.
    private mutating func flattened(_ n: Int, _ layout: Layout, isOutput: Bool, start: Int, inner: Int) {
        let node = index.graph.node[n]
        if isOutput {
            guard layout.axis == start, layout.offset % inner == 0, layout.width % inner == 0 else {
                return excludeNode(n, "the group does not cover whole channels of the input")
            }
            add(node.input[0], axis: start, offset: layout.offset / inner, width: layout.width / inner)
        } else {
            guard layout.axis == start else { return excludeNode(n, "flattens across the channel axis") }
            add(node.output[0], axis: start, offset: layout.offset * inner, width: layout.width * inner)
        }
    }


    /// Whether a Reshape's or Resize's shape comes from an INT64 initializer or a Constant node read by this node only.
    func shapeArgumentIsEditable(_ name: String) -> Bool {
        guard (index.consumers[name] ?? []).count == 1 else { return false }
        if let parameter = index.model[name] { return parameter.tensor.dtype == .i64 }
        guard let producer = index.producer[name] else { return false }
        return index.graph.node[producer].opType == "Constant"
    }
}

/// A Slice's starts, ends, axes (normalised) and steps, from attributes (before opset 10) or INT64 constant inputs.
struct SliceSpec {
    var starts: [Int64]
    var ends: [Int64]
    var axes: [Int]
    var steps: [Int]

    init?(_ node: Onnx_NodeProto, index: GraphIndex, rank: Int) {
        /// An optional input: not given, given but not a known constant, or its values.
        enum Argument {
            case absent
            case unknown
            case values([Int64])
        }
        func input(_ position: Int) -> Argument {
            guard position < node.input.count, !node.input[position].isEmpty else { return .absent }
            return index.int64s(node.input[position]).map { .values($0) } ?? .unknown
        }
        var axes: [Int64]?
        var steps: [Int64]?
        if let starts = node.ints("starts") {
            guard let ends = node.ints("ends") else { return nil }
            self.starts = starts.map(Int64.init)
            self.ends = ends.map(Int64.init)
            axes = node.ints("axes").map { $0.map(Int64.init) }
        } else {
            guard case .values(let s) = input(1), case .values(let e) = input(2) else { return nil }
            (starts, ends) = (s, e)
            switch input(3) {
            case .unknown: return nil
            case .values(let a): axes = a
            case .absent: break
            }
            switch input(4) {
            case .unknown: return nil
            case .values(let t): steps = t
            case .absent: break
            }
        }
        let axisList = axes ?? (0..<Int64(starts.count)).map { $0 }
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count else {
            return nil
        }
        self.axes = axisList.map { $0 < 0 ? Int($0) + rank : Int($0) }
        self.steps = stepList.map { Int($0) }
        guard self.axes.allSatisfy({ (0..<rank).contains($0) }) else { return nil }
    }

    /// The indices kept along entry `k`'s axis (step 1) of `extent` entries, clamped as ONNX says.
    func range(_ k: Int, extent: Int) -> Range<Int> {
        let e = Int64(extent)
        let first = Swift.min(Swift.max(starts[k] < 0 ? starts[k] + e : starts[k], 0), e)
        let last = Swift.min(Swift.max(ends[k] < 0 ? ends[k] + e : ends[k], 0), e)
        return Int(first)..<Int(Swift.max(first, last))
    }
}
