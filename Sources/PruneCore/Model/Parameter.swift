/// A named tensor of a model, with the layout its consumer gives it when it is a layer weight.
public struct Parameter: Sendable {
    /// The name, unique in its model (a safetensors key or an ONNX initializer name).
    public var name: String
    /// The values.
    public var tensor: Tensor
    /// Output and input axes when the tensor is a layer weight; nil for biases, scalars and other tensors.
    ///
    /// A layout also marks the parameter as a default pruning candidate (see ``TargetFilter``).
    public var layout: WeightLayout?

    /// The layout scorers, selectors and rewriters use: the parameter's own, or PyTorch's (`[out, in, ...]`) for a
    /// tensor of rank ≥ 2 without one; nil for lower ranks or a layout whose axes the tensor does not have.
    ///
    /// This is the one rule for "which axis is the output" everywhere in PruneKit.
    public var effectiveLayout: WeightLayout? {
        let rank = tensor.shape.count
        guard let layout = layout ?? (rank >= 2 ? .pytorch : nil), layout.outputAxis < rank, layout.inputAxis < rank
        else { return nil }
        return layout
    }

    /// Creates a parameter.
    public init(name: String, tensor: Tensor, layout: WeightLayout? = nil) {
        self.name = name
        self.tensor = tensor
        self.layout = layout
    }
}
