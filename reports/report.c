/*
 * report.c: builds the leaderboard view (rows, per-model cells, category
 * means, the average) from results folders, and the comparison against the
 * first model (differences and paired bootstraps). Rendering lives in
 * render_text.c (md, csv, json) and render_html.c.
 */
#include "cmteb/report.h"
#include "cmteb/array.h"
#include "cmteb/log.h"
#include "cmteb/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *cm_report_category_name(int category) {
    return category >= 0 && category < (int)CM_TASK_TYPE_COUNT ? cm_task_type_name((cm_task_type)category) : "Other";
}

int cm_report_format_parse(const char *s, cm_report_format *out) {
    if (!strcasecmp(s, "md") || !strcasecmp(s, "markdown")) *out = CM_REPORT_MD;
    else if (!strcasecmp(s, "csv")) *out = CM_REPORT_CSV;
    else if (!strcasecmp(s, "json")) *out = CM_REPORT_JSON;
    else if (!strcasecmp(s, "html")) *out = CM_REPORT_HTML;
    else return cm_error(CM_ERR_ARG, "unknown report format '%s' (expected md, csv, json or html)", s);
    return CM_OK;
}

void cm_report_fmt_score(char buf[32], double x100) {
    if (isnan(x100)) { buf[0] = '\0'; return; }
    /* Snap to 1e-8 first: a mean that lands on a tie (75.505) prints the same
     * whatever the summation order or FMA contraction gave in the last bits. */
    double snapped = round(x100 * 1e8) / 1e8;
    snprintf(buf, 32, "%.2f", snapped + 0.0);   /* + 0.0: no "-0.00" */
}

cm_report_params cm_report_default_params(void) {
    cm_report_params p = {NULL, NULL, 0, -1};
    return p;
}

static void diff_clear(cm_report_diff *d) {
    free(d->note);
    memset(d, 0, sizeof *d);
    d->delta = NAN;
}

void cm_report_free(cm_report *r) {
    if (!r) return;
    for (size_t i = 0; i < r->n_rows; i++) {
        free(r->rows[i].task);
        free(r->rows[i].metric);
    }
    free(r->rows);
    for (size_t m = 0; m < r->n_models; m++) {
        cm_report_model *M = &r->models[m];
        cm_model_results_free(M->res);
        free(M->cells);
        if (M->diff)
            for (size_t i = 0; i < r->n_rows; i++) diff_clear(&M->diff[i]);
        free(M->diff);
        for (int c = 0; c < CM_REPORT_NCAT; c++) diff_clear(&M->cat_diff[c]);
        diff_clear(&M->overall_diff);
    }
    free(r->models);
    free(r->title);
    free(r->benchmark);
    free(r);
}

/* ---- rows ----------------------------------------------------------------- */

static int has_row(const cm_report *r, const char *task) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (!strcasecmp(r->rows[i].task, task)) return 1;
    return 0;
}

static int add_row(cm_report *r, const char *task, int category, const char *metric) {
    CM_TRY(cm_array_reserve(r->rows, r->cap_rows, r->n_rows + 1));
    cm_report_row *row = &r->rows[r->n_rows];
    row->task = cm_strdup(task);
    row->metric = cm_strdup(metric);
    row->category = category;
    if (!row->task || !row->metric) {
        free(row->task);
        free(row->metric);
        return CM_ERR_NOMEM;
    }
    r->n_rows++;
    return CM_OK;
}

static int add_task_row(cm_report *r, const cm_task *t) {
    return add_row(r, t->name, (int)t->type, cm_score_spec_for(t).metric);
}

/* Catalog position for ordering; tasks the catalog lacks go last. */
static size_t catalog_pos(const cm_catalog *cat, const char *task) {
    if (!cat) return (size_t)-1;
    for (size_t i = 0; i < cm_catalog_count(cat); i++)
        if (!strcmp(cm_catalog_get(cat, i)->name, task)) return i;
    return (size_t)-1;
}

typedef struct { const cm_catalog *cat; } row_sort_ctx;

