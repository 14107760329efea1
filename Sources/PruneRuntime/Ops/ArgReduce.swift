import PruneCore

/// ArgMax and ArgMin over float32 or int64 (axis, keepdims, select_last_index) → int64 indices.
enum ArgReduceOps {
    static let factories: [String: KernelFactory] = [
        "ArgMax": { node, _ in try argReduce(node, max: true) },
        "ArgMin": { node, _ in try argReduce(node, max: false) },
    ]

    private static func argReduce(_ node: GraphNode, max: Bool) throws -> any Kernel {
        let axisAttribute = try node.int("axis", default: 0)
        let keepDims = try node.int("keepdims", default: 1) != 0
        let last = try node.int("select_last_index", default: 0) != 0
        return ClosureKernel { inputs, context in
            let x = try context.input(inputs, 0)
            try context.require(x, [.f32, .i64], "input 0")
            let rank = x.shape.count
            let axis = try context.axis(axisAttribute, rank: rank)
            let n = rank == 0 ? 1 : x.shape[axis]
            guard n > 0 else { throw context.error(.invalidInput, "cannot take Arg\(max ? "Max" : "Min") over an empty axis") }
            let outer = rank == 0 ? 1 : x.shape[..<axis].reduce(1, *)
            let inner = rank == 0 ? 1 : x.shape[(axis + 1)...].reduce(1, *)
            var shape = x.shape
            if rank > 0 { if keepDims { shape[axis] = 1 } else { shape.remove(at: axis) } }
            let out = try context.allocate(.i64, shape)
            if out.count == 0 { return [out] }  // [2^40, n, 0]: no line to walk, however many outer rows
            let values = x.dtype == .f32 ? nil : x.i64
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = 0
                    for k in 1..<Swift.max(n, 1) {
                        let at = (o * n + k) * inner + i
                        let current = (o * n + best) * inner + i
                        let better: Bool
                        let equal: Bool
                        if let values {
                            better = max ? values[at] > values[current] : values[at] < values[current]
                            equal = values[at] == values[current]
                        } else {
                            let a = x.f32[at], b = x.f32[current]
                            better = max ? a > b : a < b
                            equal = a == b
                        }
                        if better || (last && equal) { best = k }
                    }
                    out.i64[o * inner + i] = Int64(best)
                }
            }
            return [out]
        }
    }
}
