/// Format-specific structure that travels with a model's parameters (an ONNX graph), opaque to Core.
///
/// Core reads only what this protocol declares: a format sets it when it opens a file, a structural rewriter that removes units
/// replaces it with the edited graph, and the format's writer uses it instead of the graph it read. Rewriters
/// that keep shapes leave it as it is.
public protocol ModelGraph: Sendable {
    /// The parameters read as the weight of a depthwise convolution (one input channel per group), which some
    /// scorers treat apart (Torch-Pruning leaves them out of a group's magnitude).
    var depthwiseWeights: Set<String> { get }
}

extension ModelGraph {
    /// None, for graphs that have no convolutions.
    public var depthwiseWeights: Set<String> { [] }
}