static int cmp_rows(const void *a, const void *b, void *arg) {
    const row_sort_ctx *c = arg;
    const cm_report_row *x = a, *y = b;
    if (x->category != y->category) return x->category < y->category ? -1 : 1;
    size_t px = catalog_pos(c->cat, x->task), py = catalog_pos(c->cat, y->task);
    if (px != py) return px < py ? -1 : 1;
    return strcmp(x->task, y->task);
}

static int build_rows(cm_report *r, const cm_catalog *cat, const cm_report_params *p) {
    if (p->benchmark) {
        const cm_task **tasks = NULL;
        size_t n = 0;
        CM_TRY(cm_catalog_benchmark(cat, p->benchmark, &tasks, &n));
        int rc = CM_OK;
        for (size_t i = 0; i < n && !rc; i++) {
            int keep = !p->tasks;
            for (size_t j = 0; p->tasks && j < p->n_tasks && !keep; j++)
                keep = !strcasecmp(p->tasks[j], tasks[i]->name);
            if (keep) rc = add_task_row(r, tasks[i]);
        }
        free(tasks);
        CM_TRY(rc);
        for (size_t j = 0; p->tasks && j < p->n_tasks; j++)
            if (!has_row(r, p->tasks[j]))
                return cm_error(CM_ERR_NOTFOUND, "task '%s' is not part of benchmark \"%s\"", p->tasks[j],
                                p->benchmark);
    } else if (p->tasks) {
        for (size_t j = 0; j < p->n_tasks; j++) {
            if (has_row(r, p->tasks[j])) continue;
            const cm_task *t = cat ? cm_catalog_find(cat, p->tasks[j]) : NULL;
            if (t) CM_TRY(add_task_row(r, t));
            else CM_TRY(add_row(r, p->tasks[j], CM_REPORT_OTHER, "main_score"));
        }
    } else {
        /* Every task found; CQADupstack subforums count once, as CQADupstackRetrieval. */
        for (size_t m = 0; m < r->n_models; m++) {
            const cm_model_results *res = r->models[m].res;
            for (size_t i = 0; i < res->n_scores; i++) {
                const char *name = res->scores[i].task;
                if (has_row(r, name)) continue;
                if (cm_results_is_cqadupstack_part(name) && cm_model_results_get(res, "CQADupstackRetrieval")) continue;
                const cm_task *t = cat ? cm_catalog_find(cat, name) : NULL;
                if (t) CM_TRY(add_task_row(r, t));
                else CM_TRY(add_row(r, name, CM_REPORT_OTHER, res->scores[i].key ? res->scores[i].key : "main_score"));
            }
        }
        row_sort_ctx c = {cat};
        if (r->n_rows > 1) qsort_r(r->rows, r->n_rows, sizeof *r->rows, cmp_rows, &c);
    }
    if (!r->n_rows) return cm_error(CM_ERR_NOTFOUND, "no tasks to report");
    return CM_OK;
}

/* ---- aggregates ----------------------------------------------------------- */

static void aggregate(cm_report *r, cm_report_model *M) {
    double sum = 0, csum[CM_REPORT_NCAT] = {0};
    memset(&M->overall, 0, sizeof M->overall);
    memset(M->cat, 0, sizeof M->cat);
    for (size_t i = 0; i < r->n_rows; i++) {
        int c = r->rows[i].category;
        M->overall.total++;
        M->cat[c].total++;
        const cm_task_score *s = M->cells[i];
        if (!s || isnan(s->value)) continue;
        M->overall.present++;
        M->cat[c].present++;
        sum += 100.0 * s->value;
        csum[c] += 100.0 * s->value;
    }
    M->overall.mean = M->overall.present ? sum / (double)M->overall.present : NAN;
    for (int c = 0; c < CM_REPORT_NCAT; c++)
        M->cat[c].mean = M->cat[c].present ? csum[c] / (double)M->cat[c].present : NAN;
}

static int label_models(cm_report *r, int label_revisions) {
    for (size_t m = 0; m < r->n_models; m++) {
        cm_model_results *res = r->models[m].res;
        int dup = label_revisions == 1;
        for (size_t k = 0; k < r->n_models && label_revisions == -1 && !dup; k++)
            dup = k != m && !strcmp(r->models[k].res->name, res->name);
        if (!dup) continue;
        char *l = res->revision ? cm_asprintf("%s@%.10s", res->name, res->revision)
                                : cm_asprintf("%s (%s)", res->name, res->dir);
        if (!l) return CM_ERR_NOMEM;
        free(res->label);
        res->label = l;
    }
    return CM_OK;
}

