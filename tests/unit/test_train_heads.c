/* test_train_heads.c: the trainable pooling heads' gradients (engine/train, cmteb/pooler_train.h) against torch
 * autograd. tests/reference/ref_train_heads.py (Debian /usr/bin/python3 + python3-torch, float64) writes small
 * random heads, token states, the InfoNCE loss and every parameter's gradient; this program loads the same
 * parameters, runs cm_head_forward -> cm_infonce -> cm_head_backward and compares the loss and each gradient
 * tensor to 1e-5 relative (|a - b|_2 <= 1e-5 |b|_2, and elementwise within 1e-5 of the tensor's max |b|).
 * Also: save/load round trip, and AdamW against torch.optim.AdamW's update rule on one step. Skips (77)
 * without python3-torch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/pooler_train.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/nn/safetensors.h"

static int failures = 0;
#define CHECK(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static const float *tensor(const cm_safetensors *st, const char *name, size_t *n) {
    const cm_st_tensor *t = cm_st_find(st, name);
    if (!t || t->dtype != CM_ST_F32) {
        fprintf(stderr, "reference tensor %s missing\n", name);
        exit(1);
    }
    if (n) *n = (size_t)t->numel;
    return t->data;   /* safetensors data offsets here are multiples of 4 after an 8-aligned header */
}

static void check_kind(const char *dir, const char *kind) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, kind);
    cm_safetensors *st = NULL;
    if (cm_st_open(&st, path) != CM_OK) {
        fprintf(stderr, "%s\n", cm_last_error());
        exit(1);
    }
    const float *cfg = tensor(st, "config", NULL), *s0 = tensor(st, "s0", NULL), *len = tensor(st, "len", NULL);
    size_t d = (size_t)cfg[0], B = (size_t)cfg[3], k = (size_t)cfg[4];
    int in_batch = (int)cfg[5];
    float temp = cfg[6];
    cm_head_params hp = cm_head_default_params();
    CHECK(cm_head_kind_parse(kind, &hp.kind) == CM_OK, "kind %s", kind);
    hp.d = (int64_t)d;
    hp.n_latents = (int64_t)cfg[1];
    hp.heads = (int64_t)cfg[2];
    cm_head *h = NULL;
    CHECK(cm_head_init(&h, &hp) == CM_OK, "init %s: %s", kind, cm_last_error());
    if (!h) exit(1);
    for (size_t i = 0; i < cm_head_n_tensors(h); i++) {
        cm_head_tensor t = cm_head_tensor_at(h, i);
        char nm[96];
        snprintf(nm, sizeof nm, "param.%s", t.name);
        size_t n = 0;
        const float *src = tensor(st, nm, &n);
        CHECK(n == (size_t)(t.shape[0] * (t.ndim == 2 ? t.shape[1] : 1)), "%s: size %zu", nm, n);
        memcpy(t.w, src, n * sizeof(float));
    }
    size_t ns = B * (2 + k);
    float *E = calloc(ns * d, sizeof(float)), *dE = calloc(ns * d, sizeof(float));
    const float **X = calloc(ns, sizeof *X);
    for (size_t i = 0; i < ns; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "x.%zu", i);
        X[i] = tensor(st, nm, NULL);
        CHECK(cm_head_forward(h, X[i], (size_t)len[i], (size_t)s0[i], E + i * d) == CM_OK, "forward");
    }
    double loss = 0;
    CHECK(cm_infonce(E, E + B * d, E + 2 * B * d, B, k, d, in_batch, temp, &loss, dE, dE + B * d, dE + 2 * B * d) ==
          CM_OK, "infonce");
    double ref_loss = tensor(st, "loss", NULL)[0];
    CHECK(fabs(loss - ref_loss) <= 1e-5 * fabs(ref_loss), "%s: loss %.9g vs torch %.9g", kind, loss, ref_loss);
    cm_head_zero_grad(h);
    for (size_t i = 0; i < ns; i++)
        CHECK(cm_head_backward(h, X[i], (size_t)len[i], (size_t)s0[i], dE + i * d) == CM_OK, "backward");
    double worst = 0;
    for (size_t i = 0; i < cm_head_n_tensors(h); i++) {
        cm_head_tensor t = cm_head_tensor_at(h, i);
        char nm[96];
        snprintf(nm, sizeof nm, "grad.%s", t.name);
        size_t n = 0;
        const float *ref = tensor(st, nm, &n);
        double num = 0, den = 0, mx = 0, maxdiff = 0;
        for (size_t j = 0; j < n; j++) {
            double df = (double)t.g[j] - ref[j];
            num += df * df;
            den += (double)ref[j] * ref[j];
            mx = fabs(ref[j]) > mx ? fabs(ref[j]) : mx;
            maxdiff = fabs(df) > maxdiff ? fabs(df) : maxdiff;
        }
        double rel = den > 0 ? sqrt(num / den) : sqrt(num);
        worst = rel > worst ? rel : worst;
        CHECK(den > 0, "%s %s: torch's gradient is all zeros (the test would prove nothing)", kind, t.name);
        CHECK(rel <= 1e-5 && maxdiff <= 1e-5 * mx, "%s %s: relative error %.3g, max |diff| %.3g (max |ref| %.3g)",
              kind, t.name, rel, maxdiff, mx);
    }
    printf("%-15s loss %.6f (torch %.6f), %zu tensors, worst relative gradient error %.2e\n", kind, loss, ref_loss,
           cm_head_n_tensors(h), worst);
    /* save -> load gives the same head */
    char hd[1100];
    snprintf(hd, sizeof hd, "%s/saved-%s", dir, kind);
    CHECK(cm_head_save(h, hd) == CM_OK, "save: %s", cm_last_error());
    cm_head *h2 = NULL;
    CHECK(cm_head_load(&h2, hd, (int64_t)d) == CM_OK, "load: %s", cm_last_error());
    if (h2) {
        float e2[64];
        CHECK(cm_head_forward(h2, X[0], (size_t)len[0], (size_t)s0[0], e2) == CM_OK, "forward after load");
        CHECK(!memcmp(e2, E, d * sizeof(float)), "%s: the loaded head pools differently", kind);
    }
    cm_head_free(h2);
    CHECK(cm_head_load(&h2, hd, (int64_t)d + 1) != CM_OK && strstr(cm_last_error(), "hidden size"),
          "a width mismatch must be refused: %s", cm_last_error());
    cm_head_free(h);
    free(E); free(dE); free(X);
    cm_st_free(st);
}

