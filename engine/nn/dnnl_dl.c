/* dnnl_dl.c: oneDNN loaded with dlopen on first use, and the two operations lowp.c asks of it (dnnl_dl.h). */
#include "engine/nn/dnnl_dl.h"

#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"

/* "off" (any case) in CMTEB_ONEDNN forces the portable kernels. */
static int dnnl_disabled_by_env(void) {
    const char *e = getenv("CMTEB_ONEDNN");
    return e && strcasecmp(e, "off") == 0;
}

#ifndef CMTEB_HAVE_DNNL_H

int         cm_dnnl_available(void) { return 0; }
const char *cm_dnnl_why(void) {
    return dnnl_disabled_by_env() ? "CMTEB_ONEDNN=off" : "built without oneDNN (oneapi/dnnl/dnnl.h not found)";
}
const char *cm_dnnl_version(void) { return ""; }
const char *cm_dnnl_isa(void) { return ""; }
int         cm_dnnl_matmul_ok(cm_dnnl_dt dt) { (void)dt; return 0; }

int cm_dnnl_gemm_u8s8s32(size_t M, size_t N, size_t K, const uint8_t *A, size_t lda, const int8_t *B, size_t ldb,
                         int32_t *C, size_t ldc, const int32_t *co, int threads) {
    (void)M; (void)N; (void)K; (void)A; (void)lda; (void)B; (void)ldb; (void)C; (void)ldc; (void)co; (void)threads;
    return cm_error(CM_ERR_UNSUPPORTED, "oneDNN: %s", cm_dnnl_why());
}

int cm_dnnl_matmul(cm_dnnl_dt dt, size_t M, size_t N, size_t K, const void *x, size_t ldx, const void *W,
                   size_t ldw, float *y, size_t ldy, int threads) {
    (void)dt; (void)M; (void)N; (void)K; (void)x; (void)ldx; (void)W; (void)ldw; (void)y; (void)ldy; (void)threads;
    return cm_error(CM_ERR_UNSUPPORTED, "oneDNN: %s", cm_dnnl_why());
}

#else

#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>

/* The entry points we resolve, typed from the header. */
#define DNNL_FUNCTIONS(X)                                                                                          \
    X(dnnl_version) X(dnnl_get_effective_cpu_isa) X(dnnl_gemm_u8s8s32) X(dnnl_engine_create)                     \
    X(dnnl_stream_create) X(dnnl_stream_wait) X(dnnl_stream_destroy) X(dnnl_memory_desc_init_by_strides)         \
    X(dnnl_matmul_desc_init) X(dnnl_primitive_desc_create) X(dnnl_primitive_desc_destroy)                        \
    X(dnnl_primitive_create) X(dnnl_primitive_destroy) X(dnnl_primitive_execute) X(dnnl_memory_create)           \
    X(dnnl_memory_destroy)

static struct {
#define DNNL_FIELD(f) __typeof__(f) *f;
    DNNL_FUNCTIONS(DNNL_FIELD)
#undef DNNL_FIELD
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int            load_ok;
static char           load_why[512];
static char           version[32];
static const char    *isa = "";
static dnnl_engine_t  engine;

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch ((int)isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "isa ?";
    }
}

static void load(void) {
    void *h = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        snprintf(load_why, sizeof load_why, "cannot load libdnnl.so.2 (Debian: apt-get install libdnnl-dev): %s",
                 e ? e : "?");
        return;
    }
