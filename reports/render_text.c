/*
 * render_text.c: the report as markdown (summary table, per-category task
 * tables, missing tasks, notes), CSV (one row per model) and JSON (every
 * number at full precision, with the key, split and subset each score came
 * from). See report.h.
 */
#include "cmteb/report.h"
#include "cmteb/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ------------------------------------------------------- */

static int cat_has_rows(const cm_report *r, int c) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].category == c) return 1;
    return 0;
}

/* Markdown cell text: '|' escaped, newlines flattened. */
static int md_text(cm_str *o, const char *s) {
    for (const char *p = s; *p; p++) {
        if (*p == '|') CM_TRY(cm_str_append(o, "\\|"));
        else if (*p == '\n' || *p == '\r') CM_TRY(cm_str_append(o, " "));
        else CM_TRY(cm_str_appendn(o, p, 1));
    }
    return CM_OK;
}

static const char *sig_mark(const cm_report *r, const cm_report_diff *d) {
    if (!d->tested) return "\xe2\x80\xa0";   /* dagger: no per-item data, not tested */
    return cm_report_diff_significant(r, d) ? "*" : "";
}

/* "+1.23*" */
static void fmt_delta(char buf[48], const cm_report *r, const cm_report_diff *d) {
    if (!d || isnan(d->delta)) { buf[0] = '\0'; return; }
    snprintf(buf, 48, "%+.2f%s", d->delta + 0.0, sig_mark(r, d));
}

static int md_agg_cell(cm_str *o, const cm_report *r, const cm_report_agg *a, const cm_report_diff *d) {
    char s[32], dl[48];
    cm_report_fmt_score(s, a->mean);
    CM_TRY(cm_str_printf(o, " %s%s", a->present ? s : "\xe2\x80\x94",
                         a->present && a->present < a->total ? "\xc2\xb9" : ""));
    if (d && r->compared) {
        fmt_delta(dl, r, d);
        if (dl[0]) CM_TRY(cm_str_printf(o, " (%s)", dl));
    }
    return cm_str_append(o, " |");
}

/* ---- markdown -------------------------------------------------------------- */

