import ONNXProto
import PruneCore
import PruneFormats
import PruneRuntime
import PruneStructure

/// Applies a selection and updates the surviving weights so that the model reproduces the dense model's layer
/// outputs on calibration data — recovery without training.
///
/// **Unit selections** (group targets, `--granularity unit` on an ONNX model) are removed as ``RemoveRewriter``
/// removes them; then, in graph order, so that every layer sees the already-updated layers before it:
/// - each Conv, Gemm (`transA = 0`, `alpha = beta = 1`) or MatMul whose input was cut or changed is re-fitted: its
///   remaining weights and bias solve min ‖X·W − Y‖² + λ‖W − W₀‖², X its input in the pruned model (im2col rows
///   for a Conv, plus a ones column when it has a bias), Y the dense model's output of the same node at the
///   surviving output units — or, with `residualSums`, when the layer's output (after its bias `Add`) is summed
///   into a residual stream by an `Add`, the dense sum minus the pruned model's stream, so the layer also makes up
///   for the error earlier removals left there — W₀ the surviving weights, λ = `lambda`·mean diag(XᵀX); solved by a Cholesky
///   factorisation of XᵀX + λI (LAPACK `dpotrf`/`dpotrs`). A grouped or depthwise Conv is one such problem per
///   convolution group (the group's output channels on the group's input channels only);
/// - each BatchNormalization downstream of a change gets its running mean and (population) variance re-estimated
///   from its input over the calibration batches, when `reestimateBatchNorm` is set.
///
/// **Element selections** (unstructured, per row, N:M) are applied with SparseGPT's optimal-brain-surgeon sweep:
/// for each selected Conv/Gemm/MatMul weight in graph order, H = XᵀX of its input (im2col rows for a Conv) over the
/// calibration batches, damped by `damp`·mean diag(H); the columns are visited block by block (`blockSize`), each
/// removed weight's error spread over the columns not yet visited through the upper Cholesky factor of H⁻¹ (one
/// `dpotrf` and one `dtrtri`, no dense inverse). With `adaptive` the sweep re-chooses which weights go, keeping the
/// selection's count in every row and block (or in every N:M run, when the selection has that shape); otherwise it
/// keeps the selection's mask. Each layer's H comes from the model pruned so far, or from the dense model with
/// `denseInputs`. Element targets that are not such a weight are masked without an update (and reported). With
/// ``ElementFit/exact`` every row is instead solved exactly on the columns the selection keeps in it.
///
/// **Padding**: token positions the calibration input `padding` marks with 0 (a Hugging Face `attention_mask`,
/// found by name with `auto`) are run through the model but left out of every fit, Gram matrix, Hessian and error
/// whose rows are those positions (``PaddingRows``): the model's outputs never read them.
///
/// **Held-out samples** (`heldOutFraction` of the calibration samples): every step is computed on the others and
/// kept only where it lowers the error on these — a re-fit or sweep must beat the un-updated weights, re-estimated
/// BatchNorm statistics the old ones — and they choose the least-squares and OBS dampings from small grids. The
/// report rows carry the errors on both parts, and the end metric rows say whether the update made the model worse
/// (``RewriteResult/worsened``).
public struct ReconstructRewriter: Rewriter {
    /// The damping relative to the mean diagonal of XᵀX.
    public var lambda: Double
    /// Whether BatchNormalization running statistics are re-estimated downstream of a change.
    public var reestimateBatchNorm: Bool
    /// The OBS sweep's damping of H relative to its mean diagonal (element selections); with held-out samples the
    /// centre of the grid they choose from.
    public var damp: Double
    /// Columns per block of the OBS sweep (element selections).
    public var blockSize: Int
    /// Whether the OBS sweep re-chooses the removed weights within the selection's counts (element selections).
    public var adaptive: Bool
    /// Whether the OBS sweep takes each layer's H from the dense model instead of the model pruned so far.
    public var denseInputs: Bool
    /// The fraction of calibration samples held out: every step (re-fit, sweep, BatchNorm statistics) is computed
    /// on the others and kept only where it lowers the error on these; they also choose the damping of the
    /// least-squares fit. 0 fits on everything and keeps every step.
    public var heldOutFraction: Double
    /// The most samples run through the model at once (calibration files are cut into pieces of this many).
    public var chunk: Int
    /// How element selections are recovered.
    public var elementFit: ElementFit
    /// How a unit selection's units are chosen: as selected, or re-chosen (same count per group) by greedy OBS on
    /// the consumers' inputs (``UnitOBSChoice``).
    public var unitChoice: UnitChoice
    /// Whether a re-fitted layer whose output is summed into a residual stream aims at the dense model's sum (its
    /// target is `sum_dense − stream_pruned`) instead of its own dense output (unit selections).
    public var residualSums: Bool
    /// When the OBS sweep chooses an N:M run's removed weights (element selections with `adaptive`).
    public var runChoice: RunChoice
    /// The calibration input whose zeros mark padded token positions, left out of every fit, Gram matrix and error
    /// (``PaddingRows``): `auto` (the graph input `attention_mask`, when there is one), `none`, or an input's name.
    public var padding: String

