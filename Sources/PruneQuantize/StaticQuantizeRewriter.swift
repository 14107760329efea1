import ONNXProto
import PruneCore
import PruneFormats
import PruneStructure

/// Static int8 quantisation in ONNX's QDQ form: the stage's layer weights as int8 behind DequantizeLinear (as
/// ``QuantizeRewriter`` writes them) and QuantizeLinear → DequantizeLinear pairs on the layers' activations, with
/// ranges measured on the calibration data — the form ONNX Runtime turns into QLinearConv, QLinearMatMul and
/// MatMulIntegerToFloat kernels.
///
/// For each Conv, Gemm and MatMul whose weight is an element target of the stage (with the selection's zeros
/// applied first):
/// - its input 0 gets a pair (uint8, asymmetric: scale = (high − low) / 255, zero point = round(−low / scale)),
///   read by the quantised layers only;
/// - a Conv's or Gemm's output gets a pair too, read by all its readers (ONNX Runtime fuses a Conv only when its
///   output is quantised); a graph output is left as it is;
/// - a 1-D float bias read by that node alone becomes int32 with scale s_x·s_w and no zero point, as QLinearConv
///   expects.
/// MatMul outputs stay float: ONNX Runtime then computes the product in integers and scales back to float in one
/// kernel (MatMulIntegerToFloat).
public struct StaticQuantizeRewriter: Rewriter {
    /// How activation ranges are taken.
    public enum Range: Sendable, Equatable {
        /// Smallest and largest calibration value.
        case minMax
        /// The central p % of calibration values (p in 50…100).
        case percentile(Double)
    }

    /// How activation ranges are taken.
    public var range: Range
    /// One weight scale per output channel (else per tensor).
    public var perChannel: Bool

    /// Creates the rewriter.
    public init(range: Range = .minMax, perChannel: Bool = true) {
        self.range = range
        self.perChannel = perChannel
    }

    /// Ranges come from running the calibration batches.
    public var dataNeeds: DataNeeds { DataNeeds(batches: true) }

    /// The model with the selection applied and the stage's layers quantised, weights and activations.
    public func rewrite(_ model: Model, applying selection: Selection, in context: PruneContext) throws -> RewriteResult {
        guard model.graph is ONNXModelGraph else {
            throw PruneError(.unsupported, "'qdq' writes QuantizeLinear/DequantizeLinear nodes, so it needs an ONNX model")
        }
        guard let batches = context.calibrationBatches else {
            throw PruneError(.invalidInput, "'qdq' takes activation ranges from calibration data; none was given")
        }
        let (names, masks) = try QuantizeRewriter.weights(of: selection, in: model)
        var masked = model
        for (name, mask) in masks { try masked.setTensor(model.parameter(named: name).tensor.zeroing(mask), for: name) }
        let graph = (masked.graph as! ONNXModelGraph).proto
        let weightNames = Set(names)
        let outputs = Set(graph.output.map(\.name))
        var layerNodes: [Int] = []
        var activations = Set<String>()
        var fullyRead = Set<String>()
        for (index, node) in graph.node.enumerated()
        where ["Conv", "Gemm", "MatMul"].contains(node.opType) && node.input.count >= 2 && weightNames.contains(node.input[1])
            && !node.input[0].isEmpty
        {
            layerNodes.append(index)
            activations.insert(node.input[0])
            if node.opType != "MatMul", let output = node.output.first, !outputs.contains(output) {
                activations.insert(output)
                fullyRead.insert(output)
            }
        }
        guard !layerNodes.isEmpty else { return RewriteResult(model: masked) }
        let rule: ActivationRanges.Rule =
            switch range {
            case .minMax: .minMax
            case .percentile(let p): .percentile(p)
            }
        let ranges = try ActivationRanges(
            of: activations, in: masked, batches: batches, rule: rule, threads: context.threads
        ).ranges

        let scheme = try WeightQuantization(bits: 8, groupSize: 0, perTensor: !perChannel)
        var current = masked
        var layers: [LayerReconstruction] = []
        var weightScales: [String: WeightScales] = [:]
        for name in names {
            let parameter = try current.parameter(named: name)
            guard let layout = parameter.effectiveLayout else { continue }
            let values = parameter.tensor.floatValues()
            let scales = WeightScales(values: values, shape: parameter.tensor.shape, layout: layout, scheme: scheme)
            weightScales[name] = scales
            try QuantizedGraphEdits.dequantizeWeight(
                name, levels: scales.levels(of: values), scales: scales, zeroPoint: true, in: &current)
        }
        var activationParameters: [String: ActivationQuantization] = [:]
        for name in activations.sorted() {
            activationParameters[name] = ActivationQuantization(range: ranges[name]!)
        }
        let readerCounts = Self.readerCounts(graph)
        var biases: [(node: Int, bias: String, scales: [Float], axis: Int)] = []
        for index in layerNodes {
            let node = graph.node[index]
            guard node.opType != "MatMul", node.input.count >= 3, let input = activationParameters[node.input[0]],
                let scales = weightScales[node.input[1]], let bias = current[node.input[2]], bias.tensor.dtype == .f32,
                bias.tensor.shape.count == 1, readerCounts[node.input[2]] == 1
            else { continue }
            let perOutput = scales.scales.count == 1 ? [Float](repeating: scales.scales[0], count: bias.tensor.elementCount) : scales.scales
            guard perOutput.count == bias.tensor.elementCount else { continue }
            biases.append((index, node.input[2], perOutput.map { $0 * input.scale }, 0))
        }
        try QuantizedGraphEdits.quantizeActivations(
            activationParameters, layerNodes: Set(layerNodes), fullyRead: fullyRead, added: weightScales.count,
            in: &current)
        for entry in biases { try QuantizedGraphEdits.dequantizeBias(entry.bias, scales: entry.scales, in: &current) }
        for name in names {
            layers.append(
                LayerReconstruction(
                    layer: name, action: .quantized, relativeErrorBefore: nil, relativeErrorAfter: nil, rows: 0,
                    note: "\(scheme.summary), activations uint8 (\(Self.describe(range)))"))
        }
        try RewriteVerification.verify(current, original: model, rewriter: "qdq")
        return RewriteResult(model: current, layers: layers)
    }

    private static func describe(_ range: Range) -> String {
        switch range {
        case .minMax: "min/max ranges"
        case .percentile(let p): "\(p) % percentile ranges"
        }
    }

    /// How many node inputs read each name (subgraphs aside).
    private static func readerCounts(_ graph: Onnx_GraphProto) -> [String: Int] {
        var counts: [String: Int] = [:]
        for node in graph.node { for input in node.input where !input.isEmpty { counts[input, default: 0] += 1 } }
        return counts
    }
}

/// uint8 asymmetric parameters of one activation.
package struct ActivationQuantization {
    package let scale: Float
    package let zeroPoint: UInt8

    /// The parameters for a range containing 0.
    package init(range: (low: Float, high: Float)) {
        let span = range.high - range.low
        scale = span > 0 ? span / 255 : 1
        zeroPoint = UInt8(min(max((-range.low / scale).rounded(.toNearestOrEven), 0), 255))
    }
}
