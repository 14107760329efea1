import ONNXProto
import PruneCore
import PruneFormats

/// Recognises the projections of multi-head attention, whose output channels are pruned a whole head at a time.
enum AttentionHeads {
    /// ONNX Runtime's contrib operators (domain `com.microsoft`) that hold a whole attention block.
    static let fusedOperators: Set<String> = [
        "Attention", "MultiHeadAttention", "PackedAttention", "PackedMultiHeadAttention", "GroupQueryAttention",
        "DecoderAttention", "DecoderMaskedMultiHeadAttention", "DecoderMaskedSelfAttention", "QAttention",
    ]

    /// How a projection's output features split into attention heads.
    struct HeadLayout: Equatable {
        /// The head size `d`.
        var size: Int
        /// Where each part of a fused projection starts (`[0, C, 2C]` for Q, K and V of `C` features each); `[0]`
        /// for a projection of one part.
        var partStarts: [Int]
        /// Heads of each part per unit: 1 in every part, or `[g, 1, 1]` for a fused projection of grouped-query
        /// attention (a unit is one K/V head with its `g` query heads).
        var partHeads: [Int]
        /// Whether the split moves the heads into the batch axis (`[s, b, h·d] → [s, b·h, d]`).
        var intoBatch: Bool

        init(size: Int, partStarts: [Int], partHeads: [Int]? = nil, intoBatch: Bool = false) {
            self.size = size
            self.partStarts = partStarts
            self.partHeads = partHeads ?? partStarts.map { _ in 1 }
            self.intoBatch = intoBatch
        }
    }

    /// The head layout when the `channels` output features of `output` (the last axis) reach a Reshape that splits
    /// them into `[heads, d]`, through per-feature operators (a bias `Add`, a scale), Reshapes that keep the feature
    /// axis whole (`[b·s, C] → [b, s, C]`, as a 2-D Gemm is re-batched) and optionally a `Split` into Q, K and V
    /// (fused projections, each part a whole number of heads), or stacked on a new axis that Gather nodes pick
    /// apart (`nn.MultiheadAttention`'s in_proj), or cut by three Slices into Q, K and V whose Q part may be `g`
    /// times wider (Phi-3's `qkv_proj` under grouped-query attention); the split may also move the heads into the
    /// batch axis (`[s, b, h·d] → [s, b·h, d]`); nil otherwise. A Split into equal parts, a stack or the three
    /// Slices make each head (each K/V head with its `g` query heads) a unit across the parts; a Split into unequal
    /// parts is left to the Split's own rule.
    ///
    /// - Complexity: follows one chain of at most 8 nodes.
    static func heads(of output: String, channels: Int, index: GraphIndex) -> HeadLayout? {
        var value = output
        var partStarts = [0]
        var partHeads: [Int]?
        /// The features of the part followed (the query part of a fused projection).
        var part: Int { partHeads.map { channels / $0.reduce(0, +) * $0[0] } ?? channels / partStarts.count }
        for _ in 0..<8 {
            let readers = (index.consumers[value] ?? []).filter {
                let op = index.graph.node[$0.node].opType
                return op != "Shape" && op != "Size"
            }
            if readers.count == 3, partStarts == [0], let cut = slicedParts(value, readers, channels: channels, index: index) {
                // Q, K and V sliced out of one projection (transformers' Phi-3 `qkv_proj`): follow the query part.
                (partStarts, partHeads, value) = (cut.starts, cut.heads, cut.query)
                continue
            }
            guard readers.count == 1, index.graphOutputs.contains(value) == false else { return nil }
            let node = index.graph.node[readers[0].node]
            switch node.opType {
            case "Reshape":
                guard let input = index.shapes[node.input[0]], let reshaped = index.shapes[node.output[0]] else {
                    return nil
                }
                if let heads = HeadsInBatch.merging(input: input, output: reshaped) {
                    guard partHeads == nil, (channels / partStarts.count) % heads.size == 0 else { return nil }
                    return HeadLayout(size: heads.size, partStarts: partStarts, intoBatch: true)
                }
                if let stack = stacking(readers[0].node, index: index) {
                    // `[s, b, 3E] → [s, b, 3, E]`, picked apart by Gather: follow one part to its head split.
                    guard partStarts == [0], channels % stack.parts == 0 else { return nil }
                    partStarts = (0..<stack.parts).map { $0 * channels / stack.parts }
                    value = stack.picked
                    continue
                }
                if let mapping = ReshapeMapping.split(input: input, output: reshaped) {
                    guard mapping.inner > 1, part % mapping.inner == 0 else { return nil }
                    if let partHeads {
                        // Every part a whole number of heads: the K/V parts `part / g` features each.
                        guard (part / partHeads[0]) % mapping.inner == 0 else { return nil }
                        return HeadLayout(size: mapping.inner, partStarts: partStarts, partHeads: partHeads)
                    }
                    return HeadLayout(size: mapping.inner, partStarts: partStarts)
                }
                // `[b·s, C] → [b, s, C]`: Conv1D and Linear layers exported on 2-D rows, then re-batched.
                guard let mapping = ReshapeMapping.merge(input: input, output: reshaped, at: input.count - 1),
                    mapping.inner == 1
                else { return nil }
                value = node.output[0]
            case "Split":
                guard let shape = index.shapes[value], let rank = Optional(shape.count),
                    node.int("axis", 0) == -1 || node.int("axis", 0) == rank - 1
                else { return nil }
                guard let part = node.output.first(where: { index.consumers[$0] != nil }) else { return nil }
                let splitInput = node.input.count > 1 && !node.input[1].isEmpty ? node.input[1] : nil
                if let sizes = ONNXShapeInference.splitSizes(
                    node, extent: channels, splitInput: splitInput.flatMap(index.int64s)),
                    sizes.count > 1, Set(sizes).count == 1,
                    node.output.allSatisfy({ index.consumers[$0] != nil })
                {
                    partStarts = sizes.indices.map { $0 * sizes[0] }
                }
                value = part
            case "Add", "Sub", "Mul", "Div":
                guard node.input.count == 2, node.input.contains(where: index.isParameter) || isConstantNode(node, index)
                else { return nil }
                value = node.output[0]
            default:
                return nil
            }
        }
        return nil
    }

