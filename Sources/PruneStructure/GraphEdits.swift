import Foundation
import ONNXProto
import PruneCore
import PruneFormats

/// The graph changes that go with removed channels: declared shapes, depthwise `group` attributes, the shape
/// constants of flattening `Reshape`s, Split sizes and Slice starts/ends.
enum GraphEdits {
    /// Applies `plan` to `graph`; shape constants held in initializers are rewritten in `model`. `index` describes
    /// the graph before the rewrite (its shapes are the original ones).
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the node when a shape constant cannot be rewritten;
    ///   `.invalidInput` naming the node when a grouped Conv would keep different channel counts per group.
    static func apply(_ plan: RemovalPlan, to graph: inout Onnx_GraphProto, model: inout Model, index: GraphIndex)
        throws
    {
        var editor = ArgumentEditor(index: index)
        var computedShapes = ComputedShapeEdits()
        for index in graph.valueInfo.indices { shrink(&graph.valueInfo[index], plan) }
        for index in graph.output.indices { shrink(&graph.output[index], plan) }
        for index in graph.input.indices { shrink(&graph.input[index], plan) }
        var constantNodes: [String: Int] = [:]
        for (n, node) in graph.node.enumerated() where node.opType == "Constant" {
            if let output = node.output.first { constantNodes[output] = n }
        }
        for n in graph.node.indices {
            let node = graph.node[n]
            switch node.opType {
            case "Conv":
                try checkGroupedConv(node, plan: plan, index: index)
                let removed = plan.removedCount(value: node.input[0], axis: 1)
                guard removed > 0, let a = node.attribute.firstIndex(where: { $0.name == "group" }),
                    node.attribute[a].i > 1
                else { continue }
                if let weight = index.parameterShape(index.graph.node[n].input[1]), weight[1] > 1 {
                    try checkGroupedConvInputs(node, plan: plan, groups: Int(node.attribute[a].i), perGroup: weight[1])
                } else {
                    graph.node[n].attribute[a].i -= Int64(removed)
                }
            case "Reshape":
                let changes = plan.removedAxes(value: node.output[0])
                guard !changes.isEmpty, node.input.count > 1 else { continue }
                if let producer = index.producer[node.input[1]], index.graph.node[producer].opType == "Concat" {
                    try computedShapes.lower(node, changes, index: index)
                    continue
                }
                try reshape(node, n, changes, position: 1, constantNodes: constantNodes, graph: &graph, model: &model)
            case "Expand":
                try expand(node, n, plan, index: index, editor: &editor, graph: &graph, model: &model)
            case "Resize":
                let changes = plan.removedAxes(value: node.output[0])
                guard !changes.isEmpty, node.input.count > 3, !node.input[3].isEmpty else { continue }
                try reshape(node, n, changes, position: 3, constantNodes: constantNodes, graph: &graph, model: &model)
            case "Split":
                try split(node, n, plan, index: index, editor: &editor, graph: &graph, model: &model)
            case "Slice":
                try slice(node, n, plan, index: index, editor: &editor, graph: &graph, model: &model)
            default:
                continue
            }
        }
        try computedShapes.apply(editor: &editor, graph: &graph, model: &model)
        editor.insertConstants(into: &graph)
    }

    /// Declares the current dims of initializers that the graph also lists as inputs (IR < 4 models do).
    static func declareInitializerInputs(_ graph: inout Onnx_GraphProto, model: Model) {
        for index in graph.input.indices {
            guard let parameter = model[graph.input[index].name], graph.input[index].type.tensorType.hasShape else {
                continue
            }
            var shape = Onnx_TensorShapeProto()
            shape.dim = parameter.tensor.shape.map { extent in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = Int64(extent)
                return dim
            }
            graph.input[index].type.tensorType.shape = shape
        }
    }

