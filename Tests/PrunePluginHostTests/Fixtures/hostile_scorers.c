/* Fixture scorers that end or freeze the process: `plugins check` must report them, not die with them.
   HOSTILE_MODE selects one: crash (SIGSEGV), hang (sleeps forever), exit (calls exit(0)), write (writes into the
   read-only view of the target's tensor, casting its const away). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "prune_plugin.h"

static prune_status hostile(prune_score_request *req) {
    const char *mode = getenv("HOSTILE_MODE");
    if (mode && strcmp(mode, "crash") == 0) { volatile int *p = NULL; *p = 1; }
    if (mode && strcmp(mode, "hang") == 0) { for (;;) sleep(1); }
    if (mode && strcmp(mode, "exit") == 0) exit(0);
    if (mode && strcmp(mode, "write") == 0 && req->target->tensor.data) ((float *)req->target->tensor.data)[0] += 1;
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = 1;
    return PRUNE_OK;
}

static prune_status hostile_init(const prune_host_api *host, prune_context *ctx) {
    prune_component c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.name = "hostile";
    c.summary = "fixture";
    c.function = (prune_fn)hostile;
    return host->register_scorer(ctx, &c);
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR, .abi_minor = PRUNE_ABI_MINOR,
    .name = "fixture-hostile", .version = "0.1", .description = "scorers that end the process", .license = "MIT",
    .init = hostile_init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
