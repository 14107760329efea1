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
        if let problem = layer.problem {
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
            equations.add(x: rowsX, y: rowsY, count: count)
        }
        let scale = equations.targetSquares > 0 ? equations.targetSquares : 1
        let before = equations.residual(prior) / scale
        let meanDiagonal = equations.meanDiagonal
        let damping = lambda * (meanDiagonal > 0 ? meanDiagonal : 1)
        let solution = try equations.solve(damping: damping, prior: prior, layer: layer.name)
        let after = equations.residual(solution) / scale

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
        let columns = features + (bias ? 1 : 0)
        let xv = x.floatValues()
        let yv = y.floatValues()
        let outputs = kept.count
        func mismatch(_ detail: String) -> PruneError {
            PruneError(.shapeMismatch, "'reconstruct': layer '\(layer.name)': \(detail)")
        }
        switch layer.form {
        case .convolution(let kernel, let strides, let pads, let dilations):
            guard x.shape.count == 4, y.shape.count == 4, y.shape[1] == denseOut, x.shape[0] == y.shape[0] else {
                throw mismatch("input \(x.shape) and dense output \(y.shape) are not [N, C, H, W] of matching sizes")
            }
            let (n, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let (kh, kw) = (kernel[0], kernel[1])
            guard channels * kh * kw == features else {
                throw mismatch("input has \(channels) channels for a \(features / max(1, kh * kw))-channel weight")
            }
            let (outH, outW) = (y.shape[2], y.shape[3])
            let expectedH = (height + pads[0] + pads[2] - dilations[0] * (kh - 1) - 1) / strides[0] + 1
            let expectedW = (width + pads[1] + pads[3] - dilations[1] * (kw - 1) - 1) / strides[1] + 1
            guard expectedH == outH, expectedW == outW else {
                throw mismatch("dense output \(outH)×\(outW) does not match the convolution's \(expectedH)×\(expectedW)")
            }
            let count = n * outH * outW
            var rowsX = [Double](repeating: 0, count: count * columns)
            var rowsY = [Double](repeating: 0, count: count * outputs)
            for b in 0..<n {
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        let row = (b * outH + oh) * outW + ow
                        let base = row * columns
                        for c in 0..<channels {
                            for i in 0..<kh {
                                let ih = oh * strides[0] - pads[0] + i * dilations[0]
                                guard ih >= 0, ih < height else { continue }
                                for j in 0..<kw {
                                    let iw = ow * strides[1] - pads[1] + j * dilations[1]
                                    guard iw >= 0, iw < width else { continue }
                                    rowsX[base + (c * kh + i) * kw + j] = Double(
                                        xv[((b * channels + c) * height + ih) * width + iw])
                                }
                            }
                        }
                        if bias { rowsX[base + features] = 1 }
                        for (o, unit) in kept.enumerated() {
                            rowsY[row * outputs + o] = Double(yv[((b * denseOut + unit) * outH + oh) * outW + ow])
                        }
                    }
                }
            }
            return (rowsX, rowsY, count)
        case .transposedWeight, .plainWeight:
            guard let lastX = x.shape.last, lastX == features, let lastY = y.shape.last, lastY == denseOut,
                xv.count / features == yv.count / denseOut
            else {
                throw mismatch("input \(x.shape) and dense output \(y.shape) do not match \(features) → \(denseOut)")
            }
            let count = xv.count / features
            var rowsX = [Double](repeating: 0, count: count * columns)
            var rowsY = [Double](repeating: 0, count: count * outputs)
            for row in 0..<count {
                for f in 0..<features { rowsX[row * columns + f] = Double(xv[row * features + f]) }
                if bias { rowsX[row * columns + features] = 1 }
                for (o, unit) in kept.enumerated() { rowsY[row * outputs + o] = Double(yv[row * denseOut + unit]) }
            }
            return (rowsX, rowsY, count)
        }
    }

    /// Re-estimates a BatchNormalization node's running mean and variance from its input in the pruned model.
    mutating func reestimate(batchNorm node: Onnx_NodeProto) throws -> LayerReconstruction {
        let name = node.name.isEmpty ? node.output[0] : node.name
        let (meanName, varianceName) = (node.input[3], node.input[4])
        let channels = try model.parameter(named: meanName).tensor.elementCount
        var sums = [Double](repeating: 0, count: channels)
        var squares = [Double](repeating: 0, count: channels)
        var perChannel = 0
        for index in 0..<batches.batchCount {
            let x = try RuntimeModel.capture(node.input[0], running: pruned, batch: index, of: batches)
            guard x.shape.count >= 2, x.shape[1] == channels else {
                throw PruneError(
                    .shapeMismatch,
                    "'reconstruct': BatchNormalization '\(name)': input \(x.shape) has no \(channels) channels on axis 1")
            }
            let values = x.floatValues()
            let inner = x.shape.dropFirst(2).reduce(1, *)
            for b in 0..<x.shape[0] {
                for c in 0..<channels {
                    let start = (b * channels + c) * inner
                    var sum = 0.0
                    var square = 0.0
                    for value in values[start..<(start + inner)] {
                        sum += Double(value)
                        square += Double(value) * Double(value)
                    }
                    sums[c] += sum
                    squares[c] += square
                }
            }
            perChannel += x.shape[0] * inner
        }
        let count = Double(max(1, perChannel))
        let mean = sums.map { Float($0 / count) }
        let variance = (0..<channels).map { Float(max(0, squares[$0] / count - (sums[$0] / count) * (sums[$0] / count))) }
        try model.setTensor(Tensor(shape: [channels], values: mean), for: meanName)
        try model.setTensor(Tensor(shape: [channels], values: variance), for: varianceName)
        try pruned.replaceInitializers([
            meanName: RuntimeTensor(shape: [channels], floats: mean),
            varianceName: RuntimeTensor(shape: [channels], floats: variance),
        ])
        return LayerReconstruction(
            layer: name, action: .batchNormStatistics, relativeErrorBefore: nil, relativeErrorAfter: nil,
            rows: perChannel)
    }
}
