/*
 * retrieval.c: the Retrieval evaluator (main score ndcg_at_10), MTEB v1 as
 * tests/reference/ref_rank_retrieval.py re-implements it.
 *
 * Per data folder (BEIR layout, datasets/retrieval_data.h):
 *   1. queries in the split's qrels are embedded with role query and the
 *      task instruction, then L2-normalised;
 *   2. the corpus is streamed in batches, embedded with role document and no
 *      instruction ((title + " " + text).strip()), normalised and searched
 *      exactly in chunks of corpus_chunk_size (tasks/retrieval/search.h), or
 *      with the approximate FAISS index the run option "retrieval_index"
 *      names; top max(k_values) hits per query; a hit whose id equals the
 *      query id is dropped (setting "ignore_identical_ids", default true);
 *   3. ndcg/map/recall/precision at k with trec_eval semantics and BEIR's
 *      MRR (tasks/retrieval/trec_metrics.h), averaged over the evaluated
 *      queries (MRR: divided by the number of qrels queries), rounded to 5
 *      decimals.
 * Settings: "k_values" (default [1,3,5,10,20,100,1000]), "corpus_chunk_size"
 * (default 50000), "ignore_identical_ids", "subsets" (CQADupstackRetrieval:
 * each listed folder is evaluated on its own and every metric is the mean
 * over them of the rounded per-subset values, as mteb's merge script did).
 * Run options (cm_eval_options): retrieval_index ("Flat" default, or e.g.
 * "HNSW32", "IVF4096,Flat"), retrieval_index_params (e.g. "nprobe=64"),
 * corpus_chunk_size (overrides the task setting: the memory knob),
 * mem_budget (bytes: the chunk size is the largest whose predicted peak,
 * with the query vectors, heaps and one embedding batch, fits; an explicit
 * corpus_chunk_size option wins), predictions_top_k (K) with predictions_prefix (set per task by the run):
 * each query's top min(K, max(k_values)) hits, exactly the ranking the
 * metrics saw, go to PREFIX[.<subset>].<split>.trec as a TREC run file
 * ("qid Q0 docid rank score cmteb", written atomically).
 * The scores also say which index was used ("cmteb_index").
 * Shards (tasks/retrieval/shard.h): with shard_count set, only that shard's
 * slice of the corpus is embedded and searched and the hits go to a file
 * (no metrics); with n_merge set, nothing is embedded and step 3 runs on the
 * shards' merged hits, which gives the single run's result.
 */
#include "cmteb/evaluator.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "datasets/retrieval_data.h"
#include "tasks/retrieval/search.h"
#include "tasks/retrieval/shard.h"
#include "tasks/retrieval/topk.h"
#include "tasks/retrieval/trec_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>

#define MAX_K CM_MAX_K_VALUES
#define EMBED_BATCH 4096 /* corpus documents read and embedded at a time */

typedef struct {
    size_t ks[MAX_K];
    size_t nk;
    size_t top_k;
    size_t chunk_size;
    int    skip_self;
    const char *index;
    const char *index_params;
    int    main_metric;   /* metric and cutoff of the main score when it is per-query (for ctx->items); -1 none */
    size_t main_j;
    size_t pred_k;        /* hits per query in the run file; 0: none */
    double mem_budget;    /* bytes, 0: none (chunk size from the settings) */
    const char *pred_prefix;
    size_t shard_i, shard_n, n_merge; /* shards (tasks/retrieval/shard.h): search one slice, or merge n_merge */
    const char *shard_prefix;
    const char *const *merge_prefixes;
} ret_config;

typedef struct {
    double sums[CM_RANK_NMETRICS * MAX_K];
    size_t n_eval;        /* queries with results (trec metrics' denominator) */
    size_t n_qrels;       /* queries in the qrels (MRR's denominator) */
    cJSON *item_ids, *item_values; /* NULL or arrays for ctx->items */
    const char *index_name;
} ret_totals;

