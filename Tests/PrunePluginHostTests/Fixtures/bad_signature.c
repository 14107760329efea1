/* Negative fixture: a registration whose parameter signature does not parse. */
#include <string.h>
#include "prune_plugin.h"

static prune_status unused(prune_score_request *req, double x) { (void)req; (void)x; return PRUNE_OK; }

static prune_status bad_init(const prune_host_api *host, prune_context *ctx) {
    prune_component c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.name = "badsig";
    c.parameters = "x:float=1";
    c.function = (prune_fn)unused;
    host->register_scorer(ctx, &c); /* ignores the status on purpose: the host must still refuse the plugin */
    return PRUNE_OK;
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR, .abi_minor = PRUNE_ABI_MINOR,
    .name = "bad-signature", .version = "0", .description = "malformed signature", .license = "MIT",
    .init = bad_init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
