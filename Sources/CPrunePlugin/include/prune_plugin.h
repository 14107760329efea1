/*
 * prune_plugin.h — the C ABI of PruneKit plugins.
 *
 * A plugin is a shared library that exports one function, `prune_plugin_entry`, returning a pointer to a
 * static `prune_plugin_descriptor`. The host checks the descriptor's ABI version and size, then calls its
 * `init` with a table of host functions; `init` registers scorers, selectors and rewriters. Each component
 * is an ordinary C function whose first argument is a request struct and whose further arguments are the
 * component's typed hyper-parameters, in the order its signature declares them:
 *
 *     prune_status my_score(prune_score_request *req, double p, int64_t k);   // "p:f64=2,k:i64=8"
 *
 * The host parses and checks the user's `NAME:key=value,...` against the signature and calls the function
 * through libffi. Parameter types map to C as: f64 -> double, i64 -> int64_t, bool -> int (0 or 1),
 * str -> const char * (valid for the call).
 *
 * Versioning (see Docs/Plugins.md): structs and the host table only grow at the end; appending bumps
 * PRUNE_ABI_MINOR, anything else bumps PRUNE_ABI_MAJOR. The first eight bytes of the descriptor (struct_size,
 * abi_major, abi_minor) never move. Nothing may unwind (C++ exceptions, Swift traps) across this boundary.
 */
#ifndef PRUNE_PLUGIN_H
#define PRUNE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Versions and symbols ------------------------------------------------------------------------------ */

/** The ABI major version: a plugin's must equal the host's. */
#define PRUNE_ABI_MAJOR 1
/** The ABI minor version: a plugin's must not be newer than the host's. */
#define PRUNE_ABI_MINOR 0
/** The name of the one symbol every plugin exports. */
#define PRUNE_PLUGIN_ENTRY_SYMBOL "prune_plugin_entry"

#if defined(_WIN32)
#define PRUNE_PLUGIN_EXPORT __declspec(dllexport)
#else
#define PRUNE_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---- Status codes ---------------------------------------------------------------------------------------- */

/** What every fallible function returns; 0 is success. Set a message with `host->set_error` before failing. */
typedef int32_t prune_status;

#define PRUNE_OK 0
/** A parameter value or input the component cannot work with. */
#define PRUNE_ERR_INVALID_ARGUMENT 1
/** Valid input the component does not handle (a target granularity, a rank). */
#define PRUNE_ERR_UNSUPPORTED 2
/** A tensor, statistic or name that does not exist. */
#define PRUNE_ERR_NOT_FOUND 3
/** An allocation failed. */
#define PRUNE_ERR_NO_MEMORY 4
/** A host function called at the wrong time (registering outside `init`, reading tensors inside it). */
#define PRUNE_ERR_INVALID_STATE 5
/** Anything else. */
#define PRUNE_ERR_FAILED 6

/* ---- Small enumerations ---------------------------------------------------------------------------------- */

/** Element types of tensor views. ABI 1.x hands plugins float32 only (the host converts other dtypes). */
#define PRUNE_DTYPE_F32 1

/** One score per element of one tensor (unstructured pruning). */
#define PRUNE_GRANULARITY_ELEMENT 0
/** One score per unit (output channel or neuron, with every slice coupled to it). */
#define PRUNE_GRANULARITY_UNIT 1

#define PRUNE_LOG_DEBUG 0
#define PRUNE_LOG_INFO 1
#define PRUNE_LOG_WARNING 2
#define PRUNE_LOG_ERROR 3

/** A tensor the host knows nothing special about. Treat unknown role values like this one. */
#define PRUNE_ROLE_OTHER 0
/** A layer weight: it has an output axis (units) and an input axis. */
#define PRUNE_ROLE_WEIGHT 1

/** Component flag: the host never calls this component from two threads at once. */
#define PRUNE_COMPONENT_SERIAL 1u

/* ---- Data crossing the boundary -------------------------------------------------------------------------- */

/** Host state for one `init` or one component call; opaque to plugins, passed back to host functions. */
typedef struct prune_context prune_context;

/**
 * A borrowed, read-only view of a tensor, valid until the call that produced it returns.
 * Row-major; `strides` are in elements (for host-made views they are always the contiguous ones).
 */
typedef struct prune_tensor_view {
    int32_t dtype;          /* PRUNE_DTYPE_F32 */
    int32_t rank;
    const int64_t *shape;   /* `rank` extents */
    const int64_t *strides; /* `rank` strides, in elements */
    const void *data;       /* `const float *` for PRUNE_DTYPE_F32 */
    const char *name;       /* the parameter's name, or the target's for a unit matrix */
} prune_tensor_view;

/** The part of a parameter that belongs to each unit: unit u owns indices offset+u*width ..< offset+(u+1)*width
 *  along `axis`. */
typedef struct prune_slice {
    const char *parameter;
    int32_t axis;
    int32_t reserved0;
    int64_t offset;
    int64_t width;
} prune_slice;

