/* encoder.c: dispatches a model SPEC to its backend (see encoder.h, backend.h). */
#include "backend.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/cuda/gpu_plan.h"
#include "engine/nn/bf16.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cm_encoder {
    const cm_backend_i *be;
    void              *state;
    cm_encoder_info    info;
};

const cm_backend_i *const cm_backends[] = {
    &cm_backend_hash, &cm_backend_glove, &cm_backend_precomputed, &cm_backend_hf, &cm_backend_openai, NULL,
};

const char *cm_role_name(cm_role r) { return r == CM_ROLE_QUERY ? "query" : "document"; }

cm_encoder_params cm_encoder_default_params(void) {
    cm_encoder_params p;
    memset(&p, 0, sizeof p);
    p.device = NULL;   /* auto: cuda when built with it, a GPU is visible and the backend is hf */
    p.normalize = -1;
    p.pool_instruction = -1;
    return p;
}

/* The options, their CM_OPT_* bit and the flag that sets them on the command line. */
static const struct { unsigned bit; const char *flag; } opt_flags[] = {
    {CM_OPT_POOLING, "--pooling"},
    {CM_OPT_ATTENTION, "--attention"},
    {CM_OPT_NORMALIZE, "--normalize/--no-normalize"},
    {CM_OPT_MAX_LENGTH, "--max-length"},
    {CM_OPT_DIM, "--dim"},
    {CM_OPT_POOL_INSTRUCTION, "--pool-instruction/--no-pool-instruction"},
    {CM_OPT_QUERY_TEMPLATE, "--query-template"},
    {CM_OPT_DOCUMENT_TEMPLATE, "--document-template"},
    {CM_OPT_BATCH_SIZE, "--batch-size"},
    {CM_OPT_THREADS, "--threads"},
};

/* The CM_OPT_* bits of the fields p sets to something other than the default. */
static unsigned options_set(const cm_encoder_params *p) {
    unsigned m = 0;
    if (p->pooling) m |= CM_OPT_POOLING;
    if (p->attention) m |= CM_OPT_ATTENTION;
    if (p->normalize >= 0) m |= CM_OPT_NORMALIZE;
    if (p->max_length > 0) m |= CM_OPT_MAX_LENGTH;
    if (p->dim != 0) m |= CM_OPT_DIM;
    if (p->pool_instruction >= 0) m |= CM_OPT_POOL_INSTRUCTION;
    if (p->query_template) m |= CM_OPT_QUERY_TEMPLATE;
    if (p->document_template) m |= CM_OPT_DOCUMENT_TEMPLATE;
    if (p->batch_size > 0) m |= CM_OPT_BATCH_SIZE;
    if (p->threads > 0) m |= CM_OPT_THREADS;
    return m;   /* the device is resolve_device's */
}

/* The schemes of the backends that honour option bit, comma-separated, into *by (caller frees). */
static int backends_with(unsigned bit, cm_str *by) {
    for (int i = 0; cm_backends[i]; i++)
        if (cm_backends[i]->supported & bit) {
            if (by->len) cm_str_append(by, ", ");
            cm_str_append(by, cm_backends[i]->scheme);
        }
    return cm_str_error(by) ? CM_ERR_NOMEM : CM_OK;
}

/* CM_ERR_ARG when params set an option be does not honour, naming the
 * backends that do. */
static int check_options(const cm_backend_i *be, const char *spec, const cm_encoder_params *params) {
    unsigned bad = options_set(params) & ~be->supported & ~(unsigned)CM_OPT_HINTS;
    if (!bad) return CM_OK;
    for (size_t k = 0; k < sizeof opt_flags / sizeof opt_flags[0]; k++) {
        if (!(bad & opt_flags[k].bit)) continue;
        cm_str by = {0};
        int rc = backends_with(opt_flags[k].bit, &by);
        if (!rc)
            rc = cm_error(CM_ERR_ARG, "model spec '%s': %s is not supported by the %s backend (supported by: %s)", spec,
                          opt_flags[k].flag, be->scheme, by.len ? by.s : "none");
        cm_str_free(&by);
        return rc;
    }
    return CM_OK;
}

/* The device and dtype the backend be will run SPEC on: *out is *in with
 * device resolved ("cpu" or "cuda:0,1", written into devbuf of size cap) and
 * dtype resolved (on the CPU: NULL for fp32, else "bf16" or "int8"; on cuda
 * the canonical name). Errors: a bad device or dtype string, cuda asked of a
 * backend without a CUDA engine, a build without CUDA or a machine without a
 * visible GPU, a dtype the backend or the device does not compute in (fp16
 * is a GPU dtype, int8 a CPU one). --dtype int8 with the device left to
 * auto picks the CPU. */