    /// Q, K and V cut out of a projection's `channels` output features by three Slices of the last axis with
    /// constant bounds that tile it: `[Cq, Ckv, Ckv]` with `Cq = g·Ckv` (`g = 1` for multi-head attention). The
    /// part starts, the heads per unit of each part (`[g, 1, 1]`) and the query part's value; nil otherwise.
    private static func slicedParts(
        _ value: String, _ readers: [GraphIndex.Use], channels: Int, index: GraphIndex
    ) -> (starts: [Int], heads: [Int], query: String)? {
        guard let rank = index.rank(value) else { return nil }
        var parts: [(range: Range<Int>, output: String)] = []
        for use in readers {
            let node = index.graph.node[use.node]
            guard node.opType == "Slice", use.position == 0, let spec = SliceSpec(node, index: index, rank: rank),
                spec.axes == [rank - 1], spec.steps == [1]
            else { return nil }
            parts.append((spec.range(0, extent: channels), node.output[0]))
        }
        parts.sort { $0.range.lowerBound < $1.range.lowerBound }
        guard parts[0].range.lowerBound == 0, parts[0].range.upperBound == parts[1].range.lowerBound,
            parts[1].range.upperBound == parts[2].range.lowerBound, parts[2].range.upperBound == channels,
            parts[1].range.count == parts[2].range.count, parts[1].range.count > 0,
            parts[0].range.count % parts[1].range.count == 0
        else { return nil }
        let g = parts[0].range.count / parts[1].range.count
        return (parts.map(\.range.lowerBound), [g, 1, 1], parts[0].output)
    }

    /// The number of parts when Reshape `n` stacks a fused projection on a new axis that Gather nodes then pick
    /// apart (`nn.MultiheadAttention`'s in_proj: `[s, b, 3E] → [s, b, 3, E] → Unsqueeze → Transpose → Squeeze →
    /// Gather 0, 1, 2`); nil otherwise.
    ///
    /// - Complexity: follows one chain of at most 4 nodes.
    static func stackedParts(_ n: Int, index: GraphIndex) -> Int? { stacking(n, index: index)?.parts }

    /// The number of parts and the output of the first Gather when Reshape `n` stacks a fused projection (see
    /// ``stackedParts(_:index:)``); nil otherwise.
    static func stacking(_ n: Int, index: GraphIndex) -> (parts: Int, picked: String)? {
        let reshape = index.graph.node[n]
        guard let input = index.shapes[reshape.input[0]], let output = index.shapes[reshape.output[0]],
            let mapping = ReshapeMapping.split(input: input, output: output), let parts = output[mapping.outputAxis]
        else { return nil }
        var value = reshape.output[0]
        for _ in 0..<4 {
            let readers = (index.consumers[value] ?? []).map { index.graph.node[$0.node] }
            if readers.count >= 2, readers.allSatisfy({ $0.opType == "Gather" && $0.input[0] == value }) {
                return (parts, readers[0].output[0])
            }
            guard readers.count == 1, ["Unsqueeze", "Squeeze", "Transpose"].contains(readers[0].opType) else {
                return nil
            }
            value = readers[0].output[0]
        }
        return nil
    }

    /// Whether the other operand of a binary node comes from a Constant node.
    private static func isConstantNode(_ node: Onnx_NodeProto, _ index: GraphIndex) -> Bool {
        node.input.contains { index.producer[$0].map { index.graph.node[$0].opType == "Constant" } ?? false }
    }
}