static int parse_config(const cm_task *task, const cm_eval_ctx *ctx, ret_config *c) {
    memset(c, 0, sizeof *c);
    const cm_retrieval_settings *st = &task->settings.retrieval; /* checked when the task was parsed */
    const cm_eval_options dflt = cm_eval_default_options(), *o = ctx->options ? ctx->options : &dflt;
    for (size_t j = 0; j < st->k_values.n; j++) c->ks[c->nk++] = (size_t)st->k_values.v[j];
    for (size_t j = 0; j < c->nk; j++)
        if (c->ks[j] > c->top_k) c->top_k = c->ks[j];
    /* the run-wide memory knob overrides the task's */
    c->chunk_size = o->corpus_chunk_size ? o->corpus_chunk_size : (size_t)st->corpus_chunk_size;
    if (c->chunk_size > 1000000000)
        return cm_error(CM_ERR_FORMAT,
                        "%s: 'corpus_chunk_size' (task setting or run option): expected a positive integer "
                        "up to 10^9",
                        task->name);
    c->skip_self = st->ignore_identical_ids;
    c->index = o->retrieval_index ? o->retrieval_index : "Flat";
    c->index_params = o->retrieval_index_params && *o->retrieval_index_params ? o->retrieval_index_params : NULL;
    if (!o->corpus_chunk_size) c->mem_budget = (double)o->mem_budget;
    if (o->predictions_top_k) {
        if (!o->predictions_prefix)
            return cm_error(CM_ERR_ARG, "%s: predictions_top_k needs predictions_prefix (where the run files go)",
                            task->name);
        c->pred_k = o->predictions_top_k < c->top_k ? o->predictions_top_k : c->top_k;
        c->pred_prefix = o->predictions_prefix;
    }
    c->shard_i = o->shard_index;
    c->shard_n = o->shard_count;
    c->shard_prefix = o->shard_prefix;
    c->merge_prefixes = o->merge_prefixes;
    c->n_merge = o->n_merge;
    if ((c->shard_n && (c->shard_i >= c->shard_n || !c->shard_prefix)) || (c->n_merge && !c->merge_prefixes))
        return cm_error(CM_ERR_ARG, "%s: shard %zu of %zu needs shard_index < shard_count and shard_prefix",
                        task->name, c->shard_i, c->shard_n);
    /* The main score as (metric, cutoff), for per-query items. */
    c->main_metric = -1;
    for (int m = 0; m < CM_RANK_NMETRICS && task->main_score; m++) {
        const char *key = cm_rank_metric_key(m);
        size_t l = strlen(key);
        if (m == CM_RANK_MRR || strncmp(task->main_score, key, l) != 0) continue;
        size_t k = (size_t)strtoul(task->main_score + l, NULL, 10);
        for (size_t j = 0; j < c->nk; j++)
            if (c->ks[j] == k) {
                c->main_metric = m;
                c->main_j = j;
            }
    }
    return CM_OK;
}

static double mib(size_t b) { return (double)b / (1024.0 * 1024.0); }

/* cm_l2_normalize_rows over the rows of x (n, dim) on all threads (rows are independent: same bits). */
static void normalize_rows(float *x, size_t n, size_t dim) {
    const size_t block = 256;
#pragma omp parallel for schedule(static) if (n * dim >= (size_t)1 << 18)
    for (size_t b = 0; b < n; b += block) cm_l2_normalize_rows(x + b * dim, n - b < block ? n - b : block, dim);
}

/* Drops later hits whose id repeats an earlier one (a corpus listing an id
 * twice); hits are best first, so the better score stays. Returns the count;
 * *first_dup: the first repeated id (borrowed), NULL if none. Quadratic, so
 * only called when the metric code reported a duplicate. */
