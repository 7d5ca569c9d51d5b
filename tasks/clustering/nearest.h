/*
 * nearest.h: the k-means assignment kernel: for each point x, the first
 * centre j minimising fl(||c_j||^2 - 2 * dot(x, c_j)), with every dot product
 * summed exactly as cm_km_dotf sums it:
 *
 *   lane l (0..7) adds x[i + l] * c[i + l] for i = 0, 8, 16, ... in turn
 *   (a product rounded, then added: no fused multiply-add), then
 *   ((l0 + l1) + (l2 + l3)) + ((l4 + l5) + (l6 + l7)), then the d % 8 tail
 *   products added one by one.
 *
 * That is the point-by-point loop scikit-learn's labels are checked against
 * (tests/unit/test_kmeans), so the labels are its labels by construction, not
 * by a re-check. An AVX kernel (2 points x 4 centres per block, the 8 lanes
 * one register) and the portable loop give the same bits; the AVX one is
 * chosen at run time when the CPU has AVX and CMTEB_KMEANS_PORTABLE is unset.
 * The squared distances to the chosen centres (the inertia) are here too, for
 * the same reason. This file is compiled with -ffp-contract=off (CMakeLists.txt): a contracted
 * multiply-add would round differently from the portable loop.
 */
#ifndef CMTEB_TASKS_CLUSTERING_NEAREST_H
#define CMTEB_TASKS_CLUSTERING_NEAREST_H

#include <stddef.h>

/* The dot product above of a (d) and b (d). */
float cm_km_dotf(const float *a, const float *b, size_t d);

/* labels[i] = nearest centre of point P[rows[i]] (rows NULL: P[i]; each point a (d) row) for i in [i0, i1),
 * among the k centres C (k, d) whose cm_km_dotf norms are cnorm (k). portable 1 forces the portable loop. All borrowed;
 * single-threaded (the caller splits [0, m) between threads). */
void cm_km_nearest(const float *const *P, const size_t *rows, size_t i0, size_t i1, size_t d, const float *C,
                   const float *cnorm, int k, int portable, int *labels);

/* The exact squared distance in float64 of a (d) and b (d): sum over i in order of
 * ((double)a[i] - (double)b[i])^2, each square rounded, then added. */
double cm_km_sqdist(const float *a, const float *b, size_t d);

/* dist[i] = cm_km_sqdist(point i, C[labels[i]]) for i in [i0, i1) (points as in cm_km_nearest), eight
 * points side by side (AVX, same bits) unless portable. All borrowed; single-threaded. */
void cm_km_sqdists(const float *const *P, const size_t *rows, size_t i0, size_t i1, size_t d, const float *C,
                   const int *labels, int portable, double *dist);

/* k-means++'s float64 product of a (d) and b (d): sum of (double)a[i] * (double)b[i] in 4 lanes (lane l:
 * i = l, l + 4, ...; each product then added), then (l0 + l1) + (l2 + l3), then the d % 4 tail one by one. */
double cm_km_dotd(const float *a, const float *b, size_t d);

/* out[p][c] = cm_km_dotd(y[c], x_p, d) for two points x0, x1 (d) and four candidates y[0..4) (d each): AVX
 * (eight chains side by side) unless portable; the same bits either way. x1 may be x0. */
void cm_km_dotd_2x4(const float *x0, const float *x1, const float *const *y, size_t d, int portable,
                    double out[2][4]);

/* 1 when cm_km_nearest would use the AVX kernel (portable = 0), for logs and tests: the CPU has AVX and
 * CMTEB_KMEANS_PORTABLE was unset when first asked (read once). */
int cm_km_nearest_simd(void);

#endif