int cm_report_render_md(const cm_report *r, cm_str *o) {
    CM_TRY(cm_str_printf(o, "# %s: %zu model%s, %zu task%s\n\n", r->title, r->n_models, r->n_models == 1 ? "" : "s",
                         r->n_rows, r->n_rows == 1 ? "" : "s"));
    /* Summary: one row per model. */
    CM_TRY(cm_str_printf(o, "| Model | Average (%zu) |", r->n_rows));
    size_t ncols = 0;
    for (int c = 0; c < CM_REPORT_NCAT; c++) {
        if (!cat_has_rows(r, c)) continue;
        ncols++;
        CM_TRY(cm_str_printf(o, " %s (%zu) |", cm_report_category_name(c), r->models ? r->models[0].cat[c].total : 0));
    }
    CM_TRY(cm_str_append(o, "\n|---|---:|"));
    for (size_t k = 0; k < ncols; k++) CM_TRY(cm_str_append(o, "---:|"));
    CM_TRY(cm_str_append(o, "\n"));
    int any_partial = 0;
    for (size_t m = 0; m < r->n_models; m++) {
        const cm_report_model *M = &r->models[m];
        CM_TRY(cm_str_append(o, "| "));
        CM_TRY(md_text(o, M->res->label));
        CM_TRY(cm_str_append(o, " |"));
        CM_TRY(md_agg_cell(o, r, &M->overall, m ? &M->overall_diff : NULL));
        any_partial |= M->overall.present < M->overall.total;
        for (int c = 0; c < CM_REPORT_NCAT; c++)
            if (cat_has_rows(r, c)) CM_TRY(md_agg_cell(o, r, &M->cat[c], m ? &M->cat_diff[c] : NULL));
        CM_TRY(cm_str_append(o, "\n"));
    }
    CM_TRY(cm_str_append(o, "\n"));
    if (any_partial)
        CM_TRY(cm_str_append(
            o, "\xc2\xb9 partial: the mean of the tasks present; the missing tasks are listed below.\n\n"));
    if (r->compared && r->n_models > 1)
        CM_TRY(cm_str_printf(o, "Differences are to %s (points x100). * significant at p < %g (two-sided paired "
                             "bootstrap over the task's items, %zu resamples, seed %llu; categories and the average "
                             "resample every task jointly); no mark: not significant; \xe2\x80\xa0 not tested (no "
                             "per-item data in both).\n\n",
                             r->models[0].res->label, r->alpha, r->bootstrap.resamples,
                             (unsigned long long)r->bootstrap.seed));

    /* Per category: one row per task. */
    for (int c = 0; c < CM_REPORT_NCAT; c++) {
        if (!cat_has_rows(r, c)) continue;
        CM_TRY(cm_str_printf(o, "## %s\n\n| Task | Metric |", cm_report_category_name(c)));
        for (size_t m = 0; m < r->n_models; m++) {
            CM_TRY(cm_str_append(o, " "));
            CM_TRY(md_text(o, r->models[m].res->label));
            CM_TRY(cm_str_append(o, " |"));
            if (m && r->compared) CM_TRY(cm_str_append(o, " \xce\x94 |"));
        }
        CM_TRY(cm_str_append(o, "\n|---|---|"));
        for (size_t m = 0; m < r->n_models; m++) CM_TRY(cm_str_append(o, m && r->compared ? "---:|---:|" : "---:|"));
        CM_TRY(cm_str_append(o, "\n"));
        for (size_t i = 0; i < r->n_rows; i++) {
            if (r->rows[i].category != c) continue;
            CM_TRY(cm_str_append(o, "| "));
            CM_TRY(md_text(o, r->rows[i].task));
            CM_TRY(cm_str_append(o, " | "));
            CM_TRY(md_text(o, r->rows[i].metric));
            CM_TRY(cm_str_append(o, " |"));
            for (size_t m = 0; m < r->n_models; m++) {
                const cm_task_score *s = r->models[m].cells[i];
                char b[32];
                cm_report_fmt_score(b, s ? 100.0 * s->value : NAN);
                CM_TRY(cm_str_printf(o, " %s |", b[0] ? b : "\xe2\x80\x94"));
                if (m && r->compared) {
                    char dl[48];
                    fmt_delta(dl, r, &r->models[m].diff[i]);
                    CM_TRY(cm_str_printf(o, " %s |", dl));
                }
            }
            CM_TRY(cm_str_append(o, "\n"));
        }
        CM_TRY(cm_str_append(o, "\n"));
    }

    /* Missing tasks, then notes on where scores came from. */
    int head = 0;
    for (size_t m = 0; m < r->n_models; m++) {
        const cm_report_model *M = &r->models[m];
        if (M->overall.present == M->overall.total) continue;
        if (!head++) CM_TRY(cm_str_append(o, "## Missing tasks\n\n"));
        CM_TRY(cm_str_append(o, "- "));
        CM_TRY(md_text(o, M->res->label));
        CM_TRY(cm_str_printf(o, " (%zu of %zu):", M->overall.total - M->overall.present, M->overall.total));
        for (size_t i = 0, k = 0; i < r->n_rows; i++) {
            const cm_task_score *s = M->cells[i];
            if (s && !isnan(s->value)) continue;
            CM_TRY(cm_str_printf(o, "%s %s", k++ ? "," : "", r->rows[i].task));
            if (s && s->note) CM_TRY(cm_str_printf(o, " (%s)", s->note));
        }
        CM_TRY(cm_str_append(o, "\n"));
    }
    if (head) CM_TRY(cm_str_append(o, "\n"));
    head = 0;
    for (size_t m = 0; m < r->n_models; m++) {
        const cm_report_model *M = &r->models[m];
        size_t n_percent = 0;
        for (size_t i = 0; i < r->n_rows; i++) {
            const cm_task_score *s = M->cells[i];
            const cm_report_diff *d = m && M->diff ? &M->diff[i] : NULL;
            int score_note = s && !isnan(s->value) && s->note;
            n_percent += s && !isnan(s->value) && s->percent;
            int diff_note = d && d->note && (d->tested || d->items_unreadable);
            if (!score_note && !diff_note) continue;
            if (!head++) CM_TRY(cm_str_append(o, "## Notes\n\n"));
            CM_TRY(cm_str_append(o, "- "));
            CM_TRY(md_text(o, M->res->label));
            CM_TRY(cm_str_printf(o, ", %s: ", r->rows[i].task));
            if (score_note)
                CM_TRY(cm_str_printf(o, "%s (read %s, split %s, subset %s)", s->note, s->key, s->split, s->subset));
            if (diff_note) CM_TRY(cm_str_printf(o, "%s%s", score_note ? "; " : "", d->note));
            CM_TRY(cm_str_append(o, "\n"));
        }
        if (n_percent) {
            if (!head++) CM_TRY(cm_str_append(o, "## Notes\n\n"));
            CM_TRY(cm_str_append(o, "- "));
            CM_TRY(md_text(o, M->res->label));
            CM_TRY(cm_str_printf(o, ": %zu file%s store%s scores x100 (model-card conversions); read as such\n",
                                 n_percent, n_percent == 1 ? "" : "s", n_percent == 1 ? "s" : ""));
        }
        for (size_t w = 0; w < M->res->n_warnings; w++) {
            if (!head++) CM_TRY(cm_str_append(o, "## Notes\n\n"));
            CM_TRY(cm_str_append(o, "- "));
            CM_TRY(md_text(o, M->res->warnings[w]));
            CM_TRY(cm_str_append(o, "\n"));
        }
    }
    if (head) CM_TRY(cm_str_append(o, "\n"));
    return CM_OK;
}