static size_t dedupe_hits(cm_hit *h, size_t n, const char **first_dup) {
    size_t k = 0;
    *first_dup = NULL;
    for (size_t i = 0; i < n; i++) {
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) dup = !strcmp(h[j].doc, h[i].doc);
        if (!dup) h[k++] = h[i];
        else if (!*first_dup) *first_dup = h[i].doc;
    }
    return k;
}

/* Copies query k's hits (best first) from the merged shards or the search into hits; returns their count. */
static size_t query_hits(const cm_shard_hits *merged, const cm_search *s, size_t k, cm_hit *hits) {
    const char *const *ids;
    const float *sc;
    size_t n = merged ? cm_shard_hits_get(merged, k, &ids, &sc) : cm_search_hits(s, k, &ids, &sc);
    for (size_t i = 0; i < n; i++) {
        hits[i].doc = ids[i];
        hits[i].score = sc[i];
    }
    return n;
}

/* Appends query qid's first min(n, pred_k) hits to out as TREC run lines; returns out's sticky error. */
static int append_run_lines(cm_str *out, const char *qid, const cm_hit *hits, size_t n, size_t pred_k) {
    for (size_t i = 0; i < n && i < pred_k; i++)
        cm_str_printf(out, "%s Q0 %s %zu %.8g cmteb\n", qid, hits[i].doc, i + 1, (double)hits[i].score);
    return cm_str_error(out);
}

/* Writes run (TREC run lines) to PREFIX[.SUBSET].SPLIT.trec atomically. */
static int write_run(const ret_config *c, const char *subset, const char *split, const cm_str *run) {
    CM_TRY(cm_path_component_check(split, "split"));   /* task.c checked them; this file must not escape either */
    if (subset) CM_TRY(cm_path_component_check(subset, "subset"));
    char *path = subset ? cm_asprintf("%s.%s.%s.trec", c->pred_prefix, subset, split)
                        : cm_asprintf("%s.%s.trec", c->pred_prefix, split);
    char *dir = path ? cm_path_dirname(path) : NULL;
    int rc = dir ? cm_mkdir_p(dir) : CM_ERR_NOMEM;
    if (!rc) rc = cm_write_file_atomic(path, run->s ? run->s : "", run->len);
    free(dir);
    free(path);
    return rc;
}

/* --shard: writes the finished search's hits for this shard's slice of n_docs. */
static int retrieval_write_hits(const ret_config *c, const char *subset, const char *split, const cm_search *s,
                                const char *const *qids, size_t nq, size_t n_docs, size_t grid) {
    size_t lo, hi;
    cm_shard_slice(n_docs, grid, c->shard_i, c->shard_n, &lo, &hi);
    char *path = cm_shard_hits_path(c->shard_prefix, subset, split);
    int rc = path ? cm_shard_hits_write(path, s, qids, nq, c->top_k, c->shard_i, c->shard_n, lo, hi) : CM_ERR_NOMEM;
    free(path);
    return rc;
}

/* merge: reads every shard's hits file of this folder and split (*out: caller frees). */
static int retrieval_merge_hits(const ret_config *c, const char *subset, const char *split, const char *const *qids,
                                size_t nq, cm_shard_hits **out) {
    char **paths = cm_calloc(c->n_merge, sizeof *paths);
    int rc = paths ? CM_OK : CM_ERR_NOMEM;
    for (size_t i = 0; i < c->n_merge && !rc; i++)
        if (!(paths[i] = cm_shard_hits_path(c->merge_prefixes[i], subset, split))) rc = CM_ERR_NOMEM;
    if (!rc) rc = cm_shard_hits_read(out, (const char *const *)paths, c->n_merge, qids, nq, c->top_k);
    for (size_t i = 0; paths && i < c->n_merge; i++) free(paths[i]);
    free(paths);
    return rc;
}

/* What --mem-budget holds back from the search for the rest of the run: the
 * corpus batch being embedded and the embedder's copy of it, the embedding
 * cache's uncommitted rows (cm_embedder_reserve_bytes), and the document ids
 * the search keeps (about 32 bytes each). */