static int resolve_device(const cm_backend_i *be, const char *spec, const cm_encoder_params *in,
                          cm_encoder_params *out, char *devbuf, size_t cap) {
    *out = *in;
    cm_device_spec d, r;
    /* no --device: $CMTEB_DEVICE (the test suites pin cpu with it), else auto */
    const char *want = in->device ? in->device : getenv("CMTEB_DEVICE");
    if (want && !*want) want = NULL;
    if (cm_device_parse(want, &d))
        return cm_error_wrap(CM_ERR_ARG, in->device ? "model spec '%s'" : "model spec '%s' ($CMTEB_DEVICE)", spec);
    /* the dtype: a GPU one (bf16, fp16, fp32) or a CPU one (fp32, bf16, int8) */
    cm_gpu_dtype gdt = CM_GPU_BF16;
    cm_cpu_dtype cdt = CM_CPU_FP32;
    int is_gpu_dt = 0, is_cpu_dt = 0;
    if (in->dtype) {
        is_gpu_dt = cm_gpu_dtype_parse(in->dtype, &gdt) == CM_OK;
        is_cpu_dt = cm_cpu_dtype_parse(in->dtype, &cdt) == CM_OK;
        cm_error_clear();
        if (!is_gpu_dt && !is_cpu_dt)
            return cm_error(CM_ERR_ARG, "model spec '%s': unknown dtype '%s' (expected fp32, bf16, int8 on the "
                            "CPU or fp32, bf16, fp16 on a GPU)", spec, in->dtype);
        if (!is_gpu_dt && d.kind == CM_DEVICE_AUTO) d.kind = CM_DEVICE_CPU;   /* int8: a CPU dtype */
    }
    int fp32 = !in->dtype || (is_cpu_dt && cdt == CM_CPU_FP32);
    int cuda_ok = (be->supported & CM_OPT_DEVICE_CUDA) != 0, dtype_ok = (be->supported & CM_OPT_DTYPE) != 0;
    if ((!cuda_ok && d.kind == CM_DEVICE_CUDA) || (!dtype_ok && !fp32)) {
        unsigned bit = !cuda_ok && d.kind == CM_DEVICE_CUDA ? CM_OPT_DEVICE_CUDA : CM_OPT_DTYPE;
        cm_str by = {0};
        int rc = backends_with(bit, &by);
        if (!rc) {
            char what[64];
            if (bit == CM_OPT_DEVICE_CUDA) snprintf(what, sizeof what, "--device cuda");
            else snprintf(what, sizeof what, "--dtype %s", in->dtype);
            rc = cm_error(bit == CM_OPT_DEVICE_CUDA ? CM_ERR_UNSUPPORTED : CM_ERR_ARG,
                          "model spec '%s': %s is not supported by the %s backend (supported by: %s)", spec, what,
                          be->scheme, by.len ? by.s : "none");
        }
        cm_str_free(&by);
        return rc;
    }
    int built = cm_gpu_built(), n = 0;
    if (cuda_ok && d.kind != CM_DEVICE_CPU && built) CM_TRY(cm_gpu_count(&n));
    if (d.kind == CM_DEVICE_CUDA && in->dtype && !is_gpu_dt)   /* a CPU dtype on cuda: refused whatever GPUs */
        return cm_error(CM_ERR_UNSUPPORTED, "--dtype %s: the CUDA engine computes in bf16, fp16 or fp32 (%s is a "
                        "CPU dtype: --device cpu)", in->dtype, in->dtype);
    int rrc = cm_device_resolve(&d, built, n, cuda_ok, &r);
    if (rrc) return cm_error_wrap(rrc, "model spec '%s'", spec);
    cm_device_format(&r, devbuf, cap);
    out->device = devbuf;
    if (r.kind == CM_DEVICE_CPU) {
        if (in->dtype && !is_cpu_dt)
            return cm_error(CM_ERR_UNSUPPORTED, "--dtype %s: the CPU engine computes in fp32, bf16 or int8 (%s is a "
                            "GPU dtype: --device cuda on a GPU build)", in->dtype, in->dtype);
        out->dtype = cdt == CM_CPU_FP32 ? NULL : cm_cpu_dtype_name(cdt);
    } else {   /* a CPU-only dtype never gets here: refused above for cuda, auto made it cpu */
        out->dtype = cm_gpu_dtype_name(gdt);
    }
    return CM_OK;
}

/* The backend of SPEC's scheme into *be and the part after "scheme:" (NULL
 * when absent) into *arg; CM_ERR_ARG naming the known schemes otherwise. */
