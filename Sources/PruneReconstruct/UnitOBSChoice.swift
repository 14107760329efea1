#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif
import ONNXProto
import PruneCore
import PruneRuntime

/// Re-chooses which units of each pruned group go, keeping the selection's count, by greedy optimal-brain-surgeon
/// removal on the inputs of the layers that read the units (ZipLM's structured OBS, Kurtic et al. 2023).
///
/// For a consumer layer with input Gram G = XᵀX (the dense model's input on the calibration batches, a ones column
/// for the bias, damped by `damp` · mean diag G) and weights W (one row per input feature, the bias last), removing
/// unit u — input features J — and updating the other rows optimally costs
///
///   ΔL_u = tr(W_Jᵀ [G⁻¹]_JJ⁻¹ W_J)
///
/// of squared output error; the update is W ← W − G⁻¹[:, J]·[G⁻¹]_JJ⁻¹·W_J and G⁻¹ loses J by the same Schur step.
/// The unit with the least ΔL (summed over its consumers) goes first, then the costs are recomputed, until as many
/// units are gone as the selection removes. The ``Work`` re-fit that follows then fits on the pruned model's inputs.
/// A selection's score (energy, magnitude) treats the units as independent; this choice removes first the units the
/// others can stand in for.
///
/// Only groups whose every consumer (a slice along a weight's input axis) is a Gemm or MatMul the least-squares fit
/// handles are re-chosen; others keep the selection (the report row says why).
struct UnitOBSChoice {
    /// The damping of G relative to its mean diagonal.
    let damp: Double
    /// The calibration input marking padded positions, whose rows G leaves out (nil: every row counts).
    var padding: PaddingRows? = nil

    /// `selection` with the pruned units of each unit entry re-chosen, and one report row per entry.
    func rechoose(
        _ selection: Selection, model: Model, graph: Onnx_GraphProto, dense: Interpreter,
        batches: any CalibrationBatches, threads: Int, progress: any ProgressSink
    ) throws -> (Selection, [LayerReconstruction]) {
        let readers = ParameterReaders(graph: graph, model: model)
        var entries: [Selection.Entry] = []
        var rows: [LayerReconstruction] = []
        for (position, entry) in selection.entries.enumerated() {
            progress.update(phase: "choosing units by OBS", completed: position, total: selection.entries.count)
            guard case .prune(let mask) = entry.decision, mask.setCount > 0,
                case .units(let count, let slices) = entry.target.kind
            else {
                entries.append(entry)
                continue
            }
            var consumers: [(layer: Layer, slice: UnitSlice)] = []
            var refusal: String?
            for slice in slices {
                guard let node = graph.node.first(where: { $0.input.count >= 2 && $0.input[1] == slice.parameter }),
                    let layer = try Layer(node: node, model: model, readers: readers)?.absorbingBiasAdd(
                        in: graph, model: model, readers: readers),
                    slice.axis == layer.inputAxis
                else { continue }
                if case .convolution = layer.form {
                    refusal = "consumer '\(layer.name)' is a convolution (only Gemm/MatMul consumers are re-chosen)"
                } else if let problem = layer.problem {
                    refusal = "consumer '\(layer.name)': \(problem)"
                } else if layer.biasIsShared {
                    refusal = "consumer '\(layer.name)' shares its bias"
                }
                consumers.append((layer, slice))
            }
            if consumers.isEmpty { refusal = refusal ?? "no Gemm/MatMul reads the units" }
            if let refusal {
                entries.append(entry)
                var row = LayerReconstruction(
                    layer: entry.target.name, action: .unitChoice, relativeErrorBefore: nil, relativeErrorAfter: nil,
                    rows: 0)
                row.note = "kept the selection: \(refusal)"
                rows.append(row)
                continue
            }
            var problems = try consumers.map {
                try ConsumerProblem(
                    layer: $0.layer, slice: $0.slice, units: count, model: model, dense: dense, batches: batches,
                    damp: damp, padding: padding, threads: threads)
            }
            let selected = (0..<count).filter { mask[$0] }
            let before = try problems.reduce(0) { $0 + (try $1.jointLoss(of: selected)) }
            var alive = [Bool](repeating: true, count: count)
            var total = 0.0
            for _ in 0..<selected.count {
                var best: (unit: Int, loss: Double)?
                for u in 0..<count where alive[u] {
                    var loss = 0.0
                    for problem in problems { loss += try problem.loss(of: u) }
                    if best == nil || loss < best!.loss { best = (u, loss) }
                }
                let unit = best!.unit
                alive[unit] = false
                total += best!.loss
                for index in problems.indices { try problems[index].remove(unit) }
            }
            let chosen = (0..<count).filter { !alive[$0] }
            entries.append(.init(target: entry.target, decision: .prune(Mask(count: count, setting: chosen))))
            let energy = problems.reduce(0) { $0 + $1.outputSquares }
            var row = LayerReconstruction(
                layer: entry.target.name, action: .unitChoice, relativeErrorBefore: before / max(energy, .leastNonzeroMagnitude),
                relativeErrorAfter: total / max(energy, .leastNonzeroMagnitude), rows: problems.first?.rows ?? 0)
            let differing = Set(chosen).subtracting(selected).count
            row.note = "\(differing) of \(selected.count) units differ from the selection"
            rows.append(row)
        }
        return (Selection(entries: entries), rows)
    }
}