int cm_report_build_from(cm_report **out, const cm_catalog *cat, cm_model_results **models, size_t n_models,
                         const cm_report_params *params) {
    *out = NULL;
    size_t failures = cm_alloc_failures();
    cm_report_params p = params ? *params : cm_report_default_params();
    cm_report *r = cm_calloc(1, sizeof *r);
    int rc = r ? CM_OK : CM_ERR_NOMEM;
    if (r && !(r->models = cm_calloc(n_models ? n_models : 1, sizeof *r->models))) rc = CM_ERR_NOMEM;
    if (rc) {
        for (size_t m = 0; m < n_models; m++) cm_model_results_free(models[m]);
        free(r);
        return rc;
    }
    for (size_t m = 0; m < n_models; m++) r->models[m].res = models[m];
    r->n_models = n_models;
    r->alpha = 0.05;
    r->bootstrap = cm_bootstrap_default_params();
    if (p.benchmark && !cat) { rc = cm_error(CM_ERR_ARG, "a benchmark needs the task catalog"); goto fail; }
    if ((rc = build_rows(r, cat, &p))) goto fail;
    if (p.benchmark) {
        const cm_task **t;
        size_t n;
        /* The canonical spelling of the benchmark name, from its tasks. */
        if ((rc = cm_catalog_benchmark(cat, p.benchmark, &t, &n))) goto fail;
        const char *canon = p.benchmark;
        for (size_t j = 0; n && j < t[0]->n_benchmarks; j++)
            if (!strcasecmp(t[0]->benchmarks[j], p.benchmark)) canon = t[0]->benchmarks[j];
        if (canon == p.benchmark && n && t[0]->n_benchmarks == 1) canon = t[0]->benchmarks[0];
        free(t);
        r->benchmark = cm_strdup(canon);
        r->title = cm_strdup(canon);
    } else {
        r->title = cm_strdup("Results");
    }
    if (!r->title || (p.benchmark && !r->benchmark)) { rc = CM_ERR_NOMEM; goto fail; }
    for (size_t m = 0; m < n_models; m++) {
        cm_report_model *M = &r->models[m];
        if (!(M->cells = cm_calloc(r->n_rows ? r->n_rows : 1, sizeof *M->cells))) { rc = CM_ERR_NOMEM; goto fail; }
        for (size_t i = 0; i < r->n_rows; i++) M->cells[i] = cm_model_results_get(M->res, r->rows[i].task);
        aggregate(r, M);
        M->overall_diff.delta = NAN;
        for (int c = 0; c < CM_REPORT_NCAT; c++) M->cat_diff[c].delta = NAN;
    }
    if ((rc = label_models(r, p.label_revisions))) goto fail;
    if ((rc = cm_alloc_guard(rc, failures, "building the report"))) goto fail;
    *out = r;
    return CM_OK;
fail:
    cm_report_free(r);
    return rc;
}

int cm_report_build(cm_report **out, const cm_catalog *cat, const char *const *dirs, size_t n_dirs,
                    const cm_report_params *p) {
    *out = NULL;
    cm_model_results **models = NULL;
    size_t n = 0, cap = 0;
    int rc = CM_OK;
    for (size_t d = 0; d < n_dirs && !rc; d++) {
        char **folders;
        size_t nf;
        if ((rc = cm_results_find_models(dirs[d], &folders, &nf))) break;
        for (size_t f = 0; f < nf && !rc; f++) {
            if ((rc = cm_array_reserve(models, cap, n + 1))) break;
            rc = cm_model_results_load(&models[n], folders[f], cat);
            if (!rc) n++;
        }
        cm_results_free_folders(folders, nf);
    }
    if (rc) {
        for (size_t m = 0; m < n; m++) cm_model_results_free(models[m]);
        free(models);
        return rc;
    }
    rc = cm_report_build_from(out, cat, models, n, p);
    free(models);
    return rc;
}

/* ---- comparison ------------------------------------------------------------ */

