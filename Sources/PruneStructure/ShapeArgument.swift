import ONNXProto
import PruneCore
import PruneFormats

/// Where one entry of a shape argument (a Reshape's target shape) is held, so a rewrite can lower it: the whole
/// argument is a constant (an INT64 initializer or a Constant node), or it is computed by a `Concat` of parts
/// (`[batch, sequence]` from `Shape`, then constant `[heads, head size]`) and the entry lies in a constant part.
enum ShapeArgument: Equatable {
    /// The whole argument `name` is a constant read by one node.
    case constant(name: String)
    /// Entry `offset` of input `position` of the `Concat` node `concat`, a constant part.
    case concatPart(concat: Int, position: Int, offset: Int)
    /// The entry is read at run time from the extent of the Reshape's own input (`Shape → Slice → Concat`, as
    /// exporters write `x.view(-1, x.size(-1))`): it follows removed units without a rewrite.
    case inputExtent

    /// The holder of entry `entry` of Reshape `node`'s shape argument. An entry read from the extent of the
    /// Reshape's input on `inputAxis` (on any axis when nil) is ``inputExtent``; otherwise as
    /// ``entry(_:of:index:)``.
    static func entry(_ entry: Int, ofReshape node: Onnx_NodeProto, inputAxis: Int?, index: GraphIndex)
        -> ShapeArgument?
    {
        guard node.input.count > 1 else { return nil }
        if let sources = index.dimensionSources[node.input[1]], entry < sources.count, let source = sources[entry],
            let rank = index.rank(node.input[0]),
            (inputAxis.map { [$0] } ?? Array(0..<rank)).contains(where: { index.axisRoots.root(of: node.input[0], axis: $0) == source })
        {
            return .inputExtent
        }
        if let rank = index.rank(node.input[0]),
            scalesInputExtent(entry, ofReshape: node, inputAxes: inputAxis.map { [$0] } ?? Array(0..<rank), index: index)
        {
            return .inputExtent
        }
        return Self.entry(entry, of: node.input[1], index: index)
    }

    /// Whether entry `entry` of Reshape `node`'s computed shape is the extent of the Reshape's input on one of
    /// `inputAxes` times a constant, read by `Shape` (`repeat_kv`'s `Mul(Gather(Shape(k), 1), n_rep)`, merging `n_rep` copies
    /// of each K/V head): it follows removed units without a rewrite.
    private static func scalesInputExtent(
        _ entry: Int, ofReshape node: Onnx_NodeProto, inputAxes: [Int], index: GraphIndex
    ) -> Bool {
        guard let producer = index.producer[node.input[1]], index.graph.node[producer].opType == "Concat" else {
            return false
        }
        let concat = index.graph.node[producer]
        var start = 0
        var part: String?
        for name in concat.input {
            guard let length = index.int64s(name)?.count ?? index.shapes[name].flatMap({ $0.count == 1 ? $0[0] : nil })
            else { return false }
            if entry < start + length {
                guard length == 1 else { return false }
                part = name
                break
            }
            start += length
        }
        var value = part
        while let current = value, let p = index.producer[current] {
            let op = index.graph.node[p]
            switch op.opType {
            case "Unsqueeze", "Squeeze", "Cast", "Identity":
                value = op.input[0]
            case "Mul":
                guard op.input.count == 2 else { return false }
                let targets = Set(inputAxes.map { index.axisRoots.root(of: node.input[0], axis: $0) })
                return op.input.indices.contains { k in
                    let other = op.input[1 - k]
                    guard let factor = index.int64s(other), factor.count == 1, factor[0] > 0,
                        let sources = index.dimensionSources[op.input[k]], sources.count == 1
                    else { return false }
                    return sources[0].map(targets.contains) ?? false
                }
            default:
                return false
            }
        }
        return false
    }

    /// The holder of entry `entry` of the INT64 list `name`, or nil when it is computed at run time.
    static func entry(_ entry: Int, of name: String, index: GraphIndex) -> ShapeArgument? {
        if let producer = index.producer[name], index.graph.node[producer].opType == "Concat",
            index.graph.node[producer].int("axis", 0) == 0
        {
            let concat = index.graph.node[producer]
            var start = 0
            for (position, part) in concat.input.enumerated() {
                let length =
                    index.int64s(part)?.count ?? index.shapes[part].flatMap { $0.count == 1 ? $0[0] : nil }
                guard let length else { return nil }
                if entry < start + length {
                    guard isConstant(part, index: index) else { return nil }
                    return .concatPart(concat: producer, position: position, offset: entry - start)
                }
                start += length
            }
            return nil
        }
        guard isConstant(name, index: index), (index.consumers[name] ?? []).count == 1,
            let values = index.int64s(name), entry < values.count
        else { return nil }
        return .constant(name: name)
    }

    /// Whether `name` is an INT64 initializer or the output of a Constant node.
    private static func isConstant(_ name: String, index: GraphIndex) -> Bool {
        guard index.int64s(name) != nil else { return false }
        if let parameter = index.model[name] { return parameter.tensor.dtype == .i64 }
        guard let producer = index.producer[name] else { return false }
        return index.graph.node[producer].opType == "Constant"
    }
}