static int find_backend(const char *spec, const cm_backend_i **be, const char **arg) {
    if (!spec || !*spec) return cm_error(CM_ERR_ARG, "empty model spec (expected e.g. hash, glove:PATH, hf:PATH)");
    const char *colon = strchr(spec, ':');
    size_t slen = colon ? (size_t)(colon - spec) : strlen(spec);
    *arg = colon ? colon + 1 : NULL;
    for (int i = 0; cm_backends[i]; i++) {
        if (strlen(cm_backends[i]->scheme) == slen && strncmp(cm_backends[i]->scheme, spec, slen) == 0) {
            *be = cm_backends[i];
            return CM_OK;
        }
    }
    cm_str known = {0};
    for (int i = 0; cm_backends[i]; i++) cm_str_printf(&known, "%s%s", i ? ", " : "", cm_backends[i]->scheme);
    int rc = cm_str_error(&known) ? CM_ERR_NOMEM
                                  : cm_error(CM_ERR_ARG, "unknown model spec '%s' (known schemes: %s)", spec, known.s);
    cm_str_free(&known);
    return rc;
}

int cm_encoder_init(cm_encoder **out, const char *spec, const cm_encoder_params *params) {
    *out = NULL;
    cm_encoder_params dflt = cm_encoder_default_params();
    if (!params) params = &dflt;
    const cm_backend_i *be = NULL;
    const char *arg = NULL;
    CM_TRY(find_backend(spec, &be, &arg));
    CM_TRY(check_options(be, spec, params));
    cm_encoder_params rp;
    char dev[16 * CM_GPU_MAX_DEVICES];
    CM_TRY(resolve_device(be, spec, params, &rp, dev, sizeof dev));
    cm_encoder *e = cm_calloc(1, sizeof *e);
    if (!e) return CM_ERR_NOMEM;
    e->be = be;
    int rc = be->init(&e->state, arg, &rp, &e->info);
    if (rc) {
        free(e);
        return cm_error_wrap(rc, "model %s", spec);
    }
    CM_ASSERT(e->info.dim > 0 && e->info.name && e->info.fingerprint);
    if (!e->info.revision) e->info.revision = "no_revision_available";
    if (!e->info.loader) e->info.loader = be->scheme;
    *out = e;
    return CM_OK;
}

/* Adds key: value to o; CM_ERR_NOMEM when cJSON cannot. */
static int add_kv(cJSON *o, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int add_kv(cJSON *o, const char *key, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cJSON_AddStringToObject(o, key, buf) ? CM_OK : cm_error(CM_ERR_NOMEM, "out of memory describing a model");
}

int cm_model_describe(const char *spec, const cm_encoder_params *params, int open_weights, cJSON **out) {
    *out = NULL;
    cm_encoder_params dflt = cm_encoder_default_params();
    if (!params) params = &dflt;
    const cm_backend_i *be = NULL;
    const char *arg = NULL;
    CM_TRY(find_backend(spec, &be, &arg));
    CM_TRY(check_options(be, spec, params));
    cm_encoder_params rp;
    char dev[16 * CM_GPU_MAX_DEVICES];
    CM_TRY(resolve_device(be, spec, params, &rp, dev, sizeof dev));
    params = &rp;
    size_t failures = cm_alloc_failures();   /* describers skip parts they cannot read */
    cJSON *o = cJSON_CreateObject();
    if (!o) return cm_error(CM_ERR_NOMEM, "out of memory describing a model");
    int rc = CM_OK;
    if (be->describe) {
        rc = be->describe(arg, params, open_weights, o);
    } else {
        /* the generic description: what the loaded encoder says of itself */
        cm_encoder *e = NULL;
        rc = cm_encoder_init(&e, spec, params);   /* resolves the resolved spec again: the same */
        const cm_encoder_info *in = e ? cm_encoder_get_info(e) : NULL;
        if (!rc) rc = add_kv(o, "model", "%s", in->name);
        if (!rc) rc = add_kv(o, "loader", "%s", in->loader);
        if (!rc) rc = add_kv(o, "revision", "%s", in->revision);
        if (!rc) rc = add_kv(o, "embedding_dim", "%zu", in->dim);
        if (!rc) rc = add_kv(o, "max_tokens", "%lld", (long long)in->max_tokens);
        if (!rc) rc = add_kv(o, "parameters", "%lld", (long long)in->n_parameters);
        if (!rc) rc = add_kv(o, "fingerprint", "%s", in->fingerprint);
        cm_encoder_free(e);
    }
    rc = cm_alloc_guard(rc, failures, "describing the model");
    if (rc) {
        cJSON_Delete(o);
        return rc;
    }
    *out = o;
    return CM_OK;
}

int cm_devices_describe(cJSON **out) {
    *out = NULL;
    int n = 0;
    CM_TRY(cm_gpu_count(&n));
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "devices") : NULL;
    int rc = arr && cJSON_AddStringToObject(o, "cuda", cm_gpu_built() ? "built" : "not built") ? CM_OK : CM_ERR_NOMEM;
    for (int i = 0; rc == CM_OK && i < n; i++) {
        cm_gpu_device dv;
        if ((rc = cm_gpu_device_info(i, &dv))) break;
        char cc[32];
        snprintf(cc, sizeof cc, "%d.%d", dv.cc_major, dv.cc_minor);
        cJSON *d = cJSON_CreateObject();
        if (!d || !cJSON_AddItemToArray(arr, d) || !cJSON_AddNumberToObject(d, "index", dv.index) ||
            !cJSON_AddStringToObject(d, "name", dv.name) ||
            !cJSON_AddNumberToObject(d, "memory_total", (double)dv.mem_total) ||
            !cJSON_AddNumberToObject(d, "memory_free", (double)dv.mem_free) ||
            !cJSON_AddStringToObject(d, "compute_capability", cc) ||
            !cJSON_AddNumberToObject(d, "sm_count", dv.sm_count))
            rc = CM_ERR_NOMEM;
    }
    if (rc) {
        cJSON_Delete(o);
        return rc == CM_ERR_NOMEM ? cm_error(CM_ERR_NOMEM, "out of memory describing the GPUs") : rc;
    }
    *out = o;
    return CM_OK;
}

