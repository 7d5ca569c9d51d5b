/*
 * bootstrap.h: per-item data of a task and the paired bootstrap test that
 * `cmteb check` and `cmteb compare` use to say whether a difference between
 * two runs of one task is significant.
 *
 * Per-item data (include/cmteb/evaluator.h) is what recomputing a task's main
 * score on a resample needs; cmteb keeps it beside the results, in
 * <model_dir>/.cmteb/<Task>.items.json:
 *   {"kind": "mean",     "ids": [...], "values": [...]}    main = mean(values)
 *   {"kind": "spearman", "pred": [...], "gold": [...]}     main = spearman(pred, gold)
 *   {"kind": "ap",       "scores": [...], "labels": [...]} main = AP(labels, scores)
 * (the object may also sit under "items"). Two runs are paired item by item:
 * by id when both have ids, else by position (equal counts required).
 *
 * The paired bootstrap draws B resamples of the n paired items with
 * replacement (the same draw for both runs) and recomputes both main scores
 * on each; delta_b = M(candidate_b) - M(baseline_b). A resample is a vector of
 * multiplicities, and the statistics are computed with those weights on
 * orders sorted once, so a resample costs O(n): Spearman with average ranks
 * (scipy.stats.spearmanr on the materialised resample) and AP with tied
 * scores at one threshold (sklearn average_precision_score) give the same
 * numbers as materialising the resample would.
 *
 * Random numbers: xoshiro256** seeded through splitmix64 from the seed
 * mixed with a caller key (the task name), so every task has its own fixed
 * stream; the defaults are 1000 resamples and seed 42.
 *
 * Ownership: cm_items_* constructors allocate; cm_items_free releases (NULL
 * is fine). Everything else borrows.
 */
#ifndef CMTEB_REPORTS_BOOTSTRAP_H
#define CMTEB_REPORTS_BOOTSTRAP_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_items_kind {
    CM_ITEMS_MEAN     = 1,   /* x: per-item values */
    CM_ITEMS_SPEARMAN = 2,   /* x: predictions, y: gold scores */
    CM_ITEMS_AP       = 3,   /* x: scores, y: labels 0/1 */
} cm_items_kind;

const char *cm_items_kind_name(cm_items_kind k);

typedef struct cm_items cm_items;

/* Parses an items object; where labels errors ("path: field 'values': ..."). */
int  cm_items_from_json(cm_items **out, const cJSON *obj, const char *where);
/* Builds items from arrays (copied); ids may be NULL; y is NULL for MEAN. */
int  cm_items_from_arrays(cm_items **out, cm_items_kind kind, size_t n, const char *const *ids,
                          const double *x, const double *y);
/* Reads <model_dir>/.cmteb/<task>.items.json. CM_ERR_NOTFOUND when there is none. */
int  cm_items_load(cm_items **out, const char *model_dir, const char *task);
void cm_items_free(cm_items *it);

cm_items_kind cm_items_kind_of(const cm_items *it);
size_t        cm_items_count(const cm_items *it);

/* The main score on a resample given by multiplicities counts[0..n) (NULL:
 * every item once). NaN when undefined (constant ranks, no positive label).
 * Not thread-safe on one cm_items (it prepares sort orders on first use). */
double cm_items_score(cm_items *it, const uint32_t *counts);

/* Pairs two runs' items: *pa and *pb are new aligned copies holding the
 * items both have (by id, else by position). Different kinds, or different
 * counts without ids, are CM_ERR_ARG with the reason. */
int  cm_items_pair(const cm_items *a, const cm_items *b, cm_items **pa, cm_items **pb);

/* Fewer paired items than this and a bootstrap says little (two items give
 * three distinct resamples): reports then mark the difference untested. */
#define CM_BOOTSTRAP_MIN_ITEMS 10

typedef struct cm_bootstrap_params {
    size_t   resamples;   /* B (default 1000) */
    uint64_t seed;        /* default 42 */
} cm_bootstrap_params;

cm_bootstrap_params cm_bootstrap_default_params(void);

typedef struct cm_bootstrap_result {
    double delta;         /* M(candidate) - M(baseline) on all paired items (fraction) */
    double ci_lo, ci_hi;  /* 2.5 and 97.5 percentiles of delta_b */
    double p_two_sided;   /* min(1, 2 min(p_worse, p_better)) */
    double p_worse;       /* (1 + #{delta_b >= 0}) / (B' + 1): small when the candidate is worse */
    double p_better;      /* (1 + #{delta_b <= 0}) / (B' + 1): small when the candidate is better */
    size_t n_items;       /* paired items */
    size_t n_valid;       /* B': resamples where both scores were defined */
} cm_bootstrap_result;

/* Paired bootstrap of aligned items (from cm_items_pair). key (may be NULL)
 * is mixed into the seed. deltas (may be NULL) receives the B delta_b values,
 * NaN for undefined resamples, (resamples) caller-allocated. */
int cm_paired_bootstrap(cm_items *base, cm_items *cand, const cm_bootstrap_params *p, const char *key,
                        cm_bootstrap_result *res, double *deltas);

/* p-values and CI of a sample of deltas (NaN entries skipped), as above. */
void cm_bootstrap_summarize(const double *deltas, size_t n, double observed, cm_bootstrap_result *res);

/* The generator itself (exposed for tests): state from seed, next value,
 * and an unbiased integer in [0, n). */
typedef struct cm_rng { uint64_t s[4]; } cm_rng;
void     cm_rng_seed(cm_rng *r, uint64_t seed);
uint64_t cm_rng_next(cm_rng *r);
uint64_t cm_rng_below(cm_rng *r, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif
