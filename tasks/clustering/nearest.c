/*
 * nearest.c: the k-means assignment kernel (see nearest.h for the summation
 * order both paths share). Compiled with -ffp-contract=off.
 */
#include "tasks/clustering/nearest.h"

#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

float cm_km_dotf(const float *a, const float *b, size_t d) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= d; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < d; i++) s += a[i] * b[i];
    return s;
}

double cm_km_dotd(const float *a, const float *b, size_t d) {
    double acc[4] = {0, 0, 0, 0};
    size_t i = 0;
    for (; i + 4 <= d; i += 4)
        for (int l = 0; l < 4; l++) acc[l] += (double)a[i + l] * (double)b[i + l];
    double s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (; i < d; i++) s += (double)a[i] * (double)b[i];
    return s;
}

double cm_km_sqdist(const float *a, const float *b, size_t d) {
    double s = 0.0;
    for (size_t i = 0; i < d; i++) {
        const double t = (double)a[i] - (double)b[i];
        s += t * t;
    }
    return s;
}

static const float *row_of(const float *const *P, const size_t *rows, size_t i) {
    return P[rows ? rows[i] : i];
}

static void nearest_portable(const float *const *P, const size_t *rows, size_t i0, size_t i1, size_t d, const float *C,
                             const float *cn, int k, int *labels) {
    for (size_t i = i0; i < i1; i++) {
        const float *x = row_of(P, rows, i);
        float best = cn[0] - 2.0f * cm_km_dotf(x, C, d);
        int bj = 0;
        for (int j = 1; j < k; j++) {
            const float v = cn[j] - 2.0f * cm_km_dotf(x, C + (size_t)j * d, d);
            if (v < best) { best = v; bj = j; }
        }
        labels[i] = bj;
    }
}

#if defined(__x86_64__) || defined(__i386__)
/* The lane sums of four accumulators, each reduced in cm_km_dotf's tree: {tree(a), tree(b), tree(c), tree(e)}.
 * The first hadds add neighbouring lanes (l0 + l1, ...: addition is commutative, so dotf's bits), the second
 * the pairs ((l0 + l1) + (l2 + l3) in the low half, (l4 + l5) + (l6 + l7) in the high), the last add the halves. */
__attribute__((target("avx"))) static __m128 tree4(__m256 a, __m256 b, __m256 c, __m256 e) {
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, e));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

/* Blocks of 2 points x 4 centres: 8 accumulators, each one register of the 8 lanes; the empty asm statements
 * keep the loaded rows in registers (GCC would otherwise load them again for every product: 16 loads per step
 * instead of 6, 14 against 24 GMAC/s on a 2.45 GHz EPYC). */
__attribute__((target("avx"))) static void nearest_avx(const float *const *P, const size_t *rows, size_t i0, size_t i1,
                                                       size_t d, const float *C, const float *cn, int k,
                                                       int *labels) {
    const size_t d8 = d & ~(size_t)7;
    for (size_t g = i0; g < i1; g += 2) {
        const size_t ng = i1 - g < 2 ? i1 - g : 2;
        const float *x[2];
        for (size_t p = 0; p < 2; p++) x[p] = row_of(P, rows, g + (p < ng ? p : 0));
        /* the next pair's rows, fetched while this pair is scored against the first centres (a mini-batch's rows
         * are scattered over the set and come from L3 or memory: the loads of x stalled 40% of the kernel) */
        const char *nx[2];
        for (size_t p = 0; p < 2; p++)   /* no next row: the pair's own (prefetched again: harmless) */
            nx[p] = (const char *)row_of(P, rows, g + 2 + p < i1 ? g + 2 + p : g);
        float best[2] = {0, 0};
        int bj[2] = {0, 0};
        for (int j = 0; j < k; j += 4) {
            const float *c[4];
            for (int q = 0; q < 4; q++) c[q] = C + (size_t)(j + q < k ? j + q : j) * d;
            __m256 a[2][4];   /* a[p][q]: point p, centre j + q */
            for (int p = 0; p < 2; p++)
                for (int q = 0; q < 4; q++) a[p][q] = _mm256_setzero_ps();
            for (size_t f = 0; f < d8; f += 8) {
                if (j == 0) {   /* the loop is unswitched on this: the first block's copy fetches the next pair */
                    _mm_prefetch(nx[0] + 4 * f, _MM_HINT_T0);
                    _mm_prefetch(nx[1] + 4 * f, _MM_HINT_T0);
                }
                __m256 x0 = _mm256_loadu_ps(x[0] + f), x1 = _mm256_loadu_ps(x[1] + f);
                __asm__("" : "+x"(x0), "+x"(x1));
#pragma GCC unroll 4
                for (int q = 0; q < 4; q++) {
                    __m256 v = _mm256_loadu_ps(c[q] + f);
                    __asm__("" : "+x"(v));
                    a[0][q] = _mm256_add_ps(a[0][q], _mm256_mul_ps(x0, v));
                    a[1][q] = _mm256_add_ps(a[1][q], _mm256_mul_ps(x1, v));
                }
            }
            float s[8];   /* s[4p + q] */
            _mm_storeu_ps(s, tree4(a[0][0], a[0][1], a[0][2], a[0][3]));
            _mm_storeu_ps(s + 4, tree4(a[1][0], a[1][1], a[1][2], a[1][3]));
            for (size_t p = 0; p < ng; p++) {
                for (int q = 0; q < 4 && j + q < k; q++) {
                    float dot = s[4 * p + (size_t)q];
                    for (size_t f = d8; f < d; f++) dot += x[p][f] * c[q][f];
                    const float v = cn[j + q] - 2.0f * dot;
                    if (j + q == 0 || v < best[p]) { best[p] = v; bj[p] = j + q; }
                }
            }
        }
        for (size_t p = 0; p < ng; p++) labels[g + p] = bj[p];
    }
}

