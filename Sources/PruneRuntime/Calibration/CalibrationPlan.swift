import ONNXOperators
import PruneCore

/// Where in a graph the statistics of each layer weight are read: which value feeds its input features and
/// which value holds its output units.
///
/// - Input features: input 0 of the Conv, Gemm or MatMul node that reads the weight as input 1 — channel axis 1
///   for Conv (spatial positions pooled), axis 1 of A for Gemm (axis 0 when `transA = 1`), the last axis for
///   MatMul.
/// - Output units: the layer's output, followed through a single-consumer chain of per-unit affine nodes
///   (BatchNormalization, Add/Sub/Mul/Div with an initializer, Identity, Dropout) and, when one comes next, one
///   ReLU-like activation, whose output is then the one observed. Units run along axis 1 for Conv and Gemm and
///   along the last axis for MatMul.
///
/// A weight read by several such nodes gathers statistics from all of them.
struct CalibrationPlan {
    /// One place an input-feature statistic is taken.
    struct InputTap {
        let weight: String
        /// The value read as the node's input 0.
        let value: String
        /// The axis of the node's input 0 that runs over features (negative counts from the end).
        let featureAxis: Int
        let groups: Int
    }

    /// One place an output-unit statistic is taken.
    struct OutputTap {
        let weight: String
        /// The axis of the observed value that runs over units (negative counts from the end).
        let unitAxis: Int
        let observedOp: String
        let unitCount: Int
    }

    /// Input taps by the layer node's first output name.
    private(set) var inputTaps: [String: [InputTap]] = [:]
    /// Output taps by the observed value's name.
    private(set) var outputTaps: [String: [OutputTap]] = [:]
    /// Values read as input 0 by a layer node with an input tap.
    private(set) var layerInputs: Set<String> = []
    /// Every weight the plan covers.
    private(set) var weights: [String] = []

    /// Operators treated as the ReLU-like activation after a layer.
    static let activations = ONNXOperators.activations.union(["PRelu"])
    /// Per-unit operators looked through between a layer and its activation.
    static let passThrough: Set<String> = ["BatchNormalization", "Identity", "Dropout"]
    /// Binary operators looked through when their other operand is an initializer (a bias or a scale).
    static let constantBinary: Set<String> = ["Add", "Sub", "Mul", "Div"]

    /// Plans statistics for every Conv/Gemm/MatMul weight initializer of `graph` (only those in `only`, when
    /// given).
    init(graph: ONNXGraph, only: Set<String>? = nil) throws {
        var consumers: [String: [GraphNode]] = [:]
        for node in graph.nodes {
            for input in Set(node.inputs) where !input.isEmpty { consumers[input, default: []].append(node) }
        }
        let graphOutputs = Set(graph.outputNames)
        for node in graph.nodes where node.domain.isEmpty || node.domain == "ai.onnx" {
            guard ONNXOperators.layers.subtracting(["ConvTranspose"]).contains(node.opType), node.inputs.count > 1,
                let weightValue = graph.initializers[node.inputs[1]], weightValue.dtype == .f32,
                !node.outputs.isEmpty
            else { continue }
            let weight = node.inputs[1]
            if let only, !only.contains(weight) { continue }
            let rank = weightValue.shape.count
            let featureAxis: Int
            let unitAxis: Int
            let unitCount: Int
            var groups = 1
            switch node.opType {
            case "Conv":
                guard rank >= 3 else { continue }
                featureAxis = 1
                unitAxis = 1
                unitCount = weightValue.shape[0]
                groups = try node.int("group", default: 1)
            case "Gemm":
                guard rank == 2 else { continue }
                featureAxis = try node.int("transA", default: 0) != 0 ? 0 : 1
                unitAxis = 1
                unitCount = weightValue.shape[try node.int("transB", default: 0) != 0 ? 0 : 1]
            default:
                guard rank >= 2 else { continue }
                featureAxis = -1
                unitAxis = -1
                unitCount = weightValue.shape[rank - 1]
            }
            if !weights.contains(weight) { weights.append(weight) }
            inputTaps[node.outputs[0], default: []].append(
                InputTap(weight: weight, value: node.inputs[0], featureAxis: featureAxis, groups: groups))
            layerInputs.insert(node.inputs[0])
            let (value, op) = CalibrationPlan.observedOutput(
                of: node, consumers: consumers, graph: graph, graphOutputs: graphOutputs)
            outputTaps[value, default: []].append(
                OutputTap(weight: weight, unitAxis: unitAxis, observedOp: op, unitCount: unitCount))
        }
    }

    /// Follows a layer's output through per-unit nodes to its activation.
    private static func observedOutput(
        of node: GraphNode, consumers: [String: [GraphNode]], graph: ONNXGraph, graphOutputs: Set<String>
    ) -> (value: String, op: String) {
        var value = node.outputs[0]
        var op = node.opType
        while !graphOutputs.contains(value), let next = consumers[value], next.count == 1, let consumer = next.first,
            !consumer.outputs.isEmpty, consumer.inputs.first == value || constantBinary.contains(consumer.opType)
        {
            if activations.contains(consumer.opType) {
                return (consumer.outputs[0], consumer.opType)
            }
            if passThrough.contains(consumer.opType) {
                guard consumer.inputs.first == value else { break }
            } else if constantBinary.contains(consumer.opType) {
                let others = consumer.inputs.filter { $0 != value }
                guard consumer.inputs.count == 2, others.count == 1, graph.initializers[others[0]] != nil else { break }
            } else {
                break
            }
            value = consumer.outputs[0]
            op = consumer.opType
        }
        return (value, op)
    }
}
