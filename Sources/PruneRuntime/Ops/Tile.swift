import PruneCore

/// Tile (any dtype): repeats the input `repeats[d]` times along each axis; Size (→ int64 scalar).
enum TileOps {
    static let factories: [String: KernelFactory] = [
        "Tile": { _, _ in ClosureKernel(body: tile) },
        "Size": { _, _ in
            ClosureKernel { inputs, context in [RuntimeTensor(shape: [], int64s: [Int64(try context.input(inputs, 0).count)])] }
        },
    ]

    private static func tile(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let x = try context.input(inputs, 0)
        let repeats = try context.intList(try context.input(inputs, 1), "input 1 (repeats)")
        let rank = x.shape.count
        guard repeats.count == rank, repeats.allSatisfy({ $0 >= 0 }) else {
            throw context.error(.invalidInput, "repeats \(repeats) does not fit rank \(rank) or is negative")
        }
        let shape = try (0..<rank).map { try CheckedSize.multiply(x.shape[$0], repeats[$0], context) }
        let out = try CheckedSize.tensor(x.dtype, shape, context)
        if out.count == 0 { return [out] }
        if rank == 0 {
            out.raw.copyMemory(from: x.raw, byteCount: x.dtype.byteSize)
            return [out]
        }
        let size = x.dtype.byteSize
        let inStrides = StridedCopy.contiguousStrides(x.shape)
        let inner = shape[rank - 1]
        let lastIn = x.shape[rank - 1]
        var index = [Int](repeating: 0, count: rank)
        for row in 0..<(out.count / inner) {
            var rest = row
            var base = 0
            for d in stride(from: rank - 2, through: 0, by: -1) {
                index[d] = rest % shape[d]
                rest /= shape[d]
                base += (index[d] % x.shape[d]) * inStrides[d]
            }
            let destination = out.raw + row * inner * size
            for r in 0..<repeats[rank - 1] {
                (destination + r * lastIn * size).copyMemory(from: x.raw + base * size, byteCount: lastIn * size)
            }
        }
        return [out]
    }
}
