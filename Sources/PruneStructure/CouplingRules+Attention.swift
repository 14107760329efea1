import ONNXProto
import PruneCore

/// Rules for the reshapes and activation products of transformer attention: a Reshape that splits the feature axis
/// into `[heads, head size]` or merges the trailing axes back, stacks a fused projection's parts on a new axis,
/// moves the heads into the batch axis and out again (`nn.MultiheadAttention`), or keeps the group's axis whole;
/// and a MatMul of two activations (`Q·Kᵀ`, `softmax·V`) whose batch axes carry the heads.
extension GroupBuilder {
    /// Reshape: `[…, C] → […, h, d]` (the group's units must be whole blocks of `d`: attention heads) or
    /// `[…, a, b, …] → […, a·b·…]` (the group's axis starts the flattened block). The extents involved must be known
    /// at load time; the other axes (batch, sequence) may be symbolic. The shape argument must be a constant, or a
    /// computed `Concat` whose entry for the group's axis is a constant, so the rewrite can lower it.
    mutating func reshapeAxes(_ n: Int, _ layout: Layout, isOutput: Bool) {
        let node = index.graph.node[n]
        guard let input = index.shapes[node.input[0]], var output = index.shapes[node.output[0]] else {
            return excludeNode(n, "the shapes are unknown")
        }
        if !output.isEmpty, output[output.count - 1] == nil, let extent = projectedWidth(node.output[0]) {
            output[output.count - 1] = extent
        }
        if let repeats = repeatedHeads(n, layout, isOutput: isOutput, input: input, output: output) {
            return reshapeRepeatedHeads(n, layout, isOutput: isOutput, repeats: repeats)
        }
        if let parts = AttentionHeads.stackedParts(n, index: index) {
            return reshapeStacked(n, layout, isOutput: isOutput, parts: parts, input: input, output: output)
        }
        if let heads = HeadsInBatch.merging(input: input, output: output) {
            return reshapeHeadsIntoBatch(n, layout, isOutput: isOutput, heads, rank: input.count)
        }
        if let heads = HeadsInBatch.splitting(input: input, output: output) {
            return reshapeHeadsOutOfBatch(n, layout, isOutput: isOutput, heads)
        }
        // An axis the Reshape keeps whole (`[b, E, h, w] → [b, E, h·w]`) passes, unless the split or merge is the
        // group's own axis.
        let kept = ReshapeMapping.kept(axis: layout.axis, from: isOutput ? output : input, to: isOutput ? input : output)
        if let mapping = ReshapeMapping.split(input: input, output: output) {
            let involved = isOutput ? layout.axis >= mapping.outputAxis : layout.axis == mapping.inputAxis
            if involved || kept == nil { return reshapeSplit(n, layout, isOutput: isOutput, mapping) }
        }
        if let mapping = ReshapeMapping.merge(input: input, output: output, at: isOutput ? nil : layout.axis) {
            if !isOutput || layout.axis == mapping.outputAxis || kept == nil {
                return reshapeMerge(n, layout, isOutput: isOutput, mapping)
            }
        }
        if let kept { return keepAxis(n, layout, isOutput: isOutput, otherAxis: kept) }
        excludeNode(
            n, "only reshapes that split the last axis into heads or flatten the trailing axes are understood")
    }

    /// A Reshape that leaves the group's axis whole and in place among the others (`[b, E, h, w] → [b, E, h·w]`,
    /// `[s·b, E] → [s, b, E]`): the group passes to `otherAxis` of the other side; the shape's entry there must be
    /// lowerable or read from the input's own extent.
    private mutating func keepAxis(_ n: Int, _ layout: Layout, isOutput: Bool, otherAxis: Int) {
        let node = index.graph.node[n]
        let (inputAxis, outputAxis) = isOutput ? (otherAxis, layout.axis) : (layout.axis, otherAxis)
        guard editableShapeEntry(n, axis: outputAxis, inputAxis: inputAxis) else { return }
        add(node.input[0], axis: inputAxis, offset: layout.offset, width: layout.width)
        add(node.output[0], axis: outputAxis, offset: layout.offset, width: layout.width)
    }

