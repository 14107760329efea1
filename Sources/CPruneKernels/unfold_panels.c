// Unfolding of stride-1 "same" convolutions straight into the panel layout the product reads.
#include "CPruneKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2"))) void prk_unfold_shifted_panels(
    const uint32_t *stacked, int64_t stack_stride, int64_t channels, int64_t kernel_size, const int64_t *shifts,
    const uint32_t *masks, int64_t size, int64_t total, float *panels) {
    const int64_t mask_pitch = size + PRK_PANEL_COLUMNS;
    uint32_t *out = (uint32_t *)panels;
    for (int64_t j0 = 0; j0 < total; j0 += PRK_PANEL_COLUMNS) {
        const int64_t phase = j0 % size;
        const int64_t valid = total - j0 < PRK_PANEL_COLUMNS ? total - j0 : PRK_PANEL_COLUMNS;
        for (int64_t c = 0; c < channels; c++) {
            const uint32_t *stack = stacked + c * stack_stride + j0;
            for (int64_t t = 0; t < kernel_size; t++) {
                const uint32_t *src = stack + shifts[t];
                const uint32_t *mask = masks + t * mask_pitch + phase;
                if (valid == PRK_PANEL_COLUMNS) {
                    __m256i a = _mm256_and_si256(
                        _mm256_loadu_si256((const __m256i *)src), _mm256_loadu_si256((const __m256i *)mask));
                    __m256i b = _mm256_and_si256(
                        _mm256_loadu_si256((const __m256i *)(src + 8)), _mm256_loadu_si256((const __m256i *)(mask + 8)));
                    _mm256_storeu_si256((__m256i *)out, a);
                    _mm256_storeu_si256((__m256i *)(out + 8), b);
                } else {
                    for (int64_t l = 0; l < PRK_PANEL_COLUMNS; l++) out[l] = l < valid ? src[l] & mask[l] : 0;
                }
                out += PRK_PANEL_COLUMNS;
            }
        }
    }
}

#else

void prk_unfold_shifted_panels(
    const uint32_t *stacked, int64_t stack_stride, int64_t channels, int64_t kernel_size, const int64_t *shifts,
    const uint32_t *masks, int64_t size, int64_t total, float *panels) {
    (void)stacked; (void)stack_stride; (void)channels; (void)kernel_size; (void)shifts; (void)masks; (void)size;
    (void)total; (void)panels;
}

#endif
