/*
 * test_lowp.c: the bf16 and int8 matrix products of the CPU engine
 * (engine/nn/lowp.h, bf16.h cm_wmat_prepare / cm_wlinear_bias).
 *
 * Against numpy (tests/fixtures/lowp/cases.json, tests/reference/ref_lowp.py):
 *  - int8: the per-row scales of x and W, the int32 sums and y, bit for bit.
 *    Bit-exact is the right bar: the sums are exact integers (7-bit weights,
 *    8-bit activations never saturate), and the quantization and the
 *    dequantization are the same float32 operations in the same order (lowp.c
 *    is built without FMA contraction), which IEEE 754 rounds identically.
 *    Run with the portable kernel and with oneDNN, threads 1 and 2, strided
 *    x/y.
 *  - bf16: within 1e-5 of the reference row's norm (numpy sums in float64,
 *    we in float32 with OpenBLAS's or oneDNN's order).
 * Beyond the fixture: oneDNN vs portable int32 sums and y on larger random
 * shapes (identical bits), fp32 unchanged (cm_wlinear == one sgemm), int8 vs
 * fp32 error bound, bf16 rounding corner cases, dtype names, prepare on F32 and
 * BF16 inputs, NaN rows, and CM_ERR_NOMEM through the allocator hook.
 */
#include "check.h"
#include "fault.h"

#include <cblas.h>
#include <stdint.h>
#include <string.h>

#include "cmteb/util.h"
#include "engine/nn/bf16.h"
#include "engine/nn/dnnl_dl.h"
#include "engine/nn/lowp.h"

#ifdef __SANITIZE_ADDRESS__
/* LeakSanitizer's exit scan misreads the dynamic TLS that dlopen'ed libdnnl gives the OpenMP worker threads and
 * crashes ("Tracer caught signal 11", google/sanitizers#1322) after every check has passed; its documented
 * workaround is to stop intercepting __tls_get_addr (leak checking itself stays on). */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "intercept_tls_get_addr=0"; }
#endif

static int fbits_equal(const float *a, const float *b, size_t n, size_t *first) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0) {
            if (first) *first = i;
            return 0;
        }
    return 1;
}

static float *json_floats(const cJSON *c, const char *key, size_t n) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, key);
    if (!a || cJSON_GetArraySize(a) != (int)n) return NULL;
    float *v = malloc(n * sizeof *v);
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = (float)e->valuedouble;
    return v;
}

static int json_int(const cJSON *c, const char *key) {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(c, key);
    return e ? e->valueint : -1;
}

static void set_onednn(int on) {
    if (on) unsetenv("CMTEB_ONEDNN");
    else setenv("CMTEB_ONEDNN", "off", 1);
}

/* Random floats, N(0,1)-ish (sum of uniforms), deterministic. */
static uint64_t rng_state = 88172645463325252ull;
static float frand(void) {
    float s = 0;
    for (int i = 0; i < 4; i++) {
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        s += (float)(rng_state >> 40) / (float)(1 << 24) - 0.5f;
    }
    return s * 1.7f;
}

/* ---- the numpy fixture --------------------------------------------------------------------------------------- */

