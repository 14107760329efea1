import ONNXProto
import PruneCore

/// Rules for groups that run inside the head size of multi-head attention (head-dimension pruning, opt-in): unit
/// `j` is feature `j` of every head. On a projection's output `[b, s, h·d]` the unit is width 1 repeated `h` times
/// `d` apart; after the head split `[b, s, h, d]` it is width 1 on the last axis. `Q·Kᵀ` contracts over it (the
/// Q/K group: Q's last axis meets Kᵀ's second-to-last, the scores do not carry it); `softmax·V` carries V's last
/// axis to its output (the V/O group, which ends at the output projection's input rows).
///
/// What these groups cannot follow is refused, naming the node: rotary embeddings (`rotate_half` slices the head
/// size into halves and pairs dims `j` and `j + d/2`; the cos/sin tables multiply it), heads merged into the batch
/// axis (`nn.MultiheadAttention`), grouped-query attention's `repeat_kv` Expand, and any other operator on a value
/// whose units repeat along one axis.
extension GroupBuilder {
    /// Operators a value whose units repeat once per head (`[b, s, h·d]`) may reach: the projection's bias and
    /// scale, the projection itself, a Transpose, and the Reshape that splits or merges the heads.
    private static let repeatedHeadDimensionOperators: Set<String> = ["Add", "Sub", "Mul", "Div", "MatMul", "Transpose"]

    /// Applies the head-dimension rule of node `n` reached through `value`, or returns false to leave it to the
    /// ordinary rules (which then see a layout without repeats).
    mutating func headDimensionRule(_ n: Int, _ value: String, _ layout: Layout, isOutput: Bool) -> Bool {
        let node = index.graph.node[n]
        let op = node.opType
        switch op {
        case "Reshape":
            return headDimensionReshape(n, layout, isOutput: isOutput)
        case "MatMul" where node.input.count == 2 && !node.input.contains(where: index.isParameter):
            return headDimensionProduct(n, value, layout, isOutput: isOutput)
        case "Slice", "Split", "Concat", "Gather":
            if onGroupAxis(n, layout, value: value) {
                excludeNode(
                    n,
                    "cuts or joins the head size along the group's axis (rotary embeddings' rotate_half pairs dims j "
                        + "and j + d/2); head-dimension groups are not offered there")
                return true
            }
        case "Expand":
            excludeNode(
                n,
                "repeats heads (grouped-query attention's repeat_kv); head-dimension groups are not offered for "
                    + "grouped-query attention")
            return true
        case "Shape", "Size":
            if !isOutput, readsHeadSize(n, layout) {
                excludeNode(
                    n,
                    "reads the head size at run time (a scale computed from it would change); head-dimension groups "
                        + "are not offered there")
            }
            return !isOutput
        default:
            break
        }
        if layout.repeats > 1, !Self.repeatedHeadDimensionOperators.contains(op) {
            excludeNode(
                n,
                "reads head dimensions repeated once per head; only the projection, its bias and scale, a Transpose "
                    + "and the head Reshapes are understood")
            return true
        }
        if ["Mul", "Div", "Add", "Sub"].contains(op), multipliesByComputedTable(n, value, layout) {
            excludeNode(
                n,
                "combines the head size with a computed table (rotary embeddings' cos/sin); head-dimension groups "
                    + "are not offered there")
            return true
        }
        return false
    }

    /// Whether node `n` (a Slice, Split, Concat or Gather) works along the group's axis of `value`.
    private func onGroupAxis(_ n: Int, _ layout: Layout, value: String) -> Bool {
        let node = index.graph.node[n]
        let rank = index.rank(node.opType == "Concat" ? node.output[0] : node.input[0]) ?? index.rank(value) ?? 0
        let normalised = { (axis: Int) in axis < 0 ? axis + rank : axis }
        switch node.opType {
        case "Slice":
            guard let spec = SliceSpec(node, index: index, rank: rank) else { return true }
            return spec.axes.contains(layout.axis)
        case "Gather":
            return node.input.first != value || normalised(node.int("axis", 0)) == layout.axis
        default:
            return normalised(node.int("axis", 0)) == layout.axis
        }
    }

    /// Whether the `Shape` (or `Size`) node `n` reads the extent of the group's axis: its output goes anywhere but
    /// a Gather of one constant index that is another axis.
    private func readsHeadSize(_ n: Int, _ layout: Layout) -> Bool {
        let node = index.graph.node[n]
        if node.opType == "Size" { return true }
        guard node.int("start", 0) == 0, node.attribute.contains(where: { $0.name == "end" }) == false,
            let rank = index.rank(node.input[0])
        else { return true }
        for use in index.consumers[node.output[0]] ?? [] {
            let reader = index.graph.node[use.node]
            guard reader.opType == "Gather", use.position == 0, reader.input.count > 1,
                let picked = index.int64s(reader.input[1]), picked.count == 1
            else { return true }
            let axis = picked[0] < 0 ? Int(picked[0]) + rank : Int(picked[0])
            if axis == layout.axis { return true }
        }
        return false
    }

