import ONNXOperators
import ONNXProto
import PruneCore

/// Which nodes consume each initializer, and the weight layout the consuming Conv, Gemm and MatMul nodes give it.
///
/// - Gemm, input B: `transB = 1` stores `[out, in]` (output axis 0, input axis 1); `transB = 0` stores `[in, out]`.
/// - MatMul, input 1 of rank r ≥ 2: `[…, in, out]` (input axis r − 2, output axis r − 1).
/// - Conv, input W: `[out, in/group, k…]` (output axis 0, input axis 1), PyTorch's convention.
/// - ConvTranspose, input W: `[in, out/group, k…]` (output axis 1, input axis 0).
///
/// An initializer two such nodes read with different layouts gets none, and a note says so. Nodes in the default
/// domain count, in the main graph and in its subgraphs (If, Loop, Scan bodies).
package struct ONNXWeightLayouts: Sendable {
    /// The layout of each initializer used as a layer weight (by name).
    package var layouts: [String: WeightLayout] = [:]
    /// For each initializer (by name), the nodes that read it, as `name (OpType)`.
    package var consumers: [String: [String]] = [:]
    /// Initializers left without a layout because their uses disagree, with the reason.
    package var conflicts: [String: String] = [:]
    /// Weight inputs of Conv, Gemm and MatMul that a `Constant` node produces, as `value (read by node)`:
    /// PruneKit exposes initializers only, so these are not candidates.
    package var constantWeights: [String] = []

    /// Derives consumers for the initializers named in `ranks` (name → rank) from the nodes of `graph`, and
    /// layouts for those among them that are `floating` (only float tensors are layer weights).
    package init(graph: Onnx_GraphProto, ranks: [String: Int], floating: Set<String>) {
        var proposals: [String: [(node: String, layout: WeightLayout)]] = [:]
        var constants = Set<String>()
        for (index, node) in ONNXWeightLayouts.allNodes(of: graph).enumerated() {
            let label = ONNXWeightLayouts.label(node, index: index)
            for input in Set(node.input) where ranks[input] != nil {
                consumers[input, default: []].append(label)
            }
            guard ONNXWeightLayouts.isDefaultDomain(node.domain) else { continue }
            if node.opType == "Constant" { constants.formUnion(node.output) }
            if ONNXOperators.layers.contains(node.opType), node.input.count > 1,
                constants.contains(node.input[1])
            {
                constantWeights.append("'\(node.input[1])' (read by \(label))")
            }
            guard node.input.count > 1, floating.contains(node.input[1]), let rank = ranks[node.input[1]] else {
                continue
            }
            let weight = node.input[1]
            let layout: WeightLayout?
            switch node.opType {
            case "Gemm" where rank == 2:
                let transposed = node.attribute.first(where: { $0.name == "transB" })?.i ?? 0
                layout =
                    transposed != 0
                    ? WeightLayout(outputAxis: 0, inputAxis: 1) : WeightLayout(outputAxis: 1, inputAxis: 0)
            case "MatMul" where rank >= 2:
                layout = WeightLayout(outputAxis: rank - 1, inputAxis: rank - 2)
            case "Conv" where rank >= 3:
                layout = .pytorch
            case "ConvTranspose" where rank >= 3:
                layout = WeightLayout(outputAxis: 1, inputAxis: 0)
            default:
                layout = nil
            }
            if let layout { proposals[weight, default: []].append((label, layout)) }
        }
        for (name, uses) in proposals {
            guard let first = uses.first else { continue }
            if let other = uses.first(where: { $0.layout != first.layout }) {
                conflicts[name] =
                    "\(first.node) reads it as [out axis \(first.layout.outputAxis), in axis \(first.layout.inputAxis)], "
                    + "\(other.node) as [out axis \(other.layout.outputAxis), in axis \(other.layout.inputAxis)]"
            } else {
                layouts[name] = first.layout
            }
        }
    }

    /// The nodes of `graph` and of its subgraphs (If, Loop and Scan bodies), depth first: a weight an If branch
    /// reads from the main graph gets its layout from the node inside the branch.
    package static func allNodes(of graph: Onnx_GraphProto) -> [Onnx_NodeProto] {
        var nodes: [Onnx_NodeProto] = []
        for node in graph.node {
            nodes.append(node)
            for body in node.subgraphs { nodes += allNodes(of: body) }
        }
        return nodes
    }

    /// Whether `domain` names ONNX's default operator set.
    package static func isDefaultDomain(_ domain: String) -> Bool { domain.isEmpty || domain == "ai.onnx" }

    /// A node's name for messages: its own name, or its position, with the operator.
    package static func label(_ node: Onnx_NodeProto, index: Int) -> String {
        let name = node.name.isEmpty ? "node #\(index)" : node.name
        return "\(name) (\(node.opType))"
    }
}