    /// Refuses a grouped (not depthwise) Conv whose input loses channels other than the in-group positions its
    /// weight columns lose, in every convolution group (the weight is cut by its group's members, `node` is the
    /// edited node: its weight may be a private copy).
    private static func checkGroupedConvInputs(
        _ node: Onnx_NodeProto, plan: RemovalPlan, groups: Int, perGroup: Int
    ) throws {
        let columns = plan.removed(parameter: node.input[1], axis: 1)
        let removed = plan.removed(value: node.input[0], axis: 1)
        let positions = (0..<groups).map { g in Set(removed.filter { $0 / perGroup == g }.map { $0 - g * perGroup }) }
        guard positions.allSatisfy({ $0 == columns }) else {
            throw PruneError(
                .invalidInput,
                "node '\(node.name)' (Conv): grouped convolution (group=\(groups)) would lose input channels at "
                    + "in-group positions \(positions.map { $0.sorted() }) per group but weight columns "
                    + "\(columns.sorted()); every group must lose the same positions")
        }
    }

    /// Refuses a grouped (not depthwise) Conv whose groups would keep different numbers of output channels.
    private static func checkGroupedConv(_ node: Onnx_NodeProto, plan: RemovalPlan, index: GraphIndex) throws {
        let groups = node.int("group", 1)
        guard groups > 1, node.input.count > 1, let weight = index.parameterShape(node.input[1]), weight[1] > 1 else {
            return
        }
        let removed = plan.removed(parameter: node.input[1], axis: 0)
        guard !removed.isEmpty else { return }
        let perGroup = weight[0] / groups
        let counts = (0..<groups).map { g in removed.filter { $0 / perGroup == g }.count }
        guard Set(counts).count == 1 else {
            throw PruneError(
                .invalidInput,
                "node '\(node.name)' (Conv): grouped convolution (group=\(groups)) would lose \(counts) output "
                    + "channels per group; every group must lose as many (select the same fraction of each group "
                    + "target, e.g. the 'layer' selector)")
        }
    }

    /// Lowers the entries of a constant Expand target that repeat the extent of an axis losing indices (`repeat_kv`'s
    /// `[1, kv, g, s, d]` in a static-shape export); entries 1 (broadcast) stay. A target read at run time by
    /// `Shape` follows by itself.
    private static func expand(
        _ node: Onnx_NodeProto, _ n: Int, _ plan: RemovalPlan, index: GraphIndex, editor: inout ArgumentEditor,
        graph: inout Onnx_GraphProto, model: inout Model
    ) throws {
        let changes = plan.removedAxes(value: node.output[0])
        guard !changes.isEmpty, node.input.count > 1, let target = index.int64s(node.input[1]),
            index.model[node.input[1]] != nil
                || index.producer[node.input[1]].map({ index.graph.node[$0].opType == "Constant" }) == true,
            let rank = index.rank(node.output[0])
        else { return }
        var values = target
        for (axis, count) in changes {
            let entry = axis - (rank - target.count)
            if entry >= 0, values[entry] > 1 { values[entry] -= Int64(count) }
        }
        guard values != target else { return }
        try editor.set(values, input: 1, of: n, graph: &graph, model: &model)
    }

