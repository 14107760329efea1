/*
 * FPGM — filter pruning via geometric median (He et al., CVPR 2019), as a PruneKit plugin.
 *
 * A unit's score is the sum of its distances to every other unit of the same layer. Units near the layer's
 * geometric median (small sums) are the ones the others can best stand in for, so they are pruned first.
 * For element targets every element gets the score of the unit (output channel) it belongs to.
 *
 * Depends on prune_plugin.h only. Build by hand with:
 *     cc -shared -fPIC -O2 -I Sources/CPrunePlugin/include -o libfpgm.so Plugins/FPGM/fpgm.c -lm
 */
#include <math.h>
#include <string.h>

#include "prune_plugin.h"

/* The Minkowski distance of order p (p = INFINITY: the largest coordinate difference). */
static double distance(const float *a, const float *b, int64_t n, double p) {
    double total = 0;
    if (isinf(p)) {
        for (int64_t i = 0; i < n; i++) {
            double d = fabs((double)a[i] - (double)b[i]);
            if (d > total) total = d;
        }
        return total;
    }
    if (p == 2) {
        for (int64_t i = 0; i < n; i++) {
            double d = (double)a[i] - (double)b[i];
            total += d * d;
        }
        return sqrt(total);
    }
    for (int64_t i = 0; i < n; i++) total += pow(fabs((double)a[i] - (double)b[i]), p);
    return p == 1 ? total : pow(total, 1 / p);
}

/* The scorer: prune_status fpgm_score(prune_score_request *, double p)  —  signature "p:f64[1..inf]=2".
 * O(units^2 * unit_dim) time, O(units) extra memory. */
static prune_status fpgm_score(prune_score_request *req, double p) {
    const prune_host_api *host = req->host;
    const prune_target *target = req->target;

    prune_tensor_view units;
    if (target->granularity == PRUNE_GRANULARITY_UNIT) {
        units = target->tensor;
    } else {
        if (target->output_axis < 0)
            return prune_fail(host, req->ctx, PRUNE_ERR_UNSUPPORTED,
                              "fpgm scores units: the tensor needs an output axis (a layer weight)");
        prune_status status = host->get_units(req->ctx, &units);
        if (status != PRUNE_OK) return status;
    }
    const int64_t count = units.shape[0];
    const int64_t dim = units.shape[1];
    const float *w = (const float *)units.data;

    double *sums = host->alloc((size_t)(count > 0 ? count : 1) * sizeof(double));
    if (!sums) return prune_fail(host, req->ctx, PRUNE_ERR_NO_MEMORY, "fpgm: out of memory");
    memset(sums, 0, (size_t)(count > 0 ? count : 1) * sizeof(double));
    for (int64_t i = 0; i < count; i++) {
        for (int64_t j = i + 1; j < count; j++) {
            double d = distance(w + i * dim, w + j * dim, dim, p);
            sums[i] += d;
            sums[j] += d;
        }
    }

    if (target->granularity == PRUNE_GRANULARITY_UNIT) {
        for (int64_t u = 0; u < count; u++) req->scores[u] = (float)sums[u];
    } else {
        for (int64_t e = 0; e < target->score_count; e++)
            req->scores[e] = (float)sums[prune_index_along(&target->tensor, target->output_axis, e)];
    }
    host->free(sums);
    return PRUNE_OK;
}

static prune_status fpgm_init(const prune_host_api *host, prune_context *ctx) {
    prune_component scorer;
    memset(&scorer, 0, sizeof scorer);
    scorer.struct_size = sizeof scorer;
    scorer.name = "fpgm";
    scorer.summary = "filter pruning via geometric median: sum of Lp distances to the layer's other units";
    scorer.parameters = "p:f64[1..inf]=2";
    scorer.function = (prune_fn)fpgm_score;
    return host->register_scorer(ctx, &scorer);
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR,
    .abi_minor = PRUNE_ABI_MINOR,
    .name = "fpgm",
    .version = "1.0.0",
    .description = "Filter pruning via geometric median (He et al., 2019): units close to all others are redundant.",
    .license = "Apache-2.0",
    .init = fpgm_init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