    /// How the weights an element selection keeps are updated.
    public enum ElementFit: String, Sendable {
        /// SparseGPT's column sweep (one factorisation per layer; the mask may be re-chosen with `adaptive`).
        case sweep
        /// Every row solved exactly by damped least squares on the columns the selection keeps in it (the mask is
        /// the selection's); rows with the same kept columns share one factorisation.
        case exact
    }

    /// Which units of a unit selection go.
    public enum UnitChoice: String, Sendable {
        /// The selection's units.
        case selected
        /// As many units per group as the selection removes, chosen by greedy OBS: first those whose removal the
        /// remaining units' optimal update compensates best on the calibration data (ZipLM's structured OBS).
        case obs
    }

    /// When an adaptive OBS sweep picks which weights of an N:M run go.
    public enum RunChoice: String, Sendable {
        /// When the sweep reaches the run's first column, after the earlier columns' updates (SparseGPT).
        case column
        /// When the sweep reaches the block holding the run's first column.
        case block
    }

    /// Creates the rewriter.
    ///
    /// - Precondition: `blockSize >= 1`, `chunk >= 1`, `0 <= heldOutFraction < 1`.
    public init(
        lambda: Double = 1e-3, reestimateBatchNorm: Bool = true, damp: Double = 0.01, blockSize: Int = 128,
        adaptive: Bool = true, denseInputs: Bool = false, heldOutFraction: Double = 0.25, chunk: Int = 32,
        elementFit: ElementFit = .sweep, runChoice: RunChoice = .column, residualSums: Bool = true,
        unitChoice: UnitChoice = .selected, padding: String = "auto"
    ) {
        precondition(blockSize >= 1, "the OBS block size must be at least 1")
        precondition(chunk >= 1 && heldOutFraction >= 0 && heldOutFraction < 1)
        self.lambda = lambda
        self.reestimateBatchNorm = reestimateBatchNorm
        self.damp = damp
        self.blockSize = blockSize
        self.adaptive = adaptive
        self.denseInputs = denseInputs
        self.heldOutFraction = heldOutFraction
        self.chunk = chunk
        self.elementFit = elementFit
        self.runChoice = runChoice
        self.residualSums = residualSums
        self.unitChoice = unitChoice
        self.padding = padding
    }

    /// The calibration batches: the rewriter runs them.
    public var dataNeeds: DataNeeds { DataNeeds(batches: true) }

    /// The model with the selected units removed and the affected layers re-fitted.
    ///
    /// - Throws: `PruneError.Kind.invalidInput` without calibration batches or when a damped matrix is not positive
    ///   definite; `.unsupported` for a stage mixing units and elements, or a layer form the structured fit does not
    ///   handle (named); the errors of ``RemoveRewriter``.
    public func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> RewriteResult {
        let (rewritten, layers) = try reconstruct(model, applying: selection, in: context)
        return RewriteResult(model: rewritten, layers: layers)
    }