/* AdamW, one tensor, three steps, against the update torch.optim.AdamW documents (computed here in double). */
static void check_adamw(void) {
    cm_head_params hp = cm_head_default_params();
    hp.d = 3;
    cm_head *h = NULL;
    if (cm_head_init(&h, &hp) != CM_OK) exit(1);
    size_t n = cm_head_n_params(h);
    float *m = calloc(n, sizeof(float)), *v = calloc(n, sizeof(float));
    double *w = malloc(n * sizeof(double)), *mm = calloc(n, sizeof(double)), *vv = calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++) w[i] = cm_head_weights(h)[i];
    cm_adamw_params ap = cm_adamw_default_params();
    ap.lr = 0.1f;
    ap.warmup = 2;
    for (long t = 1; t <= 3; t++) {
        for (size_t i = 0; i < n; i++) cm_head_grads(h)[i] = (float)(0.3 * sin((double)(i + 1) * t));
        cm_adamw_step(h, &ap, t, m, v);
        double lr = 0.1 * (t < 2 ? t / 2.0 : 1.0);
        for (size_t i = 0; i < n; i++) {
            double g = (float)(0.3 * sin((double)(i + 1) * t));
            if (i < 9) w[i] *= 1 - lr * 0.01;   /* decay on linear.weight (9 values), not on the bias */
            mm[i] = 0.9 * mm[i] + 0.1 * g;
            vv[i] = 0.999 * vv[i] + 0.001 * g * g;
            w[i] -= lr * (mm[i] / (1 - pow(0.9, t))) / (sqrt(vv[i] / (1 - pow(0.999, t))) + 1e-8);
        }
    }
    for (size_t i = 0; i < n; i++)
        CHECK(fabs(cm_head_weights(h)[i] - w[i]) <= 1e-5 * (fabs(w[i]) + 1e-3), "adamw w[%zu] %.7g vs %.7g", i,
              cm_head_weights(h)[i], w[i]);
    free(m); free(v); free(w); free(mm); free(vv);
    cm_head_free(h);
}

int main(void) {
    const char *tmp = getenv("CMTEB_TMP"), *src = getenv("CMTEB_SRC");
    if (!tmp) tmp = "/tmp";
    if (!src) src = ".";
    if (system("/usr/bin/python3 -c 'import torch' 2>/dev/null") != 0) {
        printf("SKIP: Debian python3-torch (/usr/bin/python3) is not installed\n");
        return 77;
    }
    char dir[512], cmd[1600];
    snprintf(dir, sizeof dir, "%s/train_heads_ref", tmp);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/reference/ref_train_heads.py %s 2>/dev/null", src, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "FAIL: %s\n", cmd);
        return 1;
    }
    const char *kinds[] = {"mean-linear", "last-linear", "self-attention", "latent"};
    for (size_t i = 0; i < 4; i++) check_kind(dir, kinds[i]);
    check_adamw();
    cm_head_kind k;
    CHECK(cm_head_kind_parse("attention", &k) != CM_OK && strstr(cm_last_error(), "mean-linear"), "bad kind");
    if (failures) fprintf(stderr, "%d failure(s)\n", failures);
    else printf("ok\n");
    return failures ? 1 : 0;
}