    /// Whether elementwise node `n` combines the group's axis with a computed operand (not a parameter, not a
    /// Constant) whose extent there is more than 1: rotary embeddings' cos and sin tables.
    private func multipliesByComputedTable(_ n: Int, _ value: String, _ layout: Layout) -> Bool {
        let node = index.graph.node[n]
        guard let outputRank = index.rank(node.output[0]), let valueRank = index.rank(value) else { return false }
        let isOutput = node.output.contains(value)
        let axis = isOutput ? layout.axis : layout.axis + outputRank - valueRank
        var computed = 0
        for input in node.input where input != value && !input.isEmpty && !index.isParameter(input) {
            if let producer = index.producer[input], index.graph.node[producer].opType == "Constant" { continue }
            guard let shape = index.shapes[input] else { return true }
            let dimension = axis - (outputRank - shape.count)
            if dimension >= 0, shape[dimension] != 1 { computed += 1 }
        }
        // Reached through the output, one computed operand is the data input itself.
        return computed > (isOutput ? 1 : 0)
    }

    /// Reshape: the head split `[…, h·d] → […, h, d]` and the merge `[…, h, d] → […, h·d]` move the group between
    /// the repeated layout (width 1, `h` repeats `d` apart on the projection's axis) and the head size's own axis;
    /// the shape's `d` (split) or `h·d` (merge) entry is lowered. Heads merged into the batch axis are refused. A
    /// Reshape that keeps the head size whole is left to the ordinary rule; any other Reshape of a repeated layout
    /// is refused.
    private mutating func headDimensionReshape(_ n: Int, _ layout: Layout, isOutput: Bool) -> Bool {
        let node = index.graph.node[n]
        guard let input = index.shapes[node.input[0]], let output = index.shapes[node.output[0]] else {
            excludeNode(n, "the shapes are unknown")
            return true
        }
        if HeadsInBatch.merging(input: input, output: output) != nil
            || HeadsInBatch.splitting(input: input, output: output) != nil
        {
            excludeNode(
                n,
                "moves attention heads into the batch axis (nn.MultiheadAttention); head-dimension groups are not "
                    + "offered there")
            return true
        }
        let inputLast = input.count - 1
        let outputLast = output.count - 1
        if let split = ReshapeMapping.split(input: input, output: output), split.outputAxis == outputLast - 1,
            let heads = output[split.outputAxis]
        {
            let size = split.inner
            if isOutput, layout.axis == outputLast, layout.repeats == 1 {
                guard editableShapeEntry(n, axis: outputLast) else { return true }
                add(
                    node.input[0], axis: inputLast, offset: layout.offset, width: layout.width, repeats: heads,
                    stride: size)
                return true
            }
            if !isOutput, layout.axis == inputLast, layout.repeats == heads, layout.stride == size {
                guard editableShapeEntry(n, axis: outputLast) else { return true }
                add(node.output[0], axis: outputLast, offset: layout.offset, width: layout.width)
                return true
            }
        }
        if let merge = ReshapeMapping.merge(input: input, output: output, at: nil), merge.inputAxis == inputLast - 1,
            let heads = input[merge.inputAxis]
        {
            let size = merge.inner
            if !isOutput, layout.axis == inputLast, layout.repeats == 1 {
                guard editableShapeEntry(n, axis: outputLast) else { return true }
                add(
                    node.output[0], axis: outputLast, offset: layout.offset, width: layout.width, repeats: heads,
                    stride: size)
                return true
            }
            if isOutput, layout.axis == outputLast, layout.repeats == heads, layout.stride == size {
                guard editableShapeEntry(n, axis: outputLast) else { return true }
                add(node.input[0], axis: inputLast, offset: layout.offset, width: layout.width)
                return true
            }
        }
        if layout.repeats > 1 {
            excludeNode(n, "reshapes head dimensions repeated once per head in a way that is not understood")
            return true
        }
        return false
    }

    /// MatMul of two activations `A·B` (`[…, m, k] × […, k, n]`) with the group on a matrix axis: A's columns and
    /// B's rows are contracted (`Q·Kᵀ` over the head size: the output does not carry the group), B's columns are the
    /// output's columns (`softmax·V`). A group on a batch axis is left to ``matMulActivations``; one on A's rows is
    /// refused.
    private mutating func headDimensionProduct(_ n: Int, _ value: String, _ layout: Layout, isOutput: Bool) -> Bool {
        let node = index.graph.node[n]
        let (a, b, output) = (node.input[0], node.input[1], node.output[0])
        guard let rankA = index.rank(a), let rankB = index.rank(b), let rankOut = index.rank(output), rankA >= 2,
            rankB >= 2, a != b
        else {
            excludeNode(n, "the operand ranks are unknown")
            return true
        }
        if isOutput {
            guard layout.axis >= rankOut - 2 else { return false }
            guard layout.axis == rankOut - 1 else {
                excludeNode(n, "the group runs along the rows of a product of two activations")
                return true
            }
            add(b, axis: rankB - 1, offset: layout.offset, width: layout.width)
            return true
        }
        if value == a {
            guard layout.axis >= rankA - 2 else { return false }
            guard layout.axis == rankA - 1 else {
                excludeNode(n, "the group runs along the rows of a product of two activations")
                return true
            }
            add(b, axis: rankB - 2, offset: layout.offset, width: layout.width)
            return true
        }
        guard layout.axis >= rankB - 2 else { return false }
        if layout.axis == rankB - 2 {
            add(a, axis: rankA - 1, offset: layout.offset, width: layout.width)
        } else {
            add(output, axis: rankOut - 1, offset: layout.offset, width: layout.width)
        }
        return true
    }
}