static void check_case(const cJSON *c, int have_dnnl) {
    const char *name = cJSON_GetObjectItemCaseSensitive(c, "name")->valuestring;
    size_t n = (size_t)json_int(c, "n"), K = (size_t)json_int(c, "K"), N = (size_t)json_int(c, "N");
    float beta = (float)json_int(c, "beta");
    float *x = json_floats(c, "x", n * K), *wf = json_floats(c, "w", N * K), *s_ref = json_floats(c, "s", n);
    float *scale_ref = json_floats(c, "scale", N), *y8_ref = json_floats(c, "y_int8", n * N);
    float *bias = cJSON_GetObjectItemCaseSensitive(c, "bias") ? json_floats(c, "bias", N) : NULL;
    float *y0 = beta != 0 ? json_floats(c, "y0", n * N) : NULL;
    const cJSON *acc_j = cJSON_GetObjectItemCaseSensitive(c, "acc"), *yb_j = cJSON_GetObjectItemCaseSensitive(c, "y_bf16");
    CHECK(x && wf && s_ref && scale_ref && y8_ref && acc_j && yb_j && (beta == 0 || y0));
    if (!(x && wf && s_ref && scale_ref && y8_ref && acc_j && yb_j && (beta == 0 || y0))) return;
    printf("case %s: n %zu, K %zu, N %zu, beta %g, bias %s\n", name, n, K, N, beta, bias ? "yes" : "no");

    /* weights: int8 scales bit for bit */
    cm_wmat w;
    cm_wmat_wrap_f32(&w, wf, N, K);
    CHECK_OK(cm_wmat_prepare(&w, CM_CPU_INT8));
    CHECK(w.type == CM_W_I8 && w.owned && w.scale && w.comp);
    CHECK(fbits_equal(w.scale, scale_ref, N, NULL));
    CHECK(cm_wmat_bytes(&w) == N * K + N * 8);

    /* activations: per-row scales bit for bit */
    uint8_t *u = malloc(n * K);
    float *s = malloc(n * sizeof *s);
    for (size_t m = 0; m < n; m++) cm_lowp_quantize_row(x + m * K, K, u + m * K, &s[m]);
    CHECK(fbits_equal(s, s_ref, n, NULL));

    /* int32 sums: exact, each kernel, threads 1 and 2 */
    int32_t *acc = malloc(n * N * sizeof *acc);
    for (int k = 0; k < 2; k++) {
        if (k == 1 && !have_dnnl) break;
        for (int th = 1; th <= 2; th++) {
            memset(acc, 0x55, n * N * sizeof *acc);
            CHECK_OK(cm_lowp_gemm_i8(k, u, &w, n, acc, N, th));
            size_t bad = 0, i = 0;
            const cJSON *e;
            cJSON_ArrayForEach(e, acc_j) bad += acc[i++] != (int32_t)e->valuedouble;
            if (bad) fprintf(stderr, "  %s: %s kernel, %d threads: %zu of %zu int32 sums differ from numpy\n", name,
                             k ? "oneDNN" : "portable", th, bad, n * N);
            CHECK(bad == 0);
        }
    }

    /* y through cm_wlinear_bias, strided x and y: bit for bit, both kernels, threads 1 and 2 */
    size_t ldx = K + 3, ldy = N + 5;
    float *xs = calloc(n * ldx, sizeof *xs), *ys = malloc(n * ldy * sizeof *ys), *yp = malloc(n * ldy * sizeof *yp);
    for (size_t m = 0; m < n; m++) memcpy(xs + m * ldx, x + m * K, K * sizeof *x);
    cm_wscratch ws = {0};
    for (int k = 0; k < 2; k++) {
        if (k == 1 && !have_dnnl) break;
        set_onednn(k);
        for (int th = 1; th <= 2; th++) {
            for (size_t i = 0; i < n * ldy; i++) ys[i] = -7.0f;   /* the padding must survive */
            if (y0)
                for (size_t m = 0; m < n; m++) memcpy(ys + m * ldy, y0 + m * N, N * sizeof *ys);
            CHECK_OK(cm_wlinear_bias(xs, ldx, &w, bias, n, ys, ldy, beta, th, NULL, th == 1 ? &ws : NULL));
            size_t bad = 0, pad = 0;
            double maxd = 0;
            for (size_t m = 0; m < n; m++) {
                for (size_t r = 0; r < N; r++) {
                    float a = ys[m * ldy + r], b = y8_ref[m * N + r];
                    if (memcmp(&a, &b, sizeof a)) { bad++; if (fabs(a - b) > maxd) maxd = fabs(a - b); }
                }
                for (size_t r = N; r < ldy; r++) pad += ys[m * ldy + r] != -7.0f;
            }
            if (bad) fprintf(stderr, "  %s: %s, %d threads: %zu of %zu y differ from numpy (max |diff| %g)\n", name,
                             k ? "oneDNN" : "portable", th, bad, n * N, maxd);
            CHECK(bad == 0);
            CHECK(pad == 0);
            if (k == 0 && th == 1) memcpy(yp, ys, n * ldy * sizeof *ys);
            else CHECK(memcmp(yp, ys, n * ldy * sizeof *ys) == 0);   /* identical vectors on every kernel */
        }
    }
    set_onednn(1);

    /* bf16: x and W rounded (RNE), float32 products; within 1e-5 of the reference row's norm */
    cm_wmat wb;
    cm_wmat_wrap_f32(&wb, wf, N, K);
    CHECK_OK(cm_wmat_prepare(&wb, CM_CPU_BF16));
    CHECK(wb.type == CM_W_BF16 && wb.owned && cm_wmat_bytes(&wb) == N * K * 2);
    cm_wlinear_params lp = cm_wlinear_default_params();
    lp.dtype = CM_CPU_BF16;
    for (int th = 1; th <= 2; th++) {
        if (y0)
            for (size_t m = 0; m < n; m++) memcpy(ys + m * ldy, y0 + m * N, N * sizeof *ys);
        CHECK_OK(cm_wlinear_bias(xs, ldx, &wb, bias, n, ys, ldy, beta, th, &lp, &ws));
        double worst = 0;
        for (size_t m = 0; m < n; m++) {
            double norm = 0, d = 0;
            for (size_t r = 0; r < N; r++) {
                double ref = cJSON_GetArrayItem(yb_j, (int)(m * N + r))->valuedouble;
                norm += ref * ref;
                if (fabs(ys[m * ldy + r] - ref) > d) d = fabs(ys[m * ldy + r] - ref);
            }
            norm = sqrt(norm);
            double rel = norm > 0 ? d / norm : d;
            if (rel > worst) worst = rel;
        }
        if (worst > 1e-5) fprintf(stderr, "  %s: bf16, %d threads: max |diff| / row norm %g\n", name, th, worst);
        CHECK(worst <= 1e-5);
    }
    cm_wscratch_free(&ws);
    cm_wmat_free(&wb);
    cm_wmat_free(&w);
    free(x); free(wf); free(s_ref); free(scale_ref); free(y8_ref); free(bias); free(y0);
    free(u); free(s); free(acc); free(xs); free(ys); free(yp);
}

