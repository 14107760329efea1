import PruneCore
import PruneRuntime

extension Hessian {
    /// H = XᵀX of `layer`'s input over all calibration batches, one per convolution group (one for other layers):
    /// what SparseGPT's and GPTQ's sweeps both start from. Rows `padding` marks as padded positions are left out.
    ///
    /// - Throws: `PruneError` from running the model or reading the layer's input rows.
    static func accumulate(
        layer: Layer, columns: Int, from interpreter: Interpreter, _ batches: any CalibrationBatches,
        padding: PaddingRows? = nil
    ) throws -> [Hessian] {
        var hessians = [Hessian](repeating: Hessian(size: columns), count: layer.groups)
        for index in 0..<batches.batchCount {
            let x = try RuntimeModel.capture(layer.input, running: interpreter, batch: index, of: batches)
            let values = x.floatValues()
            let real = try padding?.realRows(of: x.shape, batch: index, of: batches)
            try LibraryThreads.with(interpreter.options.threads) {
                for group in 0..<layer.groups {
                    let (all, total) = try InputRows.rows(
                        layer: layer, x: x, values: values, features: columns, bias: false, group: group)
                    let (rows, count) = PaddingRows.keeping(real, of: all, columns: columns, count: total)
                    hessians[group].add(rows, count: count)
                }
            }
        }
        return hessians
    }
}
