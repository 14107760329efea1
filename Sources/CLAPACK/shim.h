// The LAPACK routines PruneReconstruct calls. OpenBLAS (Debian: libopenblas-dev) exports them, but Debian's
// openblas headers (cblas.h, f77blas.h) do not declare them, so they are declared here with the Fortran ABI:
// every argument by pointer, 32-bit integers (the non-INTERFACE64 build), and the hidden length of each
// character argument last.
#ifndef PRUNEKIT_CLAPACK_SHIM_H
#define PRUNEKIT_CLAPACK_SHIM_H
#include <stddef.h>

/// Cholesky factorisation of a symmetric positive definite matrix (column-major).
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_length);
/// Solves A·X = B with the factor from dpotrf_.
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda, double *b,
             const int *ldb, int *info, size_t uplo_length);
/// Inverse of a triangular matrix, in place (column-major).
void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info,
             size_t uplo_length, size_t diag_length);
#endif