/* ---- larger random shapes: oneDNN vs portable, int8 vs fp32, fp32 unchanged ------------------------------------ */

static void check_random(size_t n, size_t K, size_t N, int have_dnnl) {
    float *x = malloc(n * K * sizeof *x), *wf = malloc(N * K * sizeof *wf), *bias = malloc(N * sizeof *bias);
    for (size_t i = 0; i < n * K; i++) x[i] = frand();
    for (size_t i = 0; i < N * K; i++) wf[i] = frand() * 0.05f;
    for (size_t i = 0; i < N; i++) bias[i] = frand() * 0.1f;
    float *y32 = malloc(n * N * sizeof *y32), *ya = malloc(n * N * sizeof *ya), *yb = malloc(n * N * sizeof *yb);
    float *yref = malloc(n * N * sizeof *yref);

    /* fp32 unchanged: cm_wlinear on F32 weights is one sgemm, cm_wlinear_bias adds the bias after it */
    cm_wmat w32;
    cm_wmat_wrap_f32(&w32, wf, N, K);
    CHECK_OK(cm_wmat_prepare(&w32, CM_CPU_FP32));
    CHECK(w32.type == CM_W_F32 && w32.data == wf && !w32.owned);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)N, (blasint)K, 1.0f, x, (blasint)K, wf,
                (blasint)K, 0.0f, yref, (blasint)N);
    CHECK_OK(cm_wlinear(x, K, &w32, n, y32, N, 0.0f, 1, NULL, NULL));
    CHECK(fbits_equal(y32, yref, n * N, NULL));
    for (size_t m = 0; m < n; m++)
        for (size_t r = 0; r < N; r++) yref[m * N + r] += bias[r];
    CHECK_OK(cm_wlinear_bias(x, K, &w32, bias, n, ya, N, 0.0f, 1, NULL, NULL));
    CHECK(fbits_equal(ya, yref, n * N, NULL));

    /* int8: oneDNN and portable give the same bits; the error against fp32 is small */
    cm_wmat w8;
    cm_wmat_wrap_f32(&w8, wf, N, K);
    CHECK_OK(cm_wmat_prepare(&w8, CM_CPU_INT8));
    cm_wscratch ws = {0};
    set_onednn(0);
    CHECK_OK(cm_wlinear_bias(x, K, &w8, bias, n, ya, N, 0.0f, 2, NULL, &ws));
    if (have_dnnl) {
        for (int th = 1; th <= 2; th++) {
            set_onednn(1);
            CHECK_OK(cm_wlinear_bias(x, K, &w8, bias, n, yb, N, 0.0f, th, NULL, &ws));
            size_t first = 0;
            int same = fbits_equal(ya, yb, n * N, &first);
            if (!same) fprintf(stderr, "  random (%zu x %zu x %zu), %d threads: oneDNN %g vs portable %g at %zu\n", n, K,
                               N, th, yb[first], ya[first], first);
            CHECK(same);
        }
    }
    set_onednn(1);
    double worst = 0;
    for (size_t m = 0; m < n; m++) {
        double e = 0, t = 0;
        for (size_t r = 0; r < N; r++) {
            double d = (double)ya[m * N + r] - yref[m * N + r];
            e += d * d;
            t += (double)yref[m * N + r] * yref[m * N + r];
        }
        if (sqrt(e / t) > worst) worst = sqrt(e / t);
    }
    printf("random (%zu x %zu x %zu): int8 vs fp32, worst row relative L2 error %.4f\n", n, K, N, worst);
    CHECK(worst < 0.04);   /* ~0.7% from 8-bit x, ~1.5% from 7-bit W on Gaussian data; 8-bit W would be ~2x smaller */
    CHECK(worst > 1e-4);   /* and it is not the fp32 path */

    /* BF16 weights: dtype FP32 keeps x unrounded (the existing path), dtype BF16 rounds it */
    cm_wmat wb;
    cm_wmat_wrap_f32(&wb, wf, N, K);
    CHECK_OK(cm_wmat_prepare(&wb, CM_CPU_BF16));
    float *wbf = malloc(N * K * sizeof *wbf), *xr = malloc(n * K * sizeof *xr);
    for (size_t r = 0; r < N; r++) cm_wmat_row(&wb, r, wbf + r * K);
    for (size_t i = 0; i < n * K; i++) xr[i] = cm_bf16_to_f32(cm_lowp_bf16(x[i]));
    cm_wlinear_params lp = cm_wlinear_default_params();
    for (int d = 0; d < 2; d++) {
        lp.dtype = d ? CM_CPU_BF16 : CM_CPU_FP32;
        const float *xin = d ? xr : x;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)N, (blasint)K, 1.0f, xin,
                    (blasint)K, wbf, (blasint)K, 0.0f, yref, (blasint)N);
        CHECK_OK(cm_wlinear(x, K, &wb, n, ya, N, 0.0f, 2, &lp, &ws));
        double maxrel = 0;
        for (size_t m = 0; m < n; m++) {
            double norm = 0, md = 0;
            for (size_t r = 0; r < N; r++) {
                norm += (double)yref[m * N + r] * yref[m * N + r];
                if (fabs((double)ya[m * N + r] - yref[m * N + r]) > md) md = fabs((double)ya[m * N + r] - yref[m * N + r]);
            }
            if (md / sqrt(norm) > maxrel) maxrel = md / sqrt(norm);
        }
        if (maxrel > 1e-5) fprintf(stderr, "  random bf16 weights, dtype %s: %g\n", d ? "bf16" : "fp32", maxrel);
        CHECK(maxrel <= 1e-5);
    }
    free(wbf); free(xr);
    cm_wmat_free(&wb);
    cm_wscratch_free(&ws);
    cm_wmat_free(&w8);
    cm_wmat_free(&w32);
    free(x); free(wf); free(bias); free(y32); free(ya); free(yb); free(yref);
}

