/* Fixture scorers: broken ones the host must catch, and probes of parameter passing and host reads. */
#include <math.h>
#include <string.h>
#include "prune_plugin.h"

/* Writes 1 everywhere but a NaN at position 1. */
static prune_status nan_scorer(prune_score_request *req) {
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = 1;
    if (req->score_count > 1) req->scores[1] = NAN;
    return PRUNE_OK;
}

/* Says it produced one score fewer than needed. */
static prune_status short_scorer(prune_score_request *req) {
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = 1;
    req->score_count -= 1;
    return PRUNE_OK;
}

/* Fails with a message. */
static prune_status failing_scorer(prune_score_request *req) {
    return prune_fail(req->host, req->ctx, PRUNE_ERR_UNSUPPORTED, "cannot score this on a Tuesday");
}

/* Echoes its typed parameters: scores = [a, n, mode == "max", flag, 0, ...]. */
static prune_status echo(prune_score_request *req, double a, int64_t n, const char *mode, int flag) {
    float values[4] = {(float)a, (float)n, strcmp(mode, "max") == 0 ? 1.0f : 0.0f, (float)flag};
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = i < 4 ? values[i] : 0;
    return PRUNE_OK;
}

/* Reports what host reads return: [role, output_dim, input_dim, rank, other[0], unit_count, is_f16, 0...]. */
static prune_status info_scorer(prune_score_request *req, const char *other) {
    const prune_host_api *host = req->host;
    prune_tensor_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    prune_status status = host->get_tensor_info(req->ctx, req->target->name, &info);
    if (status != PRUNE_OK) return status;
    prune_tensor_view view;
    status = host->get_tensor(req->ctx, other, &view);
    if (status != PRUNE_OK) return status;
    float values[7] = {(float)info.role, (float)info.output_dim, (float)info.input_dim, (float)info.rank,
                       ((const float *)view.data)[0], (float)req->target->unit_count,
                       strcmp(info.stored_dtype, "F16") == 0 ? 1.0f : 0.0f};
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = i < 7 ? values[i] : 0;
    return PRUNE_OK;
}

/* Reads a calibration statistic of the target and repeats its values. */
static prune_status stats_scorer(prune_score_request *req, const char *stat) {
    prune_tensor_view view;
    prune_status status = req->host->get_statistic(req->ctx, req->target->name, stat, &view);
    if (status != PRUNE_OK) return status;
    int64_t n = prune_view_count(&view);
    for (int64_t i = 0; i < req->score_count; i++) req->scores[i] = ((const float *)view.data)[i % n];
    return PRUNE_OK;
}

/* Logs, then scores units by their row sums from get_units (works for both granularities). */
static prune_status rowsum(prune_score_request *req) {
    const prune_host_api *host = req->host;
    host->log(req->ctx, PRUNE_LOG_DEBUG, "rowsum scoring");
    prune_tensor_view units;
    prune_status status = host->get_units(req->ctx, &units);
    if (status != PRUNE_OK) return status;
    const float *w = units.data;
    for (int64_t i = 0; i < req->score_count; i++) {
        int64_t u = req->target->granularity == PRUNE_GRANULARITY_UNIT
                        ? i : prune_index_along(&req->target->tensor, req->target->output_axis, i);
        float sum = 0;
        for (int64_t j = 0; j < units.shape[1]; j++) sum += w[u * units.shape[1] + j];
        req->scores[i] = sum;
    }
    return PRUNE_OK;
}

static prune_status add(const prune_host_api *host, prune_context *ctx, const char *name, const char *parameters,
                        const char *statistics, prune_fn function) {
    prune_component c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.name = name;
    c.summary = "fixture";
    c.parameters = parameters;
    c.statistics = statistics;
    c.function = function;
    return host->register_scorer(ctx, &c);
}

static prune_status scorers_init(const prune_host_api *host, prune_context *ctx) {
    prune_status s = PRUNE_OK;
    if (!s) s = add(host, ctx, "nan-scorer", NULL, NULL, (prune_fn)nan_scorer);
    if (!s) s = add(host, ctx, "short-scorer", "", NULL, (prune_fn)short_scorer);
    if (!s) s = add(host, ctx, "failing-scorer", NULL, NULL, (prune_fn)failing_scorer);
    if (!s) s = add(host, ctx, "echo", "a:f64[0..1]=0.5,n:i64[1..10]=3,mode:str{sum|max}=sum,flag:bool=false", NULL,
                    (prune_fn)echo);
    if (!s) s = add(host, ctx, "info", "other:str=bias", NULL, (prune_fn)info_scorer);
    if (!s) s = add(host, ctx, "stats", "stat:str=input_sq_mean", "input_sq_mean", (prune_fn)stats_scorer);
    if (!s) s = add(host, ctx, "rowsum", NULL, NULL, (prune_fn)rowsum);
    return s;
}

static const prune_plugin_descriptor descriptor = {
    .struct_size = sizeof(prune_plugin_descriptor),
    .abi_major = PRUNE_ABI_MAJOR, .abi_minor = PRUNE_ABI_MINOR,
    .name = "fixture-scorers", .version = "0.1", .description = "scorers for host tests", .license = "MIT",
    .init = scorers_init,
};

PRUNE_PLUGIN_EXPORT const prune_plugin_descriptor *prune_plugin_entry(void) { return &descriptor; }
