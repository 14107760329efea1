#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// Single-precision matrix products through BLAS (OpenBLAS on Linux, Accelerate on Apple platforms).
enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices; `op` transposes when asked.
    ///
    /// `A` is `m×k` after `op`, `B` is `k×n` after `op`, `C` is `m×n` with leading dimension `ldc`.
    @inline(__always)
    static func sgemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m {
                for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
            }
            return
        }
        #if !canImport(Accelerate)
            // OpenBLAS splits products above ~2.6e5 multiply-adds (matrix-vector: ~1e4) across its threads; below
            // ~2^20 the hand-off costs more than it saves (32×64×144: 8 µs on one thread, 16 µs on two).
            if m &* n &* k < 1 << 20 {
                let threads = openblas_get_num_threads()
                if threads > 1 {
                    openblas_set_num_threads(1)
                    defer { openblas_set_num_threads(threads) }
                    call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
                    return
                }
            }
        #endif
        call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` with C's rows split into up to `threads`
    /// bands, each a single-threaded BLAS call on its own thread, for products of at least 2^20 multiply-adds.
    ///
    /// OpenBLAS's own threads busy-wait for a while after each threaded call, which starves the next kernel's
    /// worker threads on a machine with as many cores as threads; splitting here keeps OpenBLAS on one thread.
    static func sgemmSplittingRows(
        threads: Int, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let bands = min(threads, m / 8)
        guard bands > 1, k > 0, n > 0, m &* n &* k >= 1 << 20 else {
            sgemm(
                transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                beta: beta, c: c, ldc: ldc)
            return
        }
        #if !canImport(Accelerate)
            let previous = openblas_get_num_threads()
            openblas_set_num_threads(1)
            defer { openblas_set_num_threads(previous) }
        #endif
        let (aShared, bShared, cShared) = (
            SharedPointer(UnsafeMutablePointer(mutating: a)), SharedPointer(UnsafeMutablePointer(mutating: b)),
            SharedPointer(c)
        )
        parallelParts(bands, threads: bands) { band, _ in
            let start = m * band / bands
            let end = m * (band + 1) / bands
            call(
                transA, transB, end - start, n, k, alpha, aShared.pointer + (transA ? start : start * lda), lda,
                bShared.pointer, ldb, beta, cShared.pointer + start * ldc, ldc)
        }
    }

    @inline(__always)
    private static func call(
        _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float, _ a: UnsafePointer<Float>,
        _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int
    ) {
        if m == 1 && !transA {
            // One row: a matrix-vector product; sgemm would pack all of B first (the digits CNN's fc1 at batch 1,
            // 512×64: ~14 µs against ~4 µs). With beta 0, C is cleared first so garbage in it cannot leak in.
            if beta == 0 { c.update(repeating: 0, count: n) }
            cblas_sgemv(
                CblasRowMajor, transB ? CblasNoTrans : CblasTrans, Int32(transB ? n : k), Int32(transB ? k : n), alpha, b,
                Int32(ldb), a, 1, beta, c, 1)
            return
        }
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