/* The squares of a - b over dims [i, i + 4) as doubles: {t0^2, t1^2, t2^2, t3^2}. */
__attribute__((target("avx"))) static __m256d sq4(const float *a, const float *b) {
    const __m256d t = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(a)), _mm256_cvtps_pd(_mm_loadu_ps(b)));
    return _mm256_mul_pd(t, t);
}

/* s += column 0, then 1, 2, 3 of the 4 x 4 block whose rows are t0..t3 (row p: point p's four squares):
 * each point's sum takes its squares one at a time, in order. */
__attribute__((target("avx"))) static __m256d add_cols(__m256d s, __m256d t0, __m256d t1, __m256d t2, __m256d t3) {
    const __m256d u0 = _mm256_unpacklo_pd(t0, t1), u1 = _mm256_unpackhi_pd(t0, t1);
    const __m256d u2 = _mm256_unpacklo_pd(t2, t3), u3 = _mm256_unpackhi_pd(t2, t3);
    s = _mm256_add_pd(s, _mm256_permute2f128_pd(u0, u2, 0x20));
    s = _mm256_add_pd(s, _mm256_permute2f128_pd(u1, u3, 0x20));
    s = _mm256_add_pd(s, _mm256_permute2f128_pd(u0, u2, 0x31));
    return _mm256_add_pd(s, _mm256_permute2f128_pd(u1, u3, 0x31));
}

/* Eight points at a time, two chains of four (each add waits for the last: two chains keep the adder busy). */
__attribute__((target("avx"))) static void sqdists_avx(const float *const *P, const size_t *rows, size_t i0, size_t i1,
                                                       size_t d, const float *C, const int *labels, double *dist) {
    const size_t d4 = d & ~(size_t)3;
    size_t g = i0;
    for (; g + 8 <= i1; g += 8) {
        const float *x[8], *c[8];
        for (size_t p = 0; p < 8; p++) {
            x[p] = row_of(P, rows, g + p);
            c[p] = C + (size_t)labels[g + p] * d;
        }
        __m256d s0 = _mm256_setzero_pd(), s1 = s0;
        for (size_t f = 0; f < d4; f += 4) {
            s0 = add_cols(s0, sq4(x[0] + f, c[0] + f), sq4(x[1] + f, c[1] + f), sq4(x[2] + f, c[2] + f),
                          sq4(x[3] + f, c[3] + f));
            s1 = add_cols(s1, sq4(x[4] + f, c[4] + f), sq4(x[5] + f, c[5] + f), sq4(x[6] + f, c[6] + f),
                          sq4(x[7] + f, c[7] + f));
        }
        double s[8];
        _mm256_storeu_pd(s, s0);
        _mm256_storeu_pd(s + 4, s1);
        for (size_t p = 0; p < 8; p++) {
            for (size_t f = d4; f < d; f++) {
                const double t = (double)x[p][f] - (double)c[p][f];
                s[p] += t * t;
            }
            dist[g + p] = s[p];
        }
    }
    for (; g < i1; g++) dist[g] = cm_km_sqdist(row_of(P, rows, g), C + (size_t)labels[g] * d, d);
}

