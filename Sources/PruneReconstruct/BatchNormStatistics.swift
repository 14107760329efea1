import ONNXProto
import PruneCore
import PruneRuntime

/// BatchNormalization running statistics measured on the model being pruned.
enum BatchNormStatistics {
    /// Re-estimates a BatchNormalization node's running mean and variance from its input in the pruned model.
    static func reestimate(
        _ node: Onnx_NodeProto, in model: inout Model, running pruned: Interpreter, batches: any CalibrationBatches
    ) throws -> LayerReconstruction {
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
