import Foundation
import PruneCore

/// Ops that move elements without arithmetic (any dtype): Transpose, Concat, Split, Slice, Gather.
enum IndexingOps {
    static let factories: [String: KernelFactory] = [
        "Transpose": transpose,
        "Concat": concat,
        "Split": split,
        "Slice": slice,
        "Gather": gather,
    ]

    private static let transpose: KernelFactory = { node, _ in
        let perm = try node.ints("perm")
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let rank = x.shape.count
            let order = perm ?? Array((0..<rank).reversed())
            guard order.count == rank, Set(order) == Set(0..<rank) else {
                throw context.error(.invalidInput, "perm \(order) is not a permutation of \(rank) axes")
            }
            let strides = StridedCopy.contiguousStrides(x.shape)
            let shape = order.map { x.shape[$0] }
            let out = RuntimeTensor(uninitialized: x.dtype, shape: shape)
            StridedCopy.copy(
                from: x.raw, offset: 0, strides: order.map { strides[$0] }, shape: shape, to: out.raw,
                elementSize: x.dtype.byteSize)
            return [out]
        }
    }

    private static let concat: KernelFactory = { node, _ in
        guard let axisAttribute = try node.optionalInt("axis") else { throw node.error(.invalidInput, "attribute axis is missing") }
        return ClosureKernel { inputs, context in
            let parts = try inputs.indices.map { try context.input(inputs, $0) }
            guard let first = parts.first else { throw context.error(.invalidInput, "Concat needs at least one input") }
            let rank = first.shape.count
            let axis = try context.axis(axisAttribute, rank: rank)
            var shape = first.shape
            shape[axis] = 0
            for (i, part) in parts.enumerated() {
                guard part.dtype == first.dtype, part.shape.count == rank,
                    part.shape.indices.allSatisfy({ $0 == axis || part.shape[$0] == first.shape[$0] })
                else {
                    throw context.error(.shapeMismatch, "input \(i) \(part.shape) does not match input 0 \(first.shape) off axis \(axis)")
                }
                shape[axis] += part.shape[axis]
            }
            let out = RuntimeTensor(uninitialized: first.dtype, shape: shape)
            let outer = shape[..<axis].reduce(1, *)
            let inner = shape[(axis + 1)...].reduce(1, *) * first.dtype.byteSize
            let outRow = shape[axis] * inner
            if out.count == 0 { return [out] }  // empty output: no rows to copy, however large `outer` is
            var position = 0
            for part in parts {
                let row = part.shape[axis] * inner
                for o in 0..<(row > 0 ? outer : 0) {
                    (out.raw + o * outRow + position).copyMemory(from: part.raw + o * row, byteCount: row)
                }
                position += row
            }
            return [out]
        }
    }

    private static let split: KernelFactory = { node, opset in
        let axisAttribute = try node.int("axis", default: 0)
        let splitAttribute = try node.ints("split")
        let outputs = node.outputs.count
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            guard !x.shape.isEmpty else { throw context.error(.invalidInput, "input 0 is a scalar; Split needs rank ≥ 1") }
            let axis = try context.axis(axisAttribute, rank: x.shape.count)
            let extent = x.shape[axis]
            var sizes: [Int]
            if let splitAttribute {
                sizes = splitAttribute
            } else if inputs.count > 1, let t = inputs[1] {
                sizes = try context.intList(t, "input 1 (split)")
            } else {
                // Equal parts; from opset 18 the last part may be smaller.
                let part = (extent + outputs - 1) / outputs
                sizes = (0..<outputs).map { min(part, max(0, extent - $0 * part)) }
                if opset < 18, extent % outputs != 0 {
                    throw context.error(.shapeMismatch, "axis extent \(extent) does not split into \(outputs) equal parts")
                }
            }
            guard sizes.count == outputs, sizes.allSatisfy({ (0...extent).contains($0) }), sizes.reduce(0, +) == extent
            else {
                throw context.error(.shapeMismatch, "split \(sizes) does not divide extent \(extent) into \(outputs) outputs")
            }
            let outer = x.shape[..<axis].reduce(1, *)
            let inner = x.shape[(axis + 1)...].reduce(1, *) * x.dtype.byteSize
            var position = 0
            return sizes.map { size in
                var shape = x.shape
                shape[axis] = size
                let out = RuntimeTensor(uninitialized: x.dtype, shape: shape)
                let row = size * inner
                for o in 0..<(row > 0 ? outer : 0) {
                    (out.raw + o * row).copyMemory(from: x.raw + o * extent * inner + position, byteCount: row)
                }
                position += row
                return out
            }
        }
    }

    /// Slice: starts/ends/axes/steps from inputs (opset 10+) or attributes (before 10), clamped per the spec.
    private static let slice: KernelFactory = { node, opset in
        let attributes = opset < 10 ? (try node.ints("starts"), try node.ints("ends"), try node.ints("axes")) : (nil, nil, nil)
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            let rank = x.shape.count
            func list(_ index: Int) throws -> [Int]? {
                guard index < inputs.count, let t = inputs[index] else { return nil }
                return try context.intList(t, "input \(index)")
            }
            let starts: [Int]
            let ends: [Int]
            var axes: [Int]?
            var steps: [Int]?
            if opset < 10 {
                guard let s = attributes.0, let e = attributes.1 else { throw context.error(.invalidInput, "starts and ends are required") }
                (starts, ends, axes) = (s, e, attributes.2)
            } else {
                starts = try list(1) ?? []
                ends = try list(2) ?? []
                axes = try list(3)
                steps = try list(4)
            }
            let axisList = try (axes ?? Array(0..<starts.count)).map { try context.axis($0, rank: rank) }
            let stepList = steps ?? Array(repeating: 1, count: starts.count)
            guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count else {
                throw context.error(.invalidInput, "starts, ends, axes and steps have different lengths")
            }
            var begin = [Int](repeating: 0, count: rank)
            var step = [Int](repeating: 1, count: rank)
            var shape = x.shape
            for (k, axis) in axisList.enumerated() {
                let extent = x.shape[axis]
                let s = stepList[k]
                guard s != 0 else { throw context.error(.invalidInput, "step 0 on axis \(axis)") }
                var first = starts[k] < 0 ? starts[k] + extent : starts[k]
                var last = ends[k] < 0 ? ends[k] + extent : ends[k]
                if s > 0 {
                    first = min(max(first, 0), extent)
                    last = min(max(last, 0), extent)
                    shape[axis] = max(0, (last - first + s - 1) / s)
                } else {
                    first = min(max(first, 0), extent - 1)
                    last = min(max(last, -1), extent - 1)
                    shape[axis] = max(0, (first - last + (-s) - 1) / (-s))
                }
                begin[axis] = first
                step[axis] = s
            }
            let strides = StridedCopy.contiguousStrides(x.shape)
            let out = RuntimeTensor(uninitialized: x.dtype, shape: shape)
            if out.count > 0 {
                let offset = zip(begin, strides).reduce(0) { $0 + $1.0 * $1.1 }
                StridedCopy.copy(
                    from: x.raw, offset: offset, strides: zip(strides, step).map { $0 * $1 }, shape: shape, to: out.raw,
                    elementSize: x.dtype.byteSize)
            }
            return [out]
        }
    }

    private static let gather: KernelFactory = { node, _ in
        let axisAttribute = try node.int("axis", default: 0)
        return ClosureKernel { inputs, context in
            let data = try context.input(inputs, 0)
            let indices = try context.input(inputs, 1)
            let rank = data.shape.count
            guard rank >= 1 else { throw context.error(.invalidInput, "input 0 (data) is a scalar; Gather needs rank ≥ 1") }
            let axis = try context.axis(axisAttribute, rank: rank)
            let positions = try context.intList(indices, "input 1 (indices)")
            let extent = data.shape[axis]
            let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
            let out = RuntimeTensor(uninitialized: data.dtype, shape: shape)
            let outer = data.shape[..<axis].reduce(1, *)
            let inner = data.shape[(axis + 1)...].reduce(1, *) * data.dtype.byteSize
            var resolved = [Int](repeating: 0, count: positions.count)
            for (k, p) in positions.enumerated() {
                let q = p < 0 ? p + extent : p
                guard q >= 0, q < extent else { throw context.error(.invalidInput, "index \(p) is out of range for extent \(extent)") }
                resolved[k] = q
            }
            if out.count == 0 { return [out] }  // empty output: nothing to gather, however large `outer` is
            var destination = out.raw
            for o in 0..<outer {
                let source = data.raw + o * extent * inner
                for q in resolved {
                    destination.copyMemory(from: source + q * inner, byteCount: inner)
                    destination += inner
                }
            }
            return [out]
        }
    }
}