int cm_report_diff_significant(const cm_report *r, const cm_report_diff *d) {
    return d->tested && d->bs.n_valid > 0 && d->bs.p_two_sided < r->alpha;
}

static int set_diff_note(cm_report_diff *d, char *note) {
    if (!note) return CM_ERR_NOMEM;
    free(d->note);
    d->note = note;
    return CM_OK;
}

/* Paired bootstrap of one task; deltas (B) receives delta_b. Returns CM_OK
 * with tested 0 and a note when there is nothing to test. */
static int compare_task(const cm_report *r, const cm_report_model *base, const cm_report_model *cand, size_t row,
                        cm_report_diff *d, double *deltas) {
    const char *task = r->rows[row].task;
    cm_items *ib = NULL, *ic = NULL, *pb = NULL, *pc = NULL;
    int rb = cm_items_load(&ib, base->res->dir, task);
    int rcand = cm_items_load(&ic, cand->res->dir, task);
    int rc = CM_OK;
    if (rb == CM_ERR_NOTFOUND || rcand == CM_ERR_NOTFOUND) {
        cm_error_clear();
        rc =
            set_diff_note(d, cm_asprintf("no per-item data in the %s", rb == CM_ERR_NOTFOUND && rcand == CM_ERR_NOTFOUND
                                                                           ? "baseline or the candidate"
                                                                       : rb == CM_ERR_NOTFOUND ? "baseline"
                                                                                               : "candidate"));
        goto done;
    }
    if (rb == CM_ERR_NOMEM || rcand == CM_ERR_NOMEM) {
        rc = CM_ERR_NOMEM;
        goto done;
    }
    if (rb || rcand) {
        /* A broken side file does not stop the report; warn and say why there is no test. */
        cm_log(CM_LOG_WARN, "%s: per-item data unreadable, difference not tested: %s", task, cm_last_error());
        d->items_unreadable = 1;
        rc = set_diff_note(d, cm_asprintf("difference not tested: per-item data unreadable: %s", cm_last_error()));
        cm_error_clear();
        goto done;
    }
    if ((rc = cm_items_pair(ib, ic, &pb, &pc)) == CM_ERR_NOMEM) goto done;
    if (rc) {
        rc = set_diff_note(d, cm_asprintf("per-item data cannot be paired: %s", cm_last_error()));
        cm_error_clear();
        goto done;
    }
    if (cm_items_count(pb) < CM_BOOTSTRAP_MIN_ITEMS) {
        rc = set_diff_note(d, cm_asprintf("only %zu paired items; a bootstrap test needs at least %d",
                                          cm_items_count(pb), CM_BOOTSTRAP_MIN_ITEMS));
        goto done;
    }
    if ((rc = cm_paired_bootstrap(pb, pc, &r->bootstrap, task, &d->bs, deltas))) goto done;
    d->tested = 1;
    /* Per-item data should reproduce the file's scores; say so when it does not. */
    double sb = cm_items_score(pb, NULL), sc = cm_items_score(pc, NULL);
    const cm_task_score *fb = base->cells[row], *fc = cand->cells[row];
    if (cm_items_count(pb) == cm_items_count(ib) && cm_items_count(pc) == cm_items_count(ic) &&
        ((fb && fabs(sb - fb->value) > 5e-4) || (fc && fabs(sc - fc->value) > 5e-4)))
        rc = set_diff_note(d, cm_asprintf("per-item data gives %.4f / %.4f, the results files %.4f / %.4f",
                                          100 * sb, 100 * sc, fb ? 100 * fb->value : NAN, fc ? 100 * fc->value : NAN));
done:
    cm_items_free(ib); cm_items_free(ic); cm_items_free(pb); cm_items_free(pc);
    return rc;
}

/* Joint bootstrap of a group of rows: delta_b of the group mean is the mean
 * of the rows' delta_b (independent per-task draws, one index b). */