    /// The Reshape that stacks a fused projection as `parts` parts on a new axis (`nn.MultiheadAttention`'s in_proj:
    /// `[s, b, 3E] → [s, b, 3, E]`, then Gather nodes pick Q, K and V): unit `u` at offset `o` of every part of the
    /// input is offset `o` of the output's last axis, whichever part the stacking axis picks. The group must hold
    /// the same units in every part (the fused projection's head group does: ``AttentionHeads``); the last entry of
    /// the shape is lowered.
    private mutating func reshapeStacked(
        _ n: Int, _ layout: Layout, isOutput: Bool, parts: Int, input: [Int?], output: [Int?]
    ) {
        let node = index.graph.node[n]
        guard let channels = input.last ?? nil, channels % parts == 0, output.last == channels / parts else {
            return excludeNode(n, "stacks a fused projection as \(parts) parts in a layout that is not understood")
        }
        let part = channels / parts
        let last = output.count - 1
        if isOutput {
            guard layout.axis == last else {
                return excludeNode(n, "the group runs along the axis that stacks the \(parts) parts")
            }
            guard editableShapeEntry(n, axis: last) else { return }
            for p in 0..<parts {
                add(node.input[0], axis: input.count - 1, offset: p * part + layout.offset, width: layout.width)
            }
            return
        }
        guard layout.axis == input.count - 1 else { return excludeNode(n, "reshapes across the group's axis") }
        let offset = layout.offset % part
        guard offset + count * layout.width <= part else {
            return excludeNode(n, "the group's units straddle two of the \(parts) stacked parts")
        }
        guard editableShapeEntry(n, axis: last) else { return }
        add(node.output[0], axis: last, offset: offset, width: layout.width)
    }

    /// `[p…, b, h·d] → [p…, b·h, d]` (`nn.MultiheadAttention`: `q.view(s, b·h, d)`): the heads join the batch axis,
    /// head `u` of sample `k` at `k·h + u`, a layout repeated `b` times with stride `h`. Axes before stay.
    private mutating func reshapeHeadsIntoBatch(
        _ n: Int, _ layout: Layout, isOutput: Bool, _ heads: HeadsInBatch, rank: Int
    ) {
        let node = index.graph.node[n]
        let batchAxis = rank - 2
        if layout.axis < batchAxis { return keepAxis(n, layout, isOutput: isOutput, otherAxis: layout.axis) }
        if isOutput {
            guard layout.axis == batchAxis else {
                return excludeNode(n, "the group runs inside the head size (head-dimension pruning is not offered)")
            }
            guard layout.repeats == heads.batch, heads.batch == 1 || layout.stride == heads.heads else {
                return excludeNode(n, "the group does not hold the same heads of every sample")
            }
            guard editableShapeEntry(n, axis: batchAxis) else { return }
            return add(
                node.input[0], axis: rank - 1, offset: layout.offset * heads.size, width: layout.width * heads.size)
        }
        guard layout.axis == rank - 1 else { return excludeNode(n, "merges the group's axis into the batch axis") }
        guard layout.offset % heads.size == 0, layout.width % heads.size == 0 else {
            return excludeNode(
                n,
                "splits the channels into heads of \(heads.size); a unit of the group must be a whole head "
                    + "(width \(layout.width))")
        }
        guard editableShapeEntry(n, axis: batchAxis) else { return }
        add(
            node.output[0], axis: batchAxis, offset: layout.offset / heads.size, width: layout.width / heads.size,
            repeats: heads.batch, stride: heads.heads)
    }