#define DNNL_RESOLVE(f)                                                                                            \
    api.f = (__typeof__(f) *)dlsym(h, #f);                                                                         \
    if (!api.f) {                                                                                                  \
        snprintf(load_why, sizeof load_why, "libdnnl.so.2 has no %s (oneDNN 2.x is needed)", #f);                \
        return;                                                                                                    \
    }
    DNNL_FUNCTIONS(DNNL_RESOLVE)
#undef DNNL_RESOLVE
    const dnnl_version_t *v = api.dnnl_version();
    if (!v || v->major != 2) {
        snprintf(load_why, sizeof load_why, "libdnnl.so.2 is oneDNN %d.%d, this build needs 2.x", v ? v->major : -1,
                 v ? v->minor : -1);
        return;
    }
    if (api.dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) {
        snprintf(load_why, sizeof load_why, "oneDNN could not create its CPU engine");
        return;
    }
    snprintf(version, sizeof version, "%d.%d.%d", v->major, v->minor, v->patch);
    isa = isa_name(api.dnnl_get_effective_cpu_isa());
    load_ok = 1;   /* the handle and the engine stay for the life of the process */
}

int cm_dnnl_available(void) {
    if (dnnl_disabled_by_env()) return 0;
    pthread_once(&load_once, load);
    return load_ok;
}

const char *cm_dnnl_why(void) {
    if (dnnl_disabled_by_env()) return "CMTEB_ONEDNN=off";
    pthread_once(&load_once, load);
    return load_ok ? "" : load_why;
}

const char *cm_dnnl_version(void) { return cm_dnnl_available() ? version : ""; }
const char *cm_dnnl_isa(void) { return cm_dnnl_available() ? isa : ""; }

/* oneDNN's OpenMP build sizes its parallel regions with omp_get_max_threads(). */
static int threads_push(int threads) {
    int prev = omp_get_max_threads();
    if (threads < 1) threads = 1;
    if (threads != prev) omp_set_num_threads(threads);
    return prev;
}
static void threads_pop(int prev) {
    if (omp_get_max_threads() != prev) omp_set_num_threads(prev);
}

int cm_dnnl_gemm_u8s8s32(size_t M, size_t N, size_t K, const uint8_t *A, size_t lda, const int8_t *B, size_t ldb,
                         int32_t *C, size_t ldc, const int32_t *co, int threads) {
    if (!cm_dnnl_available()) return cm_error(CM_ERR_UNSUPPORTED, "oneDNN: %s", cm_dnnl_why());
    int prev = threads_push(threads);
    /* Row-major C = A . op(B) + co with B transposed ('T': B is (N, K)); offsetc 'R' adds co[j] to column j of
     * every row (oneDNN: "an individual offset ... within each row", co of length N; tests/unit/test_lowp.c). */
    dnnl_status_t st = api.dnnl_gemm_u8s8s32('N', 'T', 'R', (dnnl_dim_t)M, (dnnl_dim_t)N, (dnnl_dim_t)K, 1.0f, A,
                                             (dnnl_dim_t)lda, 0, B, (dnnl_dim_t)ldb, 0, 0.0f, C, (dnnl_dim_t)ldc, co);
    threads_pop(prev);
    if (st != dnnl_success)
        return cm_error(CM_ERR_INTERNAL, "oneDNN dnnl_gemm_u8s8s32 (M %zu, N %zu, K %zu) failed with status %d", M, N,
                        K, (int)st);
    return CM_OK;
}

/* Builds the matmul primitive of (M, N, K) for dt; *pd and *prim are set on success (caller destroys both). */
static dnnl_status_t matmul_create(cm_dnnl_dt dt, size_t M, size_t N, size_t K, size_t ldx, size_t ldw, size_t ldy,
                                   dnnl_primitive_desc_t *pd, dnnl_primitive_t *prim) {
    dnnl_data_type_t t = dt == CM_DNNL_BF16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t src, wei, dst;
    dnnl_dims_t sd = {(dnnl_dim_t)M, (dnnl_dim_t)K}, ss = {(dnnl_dim_t)ldx, 1};
    dnnl_dims_t wd = {(dnnl_dim_t)K, (dnnl_dim_t)N}, ws = {1, (dnnl_dim_t)ldw};   /* W^T: a (K, N) view of W */
    dnnl_dims_t dd = {(dnnl_dim_t)M, (dnnl_dim_t)N}, ds = {(dnnl_dim_t)ldy, 1};
    dnnl_status_t st;
    if ((st = api.dnnl_memory_desc_init_by_strides(&src, 2, sd, t, ss)) != dnnl_success) return st;
    if ((st = api.dnnl_memory_desc_init_by_strides(&wei, 2, wd, t, ws)) != dnnl_success) return st;
    if ((st = api.dnnl_memory_desc_init_by_strides(&dst, 2, dd, dnnl_f32, ds)) != dnnl_success) return st;
    dnnl_matmul_desc_t md;
    if ((st = api.dnnl_matmul_desc_init(&md, &src, &wei, NULL, &dst)) != dnnl_success) return st;
    if ((st = api.dnnl_primitive_desc_create(pd, &md, NULL, engine, NULL)) != dnnl_success) return st;
    if ((st = api.dnnl_primitive_create(prim, *pd)) != dnnl_success) {
        api.dnnl_primitive_desc_destroy(*pd);
        *pd = NULL;
        *prim = NULL;
        return st;
    }
    return dnnl_success;
}

static pthread_once_t probe_once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};
static int            probe_ok[2];
static void probe(cm_dnnl_dt dt) {
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    if (matmul_create(dt, 64, 64, 64, 64, 64, 64, &pd, &prim) != dnnl_success) return;
    api.dnnl_primitive_destroy(prim);
    api.dnnl_primitive_desc_destroy(pd);
    probe_ok[dt] = 1;
}
static void probe_f32(void) { probe(CM_DNNL_F32); }
static void probe_bf16(void) { probe(CM_DNNL_BF16); }