static size_t run_reserve(const cm_embedder *e, size_t batch, size_t dim, size_t n_docs) {
    return 2 * batch * dim * sizeof(float) + cm_embedder_reserve_bytes(e) + n_docs * 32;
}

/* Evaluates one BEIR folder (subset: its name for the run file, or NULL)
 * and adds its per-query values to t. */
static int eval_folder(const cm_task *task, cm_eval_ctx *ctx, const ret_config *c, const char *folder,
                       const char *subset, const char *label, ret_totals *t) {
    cm_retrieval_data *data = NULL;
    CM_TRY(cm_retrieval_data_load(&data, folder, task->split));
    int rc = CM_OK;
    size_t dim = ctx->embedder ? cm_embedder_dim(ctx->embedder) : 1;   /* merge: no embedder */
    size_t nq = data->n_with_text;
    const char **qtexts = cm_calloc(nq ? nq : 1, sizeof *qtexts);
    const char **qids = cm_calloc(nq ? nq : 1, sizeof *qids);
    size_t *qindex = cm_calloc(nq ? nq : 1, sizeof *qindex); /* -> data->queries */
    float *qvec = cm_malloc((nq ? nq : 1) * dim * sizeof *qvec);
    float *dvec = NULL;
    cm_search *s = NULL;
    cm_corpus_reader *corpus = NULL;
    cm_hit *hits = NULL;
    double *vals_all = NULL;   /* (nq, CM_RANK_NMETRICS, nk) */
    int *q_rc = NULL;          /* (nq) */
    cm_str *q_run = NULL;      /* (nq) with pred_k: each query's run lines, formatted on all threads */
    cm_shard_hits *merged = NULL; /* merge: the shards' hits instead of a search */
    char *what = NULL;
    cm_str run = {0};
    if (!qtexts || !qids || !qindex || !qvec) { rc = CM_ERR_NOMEM; goto done; }
    for (size_t i = 0, k = 0; i < data->n_queries; i++)
        if (data->queries[i].text) {
            qtexts[k] = data->queries[i].text;
            qids[k] = data->queries[i].id;
            qindex[k++] = i;
        }
    if (!ctx->quiet && nq < data->n_queries)
        cm_log(CM_LOG_INFO, "%s: %zu of the %zu qrels queries have no text in %s; they score 0 in MRR and are left "
               "out of the other averages", label, data->n_queries - nq, data->n_queries, data->queries_path);

    if (c->n_merge) {   /* cmteb merge: the shards embedded and searched; only step 3 runs here */
        if ((rc = retrieval_merge_hits(c, subset, task->split, qids, nq, &merged))) goto done;
        t->index_name = c->index && strcmp(c->index, "Flat") && strcmp(c->index, "flat") ? c->index : "Flat";
        goto metrics;
    }
    /* 1. queries */
    if (!(what = cm_asprintf("%s: queries", label))) { rc = CM_ERR_NOMEM; goto done; }
    if ((rc = cm_embed(ctx->embedder, qtexts, nq, CM_ROLE_QUERY, task->instruction, what, qvec))) goto done;
    normalize_rows(qvec, nq, dim);

    /* 2. the corpus, streamed and searched */
    size_t n_docs = 0;
    if ((rc = cm_corpus_count_file(data->corpus_path, &n_docs))) goto done;
    if (!n_docs) {   /* every score would be 0.0: an error, not a result */
        rc = cm_error(CM_ERR_FORMAT, "%s: empty corpus (no documents to retrieve)", data->corpus_path);
        goto done;
    }
    cm_search_params sp = cm_search_default_params();
    sp.top_k = c->top_k;
    sp.chunk_size = c->chunk_size;
    sp.index = c->index;
    sp.index_params = c->index_params;
    sp.skip_self = c->skip_self;
    size_t batch = EMBED_BATCH;
    int exact = !c->index || !strcmp(c->index, "Flat") || !strcmp(c->index, "flat");
    if (c->mem_budget > 0) {
        size_t reserve = run_reserve(ctx->embedder, batch, dim, n_docs), budget = (size_t)c->mem_budget;
        size_t chunk = budget > reserve ? cm_search_chunk_for_budget(budget - reserve, nq, dim, n_docs, &sp) : 0;
        if (exact && chunk == 0) {
            sp.chunk_size = 1;
            rc = cm_error(CM_ERR_ARG, "--mem-budget %.1f MiB is too small for %zu queries of dim %zu: one document per "
                          "chunk already needs %.1f MiB (query vectors, top-%zu heaps, an embedding batch)",
                          mib(budget), nq, dim, mib(cm_search_mem_estimate(nq, dim, n_docs, &sp) + reserve), c->top_k);
            goto done;
        }
        if (!exact && cm_search_mem_estimate(nq, dim, n_docs, &sp) + reserve > budget) {
            rc = cm_error(CM_ERR_ARG, "--mem-budget %.1f MiB: the %s index over %zu documents needs up to %.1f MiB; "
                          "raise the budget or use the exact (Flat) search, which works in chunks", mib(budget),
                          c->index, n_docs, mib(cm_search_mem_estimate(nq, dim, n_docs, &sp) + reserve));
            goto done;
        }
        if (exact) sp.chunk_size = chunk;
        if (!ctx->quiet && exact)
            cm_log(CM_LOG_INFO, "%s: --mem-budget %.1f MiB: corpus chunks of %zu documents", label, mib(budget), chunk);
    }
    const char *how = !exact ? "approximate FAISS index"
                      : sp.faiss_exact ? "exact inner-product search (FAISS IndexFlatIP) in chunks"
                                       : "exact inner-product search (register-blocked kernel) in blocks";
    if (!ctx->quiet) {
        size_t est = cm_search_mem_estimate(nq, dim, n_docs, &sp) + run_reserve(ctx->embedder, batch, dim, n_docs);
        cm_log(CM_LOG_INFO, "%s: %zu documents, %zu queries, dim %zu: %s; predicted peak memory of the search %.1f MiB "
               "(%s %.1f MiB, query vectors %.1f MiB, top-%zu hit buffers %.1f MiB)",
                label, n_docs, nq, dim,
                how,
                mib(est), exact ? "one chunk of document vectors" : "index vectors (upper bound)",
                mib((exact ? (n_docs < sp.chunk_size ? n_docs : sp.chunk_size) : n_docs) * dim * sizeof(float)),
                mib(nq * dim * sizeof(float)), c->top_k,
                mib(nq * ((exact ? cm_topk_cap(c->top_k) : c->top_k) * (sizeof(float) + sizeof(uint32_t)) +
                          c->top_k * sizeof(char *))));
    }
    if ((rc = cm_search_init(&s, qvec, qids, nq, dim, &sp))) goto done;
    free(qvec);
    qvec = NULL;
    t->index_name = !strcmp(cm_search_index_name(s), "Flat") ? "Flat" : c->index;
    free(what);
    if (!(what = cm_asprintf("%s: corpus", label))) { rc = CM_ERR_NOMEM; goto done; }
    if (!(dvec = cm_malloc(batch * dim * sizeof *dvec))) { rc = CM_ERR_NOMEM; goto done; }
    cm_corpus_params cp = cm_corpus_default_params();
    cp.read_ahead = omp_get_max_threads() > 1;   /* --threads 1: no reader thread either */
    if ((rc = cm_corpus_open(&corpus, data->corpus_path, &cp))) goto done;
    size_t shard_seen = 0, shard_grid = exact && sp.faiss_exact ? sp.chunk_size : 1;   /* --shard: its slice only */
    for (;;) {
        const char *const *ids, *const *texts;
        size_t n;
        if ((rc = cm_corpus_next(corpus, batch, &ids, &texts, &n))) goto done;
        if (n == 0) break;
        if (c->shard_n && !(n = cm_shard_clip(c->shard_i, c->shard_n, n_docs, shard_grid, &shard_seen, &ids, &texts,
                                              n)))
            continue;
        if ((rc = cm_embed(ctx->embedder, (const char *const *)texts, n, CM_ROLE_DOCUMENT, NULL, what, dvec)))
            goto done;
        normalize_rows(dvec, n, dim);
        if ((rc = cm_search_add(s, dvec, ids, n))) goto done;
    }
    cm_corpus_close(corpus);
    corpus = NULL;
    free(dvec);
    dvec = NULL;
    if ((rc = cm_search_finish(s))) goto done;
    if (c->shard_n) {   /* --shard: the hits go to a file; the metrics are computed by the merge */
        rc = retrieval_write_hits(c, subset, task->split, s, qids, nq, n_docs, shard_grid);
        goto done;
    }

    /* 3. metrics per query: computed (and with --predictions-top-k their run lines formatted) on all threads, then
     * added up and written in query order (the sums' bits do not depend on the threads). A query whose evaluation
     * fails (a corpus listing an id twice, or no memory) is evaluated again on this thread, which then keeps its
     * error message. */
metrics:
    if (!(hits = cm_malloc(c->top_k * sizeof *hits)) ||
        !(vals_all = cm_malloc((nq ? nq : 1) * CM_RANK_NMETRICS * c->nk * sizeof *vals_all)) ||
        !(q_rc = cm_malloc((nq ? nq : 1) * sizeof *q_rc)) ||
        (c->pred_k && !(q_run = cm_calloc(nq ? nq : 1, sizeof *q_run)))) {
        rc = CM_ERR_NOMEM;
        goto done;
    }
#pragma omp parallel if (nq * c->top_k >= 65536)
    {
        cm_hit *th = cm_malloc(c->top_k * sizeof *th);
#pragma omp for schedule(dynamic, 16)
        for (size_t k = 0; k < nq; k++) {
            q_rc[k] = CM_ERR_NOMEM;
            if (!th) continue;
            const cm_retrieval_query *q = &data->queries[qindex[k]];
            size_t n = query_hits(merged, s, k, th);
            q_rc[k] = cm_trec_eval_query(th, n, q->judged, q->n_judged, c->ks, c->nk, NULL,
                                         vals_all + k * CM_RANK_NMETRICS * c->nk);
            if (q_rc[k] == CM_OK && q_run)   /* its run lines (th is in the evaluation's order now) */
                q_rc[k] = append_run_lines(&q_run[k], q->id, th, n, c->pred_k);
        }
        free(th);
    }
    int warned_dup = 0;
    for (size_t k = 0; k < nq; k++) {
        const cm_retrieval_query *q = &data->queries[qindex[k]];
        double *vals = vals_all + k * CM_RANK_NMETRICS * c->nk;
        if (q_rc[k]) {
            size_t n = query_hits(merged, s, k, hits);
            rc = cm_trec_eval_query(hits, n, q->judged, q->n_judged, c->ks, c->nk, NULL, vals);
            if (rc == CM_ERR_FORMAT) { /* the corpus lists an id twice: keep its better hit */
                const char *dup;
                n = dedupe_hits(hits, n, &dup);
                if (dup && !warned_dup) {
                    cm_log(CM_LOG_WARN, "%s: %s lists document id '%.200s' more than once: cmteb keeps the better-"
                           "scoring of its documents for each query, MTEB would keep only the last one listed",
                           label, data->corpus_path, dup);
                    warned_dup = 1;
                }
                rc = cm_trec_eval_query(hits, n, q->judged, q->n_judged, c->ks, c->nk, NULL, vals);
            }
            if (rc) goto done;
            rc = append_run_lines(&run, q->id, hits, n, c->pred_k);
        } else if (q_run) {
            rc = cm_str_appendn(&run, q_run[k].s ? q_run[k].s : "", q_run[k].len);
        }
        if (q_run) cm_str_free(&q_run[k]);
        if (rc) goto done;
        for (size_t i = 0; i < CM_RANK_NMETRICS * c->nk; i++) t->sums[i] += vals[i];
        if (t->item_ids && c->main_metric >= 0) {
            cJSON_AddItemToArray(t->item_ids, cJSON_CreateString(q->id));
            cJSON_AddItemToArray(t->item_values, cJSON_CreateNumber(vals[c->main_metric * c->nk + c->main_j]));
        }
    }
    t->n_eval += nq;
    t->n_qrels += data->n_queries;
    if (c->pred_k) rc = write_run(c, subset, task->split, &run);
done:
    cm_str_free(&run);
    if (rc) rc = cm_error_wrap(rc, "%s", label);
    free(hits);
    free(vals_all);
    free(q_rc);
    for (size_t k = 0; q_run && k < nq; k++) cm_str_free(&q_run[k]);
    free(q_run);
    free(what);
    free(dvec);
    free(qvec);
    free(qtexts);
    free(qids);
    free(qindex);
    cm_corpus_close(corpus);
    cm_search_free(s);
    cm_shard_hits_free(merged);
    cm_retrieval_data_free(data);
    return rc;
}