int cm_encoder_init_backend(cm_encoder **out, const cm_backend_i *be, void *state, const cm_encoder_info *info) {
    *out = NULL;
    cm_encoder *e = cm_calloc(1, sizeof *e);
    if (!e) { be->free(state); return CM_ERR_NOMEM; }
    e->be = be;
    e->state = state;
    e->info = *info;
    CM_ASSERT(e->info.dim > 0 && e->info.name && e->info.fingerprint);
    if (!e->info.revision) e->info.revision = "no_revision_available";
    if (!e->info.loader) e->info.loader = be->scheme;
    *out = e;
    return CM_OK;
}

/* ---- caller-implemented encoders (cm_encoder_init_fn) ---------------------- */

typedef struct fn_state {
    cm_encode_fn encode;
    void        *ctx;
} fn_state;

static int fn_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    (void)state; (void)arg; (void)params; (void)info;
    return cm_error(CM_ERR_INTERNAL, "a caller-implemented encoder is made by cm_encoder_init_fn only");
}

static int fn_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                     float *out) {
    fn_state *s = state;
    return s->encode(s->ctx, texts, n, role, instruction, out);
}

static void fn_free(void *state) { free(state); }   /* the ctx is the caller's */

static const cm_backend_i fn_backend = {
    .scheme = "fn",
    .usage = "(a caller-implemented encoder, cm_encoder_init_fn)",
    .supported = 0,
    .init = fn_init, .encode = fn_encode, .free = fn_free,
};

int cm_encoder_init_fn(cm_encoder **out, cm_encode_fn encode, void *ctx, const cm_encoder_info *info) {
    *out = NULL;
    fn_state *s = cm_malloc(sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    s->encode = encode;
    s->ctx = ctx;
    return cm_encoder_init_backend(out, &fn_backend, s, info);
}

/* ---- encoding --------------------------------------------------------------- */

cm_pool_params cm_pool_default_params(void) {
    cm_pool_params p = {.pooling = NULL, .normalize = -1, .pool_instruction = -1};
    return p;
}

int cm_encoder_encode_pools(cm_encoder *e, const char *const *texts, size_t n, cm_role role,
                            const char *instruction, const cm_pool_params *pools, size_t npools,
                            float *const *outs) {
    if (!e->be->encode_pools)
        return cm_error(CM_ERR_UNSUPPORTED, "%s: the %s backend cannot pool one forward pass several ways",
                        e->info.name, e->be->scheme);
    if (n == 0 || npools == 0) return CM_OK;
    return e->be->encode_pools(e->state, texts, n, role, instruction, pools, npools, outs);
}

int cm_encoder_encode(cm_encoder *e, const char *const *texts, size_t n, cm_role role,
                      const char *instruction, float *out) {
    if (n == 0) return CM_OK;
    return e->be->encode(e->state, texts, n, role, instruction, out);
}

int cm_encoder_view(cm_encoder *e, const char *const *texts, size_t n, cm_role role, const char *instruction,
                    const float **rows) {
    if (!e->be->view) return CM_ERR_UNSUPPORTED;
    if (n == 0) return CM_OK;
    return e->be->view(e->state, texts, n, role, instruction, rows);
}

const cm_encoder_info *cm_encoder_get_info(const cm_encoder *e) { return &e->info; }
size_t cm_encoder_dim(const cm_encoder *e) { return e->info.dim; }

void cm_encoder_free(cm_encoder *e) {
    if (!e) return;
    e->be->free(e->state);
    free(e);
}
