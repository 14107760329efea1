import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime

/// Unstructured and N:M reconstruction: SparseGPT's optimal-brain-surgeon sweep over each selected layer weight, in
/// graph order, on the Hessian of the layer's input over the calibration data.
struct SparseReconstruction {
    /// Damping added to H's diagonal, relative to its mean diagonal (the centre of the grid held-out samples choose
    /// from).
    let damp: Double
    /// Columns per block of the sweep (and per re-selection segment unless the selection is N:M).
    let blockSize: Int
    /// Whether the sweep re-chooses which weights go (keeping the selection's count per row and segment).
    let adaptive: Bool
    /// Whether each layer's Hessian comes from the dense model's activations instead of the pruned model's.
    let denseInputs: Bool
    /// Whether BatchNormalization running statistics downstream of a pruned tensor are re-estimated.
    let reestimateBatchNorm: Bool
    /// Whether the selection's mask is kept and every row solved exactly (``ExactRowFit``) instead of swept.
    var exact = false
    /// Whether an adaptive sweep chooses each N:M run when it reaches the run's first column (SparseGPT).
    var chooseAtColumn = true
    /// The calibration input marking padded positions, whose rows H leaves out (nil: every row counts).
    var padding: PaddingRows? = nil

    /// One thing done to the model, in graph order.
    private enum Step {
        case sweep(Layer)
        case batchNorm(Onnx_NodeProto)
    }

    /// The model with every element selection applied and the selected layers' surviving weights updated.
    ///
    /// With `heldOut` samples, each layer's update is kept only when it lowers the layer's output error on them
    /// (otherwise the layer keeps the selection's zeros and its other weights as they were), and so is each
    /// BatchNorm re-estimation (judged against the dense model's BatchNorm output).
    func run(
        model: Model, selection: Selection, batches: any CalibrationBatches, heldOut: (any CalibrationBatches)? = nil,
        threads: Int, progress: any ProgressSink = SilentProgress()
    ) throws -> (
        model: Model, layers: [LayerReconstruction]
    ) {
        let masks = Self.elementMasks(of: selection)
        guard let onnx = model.graph as? ONNXModelGraph else {
            throw PruneError(.unsupported, "'reconstruct' runs the model, so it needs an ONNX model")
        }
        var steps: [Step] = []
        var maskOnly: [(name: String, reason: String)] = []
        var seen = Set<String>()
        // Values that differ from the dense model's once the selection is applied.
        var changed = Set(masks.keys)
        for node in onnx.proto.node {
            let inputChanged = node.input.contains { changed.contains($0) }
            if let layer = try Layer(node: node, model: model), masks[layer.weight] != nil,
                seen.insert(layer.weight).inserted
            {
                if let problem = layer.problem {
                    maskOnly.append((layer.weight, problem))
                } else {
                    steps.append(.sweep(layer))
                }
            } else if inputChanged, reestimateBatchNorm, node.opType == "BatchNormalization", node.input.count >= 5 {
                steps.append(.batchNorm(node))
            }
            if inputChanged { changed.formUnion(node.output) }
        }
        for name in masks.keys.sorted() where !seen.contains(name) {
            maskOnly.append((name, "not the float32 weight of a Conv, Gemm or MatMul node"))
        }

        // Tensors that are only masked are zeroed first, so every layer's Hessian sees them pruned.
        var current = model
        var report: [LayerReconstruction] = []
        for (name, reason) in maskOnly {
            try current.setTensor(current.parameter(named: name).tensor.zeroing(masks[name]!), for: name)
            report.append(
                LayerReconstruction(
                    layer: name, action: .maskOnly, relativeErrorBefore: nil, relativeErrorAfter: nil, rows: 0,
                    note: reason))
        }
        guard !steps.isEmpty else { return (current, report) }

        let pruned = try Interpreter(graph: RuntimeModel.graph(of: current), options: .init(threads: threads))
        let needsDense = denseInputs || (heldOut != nil && steps.contains { if case .batchNorm = $0 { true } else { false } })
        let dense =
            needsDense ? try Interpreter(graph: RuntimeModel.graph(of: model), options: .init(threads: threads)) : nil
        let source = denseInputs ? dense! : pruned
        // A Hessian is shared by the layers reading the same value with the same unfolding (Q, K and V of an
        // attention block), and dropped after the last of them. It stays valid across their updates: the sweep
        // follows graph order, so no layer updated later can be upstream of a value already read.
        var lastReader: [String: Int] = [:]
        for (index, step) in steps.enumerated() {
            if case .sweep(let layer) = step { lastReader[Self.hessianKey(layer)] = index }
        }
        var hessians: [String: (fitted: [Hessian], heldOut: [Hessian]?)] = [:]
        for (index, step) in steps.enumerated() {
            progress.update(phase: "reconstructing", completed: index, total: steps.count)
            let layer: Layer
            switch step {
            case .batchNorm(let node):
                let channels = try current.parameter(named: node.input[3]).tensor.elementCount
                let judge = heldOut.map {
                    BatchNormStatistics.Judge(batches: $0, dense: dense!, denseChannels: Array(0..<channels))
                }
                report.append(
                    try BatchNormStatistics.reestimate(
                        node, in: &current, running: pruned, batches: batches, judge: judge))
                continue
            case .sweep(let sweptLayer):
                layer = sweptLayer
            }
            let key = Self.hessianKey(layer)
            let weight = try current.parameter(named: layer.weight).tensor
            let matrix = WeightMatrix(layer: layer, shape: weight.shape)
            let groupHessians =
                try hessians[key]
                ?? (
                    Hessian.accumulate(layer: layer, columns: matrix.columns, from: source, batches, padding: padding),
                    heldOut.map {
                        try Hessian.accumulate(layer: layer, columns: matrix.columns, from: source, $0, padding: padding)
                    }
                )
            hessians[key] = lastReader[key] == index ? nil : groupHessians
            let (updated, row) = try LibraryThreads.with(threads) {
                try sweep(
                    layer: layer, weight: weight, matrix: matrix, mask: masks[layer.weight]!,
                    hessians: groupHessians.fitted, heldOut: groupHessians.heldOut, threads: threads)
            }
            try current.setTensor(Tensor(shape: weight.shape, values: updated), for: layer.weight)
            try pruned.replaceInitializers([layer.weight: RuntimeTensor(shape: weight.shape, floats: updated)])
            report.append(row)
        }
        return (current, report)
    }

