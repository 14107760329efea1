import PruneCore
import PruneRuntime

/// The end metric of a reconstruction: how far the model's outputs are from the dense model's, with the selection
/// applied and nothing updated (before) and after the update, on the fitted and on the held-out calibration samples.
enum ModelOutputAgreement {
    /// One ``LayerReconstruction`` row per float graph output: ‖y − y_dense‖² / ‖y_dense‖² summed over `batches`
    /// (the fitted samples) for `baseline` (before) and `result` (after), and the same over `heldOut` when given;
    /// positions `padding` marks as padded are left out of a per-token output.
    static func rows(
        dense: Model, baseline: Model, result: Model, batches: any CalibrationBatches,
        heldOut: (any CalibrationBatches)? = nil, padding: PaddingRows? = nil, threads: Int
    ) throws -> [LayerReconstruction] {
        let options = Interpreter.Options(threads: threads)
        let engines = try [dense, baseline, result].map { try Interpreter(graph: RuntimeModel.graph(of: $0), options: options) }
        let outputs = engines[0].graph.outputNames
        let fitted = try errors(engines: engines, outputs: outputs, batches: batches, padding: padding)
        let held = try heldOut.map { try errors(engines: engines, outputs: outputs, batches: $0, padding: padding) }
        return outputs.indices.filter { fitted[$0] != nil && (held == nil || held![$0] != nil) }.map { o in
            let f = fitted[o]!
            var row = LayerReconstruction(
                layer: outputs[o], action: .modelOutput, relativeErrorBefore: f.before, relativeErrorAfter: f.after,
                rows: f.samples)
            if let h = held?[o] {
                row.heldOutErrorBefore = h.before
                row.heldOutErrorAfter = h.after
            }
            return row
        }
    }

    /// Per graph output, the relative errors of engines 1 and 2 to engine 0 over `batches` (nil: not a float output).
    private static func errors(
        engines: [Interpreter], outputs: [String], batches: any CalibrationBatches, padding: PaddingRows?
    ) throws -> [(before: Double, after: Double, samples: Int)?] {
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
                let real = try padding?.realRows(of: y.shape, batch: index, of: batches)
                let width = max(1, y.shape.last ?? 1)
                for i in yv.indices where real?[i / width] ?? true {
                    let target = Double(yv[i])
                    reference[o] += target * target
                    before[o] += (Double(bv[i]) - target) * (Double(bv[i]) - target)
                    after[o] += (Double(av[i]) - target) * (Double(av[i]) - target)
                }
                rows[o] += y.shape.first ?? 1
            }
        }
        return outputs.indices.map { o in
            guard isFloat[o] else { return nil }
            let scale = reference[o] > 0 ? reference[o] : 1
            return (before[o] / scale, after[o] / scale, rows[o])
        }
    }
}