/* ---- the rest --------------------------------------------------------------------------------------------------- */

static void check_bf16_rounding(void) {
    static const struct { uint32_t in; uint16_t out; } t[] = {
        {0x3f800000u, 0x3f80}, {0x3f808000u, 0x3f80},   /* tie, even below: down */
        {0x3f818000u, 0x3f82},                          /* tie, odd below: up */
        {0x3f808001u, 0x3f81}, {0x3f807fffu, 0x3f80},
        {0xbf818000u, 0xbf82},                          /* sign kept */
        {0x7f7fffffu, 0x7f80},                          /* max float rounds to +inf */
        {0x7f800000u, 0x7f80}, {0xff800000u, 0xff80},   /* infinities */
        {0x00000001u, 0x0000},                          /* tiny denormal to zero */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        float f;
        memcpy(&f, &t[i].in, 4);
        CHECK(cm_lowp_bf16(f) == t[i].out);
        CHECK(cm_lowp_bf16(f) == cm_f32_to_bf16(f));   /* core's conversion agrees */
    }
    float nan;
    uint32_t nb = 0x7f800001u;   /* a NaN whose payload is in the low bits only: must stay NaN */
    memcpy(&nan, &nb, 4);
    CHECK(isnan(cm_bf16_to_f32(cm_lowp_bf16(nan))));
}

