import ONNXProto
import PruneCore

/// Rules for the reshapes and activation products of transformer attention: a Reshape that splits the feature axis
/// into `[heads, head size]` or merges the trailing axes back, and a MatMul of two activations (`Q·Kᵀ`,
/// `softmax·V`) whose batch axes carry the heads.
extension GroupBuilder {
    /// Reshape: `[…, C] → […, h, d]` (the group's units must be whole blocks of `d`: attention heads) or
    /// `[…, a, b, …] → […, a·b·…]` (the group's axis starts the flattened block). The extents involved must be known
    /// at load time; the other axes (batch, sequence) may be symbolic. The shape argument must be a constant, or a
    /// computed `Concat` whose entry for the group's axis is a constant, so the rewrite can lower it.
    mutating func reshapeAxes(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let input = index.shapes[node.input[0]], let output = index.shapes[node.output[0]] else {
            return excludeNode(n, "the shapes are unknown")
        }
        if let mapping = ReshapeMapping.split(input: input, output: output) {
            return reshapeSplit(n, layout, isOutput: isOutput, mapping)
        }
        if let mapping = ReshapeMapping.merge(input: input, output: output, at: isOutput ? nil : layout.axis) {
            return reshapeMerge(n, layout, isOutput: isOutput, mapping)
        }
        if let repeats = repeatedHeads(n, layout, isOutput: isOutput, input: input, output: output) {
            return excludeNode(
                n,
                "merges K/V heads repeated \(repeats)× by an Expand (grouped-query attention: each K/V head serves "
                    + "\(repeats) query heads); removing a K/V head with its whole query-head family is not built yet")
        }
        excludeNode(
            n, "only reshapes that split the last axis into heads or flatten the trailing axes are understood")
    }

    /// The repeat count when Reshape `n` merges the group's head axis with the axis after it that an Expand
    /// repeated (`repeat_kv`: `[b, kv, 1, s, d] → Expand → [b, kv, r, s, d] → Reshape → [b, kv·r, s, d]`).
    private func repeatedHeads(_ n: Int, _ layout: Layout, isOutput: Bool, input: [Int?], output: [Int?]) -> Int? {
        let node = index.graph.node[n]
        guard let producer = index.producer[node.input[0]], index.graph.node[producer].opType == "Expand",
            input.count == output.count + 1
        else { return nil }
        let axis = isOutput ? layout.axis : layout.axis
        guard axis + 1 < input.count, let repeats = input[axis + 1], repeats > 1,
            let before = index.shapes[index.graph.node[producer].input[0]], before.count == input.count,
            before[axis + 1] == 1
        else { return nil }
        return repeats
    }

    private mutating func reshapeSplit(_ n: Int, _ layout: Layout, isOutput: Bool, _ mapping: ReshapeMapping) {
        let node = index.graph.node[n]
        let inner = mapping.inner
        if let parts = AttentionHeads.stackedParts(n, index: index) {
            return excludeNode(
                n,
                "stacks a fused projection as \(parts) parts on a new axis that Gather nodes pick apart "
                    + "(nn.MultiheadAttention's in_proj: Q, K and V); its heads are not analysed yet")
        }
        if isOutput {
            guard layout.axis == mapping.outputAxis else {
                return excludeNode(n, "the group runs inside the head size (head-dimension pruning is not offered)")
            }
            guard editableShapeEntry(n, axis: mapping.outputAxis) else { return }
            return add(node.input[0], axis: mapping.inputAxis, offset: layout.offset * inner, width: layout.width * inner)
        }
        guard layout.axis == mapping.inputAxis else { return excludeNode(n, "reshapes across the group's axis") }
        guard layout.offset % inner == 0, layout.width % inner == 0 else {
            return excludeNode(
                n,
                "splits the channels into heads of \(inner); a unit of the group must be a whole head "
                    + "(width \(layout.width))")
        }
        guard editableShapeEntry(n, axis: mapping.outputAxis) else { return }
        add(node.output[0], axis: mapping.outputAxis, offset: layout.offset / inner, width: layout.width / inner)
    }

