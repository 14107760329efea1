/// Index arithmetic of the shape folding on small integer tensors of any rank (row-major values with a known
/// shape): `Slice` over several axes with any step, and `Transpose` with any permutation.
///
/// PyTorch's TorchScript exporter writes `F.pad` with pads computed at run time as `ConstantOfShape → Concat →
/// Reshape [-1, 2] → Slice (step −1 on axis 0) → Transpose → Reshape [-1] → Cast → Pad` (EfficientNet-Lite's
/// "same" padding, among others); folding it needs both on a 2-D tensor.
enum ONNXTensorFolding {
    /// `data` (row-major, of `shape`) sliced as ONNX `Slice` says: per listed axis, start and end made
    /// non-negative by adding the extent, then clamped (to `[0, extent]` for a positive step, to `[0, extent − 1]`
    /// and `[−1, extent − 1]` for a negative one). Nil when the lists disagree, an axis is out of range or a step
    /// is 0.
    static func slice(
        _ data: [Int64], shape: [Int], starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?
    ) -> [Int64]? {
        let axisList = axes ?? (0..<Int64(starts.count)).map { $0 }
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count,
            shape.reduce(1, *) == data.count
        else { return nil }
        // Per axis: the first index taken, the step and how many are taken (untouched axes: all, step 1).
        var first = Array(repeating: 0, count: shape.count)
        var step = Array(repeating: 1, count: shape.count)
        var count = shape
        var seen = Set<Int>()
        for k in starts.indices {
            guard let axis = ONNXShapeInference.axis(axisList[k], rank: shape.count), seen.insert(axis).inserted,
                stepList[k] != 0, abs(stepList[k]) <= Int64(Int32.max)
            else { return nil }
            let extent = Int64(shape[axis])
            var start = starts[k] < 0 ? starts[k] + extent : starts[k]
            start = stepList[k] > 0 ? min(max(start, 0), extent) : min(max(start, 0), extent - 1)
            first[axis] = Int(start)
            step[axis] = Int(stepList[k])
            count[axis] = ONNXShapeInference.sliceCount(
                start: starts[k], end: ends[k], step: Int(stepList[k]), extent: shape[axis])
        }
        return gatherIndices(data, shape: shape, outShape: count, inputAxisOf: Array(0..<shape.count)) { axis, i in
            first[axis] + i * step[axis]
        }
    }

    /// `data` (row-major, of `shape`) transposed by `perm` (reversed axes when nil), as ONNX `Transpose` says.
    static func transpose(_ data: [Int64], shape: [Int], perm: [Int64]?) -> [Int64]? {
        let order = perm.map { $0.map { Int($0) } } ?? Array((0..<shape.count).reversed())
        guard order.count == shape.count, Set(order) == Set(0..<shape.count), shape.reduce(1, *) == data.count
        else { return nil }
        // Output axis `a` walks input axis `order[a]`.
        return gatherIndices(data, shape: shape, outShape: order.map { shape[$0] }, inputAxisOf: order)
    }

    /// The values of an output of `outShape` (row-major) whose output axis `a` walks input axis `inputAxisOf[a]`:
    /// output index `i` there reads input index `source(a, i)`.
    private static func gatherIndices(
        _ data: [Int64], shape: [Int], outShape: [Int], inputAxisOf: [Int],
        source: (Int, Int) -> Int = { _, i in i }
    ) -> [Int64] {
        let total = outShape.reduce(1, *)
        guard total > 0 else { return [] }
        var strides = Array(repeating: 1, count: shape.count)
        for axis in stride(from: shape.count - 2, through: 0, by: -1) {
            strides[axis] = strides[axis + 1] * shape[axis + 1]
        }
        var index = Array(repeating: 0, count: outShape.count)
        var out: [Int64] = []
        out.reserveCapacity(total)
        for _ in 0..<total {
            var offset = 0
            for a in index.indices { offset += source(a, index[a]) * strides[inputAxisOf[a]] }
            out.append(data[offset])
            var a = index.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < outShape[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return out
    }
}
