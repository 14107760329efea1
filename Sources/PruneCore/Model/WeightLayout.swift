/// Which axes of a weight tensor run over a layer's outputs and inputs.
///
/// Selectors that work "per output row" or "along the input dimension" read it. Safetensors files carry no
/// graph, so they get PyTorch's layout (`[out, in, ...]`); ONNX loaders derive it from the consuming node.
public struct WeightLayout: Sendable, Hashable, Codable {
    /// The axis indexed by the layer's output unit (neuron or output channel).
    public var outputAxis: Int
    /// The axis indexed by the layer's input feature (or input channel).
    public var inputAxis: Int

    /// Creates a layout from its two axes.
    public init(outputAxis: Int, inputAxis: Int) {
        self.outputAxis = outputAxis
        self.inputAxis = inputAxis
    }

    /// PyTorch's convention: `Linear` is `[out, in]`, `Conv` is `[out, in/groups, kh, kw]`.
    public static let pytorch = WeightLayout(outputAxis: 0, inputAxis: 1)
}
