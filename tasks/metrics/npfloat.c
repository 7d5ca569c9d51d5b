/* npfloat.c: numpy's float32 reductions bit for bit (see npfloat.h). */
#include "tasks/metrics/npfloat.h"

#include <math.h>

float cm_np_dot_f32(const float *x, const float *y, size_t n) {
    float acc[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; n - i >= 16; i += 16)
        for (int k = 3; k >= 0; k--)
            for (int l = 0; l < 4; l++) {
                float p = x[i + 4 * k + l] * y[i + 4 * k + l];
                acc[l] = p + acc[l];
            }
    for (; i < n; i += 4)
        for (int l = 0; l < 4; l++) {
            float p = i + (size_t)l < n ? x[i + l] * y[i + l] : 0.0f;
            acc[l] = p + acc[l];
        }
    float lo = acc[0] + acc[1], hi = acc[2] + acc[3];
    return lo + hi;
}

float cm_np_sum_f32(const float *x, size_t n) {
    if (n < 8) {
        float r = 0.0f;
        for (size_t i = 0; i < n; i++) r += x[i];
        return r;
    }
    if (n <= 128) {
        float r[8];
        for (int j = 0; j < 8; j++) r[j] = x[j];
        size_t i = 8;
        for (; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += x[i + j];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += x[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return cm_np_sum_f32(x, n2) + cm_np_sum_f32(x + n2, n - n2);
}

void cm_np_paired_f32(const float *x, const float *y, size_t d, float *scratch, float *cosine, float *manhattan,
                      float *euclidean) {
    float *xn = scratch, *yn = scratch + d, *t = scratch + 2 * d;
    /* sklearn normalize: norms = sqrt(einsum), zero norms replaced by 1 */
    float nx = sqrtf(cm_np_dot_f32(x, x, d)), ny = sqrtf(cm_np_dot_f32(y, y, d));
    if (nx == 0.0f) nx = 1.0f;
    if (ny == 0.0f) ny = 1.0f;
    for (size_t j = 0; j < d; j++) {
        xn[j] = x[j] / nx;
        yn[j] = y[j] / ny;
    }
    for (size_t j = 0; j < d; j++) t[j] = xn[j] - yn[j];
    float half = 0.5f * cm_np_dot_f32(t, t, d);
    *cosine = 1.0f - half;
    for (size_t j = 0; j < d; j++) t[j] = x[j] - y[j];
    *euclidean = sqrtf(cm_np_dot_f32(t, t, d));
    for (size_t j = 0; j < d; j++) t[j] = fabsf(t[j]);
    *manhattan = cm_np_sum_f32(t, d);
}