static int compare_group(const cm_report *r, const cm_report_model *cand, const int *in_group, double *const *deltas,
                         cm_report_diff *d) {
    size_t B = r->bootstrap.resamples, n_common = 0, n_tested = 0;
    double sum = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        if (!in_group[i] || isnan(cand->diff[i].delta)) continue;
        n_common++;
        sum += cand->diff[i].delta;
        n_tested += cand->diff[i].tested;
    }
    d->n_common = n_common;
    d->delta = n_common ? sum / (double)n_common : NAN;
    if (!n_common) return CM_OK;
    if (n_tested < n_common)
        return set_diff_note(d, cm_asprintf("%zu of %zu tasks have per-item data in both", n_tested, n_common));
    double *g = cm_malloc(B * sizeof *g);
    if (!g) return CM_ERR_NOMEM;
    double observed = 0;
    for (size_t b = 0; b < B; b++) g[b] = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        if (!in_group[i] || isnan(cand->diff[i].delta)) continue;
        observed += cand->diff[i].bs.delta;
        for (size_t b = 0; b < B; b++) g[b] += deltas[i][b];   /* NaN propagates: resample skipped */
    }
    for (size_t b = 0; b < B; b++) g[b] /= (double)n_common;
    cm_bootstrap_summarize(g, B, observed / (double)n_common, &d->bs);
    d->bs.n_items = n_common;
    d->tested = 1;
    free(g);
    return CM_OK;
}

int cm_report_compare(cm_report *r, const cm_bootstrap_params *bp, double alpha) {
    size_t failures = cm_alloc_failures();   /* per-item files that cannot be read leave a task untested */
    r->bootstrap = bp ? *bp : cm_bootstrap_default_params();
    if (!r->bootstrap.resamples) r->bootstrap.resamples = 1000;
    r->alpha = alpha > 0 ? alpha : 0.05;
    r->compared = 1;
    if (r->n_models < 2) return CM_OK;
    size_t B = r->bootstrap.resamples;
    const cm_report_model *base = &r->models[0];
    double **deltas = cm_calloc(r->n_rows, sizeof *deltas);
    int *in_group = cm_calloc(r->n_rows, sizeof *in_group);
    int rc = deltas && in_group ? CM_OK : CM_ERR_NOMEM;
    for (size_t i = 0; i < r->n_rows && !rc; i++)
        if (!(deltas[i] = cm_malloc(B * sizeof **deltas))) rc = CM_ERR_NOMEM;
    for (size_t m = 1; m < r->n_models && !rc; m++) {
        cm_report_model *M = &r->models[m];
        if (!(M->diff = cm_calloc(r->n_rows, sizeof *M->diff))) { rc = CM_ERR_NOMEM; break; }
        for (size_t i = 0; i < r->n_rows && !rc; i++) {
            cm_report_diff *d = &M->diff[i];
            d->delta = NAN;
            const cm_task_score *sb = base->cells[i], *sc = M->cells[i];
            if (!sb || !sc || isnan(sb->value) || isnan(sc->value)) continue;
            d->delta = 100.0 * (sc->value - sb->value);
            if (fabs(d->delta) < 5e-9) d->delta = 0.0;   /* equal scores read through x100 files */
            d->n_common = 1;
            rc = compare_task(r, base, M, i, d, deltas[i]);
        }
        for (int c = 0; c < CM_REPORT_NCAT && !rc; c++) {
            for (size_t i = 0; i < r->n_rows; i++) in_group[i] = r->rows[i].category == c;
            rc = compare_group(r, M, in_group, deltas, &M->cat_diff[c]);
        }
        for (size_t i = 0; i < r->n_rows; i++) in_group[i] = 1;
        if (!rc) rc = compare_group(r, M, in_group, deltas, &M->overall_diff);
    }
    for (size_t i = 0; deltas && i < r->n_rows; i++) free(deltas[i]);
    free(deltas);
    free(in_group);
    return cm_alloc_guard(rc, failures, "comparing the models");
}

int cm_report_render(const cm_report *r, cm_report_format f, cm_str *out) {
    switch (f) {
    case CM_REPORT_MD:   return cm_report_render_md(r, out);
    case CM_REPORT_CSV:  return cm_report_render_csv(r, out);
    case CM_REPORT_JSON: return cm_report_render_json(r, out);
    case CM_REPORT_HTML: return cm_report_render_html(r, out);
    }
    return cm_error(CM_ERR_ARG, "unknown report format %d", (int)f);
}