/* ---- CSV -------------------------------------------------------------------- */

static int csv_field(cm_str *o, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) return cm_str_append(o, s);
    CM_TRY(cm_str_append(o, "\""));
    for (const char *p = s; *p; p++) CM_TRY(*p == '"' ? cm_str_append(o, "\"\"") : cm_str_appendn(o, p, 1));
    return cm_str_append(o, "\"");
}

int cm_report_render_csv(const cm_report *r, cm_str *o) {
    CM_TRY(cm_str_append(o, "model,revision,tasks_present,tasks_total,average"));
    for (int c = 0; c < CM_REPORT_NCAT; c++)
        if (cat_has_rows(r, c)) CM_TRY(cm_str_printf(o, ",%s", cm_report_category_name(c)));
    for (size_t i = 0; i < r->n_rows; i++) {
        CM_TRY(cm_str_append(o, ","));
        CM_TRY(csv_field(o, r->rows[i].task));
    }
    CM_TRY(cm_str_append(o, "\n"));
    for (size_t m = 0; m < r->n_models; m++) {
        const cm_report_model *M = &r->models[m];
        char b[32];
        CM_TRY(csv_field(o, M->res->label));
        CM_TRY(cm_str_append(o, ","));
        CM_TRY(csv_field(o, M->res->revision ? M->res->revision : ""));
        cm_report_fmt_score(b, M->overall.mean);
        CM_TRY(cm_str_printf(o, ",%zu,%zu,%s", M->overall.present, M->overall.total, b));
        for (int c = 0; c < CM_REPORT_NCAT; c++) {
            if (!cat_has_rows(r, c)) continue;
            cm_report_fmt_score(b, M->cat[c].mean);
            CM_TRY(cm_str_printf(o, ",%s", b));
        }
        for (size_t i = 0; i < r->n_rows; i++) {
            cm_report_fmt_score(b, M->cells[i] ? 100.0 * M->cells[i]->value : NAN);
            CM_TRY(cm_str_printf(o, ",%s", b));
        }
        CM_TRY(cm_str_append(o, "\n"));
    }
    return CM_OK;
}

/* ---- JSON ------------------------------------------------------------------- */

/* cJSON_AddItemTo* that never leak: the item is deleted when it cannot be
 * added (a NULL parent, or the key's copy failed). Returns it, or NULL. The
 * members they drop are caught by the cm_alloc_failures check at the end. */
static cJSON *add_item(cJSON *parent, const char *key, cJSON *item) {
    if (item && !cJSON_AddItemToObject(parent, key, item)) { cJSON_Delete(item); return NULL; }
    return item;
}
static cJSON *push_item(cJSON *arr, cJSON *item) {
    if (item && !cJSON_AddItemToArray(arr, item)) { cJSON_Delete(item); return NULL; }
    return item;
}

static cJSON *num_or_null(double x) { return isnan(x) ? cJSON_CreateNull() : cJSON_CreateNumber(x); }

static cJSON *agg_json(const cm_report_agg *a) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_item(o, "mean", num_or_null(a->mean));
    cJSON_AddNumberToObject(o, "present", (double)a->present);
    cJSON_AddNumberToObject(o, "total", (double)a->total);
    cJSON_AddBoolToObject(o, "partial", a->present < a->total);
    return o;
}

static cJSON *diff_json(const cm_report *r, const cm_report_diff *d) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    add_item(o, "delta", num_or_null(d->delta));
    cJSON_AddBoolToObject(o, "tested", d->tested);
    if (d->tested) {
        add_item(o, "ci95_low", num_or_null(100.0 * d->bs.ci_lo));
        add_item(o, "ci95_high", num_or_null(100.0 * d->bs.ci_hi));
        cJSON_AddNumberToObject(o, "p_two_sided", d->bs.p_two_sided);
        cJSON_AddNumberToObject(o, "p_worse", d->bs.p_worse);
        cJSON_AddNumberToObject(o, "n_items", (double)d->bs.n_items);
        cJSON_AddNumberToObject(o, "resamples_used", (double)d->bs.n_valid);
        cJSON_AddBoolToObject(o, "significant", cm_report_diff_significant(r, d));
    }
    if (d->note) cJSON_AddStringToObject(o, "note", d->note);
    return o;
}

