/* head_latent.c: the trainable latent-attention head (NV-Embed, as engine/arch/latent.h computes it) forward
 * and backward over one sequence's pooled rows, float32 with OpenBLAS. Tensor order: head.c build_table. */
#include "engine/train/head_int.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"

enum { T_LAT, T_LNC_G, T_LNC_B, T_KV, T_LN0_G, T_LN0_B, T_Q, T_OUT, T_LN1_G, T_LN1_B, T_N0, T_B0, T_N2, T_B2 };

#define GEMM(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)                                             \
    cblas_sgemm(CblasRowMajor, ta, tb, (int)(m), (int)(n), (int)(k), alpha, A, (int)(lda), B, (int)(ldb), beta,  \
                C, (int)(ldc))
#define NT CblasNoTrans
#define TR CblasTrans

/* y = LN(x) g + b per row (n, d), eps 1e-5; keeps xhat (n, d) and rstd (n). */
static void ln_fwd(const float *x, size_t n, size_t d, const float *g, const float *b, float *y, float *xhat,
                   float *rstd) {
    for (size_t i = 0; i < n; i++) {
        const float *r = x + i * d;
        double mu = 0, var = 0;
        for (size_t j = 0; j < d; j++) mu += r[j];
        mu /= (double)d;
        for (size_t j = 0; j < d; j++) var += (r[j] - mu) * (r[j] - mu);
        double rs = 1.0 / sqrt(var / (double)d + 1e-5);
        rstd[i] = (float)rs;
        for (size_t j = 0; j < d; j++) {
            float xh = (float)((r[j] - mu) * rs);
            xhat[i * d + j] = xh;
            y[i * d + j] = xh * g[j] + b[j];
        }
    }
}

/* Backward of ln_fwd: adds dg, db; writes (dx_add = 0) or adds (dx_add = 1) dx when dx is not NULL. */
static void ln_bwd(const float *dy, const float *xhat, const float *rstd, const float *g, size_t n, size_t d,
                   float *dx, int dx_add, float *dg, float *db) {
    for (size_t i = 0; i < n; i++) {
        const float *dr = dy + i * d, *xr = xhat + i * d;
        double m1 = 0, m2 = 0;
        for (size_t j = 0; j < d; j++) {
            double dxh = (double)dr[j] * g[j];
            m1 += dxh;
            m2 += dxh * xr[j];
            dg[j] += dr[j] * xr[j];
            db[j] += dr[j];
        }
        m1 /= (double)d;
        m2 /= (double)d;
        if (!dx) continue;
        for (size_t j = 0; j < d; j++) {
            float v = (float)(rstd[i] * ((double)dr[j] * g[j] - m1 - xr[j] * m2));
            dx[i * d + j] = dx_add ? dx[i * d + j] + v : v;
        }
    }
}

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x * 0.70710678118654752)); }
static double gelu_grad(double x) {
    return 0.5 * (1.0 + erf(x * 0.70710678118654752)) + x * exp(-0.5 * x * x) * 0.39894228040143268;
}

