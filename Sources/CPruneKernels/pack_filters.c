// Filter packing for the panel product: blocks of PRK_BLOCK_ROWS rows, k-major inside a block.
#include "CPruneKernels.h"

void prk_pack_filters(int64_t m, int64_t k, const float *w, float *packed) {
    for (int64_t m0 = 0; m0 < m; m0 += PRK_BLOCK_ROWS) {
        int64_t rows = m - m0 < PRK_BLOCK_ROWS ? m - m0 : PRK_BLOCK_ROWS;
        float *block = packed + m0 * k;
        for (int64_t t = 0; t < k; t++) {
            for (int64_t r = 0; r < rows; r++) block[t * rows + r] = w[(m0 + r) * k + t];
        }
    }
}
