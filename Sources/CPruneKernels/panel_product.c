// The panel product: packed filters times 16-column panels, 6 rows × 16 columns of accumulators per step
// (12 of the 16 AVX registers), bias preloaded, Relu and the scatter to image-major order in the store.
#include "CPruneKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define PRK_TARGET __attribute__((target("avx2,fma")))

/// Stores 8 results of row `r` for columns `j..j+7` (of which `valid` exist) in image-major order.
PRK_TARGET __attribute__((always_inline)) static inline void store8(
    __m256 v, int64_t r, int64_t j, int64_t valid, float *out, int64_t per_image, int64_t image_stride) {
    const int64_t image = j / per_image;
    const int64_t position = j - image * per_image;
    if (valid >= 8 && position + 8 <= per_image) {
        _mm256_storeu_ps(out + image * image_stride + r * per_image + position, v);
        return;
    }
    float lanes[8];
    _mm256_storeu_ps(lanes, v);
    for (int64_t l = 0; l < valid && l < 8; l++) {
        const int64_t jj = j + l;
        const int64_t im = jj / per_image;
        out[im * image_stride + r * per_image + (jj - im * per_image)] = lanes[l];
    }
}

/// One block of `rows` (≤ PRK_BLOCK_ROWS, a constant after inlining) filters against one panel.
PRK_TARGET __attribute__((always_inline)) static inline void block(
    int rows, int64_t k, const float *w, const float *panel, const float *bias, int relu, int64_t r0, int64_t j,
    int64_t valid, float *out, int64_t per_image, int64_t image_stride) {
    __m256 lo[PRK_BLOCK_ROWS], hi[PRK_BLOCK_ROWS];
    for (int r = 0; r < PRK_BLOCK_ROWS; r++) {
        if (r < rows) {
            lo[r] = _mm256_set1_ps(bias ? bias[r] : 0.0f);
            hi[r] = lo[r];
        }
    }
    for (int64_t t = 0; t < k; t++) {
        const __m256 b0 = _mm256_loadu_ps(panel + t * PRK_PANEL_COLUMNS);
        const __m256 b1 = _mm256_loadu_ps(panel + t * PRK_PANEL_COLUMNS + 8);
        for (int r = 0; r < PRK_BLOCK_ROWS; r++) {
            if (r < rows) {
                const __m256 a = _mm256_broadcast_ss(w + t * rows + r);
                lo[r] = _mm256_fmadd_ps(a, b0, lo[r]);
                hi[r] = _mm256_fmadd_ps(a, b1, hi[r]);
            }
        }
    }
    const __m256 zero = _mm256_setzero_ps();
    for (int r = 0; r < PRK_BLOCK_ROWS; r++) {
        if (r < rows) {
            // max(0, v) returns v when v is NaN (the second operand), as the Relu kernel does.
            const __m256 a = relu ? _mm256_max_ps(zero, lo[r]) : lo[r];
            const __m256 b = relu ? _mm256_max_ps(zero, hi[r]) : hi[r];
            store8(a, r0 + r, j, valid, out, per_image, image_stride);
            store8(b, r0 + r, j + 8, valid - 8, out, per_image, image_stride);
        }
    }
}

PRK_TARGET void prk_panel_product(
    int64_t m, int64_t k, int64_t columns, const float *packed_w, const float *panels, const float *bias, int relu,
    float *out, int64_t columns_per_image, int64_t image_stride) {
    for (int64_t j = 0; j < columns; j += PRK_PANEL_COLUMNS) {
        const float *panel = panels + (j / PRK_PANEL_COLUMNS) * k * PRK_PANEL_COLUMNS;
        const int64_t valid = columns - j;
        int64_t r0 = 0;
        for (; r0 + PRK_BLOCK_ROWS <= m; r0 += PRK_BLOCK_ROWS) {
            block(PRK_BLOCK_ROWS, k, packed_w + r0 * k, panel, bias ? bias + r0 : 0, relu, r0, j, valid, out,
                columns_per_image, image_stride);
        }
        const float *w = packed_w + r0 * k;
        const float *b = bias ? bias + r0 : 0;
        switch (m - r0) {
        case 1: block(1, k, w, panel, b, relu, r0, j, valid, out, columns_per_image, image_stride); break;
        case 2: block(2, k, w, panel, b, relu, r0, j, valid, out, columns_per_image, image_stride); break;
        case 3: block(3, k, w, panel, b, relu, r0, j, valid, out, columns_per_image, image_stride); break;
        case 4: block(4, k, w, panel, b, relu, r0, j, valid, out, columns_per_image, image_stride); break;
        case 5: block(5, k, w, panel, b, relu, r0, j, valid, out, columns_per_image, image_stride); break;
        default: break;
        }
    }
}

#else

void prk_panel_product(
    int64_t m, int64_t k, int64_t columns, const float *packed_w, const float *panels, const float *bias, int relu,
    float *out, int64_t columns_per_image, int64_t image_stride) {
    (void)m; (void)k; (void)columns; (void)packed_w; (void)panels; (void)bias; (void)relu; (void)out;
    (void)columns_per_image; (void)image_stride;
}

#endif