/**
 * What a scorer scores.
 *
 * Element targets: `tensor` is the parameter; write one score per element in row-major order. `output_axis`
 * and `input_axis` are the weight's axes (-1 when the tensor is not a layer weight) and `unit_count` is the
 * extent of the output axis (0 without one).
 *
 * Unit targets: `tensor` is the unit matrix, shape [unit_count, unit_dim]: row u holds every weight of unit u,
 * each slice's part in the slice's own row-major order, slices concatenated in order. `output_axis` is 0,
 * `input_axis` 1, and `slices` lists where the rows came from. Write one score per unit.
 */
typedef struct prune_target {
    uint32_t struct_size;
    int32_t granularity;          /* PRUNE_GRANULARITY_* */
    const char *name;             /* the parameter's or the group's name */
    int64_t score_count;          /* how many scores to write */
    prune_tensor_view tensor;
    int32_t output_axis;
    int32_t input_axis;
    int64_t unit_count;
    int64_t slice_count;          /* 0 for element targets */
    const prune_slice *slices;
} prune_target;

/** What `host->get_tensor_info` tells about a parameter. Set `struct_size` before the call; the host fills
 *  only the fields that fit. */
typedef struct prune_tensor_info {
    uint32_t struct_size;
    int32_t role;          /* PRUNE_ROLE_* */
    int32_t rank;
    int32_t output_axis;   /* -1 unless role is WEIGHT */
    int32_t input_axis;    /* -1 unless role is WEIGHT */
    int32_t reserved0;
    int64_t output_dim;    /* shape[output_axis], or 0 */
    int64_t input_dim;     /* shape[input_axis], or 0 (for a convolution: input channels per group) */
    int64_t element_count;
    const char *stored_dtype; /* the dtype in the model file, e.g. "F16"; views are always F32 */
} prune_tensor_info;

/** The request a scorer function receives as its first argument. */
typedef struct prune_score_request {
    uint32_t struct_size;
    int32_t reserved0;
    const struct prune_host_api *host;
    prune_context *ctx;
    const prune_target *target;
    /** Host-allocated, `target->score_count` floats, pre-filled with NaN; higher scores are kept longer. */
    float *scores;
    /** In: target->score_count. Set it when you produced a different number of scores (the host rejects it). */
    int64_t score_count;
    /** The run's seed: use it for anything random, so equal seeds give equal scores. */
    uint64_t seed;
    void *reserved[4];
} prune_score_request;

/** One scored target as a selector sees it. */
typedef struct prune_scored_target {
    uint32_t struct_size;
    int32_t granularity;
    const char *name;
    int32_t rank;
    int32_t output_axis;   /* element targets of layer weights; -1 otherwise */
    const int64_t *shape;  /* element targets: the tensor's shape; unit targets: [count] */
    int32_t input_axis;
    int32_t reserved0;
    int64_t count;
    const float *scores;   /* `count` scores */
    /** Host-allocated, `count` bytes, zeroed: set prune[i] = 1 to prune position i. Only 0 and 1 are allowed. */
    uint8_t *prune;
} prune_scored_target;

/** The request a selector function receives: every scored target of the stage at once. */
typedef struct prune_select_request {
    uint32_t struct_size;
    int32_t reserved0;
    const struct prune_host_api *host;
    prune_context *ctx;
    int64_t target_count;
    prune_scored_target *targets;
    uint64_t seed;
    void *reserved[4];
} prune_select_request;

/** One target's decision as a rewriter sees it. */
typedef struct prune_selection_entry {
    uint32_t struct_size;
    int32_t granularity;
    const char *name;
    int64_t count;
    const uint8_t *prune;     /* `count` flags (1 = pruned), or NULL when the selector skipped the target */
    int64_t slice_count;      /* element targets: 1 slice whose axis is -1 naming the parameter */
    const prune_slice *slices;
} prune_selection_entry;

/** The request a rewriter function receives. Read tensors with `host->get_tensor`, write them through
 *  `host->tensor_output`. */
typedef struct prune_rewrite_request {
    uint32_t struct_size;
    int32_t reserved0;
    const struct prune_host_api *host;
    prune_context *ctx;
    int64_t entry_count;
    const prune_selection_entry *entries;
    uint64_t seed;
    void *reserved[4];
} prune_rewrite_request;

/* ---- Registration ---------------------------------------------------------------------------------------- */

/** A component function, cast to a common type for registration: `(prune_fn)my_score`. */
typedef void (*prune_fn)(void);

/** A component to register. The host copies everything; the struct may live on the stack. */
typedef struct prune_component {
    uint32_t struct_size;     /* sizeof(prune_component) */
    uint32_t flags;           /* PRUNE_COMPONENT_* */
    const char *name;         /* what users write: letters, digits, '_', '-', '.' */
    const char *summary;      /* one line */
    const char *parameters;   /* the signature, e.g. "p:f64[1..inf]=2,k:i64[1..]=8,mode:str{mean|max}=mean" */
    const char *statistics;   /* calibration statistics it reads, comma-separated, or NULL */
    prune_fn function;        /* prune_status f(prune_*_request *, <parameters in order>) */
    void *reserved[4];
} prune_component;

