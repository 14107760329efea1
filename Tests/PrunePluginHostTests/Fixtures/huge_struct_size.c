/* Registers a scorer whose prune_component.struct_size is nonsensical (2^31 - 1). */
#include <string.h>
#include "prune_plugin.h"

static prune_status ones(prune_score_request *req) {
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = 1;
    return PRUNE_OK;
}

static prune_status huge_init(const prune_host_api *host, prune_context *ctx) {
    prune_component c;
    memset(&c, 0, sizeof c);
    c.struct_size = 0x7FFFFFFF;
    c.name = "huge";
    c.summary = "fixture";
    c.function = (prune_fn)ones;
    return host->register_scorer(ctx, &c);
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR, .abi_minor = PRUNE_ABI_MINOR,
    .name = "fixture-huge", .version = "0.1", .description = "a nonsensical struct_size", .license = "MIT",
    .init = huge_init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