/* cm_km_dotd_2x4 with the 4 lanes in one register: eight accumulators, the candidate rows converted once per
 * step for both points. */
__attribute__((target("avx"))) static void dotd_2x4_avx(const float *x0, const float *x1, const float *const *y,
                                                        size_t d, double out[2][4]) {
    __m256d a[2][4];
    for (int p = 0; p < 2; p++)
        for (int c = 0; c < 4; c++) a[p][c] = _mm256_setzero_pd();
    const size_t d4 = d & ~(size_t)3;
    for (size_t i = 0; i < d4; i += 4) {
        __m256d u0 = _mm256_cvtps_pd(_mm_loadu_ps(x0 + i)), u1 = _mm256_cvtps_pd(_mm_loadu_ps(x1 + i));
        __asm__("" : "+x"(u0), "+x"(u1));
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) {
            __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(y[c] + i));
            __asm__("" : "+x"(v));
            a[0][c] = _mm256_add_pd(a[0][c], _mm256_mul_pd(v, u0));
            a[1][c] = _mm256_add_pd(a[1][c], _mm256_mul_pd(v, u1));
        }
    }
    for (int p = 0; p < 2; p++) {
        const float *x = p ? x1 : x0;
        for (int c = 0; c < 4; c += 2) {   /* hadd: {l0 + l1 of c, of c + 1, l2 + l3 of c, of c + 1}, then halves */
            const __m256d h = _mm256_hadd_pd(a[p][c], a[p][c + 1]);
            double s[2];
            _mm_storeu_pd(s, _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1)));
            for (int q = 0; q < 2; q++) {
                for (size_t j = d4; j < d; j++) s[q] += (double)y[c + q][j] * (double)x[j];
                out[p][c + q] = s[q];
            }
        }
    }
}
#endif

int cm_km_nearest_simd(void) {
#if defined(__x86_64__) || defined(__i386__)
    static int simd = -1;   /* resolved on first use (the kernels ask per call); every thread gets the same answer */
    int v = __atomic_load_n(&simd, __ATOMIC_RELAXED);
    if (v < 0) {
        v = !getenv("CMTEB_KMEANS_PORTABLE") && __builtin_cpu_supports("avx");
        __atomic_store_n(&simd, v, __ATOMIC_RELAXED);
    }
    return v;
#else
    return 0;
#endif
}

void cm_km_nearest(const float *const *P, const size_t *rows, size_t i0, size_t i1, size_t d, const float *C,
                   const float *cnorm, int k, int portable, int *labels) {
#if defined(__x86_64__) || defined(__i386__)
    if (!portable && cm_km_nearest_simd()) {
        nearest_avx(P, rows, i0, i1, d, C, cnorm, k, labels);
        return;
    }
#endif
    nearest_portable(P, rows, i0, i1, d, C, cnorm, k, labels);
}

void cm_km_sqdists(const float *const *P, const size_t *rows, size_t i0, size_t i1, size_t d, const float *C,
                   const int *labels, int portable, double *dist) {
#if defined(__x86_64__) || defined(__i386__)
    if (!portable && cm_km_nearest_simd()) {
        sqdists_avx(P, rows, i0, i1, d, C, labels, dist);
        return;
    }
#endif
    for (size_t i = i0; i < i1; i++) dist[i] = cm_km_sqdist(row_of(P, rows, i), C + (size_t)labels[i] * d, d);
}

void cm_km_dotd_2x4(const float *x0, const float *x1, const float *const *y, size_t d, int portable,
                    double out[2][4]) {
#if defined(__x86_64__) || defined(__i386__)
    if (!portable && cm_km_nearest_simd()) {
        dotd_2x4_avx(x0, x1, y, d, out);
        return;
    }
#endif
    for (int c = 0; c < 4; c++) {
        out[0][c] = cm_km_dotd(y[c], x0, d);
        out[1][c] = cm_km_dotd(y[c], x1, d);
    }
}