/// One consumer of a group's units: its weights and the inverse of its damped input Gram, both updated as units go.
private struct ConsumerProblem {
    let name: String
    /// Rows of W and sides of G: the input features, plus one for the bias.
    let columns: Int
    let outputs: Int
    /// The first input feature of unit 0, and features per unit.
    let offset: Int
    let width: Int
    /// Row-major columns × outputs: row j the weights reading input feature j (the bias last).
    var weights: [Double]
    /// Row-major columns × columns: the inverse of the damped Gram, shrunk as units go.
    var inverse: [Double]
    /// ‖X·W‖² over the calibration rows (undamped): what the relative errors are relative to.
    let outputSquares: Double
    let rows: Int

    init(
        layer: Layer, slice: UnitSlice, units: Int, model: Model, dense: Interpreter, batches: any CalibrationBatches,
        damp: Double, padding: PaddingRows?, threads: Int
    ) throws {
        name = layer.name
        let weight = try model.parameter(named: layer.weight).tensor
        let features = weight.shape[layer.inputAxis]
        outputs = weight.shape[layer.outputAxis]
        let withBias = layer.bias != nil
        columns = features + (withBias ? 1 : 0)
        offset = slice.offset
        width = slice.width
        guard offset + units * width <= features else {
            throw PruneError(
                .shapeMismatch,
                "'reconstruct': units of \(width) from \(offset) do not fit the \(features) inputs of '\(layer.name)'")
        }
        let values = weight.floatValues()
        var transposed = false
        if case .transposedWeight = layer.form { transposed = true }
        var w = [Double](repeating: 0, count: columns * outputs)
        for f in 0..<features {
            for o in 0..<outputs {
                w[f * outputs + o] = Double(transposed ? values[o * features + f] : values[f * outputs + o])
            }
        }
        if let bias = layer.bias {
            let b = try model.parameter(named: bias).tensor.floatValues()
            for o in 0..<outputs { w[features * outputs + o] = Double(b[o]) }
        }
        weights = w
        var gram = Hessian(size: columns)
        for index in 0..<batches.batchCount {
            let x = try RuntimeModel.capture(layer.input, running: dense, batch: index, of: batches)
            let (allRows, all) = try InputRows.rows(layer: layer, x: x, features: features, bias: withBias)
            let real = try padding?.realRows(of: x.shape, batch: index, of: batches)
            let (rowsX, count) = PaddingRows.keeping(real, of: allRows, columns: columns, count: all)
            LibraryThreads.with(threads) { gram.add(rowsX, count: count) }
        }
        rows = gram.rows
        var g = gram.symmetric
        outputSquares = Hessian.outputSquares(of: Self.transposed(w, rows: columns, columns: outputs), rows: outputs, h: g, size: columns)
        let side = columns
        var trace = 0.0
        for j in 0..<side { trace += g[j * side + j] }
        let mean = trace / Double(max(1, side))
        for j in 0..<side { g[j * side + j] += damp * (mean > 0 ? mean : 1) }
        inverse = try Self.inverse(of: g, n: columns, layer: layer.name)
    }

    /// The input features of `unit`.
    func features(of unit: Int) -> Range<Int> { (offset + unit * width)..<(offset + (unit + 1) * width) }

    /// ΔL of removing `unit` alone from the current state.
    func loss(of unit: Int) throws -> Double {
        let j = features(of: unit)
        if width == 1 {
            let d = inverse[j.lowerBound * columns + j.lowerBound]
            guard d > 0 else { return 0 }
            var sum = 0.0
            let base = j.lowerBound * outputs
            for o in 0..<outputs { sum += weights[base + o] * weights[base + o] }
            return sum / d
        }
        return try jointLoss(features: Array(j))
    }