    private mutating func reshapeMerge(_ n: Int, _ layout: Layout, isOutput: Bool, _ mapping: ReshapeMapping) {
        let node = index.graph.node[n]
        let inner = mapping.inner
        if isOutput {
            guard layout.axis == mapping.outputAxis, layout.offset % inner == 0, layout.width % inner == 0 else {
                return excludeNode(n, "the group does not cover whole channels of the input")
            }
            guard editableShapeEntry(n, axis: mapping.outputAxis, inputAxis: inner == 1 ? mapping.inputAxis : nil)
            else { return }
            return add(node.input[0], axis: mapping.inputAxis, offset: layout.offset / inner, width: layout.width / inner)
        }
        guard editableShapeEntry(n, axis: mapping.outputAxis, inputAxis: inner == 1 ? mapping.inputAxis : nil)
        else { return }
        add(node.output[0], axis: mapping.outputAxis, offset: layout.offset * inner, width: layout.width * inner)
    }

    /// Whether the entry of a Reshape's shape for `axis` can be lowered, or follows the input's extent on
    /// `inputAxis` by itself (an axis the Reshape keeps whole); see ``ShapeArgument``. Excludes otherwise.
    private mutating func editableShapeEntry(_ n: Int, axis: Int, inputAxis: Int? = nil) -> Bool {
        let node = index.graph.node[n]
        let holder: ShapeArgument?
        if let inputAxis {
            holder = ShapeArgument.entry(axis, ofReshape: node, inputAxis: inputAxis, index: index)
        } else {
            holder = node.input.count > 1 ? ShapeArgument.entry(axis, of: node.input[1], index: index) : nil
        }
        guard holder != nil else {
            excludeNode(n, "its shape is computed in the graph and cannot be rewritten")
            return false
        }
        return true
    }

    /// MatMul of two activations (`[…, h, m, k] × […, h, k, n]`): a group on a batch axis of either operand is
    /// carried by the other operand (unless it broadcasts there) and the output. A group on the rows, the inner
    /// (contracted) axis or the columns is refused: that would be head-dimension or sequence pruning.
    mutating func matMulActivations(_ n: Int, _ value: String, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        let output = node.output[0]
        guard let outputRank = index.rank(output) else { return excludeNode(n, "the output rank is unknown") }
        let valueRank = index.rank(value) ?? 0
        let axis = isOutput ? layout.axis : layout.axis + outputRank - valueRank
        guard valueRank >= 3, axis >= 0, axis < outputRank - 2 else {
            return excludeNode(n, "the group runs along a matrix axis of a product of two activations")
        }
        for operand in node.input + [output] where operand != value {
            guard let shape = index.shapes[operand] else { return excludeNode(n, "the shape of '\(operand)' is unknown") }
            let dimension = axis - (outputRank - shape.count)
            guard dimension >= 0, dimension < shape.count - (operand == output ? 0 : 2) else { continue }
            if shape[dimension] == 1 { continue }
            add(operand, axis: dimension, offset: layout.offset, width: layout.width)
        }
    }
}

/// How a Reshape maps one axis of its input to one axis of its output, with `inner` entries of the wider side per
/// entry of the narrower one.
struct ReshapeMapping {
    var inputAxis: Int
    var outputAxis: Int
    var inner: Int

    /// `[p…, C] → [q…, h, d…]` with `h·d… = C` known and `h > 1`: input axis `C` ↔ output axis `h`, `inner = d…`.
    static func split(input: [Int?], output: [Int?]) -> ReshapeMapping? {
        guard let channels = input.last ?? nil, output.count > input.count else { return nil }
        var product = 1
        for axis in stride(from: output.count - 1, through: 1, by: -1) {
            guard let extent = output[axis], extent > 0 else { return nil }
            product *= extent
            if product == channels {
                guard extent > 1, axis < output.count - 1 else { return nil }
                return ReshapeMapping(inputAxis: input.count - 1, outputAxis: axis, inner: product / extent)
            }
            if product > channels { return nil }
        }
        return nil
    }

    /// `[p…, a, b…] → [q…, a·b…]`: the output's last axis holds input axes `start…` (all known). `start` is the
    /// group's axis when known; otherwise the one whose trailing product equals the output's last extent.
    static func merge(input: [Int?], output: [Int?], at start: Int?) -> ReshapeMapping? {
        guard let last = output.last ?? nil, !input.isEmpty else { return nil }
        var product = 1
        for axis in stride(from: input.count - 1, through: 0, by: -1) {
            guard let extent = input[axis] else { return nil }
            product *= extent
            if product == last, start == nil || start == axis {
                return ReshapeMapping(inputAxis: axis, outputAxis: output.count - 1, inner: product / extent)
            }
            if product > last { return nil }
        }
        return nil
    }
}
