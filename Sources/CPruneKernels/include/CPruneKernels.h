// Hand-written float kernels for PruneRuntime's convolutions: a register-blocked product of packed filters and
// 16-column panels (AVX2 + FMA, chosen at run time) and the unfolding that writes those panels; and the worker
// pool PruneRuntime's parallel loops run on. Internal to PruneRuntime; on CPUs or platforms without AVX2 and FMA
// `prk_panel_kernels_available` returns 0 and the runtime keeps its BLAS path.
#ifndef PRUNEKIT_CPRUNEKERNELS_H
#define PRUNEKIT_CPRUNEKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Rows of a filter block (the micro-kernel's height) and columns of a panel (its width).
enum { PRK_BLOCK_ROWS = 6, PRK_PANEL_COLUMNS = 16 };

/// 1 when this CPU runs the AVX2 + FMA kernels below, else 0 (then none of them may be called).
int prk_panel_kernels_available(void);

/// Packs the row-major `m × k` matrix `w` into blocks of up to `PRK_BLOCK_ROWS` rows, each stored `k`-major
/// (`[block][k][row in block]`); writes `m·k` floats to `packed`.
void prk_pack_filters(int64_t m, int64_t k, const float *w, float *packed);

/// Unfolds a stride-1 convolution whose output is as large as its input into 16-column panels.
///
/// `stacked` holds `channels` stacks, `stack_stride` floats apart, each the `total` values of consecutive images'
/// planes (`size` values each) with at least `max |shifts|` readable floats before and after. Row
/// `c·kernel_size + t` of column `j` is `stacked[c][j + shifts[t]]` where `masks[t][j mod size]` is all ones and 0
/// otherwise; `masks` has `kernel_size` rows of `size + 16` words (entry `i ≥ size` repeats entry `i mod size`). Column `j`
/// goes to `panels[(j / 16)·rows·16 + row·16 + j mod 16]`, `rows = channels·kernel_size`; columns past `total`
/// in the last panel are zero.
void prk_unfold_shifted_panels(
    const uint32_t *stacked, int64_t stack_stride, int64_t channels, int64_t kernel_size, const int64_t *shifts,
    const uint32_t *masks, int64_t size, int64_t total, float *panels);

/// `out = packed_w · panels + bias` (then `max(0, ·)` with `relu`, NaN kept), `m` rows by `columns` columns,
/// `k` deep, written in image-major order: column `j` of row `r` goes to
/// `out[(j / columns_per_image)·image_stride + r·columns_per_image + j mod columns_per_image]`.
/// `packed_w` comes from `prk_pack_filters`, `panels` from `prk_unfold_shifted_panels`; `bias` may be NULL.
void prk_panel_product(
    int64_t m, int64_t k, int64_t columns, const float *packed_w, const float *panels, const float *bias, int relu,
    float *out, int64_t columns_per_image, int64_t image_stride);

/// A part of a parallel job: `task(context, part, worker)`, where `worker` (0 for the calling thread, 1… for
/// helpers) is below the call's `threads` and never runs two parts at once, so it can index per-thread scratch.
typedef void (*prk_task)(void *context, int64_t part, int64_t worker);

/// Runs `task` for every part in `0..<parts` on the calling thread and up to `threads − 1` pool helpers, which
/// claim parts from a shared counter, and returns when all parts are done. Helpers spin for about 50 µs after a
/// job before sleeping; a helper that has not started by the time the caller runs out of parts is withdrawn
/// (never waited for). When another caller holds the pool (or from inside a part) the parts run inline.
void prk_parallel_run(int64_t parts, int64_t threads, prk_task task, void *context);

#ifdef __cplusplus
}
#endif

#endif