    /// The element masks a selection prunes, per parameter (several entries for one tensor are united).
    static func elementMasks(of selection: Selection) -> [String: Mask] {
        var masks: [String: Mask] = [:]
        for entry in selection.entries {
            guard case .prune(let mask) = entry.decision, mask.setCount > 0,
                case .elements(let name) = entry.target.kind
            else { continue }
            masks[name] = masks[name].map { $0.union(mask) } ?? mask
        }
        return masks
    }

    /// The relative OBS dampings tried when held-out samples choose one: `damp` × {0.1, 1, 10} (just `damp` when it
    /// is 0). Each is a full sweep of the layer, so the grid is kept short.
    static func dampingGrid(around damp: Double) -> [Double] {
        damp > 0 ? [0.1, 1, 10].map { $0 * damp } : [0]
    }

    /// The outcome of sweeping one weight with one damping: its new values (row-major) and the output errors, as
    /// Σ (ΔW·H·ΔWᵀ) over rows, of the un-updated selection (`before`) and of the sweep (`after`) on the fitted and
    /// the held-out Hessians, with each part's reference ‖W·X‖².
    private struct SweepOutcome {
        var updated: [Double]
        var reference = 0.0, before = 0.0, after = 0.0
        var heldReference = 0.0, heldBefore = 0.0, heldAfter = 0.0
        var swept = false
    }

    /// Runs the OBS sweep on one weight, group by group, and returns its new values (in the tensor's layout) and
    /// the report row. With held-out Hessians the damping is the grid value (``dampingGrid(around:)``) whose sweep
    /// has the lowest held-out output error.
    private func sweep(
        layer: Layer, weight: Tensor, matrix: WeightMatrix, mask: Mask, hessians: [Hessian], heldOut: [Hessian]?,
        threads: Int
    ) throws -> ([Float], LayerReconstruction) {
        let original = matrix.rowMajor(weight.floatValues())
        let selected = matrix.rowMajor(mask)
        let grid = heldOut == nil ? [damp] : Self.dampingGrid(around: damp)
        var best: (damp: Double, outcome: SweepOutcome)?
        for relativeDamp in grid {
            let outcome = try sweepOnce(
                layer: layer, original: original, selected: selected, matrix: matrix, hessians: hessians,
                heldOut: heldOut, relativeDamp: relativeDamp, threads: threads)
            if !outcome.swept { best = (relativeDamp, outcome); break }
            if best == nil || outcome.heldAfter < best!.outcome.heldAfter { best = (relativeDamp, outcome) }
        }
        let (chosenDamp, outcome) = best!
        let rows = hessians[0].rows
        guard outcome.swept else {
            return (
                matrix.tensorLayout(outcome.updated),
                LayerReconstruction(
                    layer: layer.name, action: .maskOnly, relativeErrorBefore: nil, relativeErrorAfter: nil,
                    rows: rows, note: "its input is zero on every calibration row")
            )
        }
        let scale = outcome.reference > 0 ? outcome.reference : 1
        var row = LayerReconstruction(
            layer: layer.name, action: .sparseOBS, relativeErrorBefore: outcome.before / scale,
            relativeErrorAfter: outcome.after / scale, rows: rows)
        row.damping = chosenDamp
        if exact { row.note = "exact least squares per row on the selection's mask" }
        if heldOut != nil {
            let heldScale = outcome.heldReference > 0 ? outcome.heldReference : 1
            row.heldOutErrorBefore = outcome.heldBefore / heldScale
            row.heldOutErrorAfter = outcome.heldAfter / heldScale
            row.reverted = !(outcome.heldAfter < outcome.heldBefore)
            if row.reverted == true {
                row.note = "kept the selection's zeros without an update: the update did not lower the error on "
                    + "held-out samples"
                var masked = original
                for index in masked.indices where selected[index] { masked[index] = 0 }
                return (matrix.tensorLayout(masked), row)
            }
        }
        return (matrix.tensorLayout(outcome.updated), row)
    }

