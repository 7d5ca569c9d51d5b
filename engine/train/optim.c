/* optim.c: the InfoNCE loss with in-batch and hard negatives, and AdamW with linear warm-up
 * (pooler_train.h). */
#include "engine/train/head_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"

/* y = x / |x| (d); returns |x| (1 when x is zero). */
static double unit(const float *x, size_t d, float *y) {
    double s = 0;
    for (size_t j = 0; j < d; j++) s += (double)x[j] * x[j];
    double nrm = s > 0 ? sqrt(s) : 1.0;
    for (size_t j = 0; j < d; j++) y[j] = (float)(x[j] / nrm);
    return nrm;
}

/* d(raw) from d(unit) through y = x / |x|: (dy - y (y . dy)) / |x|, added to dx. */
static void unit_back(const float *y, const double *dy, double nrm, size_t d, float *dx) {
    double yd = 0;
    for (size_t j = 0; j < d; j++) yd += y[j] * dy[j];
    for (size_t j = 0; j < d; j++) dx[j] += (float)((dy[j] - y[j] * yd) / nrm);
}

int cm_infonce(const float *Q, const float *P, const float *N, size_t B, size_t k, size_t d, int in_batch,
               float temperature, double *loss, float *dQ, float *dP, float *dN) {
    if (!B || !(temperature > 0)) return cm_error(CM_ERR_ARG, "infonce: empty batch or temperature %g <= 0",
                                                  (double)temperature);
    size_t nc = (in_batch ? B : 1) + k;   /* candidates per query */
    float *q = cm_malloc(B * d * sizeof(float)), *p = cm_malloc(B * d * sizeof(float));
    float *nn = cm_malloc((B * k + 1) * d * sizeof(float));
    double *nq = cm_malloc(B * sizeof(double)), *np = cm_malloc(B * sizeof(double));
    double *nnn = cm_malloc((B * k + 1) * sizeof(double)), *pr = cm_malloc(nc * sizeof(double));
    double *gq = cm_calloc(B * d, sizeof(double)), *gp = cm_calloc(B * d, sizeof(double));
    double *gn = cm_calloc((B * k + 1) * d, sizeof(double));
    int rc = (q && p && nn && nq && np && nnn && pr && gq && gp && gn) ? CM_OK : CM_ERR_NOMEM;
    double total = 0;
    if (rc == CM_OK) {
        for (size_t i = 0; i < B; i++) {
            nq[i] = unit(Q + i * d, d, q + i * d);
            np[i] = unit(P + i * d, d, p + i * d);
        }
        for (size_t i = 0; i < B * k; i++) nnn[i] = unit(N + i * d, d, nn + i * d);
        for (size_t i = 0; i < B; i++) {
            /* candidate c: c < nb a positive (j = c when in_batch, else i), else hard negative i*k + c - nb */
            size_t nb = in_batch ? B : 1, target = in_batch ? i : 0;
            double mx = -INFINITY;
            for (size_t c = 0; c < nc; c++) {
                const float *v = c < nb ? p + (in_batch ? c : i) * d : nn + (i * k + c - nb) * d;
                double s = 0;
                for (size_t j = 0; j < d; j++) s += (double)q[i * d + j] * v[j];
                pr[c] = s / temperature;
                mx = pr[c] > mx ? pr[c] : mx;
            }
            double z = 0;
            for (size_t c = 0; c < nc; c++) z += (pr[c] = exp(pr[c] - mx));
            total += -log(pr[target] / z);
            for (size_t c = 0; c < nc; c++) {
                /* d(loss_i)/d(score_c) = (softmax_c - [c == target]) / B; score = q.v / T */
                double gsc = (pr[c] / z - (c == target ? 1.0 : 0.0)) / (double)B / temperature;
                int is_pos = c < nb;
                size_t row = is_pos ? (in_batch ? c : i) : i * k + c - nb;
                const float *v = is_pos ? p + row * d : nn + row * d;
                double *gv = is_pos ? gp + row * d : gn + row * d;
                for (size_t j = 0; j < d; j++) {
                    gq[i * d + j] += gsc * v[j];
                    gv[j] += gsc * q[i * d + j];
                }
            }
        }
        *loss = total / (double)B;
        if (dQ) {
            memset(dQ, 0, B * d * sizeof(float));
            memset(dP, 0, B * d * sizeof(float));
            if (k) memset(dN, 0, B * k * d * sizeof(float));
            for (size_t i = 0; i < B; i++) {
                unit_back(q + i * d, gq + i * d, nq[i], d, dQ + i * d);
                unit_back(p + i * d, gp + i * d, np[i], d, dP + i * d);
            }
            for (size_t i = 0; i < B * k; i++) unit_back(nn + i * d, gn + i * d, nnn[i], d, dN + i * d);
        }
    }
    free(q); free(p); free(nn); free(nq); free(np); free(nnn); free(pr); free(gq); free(gp); free(gn);
    return rc;
}

cm_adamw_params cm_adamw_default_params(void) {
    cm_adamw_params p = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0};
    return p;
}

void cm_adamw_step(cm_head *h, const cm_adamw_params *p, long t, float *m, float *v) {
    double lr = p->lr;
    if (p->warmup > 0 && t <= p->warmup) lr *= (double)t / (double)p->warmup;
    double bc1 = 1.0 - pow(p->beta1, (double)t), bc2 = 1.0 - pow(p->beta2, (double)t);
    for (size_t i = 0; i < h->n_t; i++) {
        const cm_head_slot *s = &h->t[i];
        size_t n = (size_t)(s->shape[0] * s->shape[1]);
        float *w = h->w + s->off, *g = h->g + s->off, *mm = m + s->off, *vv = v + s->off;
        for (size_t j = 0; j < n; j++) {
            if (s->decay) w[j] -= (float)(lr * p->weight_decay * w[j]);
            mm[j] = p->beta1 * mm[j] + (1.0f - p->beta1) * g[j];
            vv[j] = p->beta2 * vv[j] + (1.0f - p->beta2) * g[j] * g[j];
            double mh = mm[j] / bc1, vh = vv[j] / bc2;
            w[j] -= (float)(lr * mh / (sqrt(vh) + p->eps));
        }
    }
}