    /// ΔL of removing all `units` at once from the current state: tr(W_Sᵀ [G⁻¹]_SS⁻¹ W_S).
    func jointLoss(of units: [Int]) throws -> Double {
        try jointLoss(features: units.flatMap { Array(features(of: $0)) })
    }

    private func jointLoss(features s: [Int]) throws -> Double {
        let (block, ws) = blockAndWeights(s)
        var factor = block
        var z = ws
        try Self.solve(&factor, &z, n: s.count, outputs: outputs, layer: name)
        var sum = 0.0
        for index in z.indices { sum += z[index] * ws[index] }
        return max(0, sum)
    }

    /// [G⁻¹]_SS column-major and W_S column-major (|S| × outputs).
    private func blockAndWeights(_ s: [Int]) -> ([Double], [Double]) {
        let n = s.count
        var block = [Double](repeating: 0, count: n * n)
        for (a, i) in s.enumerated() { for (b, j) in s.enumerated() { block[a + b * n] = inverse[i * columns + j] } }
        var ws = [Double](repeating: 0, count: n * outputs)
        for (a, i) in s.enumerated() { for o in 0..<outputs { ws[a + o * n] = weights[i * outputs + o] } }
        return (block, ws)
    }

    /// Removes `unit`: the OBS update of the other rows, and the Schur step that drops its features from G⁻¹.
    mutating func remove(_ unit: Int) throws {
        let s = Array(features(of: unit))
        let n = s.count
        let (block, ws) = blockAndWeights(s)
        // Z = [G⁻¹]_SS⁻¹ W_S (n × outputs) and Y = [G⁻¹]_SS⁻¹ [G⁻¹]_S· (n × columns), both column-major.
        var factor = block
        var z = ws
        try Self.solve(&factor, &z, n: n, outputs: outputs, layer: name)
        var rowsS = [Double](repeating: 0, count: n * columns)
        for (a, i) in s.enumerated() { for c in 0..<columns { rowsS[a + c * n] = inverse[i * columns + c] } }
        var y = rowsS
        factor = block
        try Self.solve(&factor, &y, n: n, outputs: columns, layer: name)
        // W −= G⁻¹[:, S]·Z and G⁻¹ −= G⁻¹[:, S]·Y, with G⁻¹[:, S] = (G⁻¹[S, :])ᵀ (symmetric).
        let (cols, outs, nn) = (Int32(columns), Int32(outputs), Int32(n))
        // Column-major n × k arrays read row-major are k × n with leading dimension n: rowsS so reads G⁻¹[:, S]
        // directly, and Z, Y are read transposed.
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cols, outs, nn, -1, rowsS, nn, z, nn, 1, &weights, outs)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cols, cols, nn, -1, rowsS, nn, y, nn, 1, &inverse, cols)
        for i in s {
            for o in 0..<outputs { weights[i * outputs + o] = 0 }
            for c in 0..<columns {
                inverse[i * columns + c] = 0
                inverse[c * columns + i] = 0
            }
        }
    }

    /// Overwrites `b` (n × outputs, column-major) with `a`⁻¹·b for the symmetric positive definite `a` (column-major).
    private static func solve(_ a: inout [Double], _ b: inout [Double], n: Int, outputs: Int, layer: String) throws {
        guard n > 0 else { return }
        var info = LAPACK.choleskyLower(&a, n: n)
        if info == 0 { info = LAPACK.solveWithCholeskyLower(&a, n: n, &b, rightHandSides: outputs) }
        guard info == 0 else {
            throw PruneError(
                .invalidInput,
                "'reconstruct': choosing units by OBS at '\(layer)': a block of the inverse Gram is not positive "
                    + "definite (LAPACK info \(info)); raise damp")
        }
    }

    /// The inverse of the symmetric positive definite `g` (row-major n × n).
    private static func inverse(of g: [Double], n: Int, layer: String) throws -> [Double] {
        var factor = g
        var identity = [Double](repeating: 0, count: n * n)
        for i in 0..<n { identity[i * n + i] = 1 }
        try solve(&factor, &identity, n: n, outputs: n, layer: layer)
        return identity
    }

    private static func transposed(_ m: [Double], rows: Int, columns: Int) -> [Double] {
        var t = [Double](repeating: 0, count: m.count)
        for r in 0..<rows { for c in 0..<columns { t[c * rows + r] = m[r * columns + c] } }
        return t
    }
}
