/// Format-specific structure that travels with a model's parameters (an ONNX graph), opaque to Core.
///
/// Core never looks inside: a format sets it when it opens a file, a structural rewriter that removes units
/// replaces it with the edited graph, and the format's writer uses it instead of the graph it read. Rewriters
/// that keep shapes leave it as it is.
public protocol ModelGraph: Sendable {}