    /// Rewrites the part sizes of a Split whose input loses indices along its axis.
    private static func split(
        _ node: Onnx_NodeProto, _ n: Int, _ plan: RemovalPlan, index: GraphIndex, editor: inout ArgumentEditor,
        graph: inout Onnx_GraphProto, model: inout Model
    ) throws {
        guard let shape = index.shapes[node.input[0]] else { return }
        let raw = node.int("axis", 0)
        let axis = raw < 0 ? raw + shape.count : raw
        let removed = plan.removed(value: node.input[0], axis: axis)
        guard !removed.isEmpty else { return }
        let splitInput = node.input.count > 1 && !node.input[1].isEmpty ? node.input[1] : nil
        guard axis >= 0, axis < shape.count, let extent = shape[axis],
            let sizes = ONNXShapeInference.splitSizes(
                node, extent: extent, splitInput: splitInput.flatMap(index.int64s))
        else { throw PruneError(.unsupported, "node '\(node.name)' (Split): its sizes are not known constants") }
        var start = 0
        let newSizes = sizes.map { size in
            defer { start += size }
            return Int64(size - removed.filter { (start..<(start + size)).contains($0) }.count)
        }
        graph.node[n].attribute.removeAll { $0.name == "num_outputs" }
        if let a = node.attribute.firstIndex(where: { $0.name == "split" }) {
            graph.node[n].attribute[a].ints = newSizes
        } else if splitInput == nil, index.opset < 13 {
            var attribute = Onnx_AttributeProto()
            attribute.name = "split"
            attribute.type = .ints
            attribute.ints = newSizes
            graph.node[n].attribute.append(attribute)
        } else {
            try editor.set(newSizes, input: 1, of: n, graph: &graph, model: &model)
        }
    }

    /// Rewrites the starts and ends of a Slice whose input loses indices along a sliced axis: each becomes the
    /// clamped original bound minus the removed indices below it.
    private static func slice(
        _ node: Onnx_NodeProto, _ n: Int, _ plan: RemovalPlan, index: GraphIndex, editor: inout ArgumentEditor,
        graph: inout Onnx_GraphProto, model: inout Model
    ) throws {
        guard let shape = index.shapes[node.input[0]] else { return }
        guard var spec = SliceSpec(node, index: index, rank: shape.count) else {
            guard plan.removedAxes(value: node.input[0]).isEmpty else {
                throw PruneError(.unsupported, "node '\(node.name)' (Slice): its bounds are not known constants")
            }
            return
        }
        var changed = false
        for k in spec.axes.indices {
            let removed = plan.removed(value: node.input[0], axis: spec.axes[k])
            guard !removed.isEmpty else { continue }
            guard let extent = shape[spec.axes[k]] else {
                throw PruneError(.unsupported, "node '\(node.name)' (Slice): the extent of the sliced axis is unknown")
            }
            let kept = spec.range(k, extent: extent)
            spec.starts[k] = Int64(kept.lowerBound - removed.filter { $0 < kept.lowerBound }.count)
            spec.ends[k] = Int64(kept.upperBound - removed.filter { $0 < kept.upperBound }.count)
            changed = true
        }
        guard changed else { return }
        if let a = node.attribute.firstIndex(where: { $0.name == "starts" }),
            let b = node.attribute.firstIndex(where: { $0.name == "ends" })
        {
            graph.node[n].attribute[a].ints = spec.starts
            graph.node[n].attribute[b].ints = spec.ends
        } else {
            try editor.set(spec.starts, input: 1, of: n, graph: &graph, model: &model)
            try editor.set(spec.ends, input: 2, of: n, graph: &graph, model: &model)
        }
    }

    /// Lowers the declared extent of every axis of `info` that loses indices.
    private static func shrink(_ info: inout Onnx_ValueInfoProto, _ plan: RemovalPlan) {
        guard info.type.tensorType.hasShape else { return }
        for (axis, count) in plan.removedAxes(value: info.name) where axis < info.type.tensorType.shape.dim.count {
            if case .dimValue(let extent)? = info.type.tensorType.shape.dim[axis].value {
                info.type.tensorType.shape.dim[axis].dimValue = extent - Int64(count)
            }
        }
    }

