import ONNXOperators
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
    /// Shape (of a value with unknown extents), Gather (axis 0, constant indices), Concat, Slice (constant bounds),
    /// Unsqueeze, Squeeze, Identity, Cast, Reshape, integer Add/Sub/Mul/Div/Equal (unknown where an operand is)
    /// and Where (unknown where the condition is, unless both choices agree). Nil when not even the length is known.
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
        case "Slice":
            guard let data = partialValue(node, 0) else { return nil }
            result = sliceList(data, node)
        case "Concat":
            var out: [Int64?] = []
            for position in node.input.indices {
                guard let part = partialValue(node, position) else { return nil }
                out += part
            }
            result = out
        case "Where":
            guard node.input.count == 3, let c = partialValue(node, 0), let x = partialValue(node, 1),
                let y = partialValue(node, 2)
            else { return nil }
            let count = max(c.count, x.count, y.count)
            guard [c.count, x.count, y.count].allSatisfy({ $0 == count || $0 == 1 }) else { return nil }
            result = (0..<count).map { position -> Int64? in
                let (condition, a, b) = (c[c.count == 1 ? 0 : position], x[x.count == 1 ? 0 : position],
                    y[y.count == 1 ? 0 : position])
                guard let condition else { return a == b ? a : nil }
                return condition != 0 ? a : b
            }
        case "Add", "Sub", "Mul", "Div", "Equal":
            guard node.input.count == 2, let a = partialValue(node, 0), let b = partialValue(node, 1),
                a.count == b.count || a.count == 1 || b.count == 1
            else { return nil }
            result = (0..<max(a.count, b.count)).map { position -> Int64? in
                guard let x = a[a.count == 1 ? 0 : position], let y = b[b.count == 1 ? 0 : position] else { return nil }
                switch node.opType {
                case "Add": return x &+ y
                case "Sub": return x &- y
                case "Mul": return x &* y
                case "Equal": return x == y ? 1 : 0
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

    /// The entries of a 1-D list that a Slice with bounds known at load time keeps, in order; nil when the bounds are
    /// not known or the input is not a list.
    func sliceList<Element>(_ list: [Element], _ node: Onnx_NodeProto) -> [Element]? {
        guard shape(node, 0).map({ $0.count <= 1 }) ?? true, let bounds = sliceBounds(node) else { return nil }
        let positions = (0..<Int64(list.count)).map { $0 }
        guard
            let kept = ONNXTensorFolding.slice(
                positions, shape: [list.count], starts: bounds.starts, ends: bounds.ends, axes: bounds.axes,
                steps: bounds.steps)
        else { return nil }
        return kept.map { list[Int($0)] }
    }

    /// Where each entry of `node`'s first output comes from, for the operators that move extents read by `Shape`
    /// around: Shape, Gather (axis 0, constant indices), Slice (constant bounds), Concat, Unsqueeze, Squeeze,
    /// Identity, Cast, Reshape, Flatten. Nil when no entry has a known source.
    func traceSources(_ node: Onnx_NodeProto) -> [DimensionSource?]? {
        guard ONNXWeightLayouts.isDefaultDomain(node.domain), !node.input.isEmpty else { return nil }
        let sources: [DimensionSource?]?
        switch node.opType {
        case "Shape":
            guard let x = shape(node, 0) else { return nil }
            sources = ONNXShapeInference.shapeRange(node, rank: x.count).map { root(of: node.input[0], axis: $0) }
        case "Gather":
            guard (node.intAttribute("axis") ?? 0) == 0, let data = dimensionSources[node.input[0]],
                let indices = value(node, 1)
            else { return nil }
            var picked: [DimensionSource?] = []
            for index in indices {
                let position = index < 0 ? Int(index) + data.count : Int(index)
                guard position >= 0, position < data.count else { return nil }
                picked.append(data[position])
            }
            sources = picked
        case "Unsqueeze", "Squeeze", "Identity", "Cast", "Reshape", "Flatten":
            sources = dimensionSources[node.input[0]]
        case "Slice":
            sources = dimensionSources[node.input[0]].flatMap { sliceList($0, node) }
        case "Concat":
            var out: [DimensionSource?] = []
            for position in node.input.indices {
                let name = node.input[position]
                if let part = dimensionSources[name] {
                    out += part
                } else if let count = values[name]?.count ?? partialValues[name]?.count {
                    out += Array(repeating: nil, count: count)
                } else {
                    return nil
                }
            }
            sources = out
        default:
            return nil
        }
        guard let sources, sources.count <= 64, sources.contains(where: { $0 != nil }) else { return nil }
        return sources
    }

    /// The extent a Reshape infers for its `-1` entry when the input's element count is unknown (a symbolic
    /// sequence length): the unknown entries of the target must be the input's own extents, read by `Shape` (or
    /// copied by a `0` entry), each from a different axis; they cancel, and the input's remaining extents divided by
    /// the target's known entries give the `-1`. `[1, ?, 96] → [1, s, -1, 8]` with `s` read from the input's axis 1
    /// gives 12.
    func inferredExtent(_ node: Onnx_NodeProto, target out: ONNXShape, at inferred: Int, input: ONNXShape) -> Int? {
        guard let raw = partialValue(node, 1), raw.count == out.count else { return nil }
        let sources = dimensionSources[node.input[1]]
        let allowZero = (node.intAttribute("allowzero") ?? 0) != 0
        var cancelled = Set<Int>()
        var known = 1
        for position in out.indices where position != inferred {
            if let extent = out[position] {
                known *= extent
            } else if raw[position] == 0, !allowZero {
                guard position < input.count, cancelled.insert(position).inserted else { return nil }
            } else {
                guard let source = sources?[position],
                    let axis = input.indices.first(where: { root(of: node.input[0], axis: $0) == source }),
                    cancelled.insert(axis).inserted
                else { return nil }
            }
        }
        var rest = 1
        for axis in input.indices where !cancelled.contains(axis) {
            guard let extent = input[axis] else { return nil }
            rest *= extent
        }
        guard known > 0, rest % known == 0 else { return nil }
        return rest / known
    }
}

extension ONNXShapeInference {
    /// The earliest value and axis whose extent provably equals `value`'s extent on `axis` (itself when none is
    /// known): two lists read by `Shape` from the Q and the V part of one `Split` name the same extents.
    func root(of value: String, axis: Int) -> DimensionSource { axisRoots.root(of: value, axis: axis) }

    /// Records the roots of `node`'s outputs' axes for the operators that keep extents: element-wise and
    /// normalising operators, Transpose, Split (the axes it does not split), MatMul by a matrix (all axes but the
    /// last), and broadcasting operators on the axes where every other operand has extent 1 or no axis (a bias
    /// `Add`, a scale `Mul`).
    mutating func recordAxisRoots(_ node: Onnx_NodeProto) {
        guard ONNXWeightLayouts.isDefaultDomain(node.domain), !node.input.isEmpty, let output = node.output.first,
            let rank = shapes[output]?.count
        else { return }
        let op = node.opType
        var roots: [DimensionSource]?
        if ONNXOperators.elementwise.contains(op) || ONNXOperators.shapePreserving.contains(op) {
            guard shapes[node.input[0]]?.count == rank else { return }
            roots = (0..<rank).map { root(of: node.input[0], axis: $0) }
        } else if op == "Transpose" {
            let perm = node.intsAttribute("perm")?.map { Int($0) } ?? Array((0..<rank).reversed())
            guard perm.count == rank, perm.allSatisfy({ $0 >= 0 && $0 < rank }) else { return }
            roots = perm.map { root(of: node.input[0], axis: $0) }
        } else if op == "Split" {
            guard let splitAxis = ONNXShapeInference.axis(node.intAttribute("axis") ?? 0, rank: rank) else { return }
            let kept = (0..<rank).map { root(of: node.input[0], axis: $0) }
            for part in node.output where !part.isEmpty && shapes[part]?.count == rank {
                axisRoots.roots[part] = kept.enumerated().map { $0 == splitAxis ? DimensionSource(value: part, axis: $0) : $1 }
            }
            return
        } else if op == "MatMul", node.input.count == 2, shapes[node.input[1]]?.count == 2,
            shapes[node.input[0]]?.count == rank
        {
            // `[…, m, k] × [k, n]`: every axis but the last is A's.
            roots = (0..<rank).map {
                $0 < rank - 1 ? root(of: node.input[0], axis: $0) : DimensionSource(value: output, axis: $0)
            }
        } else if op == "Slice" {
            // The axes a Slice does not cut keep their extents (Q, K and V sliced out of a fused projection).
            guard shapes[node.input[0]]?.count == rank, let sliced = slicedAxes(node, rank: rank) else { return }
            roots = (0..<rank).map {
                sliced.contains($0) ? DimensionSource(value: output, axis: $0) : root(of: node.input[0], axis: $0)
            }
        } else if op == "Unsqueeze" || op == "Squeeze" {
            roots = squeezedRoots(node, rank: rank)
        } else if op == "Expand" {
            // An axis whose input extent is known and not 1 cannot broadcast: the output keeps it.
            guard let input = shapes[node.input[0]], input.count <= rank else { return }
            let shift = rank - input.count
            roots = (0..<rank).map { axis in
                guard axis >= shift, let extent = input[axis - shift], extent != 1 else {
                    return DimensionSource(value: output, axis: axis)
                }
                return root(of: node.input[0], axis: axis - shift)
            }
        } else if ONNXOperators.broadcasting.contains(op), op != "Where" {
            let operands = node.input.map { shapes[$0] }
            guard operands.allSatisfy({ $0 != nil }) else { return }
            roots = (0..<rank).map { axis in
                for (position, operand) in operands.enumerated() {
                    guard let operand, operand.count == rank else { continue }
                    let others = operands.enumerated().filter { $0.offset != position }.map { $0.element ?? [] }
                    if others.allSatisfy({ other in
                        let aligned = axis - (rank - other.count)
                        return aligned < 0 || other[aligned] == 1
                    }) {
                        return root(of: node.input[position], axis: axis)
                    }
                }
                return DimensionSource(value: output, axis: axis)
            }
        }
        guard let roots, roots.enumerated().contains(where: { $0.element != DimensionSource(value: output, axis: $0.offset) })
        else { return }
        axisRoots.roots[output] = roots
    }
}

extension ONNXShapeInference {
    /// The axes a Slice cuts: its `axes` (attribute before opset 10, else input 3), or the leading ones, one per
    /// start; nil when not known at load time.
    fileprivate func slicedAxes(_ node: Onnx_NodeProto, rank: Int) -> Set<Int>? {
        if let starts = node.intsAttribute("starts") {
            let axes = node.intsAttribute("axes") ?? (0..<Int64(starts.count)).map { $0 }
            return Set(axes.compactMap { ONNXShapeInference.axis($0, rank: rank) })
        }
        if node.input.count > 3, !node.input[3].isEmpty {
            guard let axes = value(node, 3) else { return nil }
            return Set(axes.compactMap { ONNXShapeInference.axis($0, rank: rank) })
        }
        guard let count = partialValue(node, 1)?.count else { return nil }
        return Set(0..<count)
    }

    /// The roots of an Unsqueeze's or Squeeze's output axes: every kept axis is its input axis's, the inserted ones
    /// their own. Nil when the axes are not known at load time.
    fileprivate func squeezedRoots(_ node: Onnx_NodeProto, rank: Int) -> [DimensionSource]? {
        guard let output = node.output.first, let input = shapes[node.input[0]] else { return nil }
        let listed: [Int64]?
        if let attribute = node.intsAttribute("axes") {
            listed = attribute
        } else if node.input.count > 1, !node.input[1].isEmpty {
            guard let given = value(node, 1) else { return nil }
            listed = given
        } else {
            listed = nil
        }
        var inputAxes: [Int?]  // for each output axis, the input axis it keeps
        if node.opType == "Unsqueeze" {
            guard let listed else { return nil }
            let inserted = Set(listed.compactMap { ONNXShapeInference.axis($0, rank: rank) })
            guard inserted.count == listed.count, rank == input.count + inserted.count else { return nil }
            var next = 0
            inputAxes = (0..<rank).map { axis in
                if inserted.contains(axis) { return nil }
                defer { next += 1 }
                return next
            }
        } else {
            let removed =
                listed.map { Set($0.compactMap { ONNXShapeInference.axis($0, rank: input.count) }) }
                ?? Set(input.indices.filter { input[$0] == 1 })
            inputAxes = input.indices.filter { !removed.contains($0) }.map { Optional($0) }
            guard inputAxes.count == rank else { return nil }
        }
        return inputAxes.enumerated().map { axis, kept in
            kept.map { root(of: node.input[0], axis: $0) } ?? DimensionSource(value: output, axis: axis)
        }
    }
}

/// The value and axis whose extent an entry of an integer list holds (the list was built from `Shape`).
package struct DimensionSource: Hashable, Sendable {
    /// The value whose shape was read.
    package var value: String
    /// The axis of `value`.
    package var axis: Int
}

/// Values whose extents provably equal an earlier value's, per axis (see `ONNXShapeInference.axisRoots`).
package struct DimensionRoots: Sendable {
    /// Per value, the root of each axis; values not listed are their own roots.
    package var roots: [String: [DimensionSource]] = [:]

    /// The earliest value and axis whose extent provably equals `value`'s extent on `axis` (itself when none is
    /// known): two lists read by `Shape` from the Q and the V part of one `Split` name the same extents.
    package func root(of value: String, axis: Int) -> DimensionSource {
        if let list = roots[value], axis >= 0, axis < list.count { return list[axis] }
        return DimensionSource(value: value, axis: axis)
    }
}