    /// One sweep (or exact fit) of every group of one weight with H damped by `relativeDamp`·mean diag(H).
    private func sweepOnce(
        layer: Layer, original: [Double], selected: [Bool], matrix: WeightMatrix, hessians: [Hessian],
        heldOut: [Hessian]?, relativeDamp: Double, threads: Int
    ) throws -> SweepOutcome {
        let columns = matrix.columns
        var outcome = SweepOutcome(updated: original)
        let rowsPerGroup = matrix.rows / hessians.count
        for (group, hessian) in hessians.enumerated() {
            let span = (group * rowsPerGroup * columns)..<((group + 1) * rowsPerGroup * columns)
            let rowMask = Array(selected[span])
            let rowWeights = Array(original[span])
            let h = hessian.symmetric
            var meanDiagonal = 0.0
            for i in 0..<columns { meanDiagonal += h[i * columns + i] }
            meanDiagonal /= Double(max(1, columns))
            guard meanDiagonal > 0 else {
                for index in span where selected[index] { outcome.updated[index] = 0 }
                continue
            }
            outcome.swept = true
            var damped = h
            for i in 0..<columns { damped[i * columns + i] += relativeDamp * meanDiagonal }
            var result = rowWeights
            if exact {
                result = try ExactRowFit.fit(
                    weights: rowWeights, rows: rowsPerGroup, columns: columns, mask: rowMask, damped: damped,
                    layer: layer.name)
            } else {
                let factor = try InverseHessianFactor.upperFactor(of: damped, n: columns, layer: layer.name)
                _ = SparseOBSSweep.run(
                    weights: &result, rows: rowsPerGroup, columns: columns, factor: factor, blockSize: blockSize,
                    pattern: pattern(rowMask, rows: rowsPerGroup, matrix: matrix), threads: threads,
                    chooseAtColumn: chooseAtColumn)
            }
            outcome.updated.replaceSubrange(span, with: result)
            let maskDelta = rowWeights.indices.map { rowMask[$0] ? -rowWeights[$0] : 0 }
            let sweepDelta = rowWeights.indices.map { result[$0] - rowWeights[$0] }
            outcome.reference += Hessian.outputSquares(of: rowWeights, rows: rowsPerGroup, h: h, size: columns)
            outcome.before += Hessian.outputSquares(of: maskDelta, rows: rowsPerGroup, h: h, size: columns)
            outcome.after += Hessian.outputSquares(of: sweepDelta, rows: rowsPerGroup, h: h, size: columns)
            if let held = heldOut?[group].symmetric {
                outcome.heldReference += Hessian.outputSquares(of: rowWeights, rows: rowsPerGroup, h: held, size: columns)
                outcome.heldBefore += Hessian.outputSquares(of: maskDelta, rows: rowsPerGroup, h: held, size: columns)
                outcome.heldAfter += Hessian.outputSquares(of: sweepDelta, rows: rowsPerGroup, h: held, size: columns)
            }
        }
        return outcome
    }

