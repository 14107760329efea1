import PruneCore

/// Finds the weights of depthwise convolutions in a model's graph.
enum DepthwiseWeights {
    /// The parameters read as the weight of a depthwise convolution, as the model's graph reports them
    /// (``ModelGraph/depthwiseWeights``); empty for a model without a graph.
    static func names(in model: Model) -> Set<String> {
        model.graph?.depthwiseWeights ?? []
    }
}
