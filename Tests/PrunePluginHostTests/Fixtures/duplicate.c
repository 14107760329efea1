/* Negative fixture: registers a scorer named "fpgm", which the FPGM example plugin (or a built-in) owns. */
#include <string.h>
#include "prune_plugin.h"

static prune_status zeros(prune_score_request *req) {
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = 0;
    return PRUNE_OK;
}

static prune_status duplicate_init(const prune_host_api *host, prune_context *ctx) {
    prune_component c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.name = "fpgm";
    c.summary = "an impostor";
    c.function = (prune_fn)zeros;
    return host->register_scorer(ctx, &c);
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR, .abi_minor = PRUNE_ABI_MINOR,
    .name = "duplicate", .version = "0", .description = "takes a name that is already used", .license = "MIT",
    .init = duplicate_init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
