// Run-time check for the instruction sets the panel kernels are compiled for.
#include "CPruneKernels.h"

int prk_panel_kernels_available(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}
