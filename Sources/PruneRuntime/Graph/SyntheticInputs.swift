import PruneCore

extension ONNXGraph {
    /// The inputs with a symbolic or unknown dimension after the first, in declaration order.
    package var inputsWithSymbolicInnerDimensions: [String] {
        inputDeclarations.compactMap { declaration in
            let inner = (declaration.dimensions ?? []).dropFirst()
            return inner.contains { dimension in
                if case .fixed(let value) = dimension, value > 0 { return false }
                return true
            } ? declaration.name : nil
        }
    }

    /// Inputs for a smoke run of the graph: every input in its declared type and shape, float inputs uniform in
    /// [-1, 1) from `seed`, integer and bool inputs zero (a valid token id, index and mask).
    ///
    /// A symbolic or unknown leading dimension becomes `batch`, every other one `extent`; in the inputs named in
    /// `batchSized` every symbolic dimension becomes `batch` (a recurrent state `[layers, batch, hidden]` whose batch
    /// axis is not the first).
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the input when its element type is not one the runtime holds,
    ///   or the declared shape has more than 2^26 elements.
    package func syntheticInputs(
        batch: Int, extent: Int, batchSized: Set<String> = [], seed: UInt64 = 0
    ) throws -> [String: RuntimeTensor] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var inputs: [String: RuntimeTensor] = [:]
        for declaration in inputDeclarations {
            let dtype = declaration.dtype ?? .f32
            guard RuntimeTensor.supportedTypes.contains(dtype) else {
                throw PruneError(
                    .unsupported,
                    "input '\(declaration.name)' is \(declaration.elementTypeName ?? dtype.rawValue), which the "
                        + "interpreter does not hold")
            }
            let shape = (declaration.dimensions ?? []).enumerated().map { position, dimension -> Int in
                if case .fixed(let value) = dimension, value > 0 { return value }
                return position == 0 || batchSized.contains(declaration.name) ? batch : extent
            }
            var count = 1
            for dimension in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
                guard !overflow, product <= 1 << 26 else {
                    throw PruneError(
                        .unsupported, "input '\(declaration.name)' of shape \(shape) is too large for a smoke run")
                }
                count = product
            }
            switch dtype {
            case .f32:
                let values = (0..<count).map { _ -> Float in
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    return Float(state >> 40) / Float(1 << 24) * 2 - 1
                }
                inputs[declaration.name] = RuntimeTensor(shape: shape, floats: values)
            default:
                let tensor = RuntimeTensor(uninitialized: dtype, shape: shape)
                tensor.storage.raw.initializeMemory(as: UInt8.self, repeating: 0, count: count * dtype.byteSize)
                inputs[declaration.name] = tensor
            }
        }
        return inputs
    }
}