    /// `[b·h, s…, d] → [b, h, s…, d]`: the heads leave the batch axis for axis 1. Axes after move by one.
    private mutating func reshapeHeadsOutOfBatch(_ n: Int, _ layout: Layout, isOutput: Bool, _ heads: HeadsInBatch) {
        let node = index.graph.node[n]
        if isOutput {
            if layout.axis >= 2 { return keepAxis(n, layout, isOutput: true, otherAxis: layout.axis - 1) }
            guard layout.axis == 1 else { return excludeNode(n, "the group runs along the batch axis") }
            guard editableShapeEntry(n, axis: 1) else { return }
            return add(
                node.input[0], axis: 0, offset: layout.offset, width: layout.width, repeats: heads.batch,
                stride: heads.heads)
        }
        if layout.axis >= 1 { return keepAxis(n, layout, isOutput: false, otherAxis: layout.axis + 1) }
        guard layout.repeats == heads.batch, heads.batch == 1 || layout.stride == heads.heads else {
            return excludeNode(n, "splits the batch axis, which does not hold the group's heads of every sample")
        }
        guard editableShapeEntry(n, axis: 1) else { return }
        add(node.output[0], axis: 1, offset: layout.offset, width: layout.width)
    }

    /// The input extent of the projections (MatMul or Gemm with a 2-D weight) that read `value` as their first
    /// input, when they all agree: the extent a Reshape must give its last axis for the model to run (the merge
    /// back after attention, `[b, s, -1]`, whose `-1` the shape inference cannot resolve when the sequence length
    /// was lost on the way, as after rotary embeddings).
    private func projectedWidth(_ value: String) -> Int? {
        let uses = index.consumers[value] ?? []
        let widths = uses.map { use -> Int? in
            let reader = index.graph.node[use.node]
            guard use.position == 0, reader.input.count > 1, let weight = index.parameterShape(reader.input[1]),
                weight.count == 2
            else { return nil }
            switch reader.opType {
            case "MatMul": return weight[0]
            case "Gemm": return reader.int("transB", 0) != 0 ? weight[1] : weight[0]
            default: return nil
            }
        }
        guard let first = widths.first ?? nil, widths.allSatisfy({ $0 == first }) else { return nil }
        return first
    }

    /// `repeat_kv` of grouped-query attention: `[b, kv, r, s, d] → [b, kv·r, s, d]` after an Expand that repeated
    /// each K/V head `r` times, so K/V head `j` serves query heads `j·r ..< (j+1)·r`. Forwards a group on the K/V
    /// head axis covers `r` times as many query heads; backwards a unit must be whole families of `r` query heads,
    /// and a group whose units are narrower asks to be grown again with units `r/gcd` times wider (one K/V head with
    /// its whole query-head family). The shape's entry must be lowerable or read at run time from the K/V head
    /// count (`Mul(Gather(Shape(k), 1), r)`, as transformers writes it).
    private mutating func reshapeRepeatedHeads(_ n: Int, _ layout: Layout, isOutput: Bool, repeats: Int) {
        let node = index.graph.node[n]
        let axis = layout.axis
        guard layout.repeats == 1 else {
            return excludeNode(n, "merges repeated K/V heads of a group that also repeats its units")
        }
        let family =
            "merges K/V heads repeated \(repeats)× by an Expand (grouped-query attention: each K/V head serves "
            + "\(repeats) query heads)"
        if isOutput, layout.offset % repeats != 0 || layout.width % repeats != 0 {
            var (a, b) = (layout.width, repeats)
            while b != 0 { (a, b) = (b, a % b) }
            return widen(
                by: repeats / a, node: n,
                reason: "\(family); its units are not whole query-head families of \(repeats)")
        }
        guard editableShapeEntry(n, axis: axis, inputAxis: axis) else { return }
        if isOutput {
            add(node.input[0], axis: axis, offset: layout.offset / repeats, width: layout.width / repeats)
        } else {
            add(node.output[0], axis: axis, offset: layout.offset * repeats, width: layout.width * repeats)
        }
    }

