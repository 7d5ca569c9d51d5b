/*
 * npfloat.h: numpy's float32 reductions, bit for bit, so that similarities
 * cmteb computes equal the float32 values scikit-learn computes for float32
 * embeddings (and tie exactly where they tie: Spearman and AP depend on it).
 *
 * cm_np_dot_f32 is np.einsum("ij,ij->i") of one row pair as numpy 1.24 runs
 * it on x86-64 (baseline SSE build: 4 lanes, blocks of 16 accumulated
 * right to left into one vector, a 4-lane tail, then (l0+l1)+(l2+l3)).
 * cm_np_sum_f32 is np.add.reduce over a contiguous float32 row (numpy's
 * pairwise summation: 8 accumulators per block of up to 128, halves above).
 * Both are verified bit-identical against Debian 12's numpy 1.24.2 by
 * test_npfloat. Compiled with -ffp-contract=off (no fused multiply-add).
 */
#ifndef CMTEB_TASKS_NPFLOAT_H
#define CMTEB_TASKS_NPFLOAT_H

#include <stddef.h>

float cm_np_dot_f32(const float *x, const float *y, size_t n);
float cm_np_sum_f32(const float *x, size_t n);
/* sklearn's paired cosine similarity 1 - paired_cosine_distances(x, y), the
 * paired manhattan and euclidean distances, for one float32 row pair of
 * width d, each as float32. scratch holds 3*d floats. */
void  cm_np_paired_f32(const float *x, const float *y, size_t d, float *scratch, float *cosine, float *manhattan,
                       float *euclidean);

#endif
