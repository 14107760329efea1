import PruneCore

/// GatherElements and ScatterND (any dtype; reduction none, add, mul) and NonZero (→ int64 coordinates).
enum ElementIndexingOps {
    static let factories: [String: KernelFactory] = [
        "GatherElements": { node, _ in
            let axisAttribute = try node.int("axis", default: 0)
            return ClosureKernel { inputs, context in
                let data = try context.input(inputs, 0)
                let indices = try context.input(inputs, 1)
                let positions = try context.intList(indices, "input 1 (indices)")
                let rank = data.shape.count
                let axis = try context.axis(axisAttribute, rank: rank)
                guard indices.shape.count == rank else {
                    throw context.error(.shapeMismatch, "indices \(indices.shape) and data \(data.shape) differ in rank")
                }
                let out = RuntimeTensor(uninitialized: data.dtype, shape: indices.shape)
                let size = data.dtype.byteSize
                let dataStrides = StridedCopy.contiguousStrides(data.shape)
                let n = data.shape[axis]
                for (flat, position) in positions.enumerated() {
                    var rest = flat
                    var offset = 0
                    for d in stride(from: rank - 1, through: 0, by: -1) {
                        let i = rest % indices.shape[d]
                        rest /= indices.shape[d]
                        if d == axis {
                            let p = position < 0 ? position + n : position
                            guard p >= 0, p < n else { throw context.error(.invalidInput, "index \(position) is out of range \(n)") }
                            offset += p * dataStrides[d]
                        } else {
                            guard i < data.shape[d] else { throw context.error(.shapeMismatch, "indices extent exceeds data along axis \(d)") }
                            offset += i * dataStrides[d]
                        }
                    }
                    (out.raw + flat * size).copyMemory(from: data.raw + offset * size, byteCount: size)
                }
                return [out]
            }
        },
        "ScatterND": { node, _ in
            let reduction = try node.string("reduction", default: "none")
            guard ["none", "add", "mul"].contains(reduction) else {
                throw node.error(.unsupported, "reduction '\(reduction)' is not supported (none, add, mul)")
            }
            return ClosureKernel { inputs, context in
                let data = try context.input(inputs, 0)
                let indices = try context.input(inputs, 1)
                let updates = try context.input(inputs, 2)
                let positions = try context.intList(indices, "input 1 (indices)")
                guard updates.dtype == data.dtype, let k = indices.shape.last, k <= data.shape.count else {
                    throw context.error(.invalidInput, "indices \(indices.shape) / updates do not fit data \(data.shape)")
                }
                if reduction != "none" { try context.require(data, [.f32, .i64], "input 0 (data)") }
                let out = RuntimeTensor(uninitialized: data.dtype, shape: data.shape)
                let size = data.dtype.byteSize
                out.raw.copyMemory(from: data.raw, byteCount: data.count * size)
                let strides = StridedCopy.contiguousStrides(data.shape)
                let slice = data.shape[k...].reduce(1, *)
                let count = k == 0 ? 1 : positions.count / k
                guard updates.count == count * slice else {
                    throw context.error(.shapeMismatch, "updates \(updates.shape) do not fit indices \(indices.shape) and data \(data.shape)")
                }
                for u in 0..<count {
                    var offset = 0
                    for d in 0..<k {
                        var p = positions[u * k + d]
                        if p < 0 { p += data.shape[d] }
                        guard p >= 0, p < data.shape[d] else { throw context.error(.invalidInput, "index \(positions[u * k + d]) is out of range") }
                        offset += p * strides[d]
                    }
                    switch (reduction, data.dtype) {
                    case ("add", .f32): for i in 0..<slice { out.f32[offset + i] += updates.f32[u * slice + i] }
                    case ("mul", .f32): for i in 0..<slice { out.f32[offset + i] *= updates.f32[u * slice + i] }
                    case ("add", _): for i in 0..<slice { out.i64[offset + i] &+= updates.i64[u * slice + i] }
                    case ("mul", _): for i in 0..<slice { out.i64[offset + i] &*= updates.i64[u * slice + i] }
                    default:
                        (out.raw + offset * size).copyMemory(from: updates.raw + u * slice * size, byteCount: slice * size)
                    }
                }
                return [out]
            }
        },
        "NonZero": { _, _ in
            ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                let values = x.floatValues()
                let rank = x.shape.count
                let hits = values.indices.filter { values[$0] != 0 }
                let out = RuntimeTensor(uninitialized: .i64, shape: [rank, hits.count])
                for (column, flat) in hits.enumerated() {
                    var rest = flat
                    for d in stride(from: rank - 1, through: 0, by: -1) {
                        out.i64[d * hits.count + column] = Int64(rest % x.shape[d])
                        rest /= x.shape[d]
                    }
                }
                return [out]
            }
        },
    ]
}
