/* Negative fixture: built against a newer minor than the host knows. Refused before init (which aborts). */
#include <stdlib.h>
#include "prune_plugin.h"

static prune_status never_called(const prune_host_api *host, prune_context *ctx) {
    (void)host; (void)ctx;
    abort();
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR,
    .abi_minor = PRUNE_ABI_MINOR + 1,
    .name = "newer-minor", .version = "0", .description = "newer ABI minor", .license = "MIT",
    .init = never_called,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
