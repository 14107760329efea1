// CBLAS from OpenBLAS (Debian: libopenblas-dev; pkg-config name `openblas`). Used by PruneRuntime on Linux only;
// Apple platforms use Accelerate instead.
#ifndef PRUNEKIT_CBLAS_SHIM_H
#define PRUNEKIT_CBLAS_SHIM_H
#include <cblas.h>

/// Stops OpenBLAS's worker threads (exported by OpenBLAS, not declared in its headers; OpenBLAS itself calls it
/// around fork). The next multi-threaded BLAS call starts them again. Until then they cannot busy-wait on the cores
/// the interpreter's own threads need: each spins for about 0.1 s after the library loads and after every
/// multi-threaded call.
int blas_thread_shutdown_(void);
#endif
