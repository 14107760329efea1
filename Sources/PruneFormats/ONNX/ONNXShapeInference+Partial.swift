import ONNXProto

/// Folding of shape lists known only in part: a sequence length that is symbolic leaves one entry unknown, but the
/// head count and head size next to it are still constants the structure analysis needs (`[1, ?, 12, 32]`).
extension ONNXShapeInference {
    /// Input `position` of `node` as a list with unknown entries: fully known values, else partly known ones.
    func partialValue(_ node: Onnx_NodeProto, _ position: Int) -> [Int64?]? {
        guard position < node.input.count, !node.input[position].isEmpty else { return nil }
        let name = node.input[position]
        if let known = values[name] { return known.map { Optional($0) } }
        return partialValues[name]
    }

    /// The value of `node`'s first output as a list with unknown entries, for the operators that build shapes:
    /// Shape (of a value with unknown extents), Gather (axis 0, constant indices), Concat, Unsqueeze, Squeeze,
    /// Identity, Cast, Reshape, and integer Add/Sub/Mul/Div (unknown where an operand is). Nil when not even the
    /// length is known.
    func foldPartially(_ node: Onnx_NodeProto) -> [Int64?]? {
        guard ONNXWeightLayouts.isDefaultDomain(node.domain) else { return nil }
        let result: [Int64?]?
        switch node.opType {
        case "Shape":
            guard let x = shape(node, 0) else { return nil }
            result = x[ONNXShapeInference.shapeRange(node, rank: x.count)].map { $0.map { Int64($0) } }
        case "Gather":
            guard (node.intAttribute("axis") ?? 0) == 0, let data = partialValue(node, 0), let indices = value(node, 1)
            else { return nil }
            var picked: [Int64?] = []
            for index in indices {
                let position = index < 0 ? Int(index) + data.count : Int(index)
                guard position >= 0, position < data.count else { return nil }
                picked.append(data[position])
            }
            result = picked
        case "Unsqueeze", "Squeeze", "Identity", "Cast", "Reshape", "Flatten":
            result = partialValue(node, 0)
        case "Concat":
            var out: [Int64?] = []
            for position in node.input.indices {
                guard let part = partialValue(node, position) else { return nil }
                out += part
            }
            result = out
        case "Add", "Sub", "Mul", "Div":
            guard node.input.count == 2, let a = partialValue(node, 0), let b = partialValue(node, 1),
                a.count == b.count || a.count == 1 || b.count == 1
            else { return nil }
            result = (0..<max(a.count, b.count)).map { position -> Int64? in
                guard let x = a[a.count == 1 ? 0 : position], let y = b[b.count == 1 ? 0 : position] else { return nil }
                switch node.opType {
                case "Add": return x &+ y
                case "Sub": return x &- y
                case "Mul": return x &* y
                default:
                    guard y != 0 else { return nil }
                    let (quotient, overflow) = x.dividedReportingOverflow(by: y)
                    return overflow ? nil : quotient
                }
            }
        default:
            return nil
        }
        guard let result, result.count <= 64 else { return nil }
        return result
    }

    /// A Slice whose starts or ends are computed at run time: the sliced axes (from constant `axes`, else the
    /// leading ones) get unknown extents; the others keep theirs.
    func sliceWithUnknownBounds(_ node: Onnx_NodeProto, _ x: ONNXShape) -> ONNXShape? {
        let axes: [Int64]
        if node.input.count > 3, !node.input[3].isEmpty {
            guard let given = value(node, 3) else { return x.map { _ in nil } }
            axes = given
        } else {
            guard let count = partialValue(node, 1)?.count ?? partialValue(node, 2)?.count else {
                return x.map { _ in nil }
            }
            axes = (0..<Int64(count)).map { $0 }
        }
        var out = x
        for axis in axes {
            guard let position = ONNXShapeInference.axis(axis, rank: x.count) else { return nil }
            out[position] = nil
        }
        return out
    }
}
