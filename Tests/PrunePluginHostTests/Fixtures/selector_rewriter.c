/* Fixture selector and rewriter in C: a threshold selector ("cut") and a zeroing rewriter, plus broken variants. */
#include <math.h>
#include <string.h>
#include "prune_plugin.h"

/* Prunes every position whose score is below tau; skips targets whose name starts with "keep". */
static prune_status threshold(const prune_select_request *req, double tau) {
    for (int64_t t = 0; t < req->target_count; t++) {
        prune_scored_target *target = &req->targets[t];
        if (strncmp(target->name, "keep", 4) == 0) {
            prune_status s = req->host->skip_target(req->ctx, t, "names starting with keep are kept");
            if (s != PRUNE_OK) return s;
            continue;
        }
        for (int64_t i = 0; i < target->count; i++) target->prune[i] = target->scores[i] < tau ? 1 : 0;
    }
    return PRUNE_OK;
}

/* Sets a flag that is neither 0 nor 1. */
static prune_status bad_flags(const prune_select_request *req) {
    if (req->target_count > 0 && req->targets[0].count > 0) req->targets[0].prune[0] = 2;
    return PRUNE_OK;
}

/* Zeroes pruned elements (element targets) or pruned units' slices (unit targets), scales the rest. */
static prune_status zero_scale(const prune_rewrite_request *req, double scale) {
    const prune_host_api *host = req->host;
    for (int64_t e = 0; e < req->entry_count; e++) {
        const prune_selection_entry *entry = &req->entries[e];
        if (!entry->prune) continue;
        for (int64_t s = 0; s < entry->slice_count; s++) {
            const prune_slice *slice = &entry->slices[s];
            prune_tensor_view view;
            prune_status status = host->get_tensor(req->ctx, slice->parameter, &view);
            if (status != PRUNE_OK) return status;
            int64_t count = 0;
            float *out = host->tensor_output(req->ctx, slice->parameter, &count);
            if (!out) return PRUNE_ERR_NOT_FOUND;
            for (int64_t i = 0; i < count; i++) {
                int pruned;
                if (entry->granularity == PRUNE_GRANULARITY_ELEMENT) {
                    pruned = entry->prune[i];
                } else {
                    int64_t k = prune_index_along(&view, slice->axis, i) - slice->offset;
                    int64_t unit = k >= 0 ? k / slice->width : -1;
                    pruned = unit >= 0 && unit < entry->count && entry->prune[unit];
                }
                out[i] = pruned ? 0.0f : (float)(((const float *)view.data)[i] * scale);
            }
        }
    }
    return PRUNE_OK;
}

/* Writes a NaN into the first pruned target's first parameter. */
static prune_status nan_rewriter(const prune_rewrite_request *req) {
    if (req->entry_count == 0) return PRUNE_OK;
    int64_t count = 0;
    float *out = req->host->tensor_output(req->ctx, req->entries[0].slices[0].parameter, &count);
    if (!out) return PRUNE_ERR_NOT_FOUND;
    out[0] = NAN;
    return PRUNE_OK;
}

static prune_component component(const char *name, const char *parameters, prune_fn function) {
    prune_component c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.flags = PRUNE_COMPONENT_SERIAL;
    c.name = name;
    c.summary = "fixture";
    c.parameters = parameters;
    c.function = function;
    return c;
}

static prune_status init(const prune_host_api *host, prune_context *ctx) {
    prune_component c = component("cut", "tau:f64=0.5", (prune_fn)threshold);
    prune_status s = host->register_selector(ctx, &c);
    c = component("bad-flags", NULL, (prune_fn)bad_flags);
    if (!s) s = host->register_selector(ctx, &c);
    c = component("zero-scale", "scale:f64=1", (prune_fn)zero_scale);
    if (!s) s = host->register_rewriter(ctx, &c);
    c = component("nan-rewriter", NULL, (prune_fn)nan_rewriter);
    if (!s) s = host->register_rewriter(ctx, &c);
    return s;
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR, .abi_minor = PRUNE_ABI_MINOR,
    .name = "fixture-select-rewrite", .version = "0.1", .description = "selector and rewriter fixtures",
    .license = "MIT", .init = init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
