import PruneCore
import PruneFormats
import PruneReconstruct
import PruneStructure

/// Applies a selection and stores the stage's layer weights as integers: int8 per output channel or int4 in
/// groups of input channels, each read back through a DequantizeLinear node (weight-only quantisation).
///
/// The selection's zeros are applied first and stay exact zeros (zero quantises to zero), so a stage that prunes
/// and quantises — or a quantising stage after pruning stages — writes a sparse integer weight. Every element
/// target of the stage that is a float32 layer weight (a Conv, Gemm or MatMul weight) is quantised, whether or not
/// the selector pruned any of it; use `layer:sparsity=0` for quantisation alone.
///
/// `method` chooses how values are rounded: `nearest` rounds each weight on its own; `gptq` runs GPTQ's column sweep
/// on calibration data (``QuantizedReconstruction``), spreading each column's rounding error over the columns not
/// yet quantised — with a selection in the same stage this is SparseGPT's joint sparse + quantised mode. Weights
/// the sweep cannot handle (shared by several nodes, 3-D convolutions) are rounded to nearest and reported.
///
/// On a safetensors model (no graph) the weights are stored in the compressed-tensors layouts instead
/// (`int-quantized` for 8 bits, `pack-quantized` for 4; ``CompressedTensorsQuantization``).
///
/// With `embeddingBits`, the stage also stores every embedding table (an initializer only `Gather` reads, along
/// axis 0) as int8 or int4 per row, dequantising only the gathered rows (``EmbeddingQuantization``), before any
/// GPTQ sweep.
///
/// The result is run through the interpreter before it is returned (``RewriteVerification``); a model it cannot
/// verify is refused.
public struct QuantizeRewriter: Rewriter {
    /// How weights are rounded.
    public enum Method: String, Sendable, CaseIterable {
        /// Each weight to its nearest level.
        case nearest
        /// GPTQ's error-compensating column sweep on calibration data.
        case gptq
    }

    /// Bits and scale groups.
    public var scheme: WeightQuantization
    /// How weights are rounded.
    public var method: Method
    /// GPTQ's damping of H relative to its mean diagonal.
    public var damp: Double
    /// Columns per block of GPTQ's sweep.
    public var blockSize: Int
    /// Bits (8 or 4) per entry of the embedding tables read by Gather, stored per row too; nil leaves them float.
    public var embeddingBits: Int?

    /// Creates the rewriter.
    public init(
        scheme: WeightQuantization, method: Method = .nearest, damp: Double = 0.01, blockSize: Int = 128,
        embeddingBits: Int? = nil
    ) {
        self.scheme = scheme
        self.embeddingBits = embeddingBits
        self.method = method
        self.damp = damp
        self.blockSize = max(1, blockSize)
    }

    /// GPTQ reads calibration batches; rounding to nearest needs nothing.
    public var dataNeeds: DataNeeds { DataNeeds(batches: method == .gptq) }

    /// The model with the selection applied and the stage's layer weights quantised.
    public func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> RewriteResult {
        let (names, masks) = try Self.weights(of: selection, in: model)
        // Without an ONNX graph the weights are stored in compressed-tensors' layouts: refuse what it cannot read
        // before any work.
        let compressedTensors = !(model.graph is ONNXModelGraph)
        if compressedTensors {
            for name in names {
                try CompressedTensorsQuantization.check(
                    name, shape: try model.parameter(named: name).tensor.shape, bits: scheme.bits,
                    groupSize: scheme.groupSize)
            }
        }
        var current = model
        var layers: [LayerReconstruction] = []
        var scales: [String: WeightScales] = [:]
        for name in names {
            let parameter = try model.parameter(named: name)
            guard let layout = parameter.effectiveLayout else { continue }
            var tensor = parameter.tensor
            if let mask = masks[name] { tensor = tensor.zeroing(mask) }
            scales[name] = WeightScales(
                values: tensor.floatValues(), shape: tensor.shape, layout: layout, scheme: scheme)
            // GPTQ removes the selected weights itself, compensating their error in the same sweep.
            if method == .nearest { try current.setTensor(tensor, for: name) }
        }
        if let embeddingBits {
            // First, so that GPTQ's Hessians see the quantised embeddings, as they see earlier quantised layers.
            layers += try EmbeddingQuantization.quantizeTables(bits: embeddingBits, excluding: Set(names), in: &current)
        }
        var swept = Set<String>()
        if method == .gptq {
            guard let batches = context.calibrationBatches else {
                throw PruneError(.invalidInput, "'quantize' with method=gptq needs calibration data")
            }
            var quantizers: [String: ElementQuantizer] = [:]
            for (name, weightScales) in scales {
                quantizers[name] = { index, value in
                    Double(weightScales.value(of: weightScales.level(of: value, at: index), at: index))
                }
            }
            let result = try QuantizedReconstruction(damp: damp, blockSize: blockSize).run(
                model: current, quantizers: quantizers, removed: masks, batches: batches, threads: context.threads)
            current = result.model
            layers = result.layers
            swept = result.swept
        }
        for name in names {
            guard let weightScales = scales[name] else { continue }
            let values = try current.parameter(named: name).tensor.floatValues()
            if compressedTensors {
                try CompressedTensorsQuantization.store(
                    name, levels: weightScales.levels(of: values), scales: weightScales.scales, bits: scheme.bits,
                    groupSize: scheme.groupSize, in: &current)
            } else {
                try QuantizedGraphEdits.dequantizeWeight(
                    name, levels: weightScales.levels(of: values), scales: weightScales, in: &current)
            }
            if !swept.contains(name) {
                let zeros = values.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
                layers.append(
                    LayerReconstruction(
                        layer: name, action: .quantized, relativeErrorBefore: nil, relativeErrorAfter: nil, rows: 0,
                        note: "\(scheme.summary), rounded to nearest"
                            + (method == .gptq ? " (GPTQ cannot sweep this weight)" : "")
                            + (zeros > 0 ? ", \(zeros) of \(values.count) values zero" : "")))
            }
        }
        try RewriteVerification.verify(current, original: model, rewriter: "quantize")
        return RewriteResult(model: current, layers: layers)
    }

    /// The float32 layer weights among the selection's element targets (in selection order) and their masks.
    ///
    /// - Throws: `.unsupported` for a unit selection (remove units in an earlier stage).
    static func weights(of selection: Selection, in model: Model) throws -> (names: [String], masks: [String: Mask]) {
        var names: [String] = []
        var masks: [String: Mask] = [:]
        var seen = Set<String>()
        for entry in selection.entries {
            guard case .elements(let name) = entry.target.kind else {
                throw PruneError(
                    .unsupported,
                    "'quantize' quantises single weights; remove units in an earlier stage (target '\(entry.target.name)')")
            }
            guard let parameter = model[name], parameter.tensor.dtype == .f32, parameter.layout != nil else { continue }
            if seen.insert(name).inserted { names.append(name) }
            if case .prune(let mask) = entry.decision, mask.setCount > 0 {
                masks[name] = masks[name].map { $0.union(mask) } ?? mask
            }
        }
        return (names, masks)
    }
}
