#if canImport(Accelerate)
    import Accelerate
#else
    import CBLAS
#endif

/// OpenBLAS's thread count around the reconstruction's large BLAS and LAPACK calls.
///
/// The interpreter holds OpenBLAS to one thread (it splits products over its own threads), but XᵀX, the Cholesky
/// factorisation and the sweep's block updates are single large calls that OpenBLAS spreads well itself.
enum LibraryThreads {
    /// Runs `body` with OpenBLAS allowed `threads` threads, then puts the previous count back.
    static func with<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        #if canImport(Accelerate)
            return try body()
        #else
            let previous = openblas_get_num_threads()
            guard previous != Int32(threads) else { return try body() }
            openblas_set_num_threads(Int32(threads))
            defer { openblas_set_num_threads(previous) }
            return try body()
        #endif
    }
}
