/*
 * fastmath.h: the engine's vectorisable float32 exp and erf (no libm calls,
 * branch-free), inline so that `#pragma omp simd` loops over them become
 * AVX code, and the softmax row built on exp. Accuracy (measured in test_bert.c): exp relative ~2e-7 on
 * [-87, 88] (clamped outside), erf absolute ~1e-7 (clamped to [-4, 4]).
 * Files that loop over them should allow if-conversion of the clamps:
 * #pragma GCC optimize("no-trapping-math", "no-math-errno") before the
 * includes (ops.c, decoder_ops.c, latent.c do).
 */
#ifndef CMTEB_ENGINE_NN_FASTMATH_H
#define CMTEB_ENGINE_NN_FASTMATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* exp: Cody-Waite range reduction x = k ln2 + r, |r| <= ln2/2, degree-6
 * polynomial for e^r, scale by 2^k through the exponent bits. */
static inline float cm_fexp(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.3f ? 88.3f : x;
    /* k = round(x / ln2) with the 1.5 * 2^23 trick (no libm call, vectorises) */
    float t = x * 1.44269504088896341f;
    float k = (t + 12582912.0f) - 12582912.0f;
    float r = x - k * 0.693359375f;
    r = r - k * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int32_t e = ((int32_t)k + 127) << 23;
    float s;
    memcpy(&s, &e, 4);
    return p * s;
}

/* erf: odd rational approximation on [-4, 4] (clamped), |error| ~1e-7. */
static inline float cm_ferf(float x) {
    x = x > 4.0f ? 4.0f : x;
    x = x < -4.0f ? -4.0f : x;
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    p = p * x;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return p / q;
}

/* Unnormalised softmax of one score row: s[j] = exp(s[j] - max) for j < n
 * (n >= 1); returns 1 / sum (multiply the row, or what it weighs, by it). */
static inline float cm_exp_row(float *s, size_t n) {
    float mx = s[0];
#pragma omp simd reduction(max : mx)
    for (size_t j = 1; j < n; j++) mx = s[j] > mx ? s[j] : mx;
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (size_t j = 0; j < n; j++) {
        s[j] = cm_fexp(s[j] - mx);
        sum += s[j];
    }
    return 1.0f / sum;
}

#endif