int cm_head_latent_run(cm_head *hm, const cm_head *h, const float *Xp, size_t n, float *e, const float *dE) {
    const size_t d = (size_t)h->p.d, r = (size_t)h->p.n_latents, H = (size_t)h->p.heads, dh = d / H, NI = d,
                 F = 4 * d;
    const float scale = (float)(1.0 / sqrt((double)dh));
    /* one allocation for every activation */
    size_t sz[] = {r * d, r * d, r, r * 2 * NI,              /* Lc, xhat_c, rstd_c, KV */
                   n * d, n * d, n, n * NI, n * H * r, n * NI, /* T0, xhat0, rstd0, Q, P, O */
                   n * d, n * d, n * d, n,                   /* H1, T1, xhat1, rstd1 */
                   n * 2 * F, n * F, n * d};                 /* U, G, H2 */
    enum { NB = sizeof sz / sizeof sz[0] };
    size_t total = 0;
    for (int i = 0; i < NB; i++) total += sz[i];
    float *buf = cm_malloc(total * sizeof(float));
    if (!buf) return CM_ERR_NOMEM;
    float *a[NB];
    for (int i = 0, off = 0; i < NB; off += (int)sz[i], i++) a[i] = buf + off;
    float *Lc = a[0], *xc = a[1], *rc_ = a[2], *KV = a[3], *T0 = a[4], *x0 = a[5], *r0 = a[6], *Q = a[7], *P = a[8],
          *O = a[9], *H1 = a[10], *T1 = a[11], *x1 = a[12], *r1 = a[13], *U = a[14], *G = a[15], *H2 = a[16];
#define W(i) cm_head_w(h, i)
    /* K/V of the latents: KV = LN_ctx(latents) Wkv^T (r, 2I) */
    ln_fwd(W(T_LAT), r, d, W(T_LNC_G), W(T_LNC_B), Lc, xc, rc_);
    GEMM(NT, TR, r, 2 * NI, d, 1.0f, Lc, d, W(T_KV), d, 0.0f, KV, 2 * NI);
    /* Q = LN0(X) Wq^T (n, NI) */
    ln_fwd(Xp, n, d, W(T_LN0_G), W(T_LN0_B), T0, x0, r0);
    GEMM(NT, TR, n, NI, d, 1.0f, T0, d, W(T_Q), d, 0.0f, Q, NI);
    for (size_t hh = 0; hh < H; hh++) {
        float *Ph = P + hh * n * r;   /* (n, r) */
        GEMM(NT, TR, n, r, dh, scale, Q + hh * dh, NI, KV + hh * dh, 2 * NI, 0.0f, Ph, r);
        for (size_t i = 0; i < n; i++) {
            float *row = Ph + i * r, mx = -INFINITY;
            for (size_t j = 0; j < r; j++) mx = row[j] > mx ? row[j] : mx;
            double z = 0;
            for (size_t j = 0; j < r; j++) z += (row[j] = expf(row[j] - mx));
            for (size_t j = 0; j < r; j++) row[j] = (float)(row[j] / z);
        }
        GEMM(NT, NT, n, dh, r, 1.0f, Ph, r, KV + NI + hh * dh, 2 * NI, 0.0f, O + hh * dh, NI);
    }
    /* H1 = O Wo^T + X */
    memcpy(H1, Xp, n * d * sizeof(float));
    GEMM(NT, TR, n, d, NI, 1.0f, O, NI, W(T_OUT), NI, 1.0f, H1, d);
    /* U = LN1(H1) W0^T + b0; G = U[:, :F] * gelu(U[:, F:]) */
    ln_fwd(H1, n, d, W(T_LN1_G), W(T_LN1_B), T1, x1, r1);
    for (size_t i = 0; i < n; i++) memcpy(U + i * 2 * F, W(T_B0), 2 * F * sizeof(float));
    GEMM(NT, TR, n, 2 * F, d, 1.0f, T1, d, W(T_N0), d, 1.0f, U, 2 * F);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < F; j++) G[i * F + j] = (float)(U[i * 2 * F + j] * gelu(U[i * 2 * F + F + j]));
    /* H2 = G W2^T + b2 + H1; e = mean rows */
    memcpy(H2, H1, n * d * sizeof(float));
    GEMM(NT, TR, n, d, F, 1.0f, G, F, W(T_N2), F, 1.0f, H2, d);
    if (e) {
        for (size_t j = 0; j < d; j++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += H2[i * d + j];
            e[j] = (float)(s / (double)n + W(T_B2)[j]);
        }
    }
    int rc = CM_OK;
    if (dE) {
        /* backward buffers: dH (n, d) shared by dH2/dH1, dG (n, F), dU (n, 2F), dT (n, d), dO (n, NI),
         * dP (n, r), dQ (n, NI), dKV (r, 2I), dLc (r, d) */
        size_t bz = n * d + n * F + n * 2 * F + n * d + n * NI + n * r + n * NI + r * 2 * NI + r * d;
        float *bb = cm_calloc(bz, sizeof(float));
        if (!bb) {
            free(buf);
            return CM_ERR_NOMEM;
        }
        float *dH = bb, *dG = dH + n * d, *dU = dG + n * F, *dT = dU + n * 2 * F, *dO = dT + n * d, *dP = dO + n * NI,
              *dQ = dP + n * r, *dKV = dQ + n * NI, *dLc = dKV + r * 2 * NI;
#define G_(i) cm_head_g(hm, i)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < d; j++) dH[i * d + j] = dE[j] / (float)n;
        for (size_t j = 0; j < d; j++) G_(T_B2)[j] += dE[j];
        /* H2 = G W2^T + ...: dW2 += dH^T G; dG = dH W2 */
        GEMM(TR, NT, d, F, n, 1.0f, dH, d, G, F, 1.0f, G_(T_N2), F);
        GEMM(NT, NT, n, F, d, 1.0f, dH, d, W(T_N2), F, 0.0f, dG, F);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < F; j++) {
                double av = U[i * 2 * F + j], gt = U[i * 2 * F + F + j], dg = dG[i * F + j];
                dU[i * 2 * F + j] = (float)(dg * gelu(gt));
                dU[i * 2 * F + F + j] = (float)(dg * av * gelu_grad(gt));
            }
        GEMM(TR, NT, 2 * F, d, n, 1.0f, dU, 2 * F, T1, d, 1.0f, G_(T_N0), d);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < 2 * F; j++) G_(T_B0)[j] += dU[i * 2 * F + j];
        GEMM(NT, NT, n, d, 2 * F, 1.0f, dU, 2 * F, W(T_N0), d, 0.0f, dT, d);
        /* dH1 = dH2 + LN1 backward */
        ln_bwd(dT, x1, r1, W(T_LN1_G), n, d, dH, 1, G_(T_LN1_G), G_(T_LN1_B));
        /* H1 = O Wo^T + X: dWo += dH1^T O; dO = dH1 Wo */
        GEMM(TR, NT, d, NI, n, 1.0f, dH, d, O, NI, 1.0f, G_(T_OUT), NI);
        GEMM(NT, NT, n, NI, d, 1.0f, dH, d, W(T_OUT), NI, 0.0f, dO, NI);
        for (size_t hh = 0; hh < H; hh++) {
            const float *Ph = P + hh * n * r, *Kh = KV + hh * dh, *Vh = KV + NI + hh * dh;
            /* dP = dO_h V_h^T (n, r); dV_h += P^T dO_h */
            GEMM(NT, TR, n, r, dh, 1.0f, dO + hh * dh, NI, Vh, 2 * NI, 0.0f, dP, r);
            GEMM(TR, NT, r, dh, n, 1.0f, Ph, r, dO + hh * dh, NI, 1.0f, dKV + NI + hh * dh, 2 * NI);
            for (size_t i = 0; i < n; i++) {
                const float *pr = Ph + i * r;
                float *dr = dP + i * r;
                double s = 0;
                for (size_t j = 0; j < r; j++) s += (double)pr[j] * dr[j];
                for (size_t j = 0; j < r; j++) dr[j] = (float)(pr[j] * (dr[j] - s));
            }
            /* S = scale Q_h K_h^T: dQ_h = scale dS K_h; dK_h += scale dS^T Q_h */
            GEMM(NT, NT, n, dh, r, scale, dP, r, Kh, 2 * NI, 0.0f, dQ + hh * dh, NI);
            GEMM(TR, NT, r, dh, n, scale, dP, r, Q + hh * dh, NI, 1.0f, dKV + hh * dh, 2 * NI);
        }
        /* Q = T0 Wq^T: dWq += dQ^T T0; dT0 = dQ Wq -> LN0 (no dX: the backbone is frozen) */
        GEMM(TR, NT, NI, d, n, 1.0f, dQ, NI, T0, d, 1.0f, G_(T_Q), d);
        GEMM(NT, NT, n, d, NI, 1.0f, dQ, NI, W(T_Q), d, 0.0f, dT, d);
        ln_bwd(dT, x0, r0, W(T_LN0_G), n, d, NULL, 0, G_(T_LN0_G), G_(T_LN0_B));
        /* KV = Lc Wkv^T: dWkv += dKV^T Lc; dLc = dKV Wkv -> LN_ctx -> latents */
        GEMM(TR, NT, 2 * NI, d, r, 1.0f, dKV, 2 * NI, Lc, d, 1.0f, G_(T_KV), d);
        GEMM(NT, NT, r, d, 2 * NI, 1.0f, dKV, 2 * NI, W(T_KV), d, 0.0f, dLc, d);
        ln_bwd(dLc, xc, rc_, W(T_LNC_G), r, d, G_(T_LAT), 1, G_(T_LNC_G), G_(T_LNC_B));
#undef G_
        free(bb);
    }
#undef W
    free(buf);
    return rc;
}