static void check_names(void) {
    cm_cpu_dtype d = CM_CPU_INT8;
    CHECK_OK(cm_cpu_dtype_parse("fp32", &d)); CHECK(d == CM_CPU_FP32);
    CHECK_OK(cm_cpu_dtype_parse("bfloat16", &d)); CHECK(d == CM_CPU_BF16);
    CHECK_OK(cm_cpu_dtype_parse("float32", &d)); CHECK(d == CM_CPU_FP32);
    CHECK_OK(cm_cpu_dtype_parse("int8", &d)); CHECK(d == CM_CPU_INT8);
    CHECK_OK(cm_cpu_dtype_parse("bf16", &d)); CHECK(d == CM_CPU_BF16);
    const char *bad[] = {"fp16", "", "INT8x", "int4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = CM_CPU_INT8;
        CHECK(cm_cpu_dtype_parse(bad[i], &d) == CM_ERR_ARG);
        CHECK(d == CM_CPU_INT8);
        char want[32];
        snprintf(want, sizeof want, "'%s'", bad[i]);
        CHECK(strstr(cm_last_error(), want) && strstr(cm_last_error(), "fp32") && strstr(cm_last_error(), "int8"));
    }
    CHECK(cm_cpu_dtype_parse(NULL, &d) == CM_ERR_ARG);
    CHECK(!strcmp(cm_cpu_dtype_name(CM_CPU_FP32), "fp32") && !strcmp(cm_cpu_dtype_name(CM_CPU_BF16), "bf16") &&
          !strcmp(cm_cpu_dtype_name(CM_CPU_INT8), "int8"));
    set_onednn(0);   /* asked first with oneDNN off: the names must still follow it once it is on */
    CHECK(!strcmp(cm_cpu_dtype_backend(CM_CPU_INT8), "portable C"));
    CHECK(!strcmp(cm_cpu_dtype_backend(CM_CPU_BF16), "convert + OpenBLAS sgemm"));
    set_onednn(1);
    for (int k = 0; k < 3; k++) printf("backend %s: %s\n", cm_cpu_dtype_name((cm_cpu_dtype)k),
                                       cm_cpu_dtype_backend((cm_cpu_dtype)k));
    CHECK(!strcmp(cm_cpu_dtype_backend(CM_CPU_FP32), "OpenBLAS sgemm"));
    if (cm_dnnl_available()) {
        CHECK(strncmp(cm_cpu_dtype_backend(CM_CPU_INT8), "oneDNN 2.", 9) == 0 &&
              strstr(cm_cpu_dtype_backend(CM_CPU_INT8), "u8s8s32 (") != NULL);
        const char *b = cm_cpu_dtype_backend(CM_CPU_BF16);
        CHECK(cm_dnnl_matmul_ok(CM_DNNL_BF16) ? strstr(b, "bf16 matmul") != NULL
                                              : !strcmp(b, "convert + OpenBLAS sgemm"));
    } else CHECK(!strcmp(cm_cpu_dtype_backend(CM_CPU_INT8), "portable C"));
}