    /// The repeat count when Reshape `n` merges the group's head axis with the axis after it that an Expand
    /// repeated (`repeat_kv`: `[b, kv, 1, s, d] → Expand → [b, kv, r, s, d] → Reshape → [b, kv·r, s, d]`).
    private func repeatedHeads(_ n: Int, _ layout: Layout, isOutput: Bool, input: [Int?], output: [Int?]) -> Int? {
        let node = index.graph.node[n]
        guard let producer = index.producer[node.input[0]], index.graph.node[producer].opType == "Expand",
            input.count == output.count + 1
        else { return nil }
        let axis = layout.axis
        guard axis + 1 < input.count, let repeats = input[axis + 1], repeats > 1,
            let before = index.shapes[index.graph.node[producer].input[0]], before.count == input.count,
            before[axis + 1] == 1, Array(input.prefix(axis)) == Array(output.prefix(axis)),
            Array(input.dropFirst(axis + 2)) == Array(output.dropFirst(axis + 1)),
            input[axis].map({ $0 * repeats }) == output[axis] || input[axis] == nil || output[axis] == nil
        else { return nil }
        return repeats
    }

    private mutating func reshapeSplit(_ n: Int, _ layout: Layout, isOutput: Bool, _ mapping: ReshapeMapping) {
        let node = index.graph.node[n]
        let inner = mapping.inner
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
    mutating func editableShapeEntry(_ n: Int, axis: Int, inputAxis: Int? = nil) -> Bool {
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

/// A Reshape that moves attention heads into the batch axis or out of it, as `nn.MultiheadAttention` does:
/// `[p…, b, h·d] → [p…, b·h, d]` and `[b·h, s…, d] → [b, h, s…, d]` (batch `b`, `h` heads of size `d`).
struct HeadsInBatch: Equatable {
    var batch: Int
    var heads: Int
    var size: Int

    /// `[p…, b, C] → [p…, b·h, d]` with `C = h·d`, `d < C` and `b` known; the axes before are the same.
    static func merging(input: [Int?], output: [Int?]) -> HeadsInBatch? {
        let rank = input.count
        guard rank >= 2, output.count == rank, let channels = input[rank - 1], let size = output[rank - 1],
            size > 0, size < channels, channels % size == 0, let batch = input[rank - 2], batch > 0,
            output[rank - 2] == batch * (channels / size), Array(input.prefix(rank - 2)) == Array(output.prefix(rank - 2))
        else { return nil }
        return HeadsInBatch(batch: batch, heads: channels / size, size: size)
    }

    /// `[b·h, s…, d] → [b, h, s…, d]` with `h > 1` and `b` known; the axes after are the same.
    static func splitting(input: [Int?], output: [Int?]) -> HeadsInBatch? {
        guard input.count >= 2, output.count == input.count + 1, let merged = input[0], let batch = output[0],
            let heads = output[1], heads > 1, batch * heads == merged, let size = input.last ?? nil,
            Array(input.dropFirst()) == Array(output.dropFirst(2))
        else { return nil }
        return HeadsInBatch(batch: batch, heads: heads, size: size)
    }
}

/// How a Reshape maps one axis of its input to one axis of its output, with `inner` entries of the wider side per
/// entry of the narrower one.
struct ReshapeMapping {
    var inputAxis: Int
    var outputAxis: Int
    var inner: Int

    /// The axis of `to` that holds axis `axis` of `from` whole: the same extent, after the same number of entries
    /// (all known); nil otherwise.
    static func kept(axis: Int, from: [Int?], to: [Int?]) -> Int? {
        guard axis < from.count, let extent = from[axis], extent > 1 else { return nil }
        var before = 1
        for a in 0..<axis {
            guard let e = from[a] else { return nil }
            before *= e
        }
        var product = 1
        for (a, e) in to.enumerated() {
            if product == before, e == extent { return a }
            guard let e, product <= before else { return nil }
            product *= e
        }
        return nil
    }

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
