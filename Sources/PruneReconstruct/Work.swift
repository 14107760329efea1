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
    /// The samples the fits and statistics are computed on.
    let batches: any CalibrationBatches
    /// The samples every step is judged on (nil: every step is kept).
    let heldOut: (any CalibrationBatches)?
    let lambda: Double
    /// The calibration input marking padded positions, whose rows no fit or error counts (nil: every row counts).
    let padding: PaddingRows?

    /// Re-fits `layer` to the dense model's outputs and installs the result in the model and the interpreter.
    ///
    /// With `residual`, the target is the dense model's residual sum minus the pruned model's residual input
    /// (`sum_dense − other_pruned`), so the layer also makes up for what earlier removals changed in the stream.
    ///
    /// A grouped or depthwise convolution is fitted group by group: the output channels of each convolution group
    /// on that group's input channels only (one least-squares problem per group, each damped relative to its own
    /// XᵀX), which is exactly the structure the convolution computes.
    mutating func refit(_ layer: Layer, residual: ResidualSum? = nil) throws -> LayerReconstruction {
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
        let groups = layer.groups
        guard groups >= 1, outputs % groups == 0 else {
            throw PruneError(
                .shapeMismatch,
                "'reconstruct': layer '\(layer.name)': \(outputs) surviving outputs do not divide into \(groups) groups")
        }
        let perGroup = outputs / groups
        // Features of one group: its input channels × kernel for a Conv (the weight's axis 1 is per group).
        let features = shape.count == 4 ? shape[1] * shape[2] * shape[3] : shape[layer.inputAxis]
        // A bias other nodes read too is kept: the weights are fitted to Y minus that bias.
        let withBias = layer.bias != nil && !layer.biasIsShared
        let columns = features + (withBias ? 1 : 0)
        let values = weight.floatValues()
        let biasValues = try layer.bias.map { try model.parameter(named: $0).tensor.floatValues() }
        if let bias = layer.bias, biasValues?.count != outputs {
            throw PruneError(
                .shapeMismatch,
                "'reconstruct': layer '\(layer.name)': bias '\(bias)' has \(biasValues?.count ?? 0) values for "
                    + "\(outputs) outputs")
        }
        /// Element `f` of output `o`'s weights in the tensor's layout.
        func index(output o: Int, feature f: Int) -> Int {
            switch layer.form {
            case .convolution, .transposedWeight: o * features + f
            case .plainWeight: f * outputs + o
            }
        }

        // W₀ of each group as a row-major (features [+ 1]) × perGroup matrix.
        let priors = (0..<groups).map { g in
            var prior = [Double](repeating: 0, count: columns * perGroup)
            for local in 0..<perGroup {
                let o = g * perGroup + local
                for f in 0..<features { prior[f * perGroup + local] = Double(values[index(output: o, feature: f)]) }
                if withBias, let biasValues { prior[features * perGroup + local] = Double(biasValues[o]) }
            }
            return prior
        }

        let threads = pruned.options.threads
        /// The normal equations of every convolution group over `source`'s batches.
        func equations(over source: any CalibrationBatches) throws -> [NormalEquations] {
            var equations = [NormalEquations](
                repeating: NormalEquations(features: columns, outputs: perGroup), count: groups)
            for index in 0..<source.batchCount {
                let captured = try RuntimeModel.capture(
                    [layer.input] + (residual.map { [$0.other] } ?? []), running: pruned, batch: index, of: source)
                let x = captured[0]
                let y = try RuntimeModel.capture(residual?.sum ?? layer.output, running: dense, batch: index, of: source)
                let (xv, yv) = (x.floatValues(), y.floatValues())
                let stream = captured.count > 1 ? captured[1] : nil
                let streamValues = stream?.floatValues()
                let real = try padding?.realRows(of: x.shape, batch: index, of: source)
                try LibraryThreads.with(threads) {
                    for g in 0..<groups {
                        let (rowsX, fittedY, count) = try Self.rows(
                            layer: layer, x: x, xValues: xv, y: y, yValues: yv, features: features,
                            kept: Array(kept[(g * perGroup)..<((g + 1) * perGroup)]), denseOut: denseOut,
                            bias: withBias, group: g)
                        var rowsY = fittedY
                        if let stream, let streamValues, let residual {
                            try Self.subtract(
                                stream: stream, values: streamValues, from: &rowsY, count: count, layer: layer,
                                outputs: outputs, group: g, perGroup: perGroup, residual: residual)
                        }
                        if layer.biasIsShared, let biasValues {
                            for row in 0..<count {
                                for local in 0..<perGroup {
                                    rowsY[row * perGroup + local] -= Double(biasValues[g * perGroup + local])
                                }
                            }
                        }
                        let keptX = PaddingRows.keeping(real, of: rowsX, columns: columns, count: count)
                        let keptY = PaddingRows.keeping(real, of: rowsY, columns: perGroup, count: count)
                        equations[g].add(x: keptX.values, y: keptY.values, count: keptX.count)
                    }
                }
            }
            return equations
        }
        let fitted = try equations(over: batches)
        let held = try heldOut.map { try equations(over: $0) }
        /// Σ residuals of per-group solutions on `systems`, relative to their ‖Y‖².
        func relative(_ systems: [NormalEquations], _ solutions: [[Double]]) -> Double {
            let squares = systems.reduce(0) { $0 + $1.targetSquares }
            let residual = zip(systems, solutions).reduce(0) { $0 + $1.0.residual($1.1) }
            return residual / (squares > 0 ? squares : 1)
        }
        // One damping per layer: the grid's value with the lowest held-out error (the given one without held-out).
        let grid = held == nil ? [lambda] : Self.dampingGrid(around: lambda)
        var best: (damping: Double, solutions: [[Double]], heldError: Double)?
        try LibraryThreads.with(threads) {
            for relativeDamping in grid {
                let solutions = try (0..<groups).map { g in
                    let meanDiagonal = fitted[g].meanDiagonal
                    return try fitted[g].solve(
                        damping: relativeDamping * (meanDiagonal > 0 ? meanDiagonal : 1), prior: priors[g],
                        layer: layer.name)
                }
                let heldError = held.map { relative($0, solutions) } ?? 0
                if best == nil || heldError < best!.heldError { best = (relativeDamping, solutions, heldError) }
            }
        }
        let chosen = best!
        var row = LayerReconstruction(
            layer: layer.name, action: .leastSquares, relativeErrorBefore: relative(fitted, priors),
            relativeErrorAfter: relative(fitted, chosen.solutions), rows: fitted.first?.rows ?? 0)
        row.damping = chosen.damping
        if let residual { row.note = "fitted to the residual sum '\(residual.sum)'" }
        if let held {
            let heldBefore = relative(held, priors)
            row.heldOutErrorBefore = heldBefore
            row.heldOutErrorAfter = chosen.heldError
            row.reverted = !(chosen.heldError < heldBefore)
            if row.reverted == true {
                let fit = residual.map { "the fit to the residual sum '\($0.sum)'" } ?? "the fit"
                row.note = "kept the surviving weights: \(fit) did not lower the error on held-out samples"
                return row
            }
        }
        var newWeights = [Float](repeating: 0, count: values.count)
        var newBias = [Float](repeating: 0, count: outputs)
        for g in 0..<groups {
            let solution = chosen.solutions[g]
            for local in 0..<perGroup {
                let o = g * perGroup + local
                for f in 0..<features {
                    newWeights[index(output: o, feature: f)] = Float(solution[f * perGroup + local])
                }
                if withBias { newBias[o] = Float(solution[features * perGroup + local]) }
            }
        }

        var replacements = [layer.weight: RuntimeTensor(shape: shape, floats: newWeights)]
        try model.setTensor(Tensor(shape: shape, values: newWeights), for: layer.weight)
        if let bias = layer.bias, withBias {
            try model.setTensor(Tensor(shape: [outputs], values: newBias), for: bias)
            replacements[bias] = RuntimeTensor(shape: [outputs], floats: newBias)
        }
        try pruned.replaceInitializers(replacements)
        return row
    }

    /// Subtracts the pruned model's residual input `stream` (shaped like the pruned layer's output) from the rows
    /// of Y of convolution group `group`, turning the dense sum into what this layer must add to the stream.
    static func subtract(
        stream: RuntimeTensor, values: [Float], from rowsY: inout [Double], count: Int, layer: Layer, outputs: Int,
        group: Int, perGroup: Int, residual: ResidualSum
    ) throws {
        let shape = stream.shape
        let positions: Int
        switch layer.form {
        case .convolution: positions = shape.count == 4 && shape[1] == outputs ? shape[2] * shape[3] : 0
        case .transposedWeight, .plainWeight: positions = shape.last == outputs ? 1 : 0
        }
        guard positions > 0, stream.count == count * outputs else {
            throw PruneError(
                .shapeMismatch,
                "'reconstruct': layer '\(layer.name)': residual input '\(residual.other)' \(shape) of the Add "
                    + "'\(residual.sum)' is not shaped like the layer's output (\(outputs) units, \(count) rows); "
                    + "re-fit to the layer's own output with reconstruct:residual=false")
        }
        for row in 0..<count {
            let (b, p) = row.quotientAndRemainder(dividingBy: positions)
            for local in 0..<perGroup {
                let o = group * perGroup + local
                let index = positions == 1 ? row * outputs + o : (b * outputs + o) * positions + p
                rowsY[row * perGroup + local] -= Double(values[index])
            }
        }
    }

    /// The relative dampings tried when held-out samples choose one: `lambda` × {0.1, 1, 10, 100, 1000} (just 0
    /// when `lambda` is 0).
    static func dampingGrid(around lambda: Double) -> [Double] {
        lambda > 0 ? [0.1, 1, 10, 100, 1000].map { $0 * lambda } : [0]
    }

    /// The rows of X (pruned input of convolution group `group`, im2col for a Conv, ones column for a bias) and Y
    /// (dense output at `kept`, the group's surviving outputs); `xValues` and `yValues` are `x` and `y` as floats.
    static func rows(
        layer: Layer, x: RuntimeTensor, xValues: [Float], y: RuntimeTensor, yValues yv: [Float], features: Int,
        kept: [Int], denseOut: Int, bias: Bool, group: Int
    ) throws -> (x: [Double], y: [Double], count: Int) {
        let (rowsX, count) = try InputRows.rows(
            layer: layer, x: x, values: xValues, features: features, bias: bias, group: group)
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
        let channels = try model.parameter(named: node.input[3]).tensor.elementCount
        let gone = removed[RemovedKey(parameter: node.input[3], axis: 0)] ?? []
        let denseChannels = try original.parameter(named: node.input[3]).tensor.elementCount
        let kept = (0..<denseChannels).filter { !gone.contains($0) }
        guard kept.count == channels else {
            throw PruneError(
                .shapeMismatch,
                "'reconstruct': BatchNormalization '\(node.name)': \(kept.count) surviving channels for \(channels)")
        }
        return try BatchNormStatistics.reestimate(
            node, in: &model, running: pruned, batches: batches,
            judge: heldOut.map { .init(batches: $0, dense: dense, denseChannels: kept) })
    }
}