static void check_prepare(void) {
    enum { R = 6, C = 19 };
    float wf[R * C];
    for (int i = 0; i < R * C; i++) wf[i] = frand();
    for (int k = 0; k < C; k++) wf[2 * C + k] = 0.0f;   /* an all-zero row */
    wf[4 * C + 3] = 1e30f;                              /* a row dominated by one huge value */

    /* BF16 weights (as a checkpoint holds them) -> INT8 equals F32 (the bf16 values) -> INT8 */
    uint16_t *bits = cm_malloc(R * C * sizeof *bits);
    float wr[R * C];
    for (int i = 0; i < R * C; i++) {
        bits[i] = cm_lowp_bf16(wf[i]);
        wr[i] = cm_bf16_to_f32(bits[i]);
    }
    cm_wmat wb = {.type = CM_W_BF16, .data = bits, .rows = R, .cols = C, .owned = bits};
    cm_wmat wf8;
    cm_wmat_wrap_f32(&wf8, wr, R, C);
    CHECK_OK(cm_wmat_prepare(&wb, CM_CPU_BF16));   /* BF16 kept as is */
    CHECK(wb.type == CM_W_BF16 && wb.data == bits);
    CHECK_OK(cm_wmat_prepare(&wb, CM_CPU_INT8));
    CHECK_OK(cm_wmat_prepare(&wf8, CM_CPU_INT8));
    CHECK(wb.type == CM_W_I8 && wf8.type == CM_W_I8);
    CHECK(memcmp(wb.data, wf8.data, R * C) == 0 && memcmp(wb.scale, wf8.scale, R * sizeof(float)) == 0 &&
          memcmp(wb.comp, wf8.comp, R * sizeof(int32_t)) == 0);
    CHECK(wb.scale[2] == 0.0f && wb.comp[2] == 0);
    const int8_t *q = wb.data;
    int lo = 0, hi = 0, ok = 1;
    for (int r = 0; r < R; r++) {
        int32_t sum = 0;
        for (int k = 0; k < C; k++) {
            sum += q[r * C + k];
            lo = q[r * C + k] < lo ? q[r * C + k] : lo;
            hi = q[r * C + k] > hi ? q[r * C + k] : hi;
        }
        ok &= wb.comp[r] == -128 * sum;
    }
    CHECK(ok && lo >= -63 && hi <= 63 && (lo == -63 || hi == 63));
    CHECK(q[4 * C + 3] == 63);
    /* dequantized rows are within half a step of the input */
    float row[C];
    double worst = 0;
    for (int r = 0; r < R; r++) {
        cm_wmat_row(&wb, (size_t)r, row);
        for (int k = 0; k < C; k++) {
            double e = fabs((double)row[k] - wr[r * C + k]) / (wb.scale[r] > 0 ? wb.scale[r] : 1);
            if (e > worst) worst = e;
        }
    }
    CHECK(worst <= 0.5 + 1e-6);
    CHECK_OK(cm_wmat_prepare(&wb, CM_CPU_INT8));   /* I8 kept */
    CHECK(cm_wmat_prepare(&wb, CM_CPU_BF16) == CM_ERR_ARG);
    cm_wmat_free(&wb);
    cm_wmat_free(&wf8);
    cm_wmat_free(NULL);

    /* F32 -> BF16: RNE bits, owned copy, the borrowed input untouched */
    float keep[R * C];
    memcpy(keep, wf, sizeof keep);
    cm_wmat w;
    cm_wmat_wrap_f32(&w, wf, R, C);
    CHECK_OK(cm_wmat_prepare(&w, CM_CPU_BF16));
    CHECK(w.type == CM_W_BF16 && w.owned && w.data != (const void *)wf && !memcmp(keep, wf, sizeof keep));
    int same = 1;
    for (int i = 0; i < R * C; i++) same &= ((const uint16_t *)w.data)[i] == cm_f32_to_bf16(wf[i]);
    CHECK(same);
    /* BF16 (owned) -> INT8 frees the bf16 copy (ASan would report a leak otherwise) */
    CHECK_OK(cm_wmat_prepare(&w, CM_CPU_INT8));
    CHECK(w.type == CM_W_I8 && cm_wmat_bytes(&w) == R * C + R * 8);
    cm_wmat_free(&w);

    /* a NaN in a row of x makes that row of y NaN, the others finite */
    float x[3 * C];
    for (int i = 0; i < 3 * C; i++) x[i] = frand();
    x[C + 5] = NAN;
    cm_wmat_wrap_f32(&w, keep, R, C);
    CHECK_OK(cm_wmat_prepare(&w, CM_CPU_INT8));
    float y[3 * R];
    CHECK_OK(cm_wlinear_bias(x, C, &w, NULL, 3, y, R, 0.0f, 1, NULL, NULL));
    int nan_ok = 1;
    for (int r = 0; r < R; r++) nan_ok &= isnan(y[R + r]) && !isnan(y[r]) && !isnan(y[2 * R + r]);
    CHECK(nan_ok);
    cm_wmat_free(&w);
}

