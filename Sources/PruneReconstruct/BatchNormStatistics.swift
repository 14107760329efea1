import ONNXProto
import PruneCore
import PruneRuntime

/// BatchNormalization running statistics measured on the model being pruned.
enum BatchNormStatistics {
    /// Held-out samples on which new statistics must beat the old ones before they replace them.
    struct Judge {
        /// The held-out samples.
        let batches: any CalibrationBatches
        /// The dense model, whose BatchNorm output is the target.
        let dense: Interpreter
        /// The dense channel of each channel the pruned BatchNorm still has.
        let denseChannels: [Int]
    }

    /// Re-estimates a BatchNormalization node's running mean and variance from its input in the pruned model over
    /// `batches`. With a `judge`, the new statistics are installed only when they bring the node's output closer to
    /// the dense model's on the judge's held-out samples than the old statistics do (the row says which).
    static func reestimate(
        _ node: Onnx_NodeProto, in model: inout Model, running pruned: Interpreter, batches: any CalibrationBatches,
        judge: Judge? = nil
    ) throws -> LayerReconstruction {
        let name = node.name.isEmpty ? node.output[0] : node.name
        let (meanName, varianceName) = (node.input[3], node.input[4])
        let channels = try model.parameter(named: meanName).tensor.elementCount
        var sums = [Double](repeating: 0, count: channels)
        var squares = [Double](repeating: 0, count: channels)
        var perChannel = 0
        for index in 0..<batches.batchCount {
            let x = try input(of: node, name: name, channels: channels, running: pruned, batch: index, of: batches)
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
        var row = LayerReconstruction(
            layer: name, action: .batchNormStatistics, relativeErrorBefore: nil, relativeErrorAfter: nil,
            rows: perChannel)
        if let judge {
            let old = try (
                mean: model.parameter(named: meanName).tensor.floatValues(),
                variance: model.parameter(named: varianceName).tensor.floatValues()
            )
            let (before, after) = try heldOutErrors(
                node, name: name, model: model, running: pruned, judge: judge,
                statistics: [(old.mean, old.variance), (mean, variance)])
            row.heldOutErrorBefore = before
            row.heldOutErrorAfter = after
            row.reverted = !(after < before)
            if row.reverted == true {
                row.note = "kept the old statistics: the new ones did not lower the error on held-out samples"
                return row
            }
        }
        try model.setTensor(Tensor(shape: [channels], values: mean), for: meanName)
        try model.setTensor(Tensor(shape: [channels], values: variance), for: varianceName)
        try pruned.replaceInitializers([
            meanName: RuntimeTensor(shape: [channels], floats: mean),
            varianceName: RuntimeTensor(shape: [channels], floats: variance),
        ])
        return row
    }

    /// The node's input in the pruned model on one batch, checked to have `channels` channels on axis 1.
    private static func input(
        of node: Onnx_NodeProto, name: String, channels: Int, running pruned: Interpreter, batch index: Int,
        of batches: any CalibrationBatches
    ) throws -> RuntimeTensor {
        let x = try RuntimeModel.capture(node.input[0], running: pruned, batch: index, of: batches)
        guard x.shape.count >= 2, x.shape[1] == channels else {
            throw PruneError(
                .shapeMismatch,
                "'reconstruct': BatchNormalization '\(name)': input \(x.shape) has no \(channels) channels on axis 1")
        }
        return x
    }

    /// ‖y − y_dense‖² / ‖y_dense‖² of the node's output over the judge's samples, y computed from the pruned input
    /// with each of the two sets of statistics (scale, bias and epsilon as the node has them).
    private static func heldOutErrors(
        _ node: Onnx_NodeProto, name: String, model: Model, running pruned: Interpreter, judge: Judge,
        statistics: [(mean: [Float], variance: [Float])]
    ) throws -> (before: Double, after: Double) {
        let scale = try model.parameter(named: node.input[1]).tensor.floatValues()
        let bias = try model.parameter(named: node.input[2]).tensor.floatValues()
        let epsilon = Double(node.attribute.first { $0.name == "epsilon" }?.f ?? 1e-5)
        let channels = judge.denseChannels.count
        guard scale.count == channels, bias.count == channels else {
            throw PruneError(
                .shapeMismatch, "'reconstruct': BatchNormalization '\(name)': scale or bias is not per channel")
        }
        // Per set: the affine map y = a·x + b of each channel.
        let maps = statistics.map { set in
            (0..<channels).map { c -> (Double, Double) in
                let a = Double(scale[c]) / (Double(set.variance[c]) + epsilon).squareRoot()
                return (a, Double(bias[c]) - a * Double(set.mean[c]))
            }
        }
        var reference = 0.0
        var errors = [Double](repeating: 0, count: maps.count)
        for index in 0..<judge.batches.batchCount {
            let x = try input(of: node, name: name, channels: channels, running: pruned, batch: index, of: judge.batches)
            let y = try RuntimeModel.capture(node.output[0], running: judge.dense, batch: index, of: judge.batches)
            let inner = x.shape.dropFirst(2).reduce(1, *)
            let denseChannelCount = y.shape.count >= 2 ? y.shape[1] : 0
            guard y.shape[0] == x.shape[0], y.count == x.shape[0] * denseChannelCount * inner else {
                throw PruneError(
                    .shapeMismatch,
                    "'reconstruct': BatchNormalization '\(name)': dense output \(y.shape) does not match input \(x.shape)")
            }
            let (xv, yv) = (x.floatValues(), y.floatValues())
            for b in 0..<x.shape[0] {
                for (c, dc) in judge.denseChannels.enumerated() {
                    let xs = (b * channels + c) * inner
                    let ys = (b * denseChannelCount + dc) * inner
                    for i in 0..<inner {
                        let target = Double(yv[ys + i])
                        reference += target * target
                        for (m, map) in maps.enumerated() {
                            let d = map[c].0 * Double(xv[xs + i]) + map[c].1 - target
                            errors[m] += d * d
                        }
                    }
                }
            }
        }
        let scaleSquares = reference > 0 ? reference : 1
        return (errors[0] / scaleSquares, errors[1] / scaleSquares)
    }
}
