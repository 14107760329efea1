#if canImport(Accelerate)
    import Accelerate
#else
    import CLAPACK
#endif

/// The LAPACK routines the reconstruction calls, on column-major `Double` matrices, hiding the Fortran ABI (every
/// argument by pointer; on Linux, the hidden lengths of character arguments). Each returns LAPACK's `info`: 0 on
/// success.
enum LAPACK {
    /// Factors the symmetric positive definite `a` (n × n) in place as L·Lᵀ, L in the lower triangle (`dpotrf`).
    static func choleskyLower(_ a: inout [Double], n: Int) -> Int32 {
        var (uplo, size, leading, info) = (CChar(UInt8(ascii: "L")), Int32(n), Int32(max(1, n)), Int32(0))
        #if canImport(Accelerate)
            dpotrf_(&uplo, &size, &a, &leading, &info)
        #else
            dpotrf_(&uplo, &size, &a, &leading, &info, 1)
        #endif
        return info
    }

    /// Overwrites `b` (n × rightHandSides) with (L·Lᵀ)⁻¹·b for the factor from ``choleskyLower(_:n:)`` (`dpotrs`).
    static func solveWithCholeskyLower(_ factor: inout [Double], n: Int, _ b: inout [Double], rightHandSides: Int)
        -> Int32
    {
        var (uplo, size, leading, info) = (CChar(UInt8(ascii: "L")), Int32(n), Int32(max(1, n)), Int32(0))
        var count = Int32(rightHandSides)
        #if canImport(Accelerate)
            dpotrs_(&uplo, &size, &count, &factor, &leading, &b, &leading, &info)
        #else
            dpotrs_(&uplo, &size, &count, factor, &leading, &b, &leading, &info, 1)
        #endif
        return info
    }

    /// Inverts the lower triangular `a` (n × n, non-unit diagonal) in place (`dtrtri`).
    static func invertLowerTriangle(_ a: inout [Double], n: Int) -> Int32 {
        var (uplo, diagonal) = (CChar(UInt8(ascii: "L")), CChar(UInt8(ascii: "N")))
        var (size, leading, info) = (Int32(n), Int32(max(1, n)), Int32(0))
        #if canImport(Accelerate)
            dtrtri_(&uplo, &diagonal, &size, &a, &leading, &info)
        #else
            dtrtri_(&uplo, &diagonal, &size, &a, &leading, &info, 1, 1)
        #endif
        return info
    }
}
