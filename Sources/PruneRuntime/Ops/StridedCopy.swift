import Foundation

/// Copies a strided view (any element size) into contiguous output: the engine behind Transpose, Slice and Expand.
enum StridedCopy {
    /// Writes the elements at `offset + Σ index[d]·strides[d]` (in elements), for every index of `shape` in
    /// row-major order, to `destination`.
    static func copy(
        from source: UnsafeRawPointer, offset: Int, strides: [Int], shape: [Int], to destination: UnsafeMutableRawPointer,
        elementSize: Int
    ) {
        let count = shape.reduce(1, *)
        if count == 0 { return }
        // Merge dimensions that the source steps through uniformly; drop extent-1 dimensions.
        var dims: [Int] = []
        var steps: [Int] = []
        for d in shape.indices where shape[d] != 1 {
            if let last = steps.last, last == strides[d] * shape[d] {
                dims[dims.count - 1] *= shape[d]
                steps[steps.count - 1] = strides[d]
            } else {
                dims.append(shape[d])
                steps.append(strides[d])
            }
        }
        if dims.isEmpty {
            dims = [1]
            steps = [0]
        }
        let inner = dims[dims.count - 1]
        let step = steps[steps.count - 1]
        let rows = count / inner
        let base = source + offset * elementSize
        Broadcast.forEachRow(dims: dims, strides: [steps], rows: 0..<rows) { row, offsets in
            let from = base + offsets[0] * elementSize
            let to = destination + row * inner * elementSize
            if step == 1 {
                to.copyMemory(from: from, byteCount: inner * elementSize)
            } else {
                switch elementSize {
                case 4: run(UInt32.self, from, step, to, inner)
                case 8: run(UInt64.self, from, step, to, inner)
                case 1: run(UInt8.self, from, step, to, inner)
                default:
                    for i in 0..<inner {
                        (to + i * elementSize).copyMemory(from: from + i * step * elementSize, byteCount: elementSize)
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func run<T>(_: T.Type, _ from: UnsafeRawPointer, _ step: Int, _ to: UnsafeMutableRawPointer, _ n: Int) {
        let s = from.assumingMemoryBound(to: T.self)
        let d = to.assumingMemoryBound(to: T.self)
        for i in 0..<n { d[i] = s[i &* step] }
    }

    /// Row-major element strides of `shape`.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for d in Swift.stride(from: shape.count - 1, through: 0, by: -1) {
            strides[d] = stride
            stride *= shape[d]
        }
        return strides
    }
}
