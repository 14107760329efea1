import ONNXProto
import PruneCore
import PruneRuntime

/// The state of one reconstruction: both interpreters, the model being updated, and the calibration batches.
struct Work {
    let dense: Interpreter
    let pruned: Interpreter
    var model: Model
    let original: Model
    let removed: [RemovedKey: Set<Int>]
    let batches: any CalibrationBatches
    let lambda: Double

    /// Re-fits `layer` to the dense model's outputs and installs the result in the model and the interpreter.
    mutating func refit(_ layer: Layer) throws -> LayerReconstruction {
        if let problem = layer.refitProblem {
            throw PruneError(.unsupported, "'reconstruct': layer '\(layer.name)': \(problem)")
        }
        let weight = try model.parameter(named: layer.weight).tensor
        let denseOut = try original.parameter(named: layer.weight).tensor.shape[layer.outputAxis]
        let gone = removed[RemovedKey(parameter: layer.weight, axis: layer.outputAxis)] ?? []
        let kept = (0..<denseOut).filter { !gone.contains($0) }
        let shape = weight.shape
        guard kept.count == shape[layer.outputAxis] else {
            throw PruneError(
                .shapeMismatch,
                "'reconstruct': layer '\(layer.name)': \(kept.count) surviving outputs but weight '\(layer.weight)' "
                    + "has \(shape[layer.outputAxis])")
        }
        let outputs = kept.count
        let features = shape.count == 4 ? shape[1] * shape[2] * shape[3] : shape[layer.inputAxis]
        let withBias = layer.bias != nil
        let columns = features + (withBias ? 1 : 0)

        // W₀ as a row-major (features [+ 1]) × outputs matrix.
        let values = weight.floatValues()
        var prior = [Double](repeating: 0, count: columns * outputs)
        for o in 0..<outputs {
            for f in 0..<features {
                let element =
                    switch layer.form {
                    case .convolution, .transposedWeight: values[o * features + f]
                    case .plainWeight: values[f * outputs + o]
                    }
                prior[f * outputs + o] = Double(element)
            }
        }
        if let bias = layer.bias {
            let biasValues = try model.parameter(named: bias).tensor.floatValues()
            guard biasValues.count == outputs else {
                throw PruneError(
                    .shapeMismatch,
                    "'reconstruct': layer '\(layer.name)': bias '\(bias)' has \(biasValues.count) values for "
                        + "\(outputs) outputs")
            }
            for o in 0..<outputs { prior[features * outputs + o] = Double(biasValues[o]) }
        }

        var equations = NormalEquations(features: columns, outputs: outputs)
        for index in 0..<batches.batchCount {
            let x = try RuntimeModel.capture(layer.input, running: pruned, batch: index, of: batches)
            let y = try RuntimeModel.capture(layer.output, running: dense, batch: index, of: batches)
            let (rowsX, rowsY, count) = try Self.rows(
                layer: layer, x: x, y: y, features: features, kept: kept, denseOut: denseOut, bias: withBias)
            LibraryThreads.with(pruned.options.threads) { equations.add(x: rowsX, y: rowsY, count: count) }
        }
        let scale = equations.targetSquares > 0 ? equations.targetSquares : 1
        let threads = pruned.options.threads
        let before = LibraryThreads.with(threads) { equations.residual(prior) } / scale
        let meanDiagonal = equations.meanDiagonal
        let damping = lambda * (meanDiagonal > 0 ? meanDiagonal : 1)
        let solution = try LibraryThreads.with(threads) {
            try equations.solve(damping: damping, prior: prior, layer: layer.name)
        }
        let after = LibraryThreads.with(threads) { equations.residual(solution) } / scale

        var newWeights = [Float](repeating: 0, count: values.count)
        for o in 0..<outputs {
            for f in 0..<features {
                let value = Float(solution[f * outputs + o])
                switch layer.form {
                case .convolution, .transposedWeight: newWeights[o * features + f] = value
                case .plainWeight: newWeights[f * outputs + o] = value
                }
            }
        }
        var replacements = [layer.weight: RuntimeTensor(shape: shape, floats: newWeights)]
        try model.setTensor(Tensor(shape: shape, values: newWeights), for: layer.weight)
        if let bias = layer.bias {
            let newBias = (0..<outputs).map { Float(solution[features * outputs + $0]) }
            try model.setTensor(Tensor(shape: [outputs], values: newBias), for: bias)
            replacements[bias] = RuntimeTensor(shape: [outputs], floats: newBias)
        }
        try pruned.replaceInitializers(replacements)
        return LayerReconstruction(
            layer: layer.name, action: .leastSquares, relativeErrorBefore: before, relativeErrorAfter: after,
            rows: equations.rows)
    }

    /// The rows of X (pruned input, im2col for a Conv, ones column for a bias) and Y (dense output at `kept`).
    static func rows(
        layer: Layer, x: RuntimeTensor, y: RuntimeTensor, features: Int, kept: [Int], denseOut: Int, bias: Bool
    ) throws -> (x: [Double], y: [Double], count: Int) {
        let (rowsX, count) = try InputRows.rows(layer: layer, x: x, features: features, bias: bias)
        let yv = y.floatValues()
        let outputs = kept.count
        func mismatch(_ detail: String) -> PruneError {
            PruneError(.shapeMismatch, "'reconstruct': layer '\(layer.name)': \(detail)")
        }
        var rowsY = [Double](repeating: 0, count: count * outputs)
        switch layer.form {
        case .convolution:
            let (outH, outW) = InputRows.outputSize(layer: layer, height: x.shape[2], width: x.shape[3])
            guard y.shape == [x.shape[0], denseOut, outH, outW] else {
                throw mismatch("dense output \(y.shape) does not match the convolution's [\(x.shape[0]), \(denseOut), \(outH), \(outW)]")
            }
            let positions = outH * outW
            for row in 0..<count {
                let (b, p) = row.quotientAndRemainder(dividingBy: positions)
                for (o, unit) in kept.enumerated() {
                    rowsY[row * outputs + o] = Double(yv[(b * denseOut + unit) * positions + p])
                }
            }
        case .transposedWeight, .plainWeight:
            guard y.shape.last == denseOut, yv.count / denseOut == count else {
                throw mismatch("input \(x.shape) and dense output \(y.shape) do not match \(features) → \(denseOut)")
            }
            for row in 0..<count {
                for (o, unit) in kept.enumerated() { rowsY[row * outputs + o] = Double(yv[row * denseOut + unit]) }
            }
        }
        return (rowsX, rowsY, count)
    }

    /// Re-estimates a BatchNormalization node's running mean and variance from its input in the pruned model.
    mutating func reestimate(batchNorm node: Onnx_NodeProto) throws -> LayerReconstruction {
        try BatchNormStatistics.reestimate(node, in: &model, running: pruned, batches: batches)
    }
}