/* Writes the rounded means of t into obj (MTEB's keys). */
static void write_means(const ret_config *c, const ret_totals *t, double *out) {
    for (int m = 0; m < CM_RANK_NMETRICS; m++)
        for (size_t j = 0; j < c->nk; j++) {
            double denom = (double)(m == CM_RANK_MRR ? t->n_qrels : t->n_eval);
            out[m * c->nk + j] = cm_round5(denom > 0 ? t->sums[m * c->nk + j] / denom : 0.0);
        }
}

/* The folder of one CQADupstack-style subset: an absolute path as is; else
 * DATA_DIR/SUBSET where DATA_DIR is data_folder minus the task's
 * dataset.path (catalog tasks: "mteb/cqadupstack" -> DATA_DIR/mteb/...), then
 * data_folder/SUBSET, then data_folder/basename(SUBSET) and the sibling
 * dirname(data_folder)/basename(SUBSET). The first that exists wins. */
static char *subset_folder(const cm_task *task, const char *data_folder, const char *subset, cm_str *tried) {
    if (subset[0] == '/') return cm_strdup(subset);
    char *cand[4] = {0};
    int nc = 0;
    size_t lf = strlen(data_folder);
    if (task->dataset_path) {
        size_t lp = strlen(task->dataset_path);
        if (lf > lp && data_folder[lf - lp - 1] == '/' && !strcmp(data_folder + lf - lp, task->dataset_path)) {
            char *root = cm_strndup(data_folder, lf - lp - 1);
            if (root) cand[nc++] = cm_path_join(root, subset);
            free(root);
        }
    }
    cand[nc++] = cm_path_join(data_folder, subset);
    cand[nc++] = cm_path_join(data_folder, cm_path_basename(subset));
    char *parent = cm_path_dirname(data_folder);
    if (parent) cand[nc++] = cm_path_join(parent, cm_path_basename(subset));
    free(parent);
    char *found = NULL;
    for (int i = 0; i < nc; i++) {
        if (!found && cand[i] && cm_dir_exists(cand[i])) {
            found = cand[i];
            cand[i] = NULL;
        } else if (cand[i]) {
            cm_str_printf(tried, "%s%s", tried->len ? ", " : "", cand[i]);
        }
        free(cand[i]);
    }
    return found;
}

