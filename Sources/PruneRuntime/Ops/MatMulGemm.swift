import PruneCore

/// MatMul (numpy semantics, batched and broadcast) and Gemm, both through `sgemm`.
enum MatMulOps {
    static let factories: [String: KernelFactory] = [
        "MatMul": { _, _ in ClosureKernel(body: matmul) },
        "Gemm": gemm,
    ]

    private static func matmul(_ inputs: [RuntimeTensor?], _ context: KernelContext) throws -> [RuntimeTensor] {
        let a = try context.input(inputs, 0)
        let b = try context.input(inputs, 1)
        try context.require(a, [.f32], "input 0 (A)")
        try context.require(b, [.f32], "input 1 (B)")
        guard !a.shape.isEmpty, !b.shape.isEmpty else { throw context.error(.invalidInput, "MatMul inputs must not be scalars") }
        let aShape = a.shape.count == 1 ? [1, a.shape[0]] : a.shape
        let bShape = b.shape.count == 1 ? [b.shape[0], 1] : b.shape
        let m = aShape[aShape.count - 2]
        let k = aShape[aShape.count - 1]
        let n = bShape[bShape.count - 1]
        guard bShape[bShape.count - 2] == k else {
            throw context.error(.shapeMismatch, "A \(a.shape) and B \(b.shape) have different inner dimensions")
        }
        let aBatch = Array(aShape.dropLast(2))
        let bBatch = Array(bShape.dropLast(2))
        guard let batch = Broadcast.shape([aBatch, bBatch]) else {
            throw context.error(.shapeMismatch, "batch dimensions of A \(a.shape) and B \(b.shape) do not broadcast")
        }
        var outShape = batch + [m, n]
        if a.shape.count == 1 { outShape.remove(at: outShape.count - 2) }
        if b.shape.count == 1 { outShape.removeLast() }
        let out = RuntimeTensor(uninitialized: .f32, shape: outShape)
        let batchCount = batch.reduce(1, *)
        if bBatch.reduce(1, *) == 1 && aBatch == batch {
            // B is one matrix: fold A's batch into its rows, one product, its rows split over our threads.
            BLAS.sgemmSplittingRows(
                threads: context.threads, m: batchCount * m, n: n, k: k, a: a.f32, lda: k, b: b.f32, ldb: n,
                c: out.f32, ldc: n)
            return [out]
        }
        let aStrides = Broadcast.strides(of: aBatch, in: batch)
        let bStrides = Broadcast.strides(of: bBatch, in: batch)
        var offsets = [(a: Int, b: Int)](repeating: (0, 0), count: batchCount)
        for index in 0..<batchCount {
            var rest = index
            for d in Swift.stride(from: batch.count - 1, through: 0, by: -1) {
                let i = rest % batch[d]
                rest /= batch[d]
                offsets[index].a += i * aStrides[d]
                offsets[index].b += i * bStrides[d]
            }
        }
        // Independent products (attention heads): spread over our threads, each a single-threaded BLAS call.
        let (aShared, bShared, cShared) = (
            SharedPointer(UnsafeMutablePointer(mutating: a.f32)), SharedPointer(UnsafeMutablePointer(mutating: b.f32)),
            SharedPointer(out.f32)
        )
        let shared = offsets
        BLAS.forEachProduct(threads: context.threads, count: batchCount, multiplyAdds: m &* n &* k) { index in
            BLAS.sgemm(
                m: m, n: n, k: k, a: aShared.pointer + shared[index].a * m * k, lda: k,
                b: bShared.pointer + shared[index].b * k * n, ldb: n, c: cShared.pointer + index * m * n, ldc: n)
        }
        return [out]
    }

    /// Gemm: `Y = alpha · A' · B' + beta · C`, with C broadcast to `M×N`.
    private static let gemm: KernelFactory = { node, _ in
        let alpha = try node.float("alpha", default: 1)
        let beta = try node.float("beta", default: 1)
        let transA = try node.int("transA", default: 0) != 0
        let transB = try node.int("transB", default: 0) != 0
        return ClosureKernel { inputs, context in
            let a = try context.input(inputs, 0)
            let b = try context.input(inputs, 1)
            try context.require(a, [.f32], "input 0 (A)")
            try context.require(b, [.f32], "input 1 (B)")
            guard a.shape.count == 2, b.shape.count == 2 else {
                throw context.error(.shapeMismatch, "Gemm needs 2-D A and B, got \(a.shape) and \(b.shape)")
            }
            let m = transA ? a.shape[1] : a.shape[0]
            let k = transA ? a.shape[0] : a.shape[1]
            let n = transB ? b.shape[0] : b.shape[1]
            guard (transB ? b.shape[1] : b.shape[0]) == k else {
                throw context.error(.shapeMismatch, "A \(a.shape) and B \(b.shape) have different inner dimensions")
            }
            let out = RuntimeTensor(uninitialized: .f32, shape: [m, n])
            var cBeta: Float = 0
            if inputs.count > 2, let c = inputs[2], beta != 0 {
                try context.require(c, [.f32], "input 2 (C)")
                guard Broadcast.shape([c.shape, [m, n]]) == [m, n] else {
                    throw context.error(.shapeMismatch, "C \(c.shape) does not broadcast to [\(m), \(n)]")
                }
                fillBroadcast(c, into: out)
                cBeta = beta
            }
            BLAS.sgemmSplittingRows(
                threads: context.threads, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a.f32,
                lda: a.shape[1], b: b.f32, ldb: b.shape[1], beta: cBeta, c: out.f32, ldc: n)
            return [out]
        }
    }
}

/// Writes `source` broadcast to `out`'s shape into `out` (float32).
func fillBroadcast(_ source: RuntimeTensor, into out: RuntimeTensor) {
    let (dims, strides) = Broadcast.plan([source.shape], output: out.shape)
    let inner = dims[dims.count - 1]
    let s = strides[0][dims.count - 1]
    let src = source.f32
    let dst = out.f32
    Broadcast.forEachRow(dims: dims, strides: strides, rows: 0..<(out.count / max(inner, 1))) { row, offsets in
        let from = src + offsets[0]
        let to = dst + row * inner
        if s == 1 {
            to.update(from: from, count: inner)
        } else {
            to.update(repeating: from[0], count: inner)
        }
    }
}
