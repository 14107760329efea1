import PruneCore

/// TopK (float32, int64): the `K` largest (or smallest) values along an axis and their int64 indices; ties keep
/// the lower index first, as ONNX Runtime does.
enum TopKOps {
    static let factories: [String: KernelFactory] = [
        "TopK": { node, opset in
            let axisAttribute = try node.int("axis", default: -1)
            let largest = try node.int("largest", default: 1) != 0
            let attributeK = opset < 10 ? try node.optionalInt("k") : nil
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                try context.require(x, [.f32, .i64], "input 0")
                var k = attributeK ?? 0
                if attributeK == nil {
                    let values = try context.intList(try context.input(inputs, 1), "input 1 (K)")
                    guard values.count == 1 else { throw context.error(.invalidInput, "K must have one value") }
                    k = values[0]
                }
                let rank = x.shape.count
                let axis = try context.axis(axisAttribute, rank: rank)
                let n = x.shape[axis]
                guard k >= 0, k <= n else { throw context.error(.invalidInput, "K=\(k) is outside 0...\(n)") }
                var shape = x.shape
                shape[axis] = k
                let values = RuntimeTensor(uninitialized: x.dtype, shape: shape)
                let indices = RuntimeTensor(uninitialized: .i64, shape: shape)
                let outer = x.shape[..<axis].reduce(1, *)
                let inner = x.shape[(axis + 1)...].reduce(1, *)
                if values.count == 0 { return [values, indices] }  // K = 0 or an empty trailing extent
                let all = x.floatValues()
                let integers = x.dtype == .i64 ? x.int64Values() : []
                for o in 0..<outer {
                    for i in 0..<inner {
                        let at = { (j: Int) in (o * n + j) * inner + i }
                        let order = (0..<n).sorted { a, b in
                            if x.dtype == .i64 {
                                let va = integers[at(a)], vb = integers[at(b)]
                                return va == vb ? a < b : (largest ? va > vb : va < vb)
                            }
                            let va = all[at(a)], vb = all[at(b)]
                            return va == vb ? a < b : (largest ? va > vb : va < vb)
                        }
                        for j in 0..<k {
                            let target = (o * k + j) * inner + i
                            indices.i64[target] = Int64(order[j])
                            if x.dtype == .f32 { values.f32[target] = x.f32[at(order[j])] } else { values.i64[target] = x.i64[at(order[j])] }
                        }
                    }
                }
                return [values, indices]
            }
        }
    ]
}
