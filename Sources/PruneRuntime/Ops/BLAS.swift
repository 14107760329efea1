#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// Single-precision matrix products through BLAS (OpenBLAS on Linux, Accelerate on Apple platforms).
enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C` for row-major matrices; `op` transposes when asked.
    ///
    /// `A` is `m×k` after `op`, `B` is `k×n` after `op`, `C` is `m×n` with leading dimension `ldc`. Runs on the
    /// calling thread: the interpreter holds OpenBLAS to one thread (``holdLibraryToOneThread()``).
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
        call(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// ``sgemm(transA:transB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` with C's rows split into up to `threads`
    /// bands, each a single-threaded BLAS call on its own thread, for products of at least 2^20 multiply-adds.
    ///
    /// OpenBLAS's own threads busy-wait for a while after each threaded call, which starves the next kernel's
    /// worker threads on a machine with as many cores as threads; so the interpreter keeps OpenBLAS on one thread
    /// and splits here.
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

    /// Holds OpenBLAS to one thread for the whole interpreter, and stops its worker threads.
    ///
    /// The interpreter spreads every large product over its own threads (``sgemmSplittingRows``,
    /// ``forEachProduct``), each a single-threaded BLAS call, so OpenBLAS's workers have nothing to do. But they
    /// busy-wait for about 0.1 s after the library loads and after each multi-threaded call, and on a 2-core machine
    /// one of them then takes the core our second thread needs (the digits CNN at batch 256 on two threads took
    /// 2.5 ms instead of 1.3 ms in about a third of short runs). So the thread count is set to 1 here — and only
    /// *changed* when it is not 1, because OpenBLAS restarts its workers whenever the count is set after they were
    /// stopped — and the workers are stopped (`blas_thread_shutdown_`, which OpenBLAS calls around fork). Code
    /// outside the interpreter that wants OpenBLAS's threads (the reconstruction's `dsyrk`/`dpotrf`) raises the
    /// count around its own calls and puts it back.
    static func holdLibraryToOneThread() {
        #if !canImport(Accelerate)
            if openblas_get_num_threads() != 1 { openblas_set_num_threads(1) }
            _ = libraryThreadsStopped
        #endif
    }

    #if !canImport(Accelerate)
        private static let libraryThreadsStopped: Void = { _ = blas_thread_shutdown_() }()
    #endif

    /// Runs `product(i)` for i in 0..<count — independent products of `multiplyAdds` each, such as attention
    /// heads — spread over up to `threads` of our threads, each a single-threaded BLAS call, when there is enough work
    /// (2^20 multiply-adds in all); otherwise in order on the calling thread.
    static func forEachProduct(
        threads: Int, count: Int, multiplyAdds: Int, _ product: @Sendable (Int) -> Void
    ) {
        let parts = min(threads, count)
        guard parts > 1, count &* multiplyAdds >= 1 << 20 else {
            for index in 0..<count { product(index) }
            return
        }
        parallelParts(parts, threads: parts) { part, _ in
            for index in (count * part / parts)..<(count * (part + 1) / parts) { product(index) }
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