/* ---- The host function table (append-only) --------------------------------------------------------------- */

/**
 * Services the host offers. Valid for the life of the process; every request carries a pointer to it.
 * Functions that fail return a status and leave a message for the host to report.
 */
typedef struct prune_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /** Allocates `size` bytes (64-byte aligned) for scratch; NULL when out of memory. */
    void *(*alloc)(size_t size);
    /** Frees memory from `alloc`; NULL is ignored. */
    void (*free)(void *pointer);
    /** Logs a message through the host's logger (PRUNE_LOG_*). */
    void (*log)(prune_context *ctx, int32_t level, const char *message);
    /** Records the error message for the current init or call; the host copies it. */
    void (*set_error)(prune_context *ctx, const char *message);

    /** Registers a scorer; only during `init`. */
    prune_status (*register_scorer)(prune_context *ctx, const prune_component *component);
    /** Registers a selector; only during `init`. */
    prune_status (*register_selector)(prune_context *ctx, const prune_component *component);
    /** Registers a rewriter; only during `init`. */
    prune_status (*register_rewriter)(prune_context *ctx, const prune_component *component);

    /** A view of the model's parameter `name` (float32), valid for the call. */
    prune_status (*get_tensor)(prune_context *ctx, const char *name, prune_tensor_view *out);
    /** The role, axes and dimensions of parameter `name`. */
    prune_status (*get_tensor_info)(prune_context *ctx, const char *name, prune_tensor_info *out);
    /** Calibration statistic `statistic` of parameter `tensor`; only statistics the component declared.
     *  PRUNE_ERR_NOT_FOUND when the run has none. */
    prune_status (*get_statistic)(prune_context *ctx, const char *tensor, const char *statistic,
                                  prune_tensor_view *out);
    /** Scorers: the target's unit matrix [unit_count, unit_dim]. For unit targets this is `target->tensor`;
     *  for element targets of layer weights the host gathers it along the output axis. */
    prune_status (*get_units)(prune_context *ctx, prune_tensor_view *out);
    /** Selectors: leave target `index` alone, with a reason for the report. */
    prune_status (*skip_target)(prune_context *ctx, int64_t index, const char *reason);
    /** Rewriters: a writable float32 buffer holding parameter `name`'s current values; whatever it holds when
     *  the call returns becomes the parameter (same shape, stored in its own dtype). `*count` gets the element
     *  count. NULL (with an error set) for an unknown name. */
    float *(*tensor_output)(prune_context *ctx, const char *name, int64_t *count);
} prune_host_api;

/* ---- The descriptor --------------------------------------------------------------------------------------- */

/** What `prune_plugin_entry` returns: static, never freed. */
typedef struct prune_plugin_descriptor {
    uint32_t struct_size;     /* sizeof(prune_plugin_descriptor) */
    uint16_t abi_major;       /* PRUNE_ABI_MAJOR */
    uint16_t abi_minor;       /* PRUNE_ABI_MINOR */
    const char *name;
    const char *version;
    const char *description;
    const char *license;      /* an SPDX identifier, e.g. "MIT" */
    /** Registers the plugin's components; may be called once per registry, so keep no state between calls. */
    prune_status (*init)(const prune_host_api *host, prune_context *ctx);
    void *reserved[8];
} prune_plugin_descriptor;

/** The entry point's type. */
typedef const prune_plugin_descriptor *(*prune_plugin_entry_fn)(void);

/* ---- Helpers (header-only, nothing to link) -------------------------------------------------------------- */

/** Records `message` for `ctx` and returns `status`: `return prune_fail(req->host, req->ctx, PRUNE_ERR_..., "...")`. */
static inline prune_status prune_fail(const struct prune_host_api *host, prune_context *ctx, prune_status status,
                                      const char *message) {
    host->set_error(ctx, message);
    return status;
}

/** The number of elements of a view. */
static inline int64_t prune_view_count(const prune_tensor_view *view) {
    int64_t count = 1;
    for (int32_t i = 0; i < view->rank; i++) count *= view->shape[i];
    return count;
}

/** The index along `axis` of element `element` (row-major) of a contiguous view: for an element target, the unit
 *  an element belongs to when `axis` is the output axis. */
static inline int64_t prune_index_along(const prune_tensor_view *view, int32_t axis, int64_t element) {
    int64_t inner = 1;
    for (int32_t i = axis + 1; i < view->rank; i++) inner *= view->shape[i];
    return (element / inner) % view->shape[axis];
}

#ifdef __cplusplus
}
#endif

#endif /* PRUNE_PLUGIN_H */