int cm_eval_retrieval(const cm_task *task, cm_eval_ctx *ctx, cJSON *scores) {
    ret_config c;
    CM_TRY(parse_config(task, ctx, &c));
    const cm_setting_strs *subsets = &task->settings.retrieval.subsets;
    double means[CM_RANK_NMETRICS * MAX_K] = {0};
    const char *index_name = c.index;
    int rc = CM_OK;
    if (!subsets->n) {
        ret_totals t;
        memset(&t, 0, sizeof t);
        if (ctx->items) {
            t.item_ids = cJSON_CreateArray();
            t.item_values = cJSON_CreateArray();
            if (!t.item_ids || !t.item_values) rc = CM_ERR_NOMEM;
        }
        if (!rc) rc = eval_folder(task, ctx, &c, ctx->data_folder, NULL, task->name, &t);
        if (!rc) {
            write_means(&c, &t, means);
            index_name = t.index_name ? t.index_name : index_name;
            if (ctx->items && c.main_metric >= 0) {
                cJSON_AddStringToObject(ctx->items, "kind", "mean");
                cJSON_AddItemToObjectCS(ctx->items, "ids", t.item_ids);
                cJSON_AddItemToObjectCS(ctx->items, "values", t.item_values);
                t.item_ids = t.item_values = NULL;
            }
        }
        cJSON_Delete(t.item_ids);
        cJSON_Delete(t.item_values);
    } else {
        /* Mean over subsets of the per-subset rounded values; no per-item data
         * (a mean of means is not a mean of items). */
        size_t ns = 0;
        for (size_t si = 0; si < subsets->n; si++) {
            const char *sub_name = subsets->v[si];
            cm_str tried = {0};
            char *folder = subset_folder(task, ctx->data_folder, sub_name, &tried);
            if (!folder) {
                rc = cm_error(CM_ERR_NOTFOUND, "%s: subset %s not found (tried %s)", task->name, sub_name,
                              tried.s ? tried.s : "nothing");
                cm_str_free(&tried);
                return rc;
            }
            cm_str_free(&tried);
            char *label = cm_asprintf("%s/%s", task->name, cm_path_basename(sub_name));
            ret_totals t;
            memset(&t, 0, sizeof t);
            rc = label ? eval_folder(task, ctx, &c, folder, cm_path_basename(sub_name), label, &t) : CM_ERR_NOMEM;
            free(label);
            free(folder);
            if (rc) return rc;
            double sub[CM_RANK_NMETRICS * MAX_K];
            write_means(&c, &t, sub);
            for (size_t i = 0; i < CM_RANK_NMETRICS * c.nk; i++) means[i] += sub[i];
            index_name = t.index_name ? t.index_name : index_name;
            ns++;
        }
        for (size_t i = 0; i < CM_RANK_NMETRICS * c.nk; i++) means[i] /= (double)ns;
        cJSON_AddNumberToObject(scores, "cmteb_subsets", (double)ns);
    }
    if (rc) return rc;

    int have_main = 0;
    double main_value = 0;
    char key[64];
    for (int m = 0; m < CM_RANK_NMETRICS; m++)
        for (size_t j = 0; j < c.nk; j++) {
            snprintf(key, sizeof key, "%s%zu", cm_rank_metric_key(m), c.ks[j]);
            if (!cJSON_AddNumberToObject(scores, key, means[m * c.nk + j])) return CM_ERR_NOMEM;
            if (task->main_score && !strcmp(task->main_score, key)) {
                have_main = 1;
                main_value = means[m * c.nk + j];
            }
        }
    if (!have_main)
        return cm_error(CM_ERR_FORMAT, "%s: main_score '%s' is not a retrieval metric of this task (expected e.g. "
                        "ndcg_at_10 with 10 in k_values)", task->name, task->main_score ? task->main_score : "(none)");
    cJSON_AddNumberToObject(scores, "main_score", main_value);
    cJSON_AddStringToObject(scores, "cmteb_index", index_name ? index_name : "Flat");
    if (c.index_params) cJSON_AddStringToObject(scores, "cmteb_index_params", c.index_params);
    return CM_OK;
}
