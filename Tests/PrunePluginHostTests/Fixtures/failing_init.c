/* Negative fixture: init fails with a message (after registering, which must not leak into the registry). */
#include <string.h>
#include "prune_plugin.h"

static prune_status unused(prune_score_request *req) { (void)req; return PRUNE_OK; }

static prune_status failing_init(const prune_host_api *host, prune_context *ctx) {
    prune_component c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.name = "half-registered";
    c.function = (prune_fn)unused;
    host->register_scorer(ctx, &c);
    return prune_fail(host, ctx, PRUNE_ERR_FAILED, "license server unreachable");
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR, .abi_minor = PRUNE_ABI_MINOR,
    .name = "failing-init", .version = "0", .description = "init fails", .license = "MIT",
    .init = failing_init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
