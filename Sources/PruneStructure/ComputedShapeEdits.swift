import ONNXProto
import PruneCore

/// Lowered entries of Reshape shapes computed in the graph (`Concat([batch, sequence], [heads, head size])`): the
/// constant part holding each changed entry gets new values. Several Reshapes may read one `Concat` (exporters
/// share the shape of Q, K and V); they must ask for the same values.
struct ComputedShapeEdits {
    /// A constant input of a Concat node.
    private struct Part: Hashable {
        var concat: Int
        var position: Int
    }

    private var parts: [Part: (values: [Int64], reader: String)] = [:]

    /// Records the changes of Reshape `node`'s output axes (`count` fewer entries on each `axis`).
    ///
    /// - Throws: `PruneError.Kind.unsupported` naming the node when an entry is not held by a constant part, or two
    ///   Reshapes reading one Concat need different values.
    mutating func lower(_ node: Onnx_NodeProto, _ changes: [(axis: Int, count: Int)], index: GraphIndex) throws {
        var wanted: [Part: [Int64]] = [:]
        for (axis, count) in changes {
            let holder = ShapeArgument.entry(axis, ofReshape: node, inputAxis: nil, index: index)
            if holder == .inputExtent { continue }
            guard case .concatPart(let concat, let position, let offset)? = holder,
                let original = index.int64s(index.graph.node[concat].input[position])
            else {
                throw PruneError(
                    .unsupported,
                    "node '\(node.name)' (Reshape): entry \(axis) of its computed shape '\(node.input[1])' is not a "
                        + "constant and cannot be lowered")
            }
            let part = Part(concat: concat, position: position)
            var values = wanted[part] ?? original
            if values[offset] > 0 { values[offset] -= Int64(count) }
            wanted[part] = values
        }
        for (part, values) in wanted {
            if let earlier = parts[part], earlier.values != values {
                throw PruneError(
                    .unsupported,
                    "node '\(node.name)' (Reshape) and node '\(earlier.reader)' read one computed shape but need "
                        + "different extents (\(values) and \(earlier.values))")
            }
            parts[part] = (values, node.name)
        }
    }

    /// Writes the new values of every recorded part.
    func apply(editor: inout ArgumentEditor, graph: inout Onnx_GraphProto, model: inout Model) throws {
        for (part, edit) in parts.sorted(by: { ($0.key.concat, $0.key.position) < ($1.key.concat, $1.key.position) }) {
            try editor.set(edit.values, input: part.position, of: part.concat, graph: &graph, model: &model)
        }
    }
}
