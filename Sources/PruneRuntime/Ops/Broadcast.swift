/// Numpy-style (multidirectional) broadcasting: output shapes and per-input strides.
enum Broadcast {
    /// The broadcast shape of `shapes`, or nil when two extents differ and neither is 1.
    static func shape(_ shapes: [[Int]]) -> [Int]? {
        let rank = shapes.map(\.count).max() ?? 0
        var result = [Int](repeating: 1, count: rank)
        for shape in shapes {
            let offset = rank - shape.count
            for (i, extent) in shape.enumerated() {
                let current = result[offset + i]
                if current == extent || extent == 1 { continue }
                if current == 1 { result[offset + i] = extent } else { return nil }
            }
        }
        return result
    }

    /// Element strides of a tensor of `shape` read as `output` (0 along broadcast dimensions).
    static func strides(of shape: [Int], in output: [Int]) -> [Int] {
        let rank = output.count
        var strides = [Int](repeating: 0, count: rank)
        var stride = 1
        for i in Swift.stride(from: shape.count - 1, through: 0, by: -1) {
            let o = rank - shape.count + i
            strides[o] = shape[i] == 1 ? 0 : stride
            stride *= shape[i]
        }
        return strides
    }

    /// Dimensions and strides of several inputs over `output`, with adjacent dimensions merged where every input
    /// steps through them uniformly, so inner loops run as long as possible.
    static func plan(_ shapes: [[Int]], output: [Int]) -> (dims: [Int], strides: [[Int]]) {
        let all = shapes.map { strides(of: $0, in: output) }
        var dims: [Int] = []
        var merged: [[Int]] = Array(repeating: [], count: shapes.count)
        for d in 0..<output.count where output[d] != 1 {
            if let lastDim = dims.last,
                all.indices.allSatisfy({ k in merged[k].last! == all[k][d] * output[d] })
            {
                dims[dims.count - 1] = lastDim * output[d]
                for k in all.indices { merged[k][merged[k].count - 1] = all[k][d] }
            } else {
                dims.append(output[d])
                for k in all.indices { merged[k].append(all[k][d]) }
            }
        }
        if dims.isEmpty {
            dims = [1]
            merged = Array(repeating: [0], count: shapes.count)
        }
        return (dims, merged)
    }

    /// Calls `body(row, offsets)` for each run of the innermost dimension, with every input's starting offset.
    static func forEachRow(dims: [Int], strides: [[Int]], rows: Range<Int>, _ body: (Int, [Int]) -> Void) {
        let outer = Array(dims.dropLast())
        var offsets = [Int](repeating: 0, count: strides.count)
        for row in rows {
            var rest = row
            for k in offsets.indices { offsets[k] = 0 }
            for d in Swift.stride(from: outer.count - 1, through: 0, by: -1) {
                let index = rest % outer[d]
                rest /= outer[d]
                for k in offsets.indices { offsets[k] &+= index &* strides[k][d] }
            }
            body(row, offsets)
        }
    }
}
