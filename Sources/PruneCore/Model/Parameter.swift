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

    /// Creates a parameter.
    public init(name: String, tensor: Tensor, layout: WeightLayout? = nil) {
        self.name = name
        self.tensor = tensor
        self.layout = layout
    }
}
