/* topk_lowp_probe.c: the exact search kernel's shape (6 queries x 16 documents, d = 384, one thread) in fp32 FMA, int8
 * (vpmaddubsw + vpmaddwd, 7-bit queries so the pairs cannot saturate) and int16 (vpmaddwd): multiply-adds per
 * second of each. Built and run by bench/topk_screen_probe.sh; figures in bench/RESULTS.md. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define QB 6
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
__attribute__((target("avx2,fma"))) static void f32(const float *const *q, const float *P, size_t dim, float *C) {
    __m256 c[2 * QB];
    for (int i = 0; i < 2 * QB; i++) c[i] = _mm256_setzero_ps();
    for (size_t k = 0; k < dim; k++) {
        const __m256 b0 = _mm256_loadu_ps(P + k * 16), b1 = _mm256_loadu_ps(P + k * 16 + 8);
#pragma GCC unroll 6
        for (int r = 0; r < QB; r++) {
            const __m256 x = _mm256_broadcast_ss(q[r] + k);
            c[2 * r] = _mm256_fmadd_ps(x, b0, c[2 * r]);
            c[2 * r + 1] = _mm256_fmadd_ps(x, b1, c[2 * r + 1]);
        }
    }
    for (int r = 0; r < QB; r++) { _mm256_storeu_ps(C + r * 16, c[2 * r]); _mm256_storeu_ps(C + r * 16 + 8, c[2 * r + 1]); }
}
/* P8: for each group of 4 dims, 16 documents x 4 bytes (u8, value + 128); q8: 4 bytes per group (s8, |v| <= 63) */
__attribute__((target("avx2"))) static void i8(const int8_t *const *q, const uint8_t *P, size_t dim, int32_t *C) {
    __m256i c[2 * QB];
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < 2 * QB; i++) c[i] = _mm256_setzero_si256();
    for (size_t g = 0; g < dim / 4; g++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(P + g * 64)), b1 = _mm256_loadu_si256((const __m256i *)(P + g * 64 + 32));
#pragma GCC unroll 6
        for (int r = 0; r < QB; r++) {
            const __m256i x = _mm256_set1_epi32(*(const int32_t *)(q[r] + g * 4));
            c[2 * r] = _mm256_add_epi32(c[2 * r], _mm256_madd_epi16(_mm256_maddubs_epi16(b0, x), ones));
            c[2 * r + 1] = _mm256_add_epi32(c[2 * r + 1], _mm256_madd_epi16(_mm256_maddubs_epi16(b1, x), ones));
        }
    }
    for (int r = 0; r < QB; r++) { _mm256_storeu_si256((__m256i *)(C + r * 16), c[2 * r]); _mm256_storeu_si256((__m256i *)(C + r * 16 + 8), c[2 * r + 1]); }
}
/* P16: for each pair of dims, 16 documents x 2 int16; q16: 2 int16 per pair */
__attribute__((target("avx2"))) static void i16(const int16_t *const *q, const int16_t *P, size_t dim, int32_t *C) {
    __m256i c[2 * QB];
    for (int i = 0; i < 2 * QB; i++) c[i] = _mm256_setzero_si256();
    for (size_t g = 0; g < dim / 2; g++) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(P + g * 32)), b1 = _mm256_loadu_si256((const __m256i *)(P + g * 32 + 16));
#pragma GCC unroll 6
        for (int r = 0; r < QB; r++) {
            const __m256i x = _mm256_set1_epi32(*(const int32_t *)(q[r] + g * 2));
            c[2 * r] = _mm256_add_epi32(c[2 * r], _mm256_madd_epi16(b0, x));
            c[2 * r + 1] = _mm256_add_epi32(c[2 * r + 1], _mm256_madd_epi16(b1, x));
        }
    }
    for (int r = 0; r < QB; r++) { _mm256_storeu_si256((__m256i *)(C + r * 16), c[2 * r]); _mm256_storeu_si256((__m256i *)(C + r * 16 + 8), c[2 * r + 1]); }
}
int main(void) {
    const size_t dim = 384, nd = 8192, nq = 96, np = nd / 16;
    float *P = aligned_alloc(64, nd * dim * 4), *Q = aligned_alloc(64, nq * dim * 4), C[QB * 16];
    uint8_t *P8 = aligned_alloc(64, nd * dim); int8_t *Q8 = aligned_alloc(64, nq * dim); int32_t C8[QB * 16];
    srand(3);
    for (size_t i = 0; i < nd * dim; i++) { P[i] = rand() / (float)RAND_MAX - 0.5f; P8[i] = (uint8_t)(rand() & 255); }
    for (size_t i = 0; i < nq * dim; i++) { Q[i] = rand() / (float)RAND_MAX - 0.5f; Q8[i] = (int8_t)((rand() % 127) - 63); }
    int16_t *P16 = aligned_alloc(64, nd * dim * 2), *Q16 = aligned_alloc(64, nq * dim * 2);
    for (size_t i = 0; i < nd * dim; i++) P16[i] = (int16_t)(rand() % 60000 - 30000);
    for (size_t i = 0; i < nq * dim; i++) Q16[i] = (int16_t)(rand() % 60000 - 30000);
    double sink = 0;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        for (size_t p = 0; p < np; p++)
            for (size_t qb = 0; qb < nq / QB; qb++) {
                const float *qr[QB]; for (int r = 0; r < QB; r++) qr[r] = Q + (qb * QB + r) * dim;
                f32(qr, P + p * 16 * dim, dim, C); sink += C[5];
            }
        double t1 = now();
        for (size_t p = 0; p < np; p++)
            for (size_t qb = 0; qb < nq / QB; qb++) {
                const int8_t *qr[QB]; for (int r = 0; r < QB; r++) qr[r] = Q8 + (qb * QB + r) * dim;
                i8(qr, P8 + p * 16 * dim, dim, C8); sink += C8[5];
            }
        double t2 = now();
        for (size_t p = 0; p < np; p++)
            for (size_t qb = 0; qb < nq / QB; qb++) {
                const int16_t *qr[QB]; for (int r = 0; r < QB; r++) qr[r] = Q16 + (qb * QB + r) * dim;
                i16(qr, P16 + p * 16 * dim, dim, C8); sink += C8[5];
            }
        double t3 = now(), macs = (double)nd * nq * dim;
        printf("fp32 FMA %.1f GMAC/s   int8 %.1f (%.2fx)   int16 %.1f (%.2fx)\n", macs / (t1 - t0) / 1e9, macs / (t2 - t1) / 1e9, (t1 - t0) / (t2 - t1), macs / (t3 - t2) / 1e9, (t1 - t0) / (t3 - t2));
    }
    return sink == 12345.0;
}
