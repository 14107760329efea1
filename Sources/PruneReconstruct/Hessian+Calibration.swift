import PruneCore
import PruneRuntime

extension Hessian {
    /// H = XᵀX of `layer`'s input over all calibration batches, one per convolution group (one for other layers):
    /// what SparseGPT's and GPTQ's sweeps both start from.
    ///
    /// - Throws: `PruneError` from running the model or reading the layer's input rows.
    static func accumulate(
        layer: Layer, columns: Int, from interpreter: Interpreter, _ batches: any CalibrationBatches
    ) throws -> [Hessian] {
        var hessians = [Hessian](repeating: Hessian(size: columns), count: layer.groups)
        for index in 0..<batches.batchCount {
            let x = try RuntimeModel.capture(layer.input, running: interpreter, batch: index, of: batches)
            let values = x.floatValues()
            try LibraryThreads.with(interpreter.options.threads) {
                for group in 0..<layer.groups {
                    let (rows, count) = try InputRows.rows(
                        layer: layer, x: x, values: values, features: columns, bias: false, group: group)
                    hessians[group].add(rows, count: count)
                }
            }
        }
        return hessians
    }
}
