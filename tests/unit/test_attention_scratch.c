/*
 * test_attention_scratch.c: cm_ops_attention stays inside the scratch that
 * cm_ops_attention_scratch() sizes when a batch mixes short (<= 48 tokens,
 * row kernel) and long (sgemm) sequences, and its output equals a naive
 * double-precision attention. Regression: with head_dim 64 and a longest
 * sequence of 49..55 tokens the scratch was sized for the sgemm path only
 * (len^2 + len floats) and the row kernel of a 41..48-token sequence wrote
 * past it (found embedding real texts with a 4 x 256 BERT, issue #17).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/nn/ops.h"

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

enum { GUARD = 4096 };

/* One case: sequences of the given lengths packed, hidden = heads * dh. */
static void run_case(size_t dh, size_t heads, const size_t *len, size_t ns, int causal) {
    size_t hid = dh * heads, n = 0, max_len = 0, off[8];
    for (size_t s = 0; s < ns; s++) {
        off[s] = n;
        n += len[s];
        max_len = len[s] > max_len ? len[s] : max_len;
    }
    float *qkv = malloc(n * 3 * hid * sizeof(float)), *out = malloc(n * hid * sizeof(float));
    size_t sc_n = cm_ops_attention_scratch(hid, heads, max_len, 1);
    float *sc = malloc((sc_n + GUARD) * sizeof(float));
    if (!qkv || !out || !sc) { CHECK(0, "out of memory"); free(qkv); free(out); free(sc); return; }
    unsigned x = 12345;
    for (size_t i = 0; i < n * 3 * hid; i++) {
        x = x * 1103515245u + 12345u;
        qkv[i] = (float)((x >> 8) & 0xffff) / 65536.0f - 0.5f;
    }
    for (size_t i = 0; i < sc_n + GUARD; i++) sc[i] = -12345.0f;
    CHECK(cm_ops_attention(qkv, 3 * hid, hid, heads, off, len, ns, causal, NULL, NULL, out, sc, 1) == 0, "attention");
    size_t touched = 0;
    for (size_t i = sc_n; i < sc_n + GUARD; i++) touched += sc[i] != -12345.0f;
    CHECK(!touched, "dh %zu, longest %zu: %zu floats written past the %zu-float scratch", dh, max_len, touched, sc_n);
    double worst = 0;
    for (size_t s = 0; s < ns; s++)
        for (size_t h = 0; h < heads; h++)
            for (size_t i = 0; i < len[s]; i++) {
                const float *q = qkv + (off[s] + i) * 3 * hid + h * dh;
                size_t lim = causal ? i + 1 : len[s];
                double p[64], mx = -INFINITY, sum = 0;
                for (size_t j = 0; j < lim; j++) {
                    const float *k = qkv + (off[s] + j) * 3 * hid + hid + h * dh;
                    double d = 0;
                    for (size_t t = 0; t < dh; t++) d += (double)q[t] * k[t];
                    p[j] = d / sqrt((double)dh);
                    mx = p[j] > mx ? p[j] : mx;
                }
                for (size_t j = 0; j < lim; j++) sum += (p[j] = exp(p[j] - mx));
                for (size_t t = 0; t < dh; t++) {
                    double o = 0;
                    for (size_t j = 0; j < lim; j++)
                        o += p[j] / sum * qkv[(off[s] + j) * 3 * hid + 2 * hid + h * dh + t];
                    double e = fabs(o - out[(off[s] + i) * hid + h * dh + t]);
                    worst = e > worst ? e : worst;
                }
            }
    CHECK(worst < 1e-5, "dh %zu, longest %zu: max |diff| %.3g vs double attention", dh, max_len, worst);
    free(qkv); free(out); free(sc);
}

int main(void) {
    const size_t mixed[] = {45, 50}, mixed2[] = {20, 41, 55}, short_only[] = {7, 48}, long_only[] = {60};
    for (int causal = 0; causal < 2; causal++) {
        run_case(64, 4, mixed, 2, causal);
        run_case(64, 2, mixed2, 3, causal);
        run_case(32, 4, mixed, 2, causal);
        run_case(64, 4, short_only, 2, causal);
        run_case(64, 4, long_only, 1, causal);
    }
    if (failures) fprintf(stderr, "%d failure(s)\n", failures);
    else printf("attention scratch: OK\n");
    return failures ? 1 : 0;
}
