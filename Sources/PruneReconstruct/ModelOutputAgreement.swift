import PruneCore
import PruneRuntime

/// The end metric of a reconstruction: how far the model's outputs are from the dense model's on the calibration data,
/// with the selection applied and nothing updated (before) and after the update.
enum ModelOutputAgreement {
    /// One ``LayerReconstruction`` row per float graph output: ‖y − y_dense‖² / ‖y_dense‖² summed over all
    /// calibration batches, for `baseline` (before) and `result` (after).
    static func rows(
        dense: Model, baseline: Model, result: Model, batches: any CalibrationBatches, threads: Int
    ) throws -> [LayerReconstruction] {
        let options = Interpreter.Options(threads: threads)
        let engines = try [dense, baseline, result].map { try Interpreter(graph: RuntimeModel.graph(of: $0), options: options) }
        let outputs = engines[0].graph.outputNames
        var reference = [Double](repeating: 0, count: outputs.count)
        var before = [Double](repeating: 0, count: outputs.count)
        var after = [Double](repeating: 0, count: outputs.count)
        var rows = [Int](repeating: 0, count: outputs.count)
        var isFloat = [Bool](repeating: true, count: outputs.count)
        for index in 0..<batches.batchCount {
            let fed = try batches.batch(index, inputs: engines[0].graph.inputNames)
            var inputs: [String: RuntimeTensor] = [:]
            for (name, tensor) in fed { inputs[name] = try RuntimeTensor(tensor) }
            let values = try engines.map { try $0.run(inputs) }
            for (o, name) in outputs.enumerated() {
                guard let y = values[0][name], y.dtype == .f32, let b = values[1][name], let a = values[2][name],
                    b.shape == y.shape, a.shape == y.shape
                else {
                    isFloat[o] = false
                    continue
                }
                let (yv, bv, av) = (y.floatValues(), b.floatValues(), a.floatValues())
                for i in yv.indices {
                    let target = Double(yv[i])
                    reference[o] += target * target
                    before[o] += (Double(bv[i]) - target) * (Double(bv[i]) - target)
                    after[o] += (Double(av[i]) - target) * (Double(av[i]) - target)
                }
                rows[o] += y.shape.first ?? 1
            }
        }
        return outputs.indices.filter { isFloat[$0] }.map { o in
            let scale = reference[o] > 0 ? reference[o] : 1
            return LayerReconstruction(
                layer: outputs[o], action: .modelOutput, relativeErrorBefore: before[o] / scale,
                relativeErrorAfter: after[o] / scale, rows: rows[o])
        }
    }
}
