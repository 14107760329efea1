/* Negative fixture: built for ABI major 2 with a larger descriptor. The host must refuse it before calling init
 * (which aborts to prove it was never called). */
#include <stdlib.h>
#include "prune_plugin.h"

static prune_status never_called(const prune_host_api *host, prune_context *ctx) {
    (void)host; (void)ctx;
    abort();
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor) + 8,
    .abi_major = PRUNE_ABI_MAJOR + 1,
    .abi_minor = 0,
    .name = "bad-major", .version = "0", .description = "wrong ABI major", .license = "MIT",
    .init = never_called,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
