import PruneCore

extension StructureAnalysis {
    /// The head-dimension group started at projection node `n`, whose `channels` output features along `axis` of
    /// `output` split into the attention heads `heads`: unit `j` is feature `j` of every head (width 1, repeated
    /// once per head, `d` apart). From the Q projection it grows into the Q/K group (through `Q·Kᵀ` to the K
    /// projection), from the V projection into the V/O group (through `softmax·V` to the output projection's rows);
    /// see `CouplingRules+HeadDimensions.swift`.
    ///
    /// Fused projections (Q, K and V in one MatMul: GPT-2's `c_attn`, Phi-3's `qkv_proj`, `nn.MultiheadAttention`'s
    /// in_proj) and heads moved into the batch axis are excluded, naming the projection.
    static func headDimensionGroup(
        _ n: Int, output: String, axis: Int, channels: Int, heads: AttentionHeads.HeadLayout, index: GraphIndex
    ) -> GroupBuilder {
        var builder = GroupBuilder(index: index, count: heads.size)
        builder.headDimensions = true
        if heads.intoBatch {
            builder.excludeNode(
                n,
                "its heads are moved into the batch axis (nn.MultiheadAttention); head-dimension groups are offered "
                    + "only for separate Q, K and V projections")
        } else if heads.partStarts.count > 1 {
            builder.excludeNode(
                n,
                "a fused projection of \(heads.partStarts.count) parts (Q, K and V in one weight); head-dimension "
                    + "groups are offered only for separate Q, K and V projections")
        } else {
            builder.add(output, axis: axis, offset: 0, width: 1, repeats: channels / heads.size, stride: heads.size)
            builder.run()
            builder.refuseWidening()
            if !builder.cuts.isEmpty {
                builder.excludeNode(n, "an operator divides the head size; head-dimension groups are not offered")
            }
        }
        return builder
    }
}
