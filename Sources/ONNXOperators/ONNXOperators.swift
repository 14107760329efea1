/// The one table of ONNX operator classes that shape inference, the structure analysis, calibration and the
/// interpreter's checks share, so that an operator added to a class is known the same way everywhere.
///
/// Each class states a property that rules elsewhere rely on; an operator belongs to a class only when the
/// property holds for every attribute value. Operators with rules of their own (Conv, Reshape, Concat, …) are in
/// no class here: the shape rules, coupling rules and kernels name them directly.
package enum ONNXOperators {
    /// Element-for-element operators: output 0 has input 0's shape and element `i` of it depends on element `i`
    /// of input 0 only (scalar or attribute arguments aside). Channels pass through them unchanged.
    package static let elementwise: Set<String> = activations.union([
        "Identity", "Dropout", "Cast", "CastLike", "Clip", "Abs", "Neg", "Exp", "Log", "Sqrt", "Erf", "Floor",
        "Ceil", "Round", "Reciprocal", "Sign", "Sin", "Cos", "Tan", "Not", "IsNaN", "IsInf", "Shrink",
        "QuantizeLinear", "DequantizeLinear",
    ])

    /// Element-for-element activations that follow a layer: calibration observes a layer's units after one of
    /// them (the activation statistics of Wanda-style and APoZ-style scores).
    package static let activations: Set<String> = [
        "Relu", "LeakyRelu", "Clip", "Gelu", "HardSwish", "HardSigmoid", "Sigmoid", "Tanh", "Elu", "Selu", "Celu",
        "Softplus", "Softsign", "ThresholdedRelu", "Mish",
    ]

    /// Operators whose output has input 0's shape but mixes elements along some axes (normalisations, softmax).
    package static let shapePreserving: Set<String> = [
        "Softmax", "LogSoftmax", "Hardmax", "BatchNormalization", "InstanceNormalization", "LayerNormalization",
        "GroupNormalization", "LpNormalization", "LRN", "MeanVarianceNormalization",
    ]

    /// Per-channel affine operators in inference mode (channel axis 1): channels pass through, each with its own
    /// parameters.
    package static let channelAffine: Set<String> = ["BatchNormalization", "InstanceNormalization"]

    /// Operators with numpy-style multidirectional broadcasting over all their inputs.
    package static let broadcasting: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "PRelu", "Where", "Equal", "Less",
        "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor", "BitShift",
    ]

    /// Sliding-window pooling over the spatial axes (channel axis 1 kept).
    package static let pooling: Set<String> = ["MaxPool", "AveragePool", "LpPool"]

    /// Pooling over every spatial axis at once (channel axis 1 kept, spatial extents 1).
    package static let globalPooling: Set<String> = ["GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"]

    /// Reductions over the axes they are given, keeping or dropping them.
    package static let reductions: Set<String> = [
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum",
        "ReduceLogSumExp", "ReduceSumSquare",
    ]

    /// Recurrent layers (LSTM, GRU, RNN): input 0 is the sequence with its features on axis 2 (`[seq, batch, F]`,
    /// or `[batch, seq, F]` with `layout=1`), input 1 is `W` of shape `[directions, gates·hidden, F]`, so feature `f`
    /// of the input meets column `f` of `W` (axis 2) and nothing else. The hidden size is carried by `R`, `B`, the
    /// initial states and every output, so it is one fixed width for the whole layer.
    package static let recurrent: Set<String> = ["LSTM", "GRU", "RNN"]

    /// Reductions to which a zero entry contributes nothing (a sum of the entries, of their squares or absolute
    /// values, its square root or logarithm): reducing over an axis that lost entries equals reducing over the full
    /// axis with those entries zero, so they read a pruned axis like a layer reads its input channels. Mean, max,
    /// min, product and log-sum-exp are not in the class.
    package static let zeroNeutralReductions: Set<String> = [
        "ReduceSum", "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum",
    ]

    /// Layers whose weight (input 1) is a pruning candidate and whose MACs are counted.
    package static let layers: Set<String> = ["Conv", "ConvTranspose", "Gemm", "MatMul"]
}