static void check_nomem(void) {
    enum { R = 8, C = 40 };
    float wf[R * C], x[2 * C], y[2 * R];
    for (int i = 0; i < R * C; i++) wf[i] = frand();
    for (int i = 0; i < 2 * C; i++) x[i] = frand();
    /* prepare INT8: each of its allocations failing leaves w as it was */
    for (long k = 1; k <= 3; k++) {
        cm_wmat w;
        cm_wmat_wrap_f32(&w, wf, R, C);
        fault_arm(k);
        int rc = cm_wmat_prepare(&w, CM_CPU_INT8);
        long injected = fault_injected;
        fault_disarm();
        CHECK(injected == 1 && rc == CM_ERR_NOMEM);
        CHECK(w.type == CM_W_F32 && w.data == wf && !w.owned && !w.scale && !w.comp);
        CHECK(strstr(cm_last_error(), "int8") != NULL);
    }
    /* prepare BF16 */
    cm_wmat w;
    cm_wmat_wrap_f32(&w, wf, R, C);
    fault_arm(1);
    CHECK(cm_wmat_prepare(&w, CM_CPU_BF16) == CM_ERR_NOMEM);
    fault_disarm();
    CHECK(w.type == CM_W_F32 && w.data == wf && !w.owned);
    /* the int8 product's scratch */
    CHECK_OK(cm_wmat_prepare(&w, CM_CPU_INT8));
    fault_arm(1);
    int rc = cm_wlinear_bias(x, C, &w, NULL, 2, y, R, 0.0f, 1, NULL, NULL);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM);
    cm_wmat_free(&w);
    /* the bf16 product's rounded activations */
    cm_wmat_wrap_f32(&w, wf, R, C);
    CHECK_OK(cm_wmat_prepare(&w, CM_CPU_BF16));
    cm_wlinear_params lp = cm_wlinear_default_params();
    lp.dtype = CM_CPU_BF16;
    fault_arm(1);
    rc = cm_wlinear_bias(x, C, &w, NULL, 2, y, R, 0.0f, 1, &lp, NULL);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM);
    cm_wmat_free(&w);
}