    /// Like ``rewrite(_:applying:in:)``, also returning what was done to each layer (shown in the stage's report),
    /// followed by one ``LayerReconstruction/Action/modelOutput`` row per float graph output: the end metric.
    public func reconstruct(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> (
        model: Model, layers: [LayerReconstruction]
    ) {
        guard let allBatches = context.calibrationBatches, allBatches.batchCount > 0 else {
            throw PruneError(
                .missingData, "rewriter 'reconstruct' needs calibration data (it re-fits layers on the model's activations)",
                hint: .calibrationBatches)
        }
        let pruning = selection.entries.filter {
            if case .prune(let mask) = $0.decision { return mask.setCount > 0 }
            return false
        }
        guard let first = pruning.first else { return (model, []) }
        let graph = try RuntimeModel.graph(of: model)
        // A graph exported with a fixed batch dimension runs its samples in pieces of that size.
        let split = try CalibrationSplit(
            allBatches, inputs: graph.inputNames, heldOutFraction: heldOutFraction,
            chunk: min(chunk, graph.fixedBatchSize ?? chunk))
        let (batches, heldOut) = (split.fitted, split.heldOut)
        let padding = try PaddingRows.resolve(self.padding, inputs: graph.inputNames)
        if let mixed = pruning.first(where: { $0.target.granularity != first.target.granularity }) {
            throw PruneError(
                .unsupported,
                "'reconstruct': one stage selects both units and elements ('\(first.target.name)', "
                    + "'\(mixed.target.name)'); put them in separate stages")
        }
        if first.target.granularity == .element {
            let (result, layers) = try SparseReconstruction(
                damp: damp, blockSize: blockSize, adaptive: adaptive, denseInputs: denseInputs,
                reestimateBatchNorm: reestimateBatchNorm, exact: elementFit == .exact,
                chooseAtColumn: runChoice == .column, padding: padding
            ).run(
                model: model, selection: selection, batches: batches, heldOut: heldOut, threads: context.threads,
                progress: context.progress)
            var masked = model
            for (name, mask) in SparseReconstruction.elementMasks(of: selection) {
                try masked.setTensor(masked.parameter(named: name).tensor.zeroing(mask), for: name)
            }
            context.progress.update(phase: "comparing outputs with the dense model", completed: 0, total: 1)
            let end = try ModelOutputAgreement.rows(
                dense: model, baseline: masked, result: result, batches: batches, heldOut: heldOut,
                padding: padding, threads: context.threads)
            return (result, layers + end)
        }
        let threads = context.threads
        let dense = try Interpreter(graph: RuntimeModel.graph(of: model), options: .init(threads: threads))
        var selection = selection
        var choices: [LayerReconstruction] = []
        if unitChoice == .obs, let original = model.graph as? ONNXModelGraph {
            (selection, choices) = try UnitOBSChoice(damp: damp, padding: padding).rechoose(
                selection, model: model, graph: original.proto, dense: dense, batches: batches, threads: threads,
                progress: context.progress)
        }
        let removed = try Self.removedIndices(model: model, selection: selection)
        let pruned = try RemoveRewriter().rewrite(model, applying: selection, in: context).model
        guard let onnx = pruned.graph as? ONNXModelGraph else {
            throw PruneError(.unsupported, "'reconstruct' runs the model, so it needs an ONNX model")
        }
        let current = try Interpreter(graph: RuntimeModel.graph(of: pruned), options: .init(threads: threads))
        var work = Work(
            dense: dense, pruned: current, model: pruned, original: model, removed: removed, batches: batches,
            heldOut: heldOut, lambda: lambda, padding: padding)
        var changed = Set<String>()
        var report = choices
        let readers = ParameterReaders(graph: onnx.proto, model: pruned)
        for (position, node) in onnx.proto.node.enumerated() {
            context.progress.update(phase: "reconstructing", completed: position, total: onnx.proto.node.count)
            let inputs = node.input.filter { !$0.isEmpty }
            let inputChanged = inputs.contains { changed.contains($0) }
            if let layer = try Layer(node: node, model: pruned, readers: readers)?.absorbingBiasAdd(
                in: onnx.proto, model: pruned, readers: readers)
            {
                let cut = !(removed[RemovedKey(parameter: layer.weight, axis: layer.inputAxis)] ?? []).isEmpty
                if cut || inputChanged {
                    let residual = residualSums ? layer.residualSum(in: onnx.proto, model: pruned, readers: readers) : nil
                    report.append(try work.refit(layer, residual: residual))
                    changed.formUnion(node.output)
                }
                continue
            }
            if inputChanged {
                if node.opType == "BatchNormalization", reestimateBatchNorm, node.input.count >= 5 {
                    report.append(try work.reestimate(batchNorm: node))
                }
                changed.formUnion(node.output)
            }
        }
        context.progress.update(phase: "comparing outputs with the dense model", completed: 0, total: 1)
        let end = try ModelOutputAgreement.rows(
            dense: model, baseline: pruned, result: work.model, batches: batches, heldOut: heldOut, padding: padding,
            threads: threads)
        return (work.model, report + end)
    }

    /// The indices each selected group removes, per parameter and axis, in the original model's coordinates.
    static func removedIndices(model: Model, selection: Selection) throws -> [RemovedKey: Set<Int>] {
        let analysis = try StructureAnalysis(
            model: model, headDimensions: try StructureAnalysis.selectsHeadDimensions(selection, in: model))
        var removed: [RemovedKey: Set<Int>] = [:]
        for entry in selection.entries {
            guard case .prune(let mask) = entry.decision, mask.setCount > 0,
                let group = analysis.group(named: entry.target.name)
            else { continue }
            for member in group.members {
                for slice in member.slices {
                    let key = RemovedKey(parameter: slice.parameter, axis: slice.axis)
                    for unit in mask.setIndices {
                        let start = slice.offset + unit * slice.width
                        removed[key, default: []].formUnion(start..<(start + slice.width))
                    }
                }
            }
        }
        return removed
    }
}

/// A parameter axis that lost indices.
struct RemovedKey: Hashable {
    let parameter: String
    let axis: Int
}