    /// The sweep's pattern for `rows` rows of selection mask `selected`: the mask itself, or its counts per row and
    /// segment (N:M runs when the mask has that shape, blocks otherwise).
    private func pattern(_ selected: [Bool], rows: Int, matrix: WeightMatrix) -> SparsityPattern {
        guard adaptive else { return .fixed(selected) }
        let columns = matrix.columns
        let segments =
            Self.nmRunLength(selected, rows: rows, columns: columns, kernelVolume: matrix.kernelVolume).map {
                Self.runSegments(columns: columns, kernelVolume: matrix.kernelVolume, length: $0)
            } ?? stride(from: 0, to: columns, by: blockSize).map { Array($0..<min($0 + blockSize, columns)) }
        var counts = [Int32](repeating: 0, count: rows * segments.count)
        for r in 0..<rows {
            for (s, segment) in segments.enumerated() {
                var count: Int32 = 0
                for column in segment where selected[r * columns + column] { count += 1 }
                counts[r * segments.count + s] = count
            }
        }
        return .chosen(segments: segments, counts: counts)
    }

    /// The smallest run length m (a power of two) such that every run of m inputs of every row holds the same number
    /// of selected weights p with 0 < p < m: the selection is (m − p):m, and the sweep keeps that shape.
    static func nmRunLength(_ mask: [Bool], rows: Int, columns: Int, kernelVolume: Int) -> Int? {
        let inputs = columns / kernelVolume
        var m = 2
        while m <= min(inputs, 128) {
            defer { m *= 2 }
            guard inputs % m == 0 else { continue }
            var common: Int?
            var uniform = true
            scan: for r in 0..<rows {
                for s in 0..<kernelVolume {
                    for start in stride(from: 0, to: inputs, by: m) {
                        var count = 0
                        for j in 0..<m where mask[r * columns + (start + j) * kernelVolume + s] { count += 1 }
                        if common == nil { common = count }
                        if count != common {
                            uniform = false
                            break scan
                        }
                    }
                }
            }
            if uniform, let common, common > 0, common < m { return m }
        }
        return nil
    }

    /// The runs of `length` inputs at each kernel position, as column lists (column = input · kernelVolume + s).
    static func runSegments(columns: Int, kernelVolume: Int, length: Int) -> [[Int]] {
        let inputs = columns / kernelVolume
        var segments: [[Int]] = []
        for start in stride(from: 0, to: inputs, by: length) {
            for s in 0..<kernelVolume { segments.append((0..<length).map { (start + $0) * kernelVolume + s }) }
        }
        return segments
    }

    private static func hessianKey(_ layer: Layer) -> String { "\(layer.input)|\(layer.form)|\(layer.groups)" }
}

/// A layer weight seen as the rows × columns matrix the sweep works on: one row per output, one column per input
/// feature (`(c, kh, kw)` for a Conv, the weight's own order).
struct WeightMatrix {
    let rows: Int
    let columns: Int
    /// Columns per input channel: kh·kw for a Conv, 1 otherwise.
    let kernelVolume: Int
    /// Whether the tensor is stored `[in, out]` (Gemm without `transB`, MatMul), i.e. as the transpose.
    let transposed: Bool

    init(layer: Layer, shape: [Int]) {
        let count = shape.reduce(1, *)
        switch layer.form {
        case .convolution:
            rows = shape[0]
            columns = count / max(1, rows)
            kernelVolume = shape.dropFirst(2).reduce(1, *)
            transposed = false
        case .transposedWeight:
            rows = shape[0]
            columns = count / max(1, rows)
            kernelVolume = 1
            transposed = false
        case .plainWeight:
            rows = shape[1]
            columns = shape[0]
            kernelVolume = 1
            transposed = true
        }
    }

    /// The tensor's values as a row-major rows × columns matrix.
    func rowMajor(_ values: [Float]) -> [Double] {
        guard transposed else { return values.map(Double.init) }
        var matrix = [Double](repeating: 0, count: values.count)
        for f in 0..<columns {
            for o in 0..<rows { matrix[o * columns + f] = Double(values[f * rows + o]) }
        }
        return matrix
    }

    /// The mask in the same row-major rows × columns order.
    func rowMajor(_ mask: Mask) -> [Bool] {
        var matrix = [Bool](repeating: false, count: rows * columns)
        for index in mask.setIndices {
            if transposed {
                let (f, o) = index.quotientAndRemainder(dividingBy: rows)
                matrix[o * columns + f] = true
            } else {
                matrix[index] = true
            }
        }
        return matrix
    }

    /// A row-major matrix back in the tensor's layout.
    func tensorLayout(_ matrix: [Double]) -> [Float] {
        guard transposed else { return matrix.map { Float($0) } }
        var values = [Float](repeating: 0, count: matrix.count)
        for f in 0..<columns {
            for o in 0..<rows { values[f * rows + o] = Float(matrix[o * columns + f]) }
        }
        return values
    }
}