int main(void) {
    check_names();   /* first: cm_cpu_dtype_backend's names are built on first use */
    unsetenv("CMTEB_ONEDNN");
    int have_dnnl = cm_dnnl_available();
    if (have_dnnl) printf("oneDNN %s (%s) loaded\n", cm_dnnl_version(), cm_dnnl_isa());
    else printf("oneDNN not used: %s (portable kernels only)\n", cm_dnnl_why());
    if (have_dnnl) {
        int bf = cm_dnnl_matmul_ok(CM_DNNL_BF16);
        printf("oneDNN bf16 matmul on this CPU: %s\n",
               bf ? "yes" : "no (needs avx512_core; the bf16 path uses convert + OpenBLAS sgemm here)");
        /* the matmul plumbing (strides, transposed weights) on the float32 variant, which every CPU has */
        CHECK(cm_dnnl_matmul_ok(CM_DNNL_F32));
        enum { M = 5, N = 7, K = 11, LX = 13, LY = 9 };
        float x[M * LX], W[N * K], y[M * LY];
        for (int i = 0; i < M * LX; i++) x[i] = frand();
        for (int i = 0; i < N * K; i++) W[i] = frand();
        for (int i = 0; i < M * LY; i++) y[i] = -3.0f;
        CHECK_OK(cm_dnnl_matmul(CM_DNNL_F32, M, N, K, x, LX, W, K, y, LY, 2));
        double md = 0;
        int pad = 1;
        for (int m = 0; m < M; m++) {
            for (int r = 0; r < N; r++) {
                double s = 0;
                for (int k = 0; k < K; k++) s += (double)x[m * LX + k] * W[r * K + k];
                if (fabs(y[m * LY + r] - s) > md) md = fabs(y[m * LY + r] - s);
            }
            for (int r = N; r < LY; r++) pad &= y[m * LY + r] == -3.0f;
        }
        CHECK(md < 1e-4 && pad);
        if (!bf) CHECK(cm_dnnl_matmul(CM_DNNL_BF16, M, N, K, x, LX, W, K, y, LY, 1) == CM_ERR_UNSUPPORTED);
        /* oneDNN's offsetc: co is added per output column (one value per weight row), checked on a tiny case */
        uint8_t u[2 * 3] = {1, 2, 3, 4, 5, 6};
        int8_t q[2 * 3] = {1, 0, -1, 2, 2, 2};
        int32_t co[2] = {100, -1000}, acc[2 * 2];
        CHECK_OK(cm_dnnl_gemm_u8s8s32(2, 2, 3, u, 3, q, 3, acc, 2, co, 1));
        CHECK(acc[0] == 1 - 3 + 100 && acc[1] == 12 - 1000 && acc[2] == 4 - 6 + 100 && acc[3] == 30 - 1000);
    }

    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/lowp/cases.json", check_env("CMTEB_SRC"));
    cJSON *j = check_load_json(path);
    CHECK(j != NULL);
    if (j) {
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(j, "cases")) check_case(c, have_dnnl);
        cJSON_Delete(j);
    }
    check_random(1, 384, 1536, have_dnnl);
    check_random(3, 100, 70, have_dnnl);
    check_random(37, 384, 384, have_dnnl);
    check_random(130, 768, 515, have_dnnl);
    check_bf16_rounding();
    check_prepare();
    check_nomem();
    return check_report();
}
