/*
 * sampling.h: how MTEB picks the rows a classification experiment sees.
 *
 *   cm_undersample_next   MTEB's _undersample_data: shuffle the running index
 *                         permutation with a fresh RandomState(seed) (chained
 *                         over experiments), keep the first k rows per label.
 *   cm_stratified_subsample  mteb's stratified_subsampling (ToxicConversations'
 *                         2048-row test cap): Hugging Face datasets'
 *                         train_test_split(test_size=n, seed, stratify_by_column)
 *                         on numpy's default_rng(seed); returns its "test" rows.
 *
 * Ownership: all arrays are caller-allocated; nothing is kept.
 */
#ifndef CMTEB_TASKS_CLASSIFICATION_SAMPLING_H
#define CMTEB_TASKS_CLASSIFICATION_SAMPLING_H

#include <stddef.h>
#include <stdint.h>

/* One undersampling experiment. idxs (n entries) is the running permutation
 * (start with 0..n-1) and is shuffled in place; labels[i] in [0, n_labels).
 * Writes the kept row indices, in permutation order, to sel (up to n) and
 * their count to *n_sel. Returns CM_OK or CM_ERR_NOMEM. */
int cm_undersample_next(size_t *idxs, size_t n, const int *labels, int n_labels, size_t per_label,
                        uint32_t seed, size_t *sel, size_t *n_sel);

/* The stratified test subsample: labels[i] in [0, n_classes) numbered in the
 * order Hugging Face's ClassLabel gives them (sorted class names). n_test <
 * n; every class needs at least 2 rows and n_test, n - n_test >= n_classes
 * (else CM_ERR_ARG, as HF raises). Writes n_test row indices to test_out in
 * HF's (permuted) order. */
int cm_stratified_subsample(const int *labels, size_t n, int n_classes, size_t n_test, uint64_t seed,
                            size_t *test_out);

#endif