int cm_dnnl_matmul_ok(cm_dnnl_dt dt) {
    if (!cm_dnnl_available()) return 0;
    pthread_once(&probe_once[dt == CM_DNNL_BF16], dt == CM_DNNL_BF16 ? probe_bf16 : probe_f32);
    return probe_ok[dt == CM_DNNL_BF16];
}

int cm_dnnl_matmul(cm_dnnl_dt dt, size_t M, size_t N, size_t K, const void *x, size_t ldx, const void *W,
                   size_t ldw, float *y, size_t ldy, int threads) {
    if (!cm_dnnl_matmul_ok(dt))
        return cm_error(CM_ERR_UNSUPPORTED, "oneDNN: no %s matmul on this CPU%s%s", dt == CM_DNNL_BF16 ? "bf16" : "f32",
                        *cm_dnnl_why() ? ": " : "", cm_dnnl_why());
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_memory_t mem[3] = {NULL, NULL, NULL};
    dnnl_stream_t stream = NULL;
    dnnl_status_t st = matmul_create(dt, M, N, K, ldx, ldw, ldy, &pd, &prim);
    if (st == dnnl_success) {
        dnnl_memory_desc_t src, wei, dst;
        dnnl_data_type_t t = dt == CM_DNNL_BF16 ? dnnl_bf16 : dnnl_f32;
        dnnl_dims_t sd = {(dnnl_dim_t)M, (dnnl_dim_t)K}, ss = {(dnnl_dim_t)ldx, 1};
        dnnl_dims_t wd = {(dnnl_dim_t)K, (dnnl_dim_t)N}, ws = {1, (dnnl_dim_t)ldw};
        dnnl_dims_t dd = {(dnnl_dim_t)M, (dnnl_dim_t)N}, ds = {(dnnl_dim_t)ldy, 1};
        if ((st = api.dnnl_memory_desc_init_by_strides(&src, 2, sd, t, ss)) == dnnl_success &&
            (st = api.dnnl_memory_desc_init_by_strides(&wei, 2, wd, t, ws)) == dnnl_success &&
            (st = api.dnnl_memory_desc_init_by_strides(&dst, 2, dd, dnnl_f32, ds)) == dnnl_success &&
            (st = api.dnnl_memory_create(&mem[0], &src, engine, (void *)x)) == dnnl_success &&
            (st = api.dnnl_memory_create(&mem[1], &wei, engine, (void *)W)) == dnnl_success &&
            (st = api.dnnl_memory_create(&mem[2], &dst, engine, y)) == dnnl_success &&
            (st = api.dnnl_stream_create(&stream, engine, dnnl_stream_default_flags)) == dnnl_success) {
            dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, mem[0]}, {DNNL_ARG_WEIGHTS, mem[1]}, {DNNL_ARG_DST, mem[2]}};
            int prev = threads_push(threads);
            st = api.dnnl_primitive_execute(prim, stream, 3, args);
            if (st == dnnl_success) st = api.dnnl_stream_wait(stream);
            threads_pop(prev);
        }
    }
    if (stream) api.dnnl_stream_destroy(stream);
    for (int i = 0; i < 3; i++)
        if (mem[i]) api.dnnl_memory_destroy(mem[i]);
    if (prim) api.dnnl_primitive_destroy(prim);
    if (pd) api.dnnl_primitive_desc_destroy(pd);
    if (st != dnnl_success)
        return cm_error(CM_ERR_INTERNAL, "oneDNN %s matmul (M %zu, N %zu, K %zu) failed with status %d",
                        dt == CM_DNNL_BF16 ? "bf16" : "f32", M, N, K, (int)st);
    return CM_OK;
}

#endif
