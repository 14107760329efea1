import PruneCore

/// ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceProd, ReduceSumSquare and ReduceL2 over float32, with axes from the attribute or
/// (newer opsets) input 1.
enum ReductionOps {
    enum Kind { case sum, mean, max, min, prod, sumSquare, l2 }

    static let factories: [String: KernelFactory] = [
        "ReduceSum": { node, opset in try reduce(node, .sum, axesAsInput: opset >= 13) },
        "ReduceMean": { node, opset in try reduce(node, .mean, axesAsInput: opset >= 18) },
        "ReduceMax": { node, opset in try reduce(node, .max, axesAsInput: opset >= 18) },
        "ReduceMin": { node, opset in try reduce(node, .min, axesAsInput: opset >= 18) },
        "ReduceProd": { node, opset in try reduce(node, .prod, axesAsInput: opset >= 18) },
        "ReduceSumSquare": { node, opset in try reduce(node, .sumSquare, axesAsInput: opset >= 18) },
        // PyTorch exports `Tensor.norm(dim=…)` and `F.normalize` (sentence-embedding heads) as ReduceL2.
        "ReduceL2": { node, opset in try reduce(node, .l2, axesAsInput: opset >= 18) },
    ]

    private static func reduce(_ node: GraphNode, _ kind: Kind, axesAsInput: Bool) throws -> any Kernel {
        let keepDims = try node.int("keepdims", default: 1) != 0
        let noopWhenEmpty = try node.int("noop_with_empty_axes", default: 0) != 0
        let attributeAxes = axesAsInput ? nil : try node.ints("axes")
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            try context.require(x, [.f32], "input 0")
            let rank = x.shape.count
            var axes = attributeAxes ?? []
            if axesAsInput, inputs.count > 1, let t = inputs[1] { axes = try context.intList(t, "input 1 (axes)") }
            if axes.isEmpty {
                if noopWhenEmpty { return [x] }
                axes = Array(0..<rank)
            }
            let reduced = Set(try axes.map { try context.axis($0, rank: rank) })
            let keptShape = x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element }
            let outShape = keepDims ? keptShape : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
            let out = try context.allocate(.f32, outShape)
            let start: Float = switch kind {
            case .max: -Float.infinity
            case .min: Float.infinity
            case .prod: 1
            default: 0
            }
            out.f32.update(repeating: start, count: out.count)
            if x.count > 0 {
                let (dims, strides) = Broadcast.plan([keptShape], output: x.shape)
                let inner = dims[dims.count - 1]
                let step = strides[0][dims.count - 1]
                let source = x.f32
                let destination = out.f32
                Broadcast.forEachRow(dims: dims, strides: strides, rows: 0..<(x.count / inner)) { row, offsets in
                    accumulate(source + row * inner, destination + offsets[0], inner, step, kind)
                }
            }
            if kind == .mean {
                let divisor = Float(max(1, x.count / max(out.count, 1)))
                for i in 0..<out.count { out.f32[i] /= divisor }
            } else if kind == .l2 {
                for i in 0..<out.count { out.f32[i] = out.f32[i].squareRoot() }
            }
            return [out]
        }
    }

    @inline(__always)
    private static func accumulate(_ s: UnsafeMutablePointer<Float>, _ d: UnsafeMutablePointer<Float>, _ n: Int, _ step: Int, _ kind: Kind) {
        if kind == .min || kind == .prod {
            // Rarely hot; one plain loop for both strides.
            for i in 0..<n {
                let target = d + (step == 0 ? 0 : i)
                target[0] = kind == .min ? Swift.min(target[0], s[i]) : target[0] * s[i]
            }
            return
        }
        if step == 0 {
            if kind == .max {
                var best = d[0]
                for i in 0..<n { best = Swift.max(best, s[i]) }
                d[0] = best
            } else if kind == .sumSquare || kind == .l2 {
                var sum: Float = 0
                for i in 0..<n { sum += s[i] * s[i] }
                d[0] += sum
            } else {
                var sum: Float = 0
                for i in 0..<n { sum += s[i] }
                d[0] += sum
            }
        } else if kind == .max {
            for i in 0..<n { d[i] = Swift.max(d[i], s[i]) }
        } else if kind == .sumSquare || kind == .l2 {
            for i in 0..<n { d[i] += s[i] * s[i] }
        } else {
            for i in 0..<n { d[i] += s[i] }
        }
    }
}