    /// Lowers the extents of the axes in `changes` in the INT64 shape argument at input `position` (a Reshape's
    /// shape, a Resize's sizes), held in an initializer or a Constant node.
    private static func reshape(
        _ node: Onnx_NodeProto, _ n: Int, _ changes: [(axis: Int, count: Int)], position: Int,
        constantNodes: [String: Int], graph: inout Onnx_GraphProto, model: inout Model
    ) throws {
        let name = node.input[position]
        func edited(_ values: [Int64]) throws -> [Int64] {
            var values = values
            for (axis, count) in changes {
                guard axis < values.count else {
                    throw PruneError(
                        .unsupported, "node '\(node.name)' (\(node.opType)): shape '\(name)' has no axis \(axis)")
                }
                if values[axis] > 0 { values[axis] -= Int64(count) }
            }
            return values
        }
        if let parameter = model[name] {
            let values = try edited(parameter.tensor.withInt64Values { Array($0) })
            let bytes = values.withUnsafeBytes { TensorBytes(copying: $0) }
            try model.setTensor(Tensor(dtype: .i64, shape: parameter.tensor.shape, bytes: bytes), for: name)
        } else if let c = constantNodes[name], let a = graph.node[c].attribute.firstIndex(where: { $0.name == "value" })
        {
            var tensor = graph.node[c].attribute[a].t
            let current: [Int64] =
                tensor.rawData.isEmpty
                ? tensor.int64Data
                : tensor.rawData.withUnsafeBytes { raw in
                    (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self) }
                }
            let values = try edited(current)
            tensor.int64Data = []
            tensor.rawData = values.withUnsafeBytes { Data($0) }
            graph.node[c].attribute[a].t = tensor
        } else {
            throw PruneError(
                .unsupported,
                "node '\(node.name)' (\(node.opType)): shape '\(name)' is computed and cannot be rewritten")
        }
    }
}

/// Writes new INT64 argument values for a node input: in place when an initializer or Constant node holds them for
/// this node alone, else through a new Constant node inserted before the node.
struct ArgumentEditor {
    let index: GraphIndex
    private var insertions: [(before: Int, node: Onnx_NodeProto)] = []

    init(index: GraphIndex) { self.index = index }

    /// Sets input `position` of node `n` to `values`.
    mutating func set(
        _ values: [Int64], input position: Int, of n: Int, graph: inout Onnx_GraphProto, model: inout Model
    ) throws {
        let node = graph.node[n]
        let name = position < node.input.count ? node.input[position] : ""
        let exclusive = !name.isEmpty && (index.consumers[name] ?? []).count == 1
        if exclusive, let parameter = model[name], parameter.tensor.dtype == .i64 {
            let bytes = values.withUnsafeBytes { TensorBytes(copying: $0) }
            try model.setTensor(Tensor(dtype: .i64, shape: [values.count], bytes: bytes), for: name)
            return
        }
        if exclusive, let producer = index.producer[name], graph.node[producer].opType == "Constant",
            let a = graph.node[producer].attribute.firstIndex(where: { $0.name == "value" })
        {
            graph.node[producer].attribute[a].t = Self.tensor(values, name: "")
            return
        }
        let output = "\(node.name.isEmpty ? node.opType : node.name)_input\(position)_pruned"
        var constant = Onnx_NodeProto()
        constant.opType = "Constant"
        constant.name = output
        constant.output = [output]
        var attribute = Onnx_AttributeProto()
        attribute.name = "value"
        attribute.type = .tensor
        attribute.t = Self.tensor(values, name: "")
        constant.attribute = [attribute]
        insertions.append((n, constant))
        while graph.node[n].input.count <= position { graph.node[n].input.append("") }
        graph.node[n].input[position] = output
    }

    /// Inserts the Constant nodes `set` created, each before the node that reads it.
    func insertConstants(into graph: inout Onnx_GraphProto) {
        for (before, node) in insertions.sorted(by: { $0.before > $1.before }) { graph.node.insert(node, at: before) }
    }

    private static func tensor(_ values: [Int64], name: String) -> Onnx_TensorProto {
        var tensor = Onnx_TensorProto()
        tensor.name = name
        tensor.dataType = 7
        tensor.dims = [Int64(values.count)]
        tensor.rawData = values.withUnsafeBytes { Data($0) }
        return tensor
    }
}
