import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime

/// The quantised value of one weight element, given its flat index in the tensor's own layout and its value.
package typealias ElementQuantizer = @Sendable (_ index: Int, _ value: Double) -> Double

/// GPTQ: quantises layer weights column by column with the optimal-brain-surgeon update of the columns not yet
/// visited, in graph order, on H = XᵀX of each layer's input over the calibration data (taken from the model with
/// the layers before it already quantised, as GPTQ does).
///
/// Positions in `removed` (and weights already exactly zero) are set to zero in the same sweep — SparseGPT's joint
/// sparse + quantised mode — so a pruned model stays exactly as sparse. Each layer's report row gives the relative
/// output error ‖X·(Ŵ − W)‖² / ‖X·W‖² of rounding to nearest (before) and of the sweep (after).
package struct QuantizedReconstruction {
    /// Damping added to H's diagonal, relative to its mean diagonal.
    package let damp: Double
    /// Columns per block of the sweep.
    package let blockSize: Int

    /// Creates the reconstruction.
    package init(damp: Double, blockSize: Int) {
        precondition(blockSize >= 1)
        self.damp = damp
        self.blockSize = blockSize
    }

    /// The model with every weight in `quantizers` that is the float32 weight of a Conv, Gemm or MatMul replaced by
    /// quantised values (still float32, each a level of the quantiser), and the names it swept; other weights are
    /// left for the caller to round.
    package func run(
        model: Model, quantizers: [String: ElementQuantizer], removed: [String: Mask], batches: any CalibrationBatches,
        threads: Int
    ) throws -> (model: Model, layers: [LayerReconstruction], swept: Set<String>) {
        guard let onnx = model.graph as? ONNXModelGraph else {
            throw PruneError(.unsupported, "GPTQ runs the model, so it needs an ONNX model")
        }
        let readers = ParameterReaders(graph: onnx.proto, model: model)
        var layers: [Layer] = []
        var seen = Set<String>()
        for node in onnx.proto.node {
            guard let layer = try Layer(node: node, model: model, readers: readers), quantizers[layer.weight] != nil,
                layer.problem == nil, seen.insert(layer.weight).inserted
            else { continue }
            layers.append(layer)
        }
        guard !layers.isEmpty else { return (model, [], []) }
        var current = model
        let running = try Interpreter(graph: RuntimeModel.graph(of: current), options: .init(threads: threads))
        var lastReader: [String: Int] = [:]
        for (index, layer) in layers.enumerated() { lastReader[Self.hessianKey(layer)] = index }
        var hessians: [String: [Hessian]] = [:]
        var report: [LayerReconstruction] = []
        for (index, layer) in layers.enumerated() {
            let key = Self.hessianKey(layer)
            let weight = try current.parameter(named: layer.weight).tensor
            let matrix = WeightMatrix(layer: layer, shape: weight.shape)
            let groupHessians =
                try hessians[key] ?? Hessian.accumulate(layer: layer, columns: matrix.columns, from: running, batches)
            hessians[key] = lastReader[key] == index ? nil : groupHessians
            let (updated, row) = try LibraryThreads.with(threads) {
                try sweep(
                    layer: layer, weight: weight, matrix: matrix, removed: removed[layer.weight],
                    quantize: quantizers[layer.weight]!, hessians: groupHessians, threads: threads)
            }
            try current.setTensor(Tensor(shape: weight.shape, values: updated), for: layer.weight)
            try running.replaceInitializers([layer.weight: RuntimeTensor(shape: weight.shape, floats: updated)])
            report.append(row)
        }
        return (current, report, seen)
    }

    /// Quantises one weight group by group and returns its new values (tensor layout) and the report row.
    private func sweep(
        layer: Layer, weight: Tensor, matrix: WeightMatrix, removed: Mask?, quantize: @escaping ElementQuantizer,
        hessians: [Hessian], threads: Int
    ) throws -> ([Float], LayerReconstruction) {
        let columns = matrix.columns
        let original = matrix.rowMajor(weight.floatValues())
        var selected = removed.map { matrix.rowMajor($0) } ?? [Bool](repeating: false, count: original.count)
        for index in original.indices where original[index] == 0 { selected[index] = true }
        let rowsPerGroup = matrix.rows / hessians.count
        let (totalRows, transposed) = (matrix.rows, matrix.transposed)
        // The tensor index of (matrix row, column): the quantiser's scales are laid out like the tensor.
        @Sendable func tensorIndex(_ row: Int, _ column: Int) -> Int {
            transposed ? column * totalRows + row : row * columns + column
        }
        var updated = original
        var (reference, before, after) = (0.0, 0.0, 0.0)
        for (group, hessian) in hessians.enumerated() {
            let firstRow = group * rowsPerGroup
            let span = (firstRow * columns)..<((firstRow + rowsPerGroup) * columns)
            let groupRemoved = Array(selected[span])
            let groupWeights = Array(original[span])
            var nearest = groupWeights
            for i in nearest.indices {
                let (r, c) = i.quotientAndRemainder(dividingBy: columns)
                nearest[i] = groupRemoved[i] ? 0 : quantize(tensorIndex(firstRow + r, c), groupWeights[i])
            }
            let h = hessian.symmetric
            var meanDiagonal = 0.0
            for i in 0..<columns { meanDiagonal += h[i * columns + i] }
            meanDiagonal /= Double(max(1, columns))
            var result = nearest
            if meanDiagonal > 0 {
                var damped = h
                for i in 0..<columns { damped[i * columns + i] += damp * meanDiagonal }
                let factor = try InverseHessianFactor.upperFactor(of: damped, n: columns, layer: layer.name)
                result = groupWeights
                QuantizedOBSSweep.run(
                    weights: &result, rows: rowsPerGroup, columns: columns, factor: factor, blockSize: blockSize,
                    removed: groupRemoved, threads: threads
                ) { r, c, value in quantize(tensorIndex(firstRow + r, c), value) }
            }
            updated.replaceSubrange(span, with: result)
            let nearestDelta = groupWeights.indices.map { nearest[$0] - groupWeights[$0] }
            let sweepDelta = groupWeights.indices.map { result[$0] - groupWeights[$0] }
            reference += Hessian.outputSquares(of: groupWeights, rows: rowsPerGroup, h: h, size: columns)
            before += Hessian.outputSquares(of: nearestDelta, rows: rowsPerGroup, h: h, size: columns)
            after += Hessian.outputSquares(of: sweepDelta, rows: rowsPerGroup, h: h, size: columns)
        }
        let scale = reference > 0 ? reference : 1
        return (
            matrix.tensorLayout(updated),
            LayerReconstruction(
                layer: layer.name, action: .gptq, relativeErrorBefore: before / scale, relativeErrorAfter: after / scale,
                rows: hessians[0].rows)
        )
    }

    private static func hessianKey(_ layer: Layer) -> String { "\(layer.input)|\(layer.form)|\(layer.groups)" }
}
