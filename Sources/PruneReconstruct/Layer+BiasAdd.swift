import ONNXProto
import PruneCore

extension Layer {
    /// A MatMul followed by an `Add` of a per-output bias parameter (how exporters write `nn.Linear` on 3-D
    /// activations) as one layer with that bias: the fit's target is the `Add`'s output in the dense model, and its
    /// ones column re-fits the bias, which so absorbs the mean contribution of removed inputs (as FLAP does). The
    /// layer itself when the pattern does not hold (the MatMul output has other readers, the bias is shared, not a
    /// float vector of the output width, or the layer has a bias already).
    func absorbingBiasAdd(in graph: Onnx_GraphProto, model: Model, readers: ParameterReaders) -> Layer {
        guard bias == nil, problem == nil, case .plainWeight = form,
            let weightShape = model[weight]?.tensor.shape, weightShape.count == 2
        else { return self }
        let addNodes = graph.node.filter { $0.input.contains(output) }
        guard addNodes.count == 1, let add = addNodes.first, add.opType == "Add", add.input.count == 2,
            add.output.count == 1, !graph.output.contains(where: { $0.name == output })
        else { return self }
        let other = readers.parameter(add.input[0] == output ? add.input[1] : add.input[0])
        guard let parameter = model[other], parameter.tensor.dtype == .f32,
            parameter.tensor.shape == [weightShape[1]], readers.readerCount(other) == 1
        else { return self }
        return Layer(
            name: name, weight: weight, bias: other, biasIsShared: false, input: input, output: add.output[0],
            form: form, groups: groups, problem: nil)
    }

    /// A layer from its parts.
    private init(
        name: String, weight: String, bias: String?, biasIsShared: Bool, input: String, output: String, form: Form,
        groups: Int, problem: String?
    ) {
        self.name = name
        self.weight = weight
        self.bias = bias
        self.biasIsShared = biasIsShared
        self.input = input
        self.output = output
        self.form = form
        self.groups = groups
        self.problem = problem
    }
}
