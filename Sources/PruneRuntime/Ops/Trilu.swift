import PruneCore

/// Trilu (any dtype): keeps the upper (default) or lower triangle of the last two axes, diagonal offset `k`.
enum TriluOps {
    static let factories: [String: KernelFactory] = [
        "Trilu": { node, _ in
            let upper = try node.int("upper", default: 1) != 0
            return ClosureKernel { inputs, context in
                let x = try context.input(inputs, 0)
                var k = 0
                if inputs.count > 1, let t = inputs[1] {
                    let values = try context.intList(t, "input 1 (k)")
                    guard values.count == 1 else { throw context.error(.invalidInput, "k must have one value") }
                    k = values[0]
                }
                guard x.shape.count >= 2 else { throw context.error(.invalidInput, "input has rank \(x.shape.count), needs 2 or more") }
                let rows = x.shape[x.shape.count - 2]
                let columns = x.shape[x.shape.count - 1]
                let out = RuntimeTensor(uninitialized: x.dtype, shape: x.shape)
                let size = x.dtype.byteSize
                out.raw.copyMemory(from: x.raw, byteCount: x.count * size)
                let matrices = rows * columns == 0 ? 0 : x.count / (rows * columns)
                for m in 0..<matrices {
                    for i in 0..<rows {
                        for j in 0..<columns where upper ? (j - i < k) : (j - i > k) {
                            (out.raw + ((m * rows + i) * columns + j) * size).initializeMemory(as: UInt8.self, repeating: 0, count: size)
                        }
                    }
                }
                return [out]
            }
        }
    ]
}
