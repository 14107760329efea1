// CBLAS from OpenBLAS (Debian: libopenblas-dev; pkg-config name `openblas`). Used by PruneRuntime on Linux only;
// Apple platforms use Accelerate instead.
#ifndef PRUNEKIT_CBLAS_SHIM_H
#define PRUNEKIT_CBLAS_SHIM_H
#include <cblas.h>
#endif