int cm_report_render_json(const cm_report *r, cm_str *o) {
    size_t failures = cm_alloc_failures();   /* a failed cJSON_Add* drops the member */
    cJSON *root = cJSON_CreateObject();
    if (!root) return CM_ERR_NOMEM;
    cJSON_AddStringToObject(root, "title", r->title);
    if (r->benchmark) cJSON_AddStringToObject(root, "benchmark", r->benchmark);
    else cJSON_AddNullToObject(root, "benchmark");
    cJSON_AddStringToObject(root, "scale", "x100");
    if (r->compared) {
        cJSON *c = cJSON_AddObjectToObject(root, "comparison");
        cJSON_AddStringToObject(c, "baseline", r->n_models ? r->models[0].res->label : "");
        cJSON_AddStringToObject(c, "test", "paired bootstrap, two-sided");
        cJSON_AddNumberToObject(c, "resamples", (double)r->bootstrap.resamples);
        cJSON_AddNumberToObject(c, "seed", (double)r->bootstrap.seed);
        cJSON_AddNumberToObject(c, "alpha", r->alpha);
    }
    cJSON *tasks = cJSON_AddArrayToObject(root, "tasks");
    for (size_t i = 0; i < r->n_rows; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "name", r->rows[i].task);
        cJSON_AddStringToObject(t, "category", cm_report_category_name(r->rows[i].category));
        cJSON_AddStringToObject(t, "metric", r->rows[i].metric);
        push_item(tasks, t);
    }
    cJSON *models = cJSON_AddArrayToObject(root, "models");
    for (size_t m = 0; m < r->n_models; m++) {
        const cm_report_model *M = &r->models[m];
        cJSON *jm = push_item(models, cJSON_CreateObject());
        cJSON_AddStringToObject(jm, "label", M->res->label);
        cJSON_AddStringToObject(jm, "name", M->res->name);
        if (M->res->revision) cJSON_AddStringToObject(jm, "revision", M->res->revision);
        else cJSON_AddNullToObject(jm, "revision");
        cJSON_AddStringToObject(jm, "folder", M->res->dir);
        add_item(jm, "average", agg_json(&M->overall));
        cJSON *cats = cJSON_AddObjectToObject(jm, "categories");
        for (int c = 0; c < CM_REPORT_NCAT; c++)
            if (cat_has_rows(r, c)) add_item(cats, cm_report_category_name(c), agg_json(&M->cat[c]));
        if (m && r->compared) {
            cJSON *jd = cJSON_AddObjectToObject(jm, "difference");
            add_item(jd, "average", diff_json(r, &M->overall_diff));
            cJSON *dc = cJSON_AddObjectToObject(jd, "categories");
            for (int c = 0; c < CM_REPORT_NCAT; c++)
                if (cat_has_rows(r, c)) add_item(dc, cm_report_category_name(c), diff_json(r, &M->cat_diff[c]));
        }
        cJSON *scores = cJSON_AddObjectToObject(jm, "scores");
        cJSON *missing = cJSON_AddArrayToObject(jm, "missing");
        for (size_t i = 0; i < r->n_rows; i++) {
            const cm_task_score *s = M->cells[i];
            if (!s || isnan(s->value)) {
                cJSON *mi = cJSON_CreateObject();
                cJSON_AddStringToObject(mi, "task", r->rows[i].task);
                cJSON_AddStringToObject(mi, "reason", s && s->note ? s->note : "no results file");
                push_item(missing, mi);
                continue;
            }
            cJSON *js = cJSON_CreateObject();
            cJSON_AddNumberToObject(js, "value", 100.0 * s->value);
            cJSON_AddStringToObject(js, "key", s->key ? s->key : "");
            cJSON_AddStringToObject(js, "split", s->split ? s->split : "");
            cJSON_AddStringToObject(js, "subset", s->subset ? s->subset : "");
            cJSON_AddStringToObject(js, "layout", cm_results_layout_name(s->layout));
            cJSON_AddStringToObject(js, "file", s->path ? s->path : "");
            if (s->note) cJSON_AddStringToObject(js, "note", s->note);
            if (s->percent) cJSON_AddBoolToObject(js, "file_stores_x100", 1);
            if (m && r->compared && M->diff) add_item(js, "difference", diff_json(r, &M->diff[i]));
            add_item(scores, r->rows[i].task, js);
        }
        if (M->res->n_warnings) {
            cJSON *w = cJSON_AddArrayToObject(jm, "warnings");
            for (size_t k = 0; k < M->res->n_warnings; k++) push_item(w, cJSON_CreateString(M->res->warnings[k]));
        }
    }
    char *text = cm_alloc_failures() == failures ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return cm_error(CM_ERR_NOMEM, "out of memory printing the report");
    int rc = cm_str_append(o, text);
    if (!rc) rc = cm_str_append(o, "\n");
    free(text);
    return rc;
}
