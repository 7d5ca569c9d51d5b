/*
 * render_html.c: the report as one self-contained HTML page (inline CSS and
 * SVG, no scripts, no external resources): the summary table, a bar chart of
 * the average and category means per model, a per-task chart (differences
 * to the first model when there are several, else the scores), the task
 * tables, missing tasks and notes. See report.h and svg.h.
 */
#include "cmteb/report.h"
#include "reports/svg.h"
#include "cmteb/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESC(s) CM_TRY(cm_svg_escape(o, (s)))

static int cat_has_rows(const cm_report *r, int c) {
    for (size_t i = 0; i < r->n_rows; i++)
        if (r->rows[i].category == c) return 1;
    return 0;
}

static int diff_mark(const cm_report *r, const cm_report_diff *d) {
    if (!r->compared) return CM_SVG_PLAIN;
    if (!d->tested) return CM_SVG_UNTESTED;
    return cm_report_diff_significant(r, d) ? CM_SVG_SIGNIFICANT : CM_SVG_NOT_SIGNIFICANT;
}

static int delta_html(cm_str *o, const cm_report *r, const cm_report_diff *d) {
    if (!d || isnan(d->delta)) return CM_OK;
    int mark = diff_mark(r, d);
    const char *cls = d->delta > 0 ? "up" : d->delta < 0 ? "down" : "flat";
    CM_TRY(cm_str_printf(o, " <span class=\"delta %s%s\"", cls, mark == CM_SVG_SIGNIFICANT ? " sig" : ""));
    if (d->tested)
        CM_TRY(cm_str_printf(o, " title=\"p = %.4f, 95%% CI [%+.2f, %+.2f], %zu items\"", d->bs.p_two_sided,
                             100 * d->bs.ci_lo, 100 * d->bs.ci_hi, d->bs.n_items));
    else if (d->note) {
        CM_TRY(cm_str_append(o, " title=\""));
        ESC(d->note);
        CM_TRY(cm_str_append(o, "\""));
    }
    return cm_str_printf(o, ">(%+.2f%s)</span>", d->delta + 0.0,
                         mark == CM_SVG_SIGNIFICANT ? "*" : mark == CM_SVG_UNTESTED ? "\xe2\x80\xa0" : "");
}

static int agg_td(cm_str *o, const cm_report *r, const cm_report_agg *a, const cm_report_diff *d) {
    char s[32];
    cm_report_fmt_score(s, a->mean);
    int partial = a->present && a->present < a->total;
    CM_TRY(cm_str_printf(o, "<td class=\"num%s\"%s>%s%s", partial ? " partial" : "",
                         partial ? " title=\"partial: mean of the tasks present\"" : "", a->present ? s : "&mdash;",
                         partial ? "<sup>1</sup>" : ""));
    if (d && r->compared) CM_TRY(delta_html(o, r, d));
    return cm_str_append(o, "</td>");
}

static const char *css =
    "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#222;max-width:1400px}"
    "h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:3px}"
    "table{border-collapse:collapse;font-size:13px;margin:8px 0}"
    "th,td{border:1px solid #ddd;padding:3px 8px}th{background:#f3f5f8;text-align:left}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}td.partial{color:#a05a00}"
    ".delta{font-size:11px;color:#666}.delta.up.sig{color:#0a7a2f;font-weight:bold}"
    ".delta.down.sig{color:#b3261e;font-weight:bold}.legend{font-size:12px;color:#555}"
    ".chart{overflow-x:auto;margin:10px 0}ul.notes{font-size:12px;color:#444}";

int cm_report_render_html(const cm_report *r, cm_str *o) {
    CM_TRY(cm_str_append(
        o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>cmteb report: "));
    ESC(r->title);
    CM_TRY(cm_str_printf(o, "</title>\n<style>%s</style>\n</head>\n<body>\n<h1>", css));
    ESC(r->title);
    CM_TRY(cm_str_printf(o, ": %zu model%s, %zu task%s</h1>\n", r->n_models, r->n_models == 1 ? "" : "s", r->n_rows,
                         r->n_rows == 1 ? "" : "s"));

    /* Summary table. */
    CM_TRY(cm_str_printf(o, "<table id=\"summary\">\n<tr><th>Model</th><th>Average (%zu)</th>", r->n_rows));
    for (int c = 0; c < CM_REPORT_NCAT; c++)
        if (cat_has_rows(r, c))
            CM_TRY(cm_str_printf(o, "<th>%s (%zu)</th>", cm_report_category_name(c),
                                 r->n_models ? r->models[0].cat[c].total : 0));
    CM_TRY(cm_str_append(o, "</tr>\n"));
    for (size_t m = 0; m < r->n_models; m++) {
        const cm_report_model *M = &r->models[m];
        CM_TRY(cm_str_append(o, "<tr><td>"));
        ESC(M->res->label);
        CM_TRY(cm_str_append(o, "</td>"));
        CM_TRY(agg_td(o, r, &M->overall, m ? &M->overall_diff : NULL));
        for (int c = 0; c < CM_REPORT_NCAT; c++)
            if (cat_has_rows(r, c)) CM_TRY(agg_td(o, r, &M->cat[c], m ? &M->cat_diff[c] : NULL));
        CM_TRY(cm_str_append(o, "</tr>\n"));
    }
    CM_TRY(cm_str_append(o, "</table>\n<p class=\"legend\">Scores x100. <sup>1</sup> partial: the mean of the tasks "
                            "present (missing tasks are listed below)."));
    if (r->compared && r->n_models > 1) {
        CM_TRY(cm_str_append(o, " Differences are to <b>"));
        ESC(r->models[0].res->label);
        CM_TRY(cm_str_printf(o, "</b>; * significant at p &lt; %g (two-sided paired bootstrap over each task's items, "
                                "%zu resamples, seed %llu; category and average tests resample every task of the group "
                                "jointly); &dagger; not tested (no per-item data in both). In the charts, solid bars "
                                "are significant, pale ones are not, dashed ones were not tested.",
                             r->alpha, r->bootstrap.resamples, (unsigned long long)r->bootstrap.seed));
    }
    CM_TRY(cm_str_append(o, "</p>\n"));

    /* Chart: average and category means per model. */
    size_t ng = 1;
    const char *groups[CM_REPORT_NCAT + 1];
    int gcat[CM_REPORT_NCAT + 1];
    groups[0] = "Average";
    gcat[0] = -1;
    for (int c = 0; c < CM_REPORT_NCAT; c++)
        if (cat_has_rows(r, c)) { groups[ng] = cm_report_category_name(c); gcat[ng++] = c; }
    size_t nm = r->n_models;
    double *vals = cm_calloc((nm ? nm : 1) * (ng + 2 * (r->n_rows ? r->n_rows : 1)), sizeof *vals);
    int *marks = cm_calloc((nm ? nm : 1) * (ng + 2 * (r->n_rows ? r->n_rows : 1)), sizeof *marks);
    cm_svg_series *series = cm_calloc(nm ? nm : 1, sizeof *series);
    const char **labels = cm_calloc(r->n_rows ? r->n_rows : 1, sizeof *labels);
    int rc = vals && marks && series && labels ? CM_OK : CM_ERR_NOMEM;
    for (size_t m = 0; m < nm && !rc; m++) {
        const cm_report_model *M = &r->models[m];
        double *v = vals + m * ng;
        int *mk = marks + m * ng;
        for (size_t g = 0; g < ng; g++) {
            const cm_report_agg *a = gcat[g] < 0 ? &M->overall : &M->cat[gcat[g]];
            const cm_report_diff *d = gcat[g] < 0 ? &M->overall_diff : &M->cat_diff[gcat[g]];
            v[g] = a->mean;
            mk[g] = m ? diff_mark(r, d) : CM_SVG_PLAIN;
        }
        series[m].name = M->res->label;
        series[m].values = v;
        series[m].marks = r->compared ? mk : NULL;
    }
    if (!rc) {
        CM_TRY(cm_str_append(o, "<h2>Average and category means</h2>\n<div class=\"chart\">\n"));
        double lo = 0;   /* negative means (a Spearman below 0) get room below the axis */
        for (size_t k = 0; k < nm * ng; k++)
            if (!isnan(vals[k]) && vals[k] < lo) lo = vals[k];
        lo = lo < 0 ? -20.0 * ceil(-lo / 20.0) : 0;
        rc = cm_svg_grouped_bars(o, "chart-categories", "Average and category means (x100)", groups, ng, series, nm, lo,
                                 100);
        if (!rc) rc = cm_str_append(o, "</div>\n");
    }

    /* Chart: per task, differences to the first model, or the scores. */
    for (size_t i = 0; i < r->n_rows && !rc; i++) labels[i] = r->rows[i].task;
    if (!rc && nm >= 2) {
        double *dv = vals + nm * ng;
        int *dm = marks + nm * ng;
        double maxabs = 0.5;
        for (size_t m = 1; m < nm; m++) {
            const cm_report_model *M = &r->models[m];
            for (size_t i = 0; i < r->n_rows; i++) {
                const cm_task_score *sb = r->models[0].cells[i], *sc = M->cells[i];
                double d = sb && sc ? 100.0 * (sc->value - sb->value) : NAN;
                if (fabs(d) < 5e-9) d = 0.0;
                dv[(m - 1) * r->n_rows + i] = d;
                dm[(m - 1) * r->n_rows + i] = M->diff ? diff_mark(r, &M->diff[i]) : CM_SVG_PLAIN;
                if (!isnan(d) && fabs(d) > maxabs) maxabs = fabs(d);
            }
            series[m - 1].name = M->res->label;
            series[m - 1].values = dv + (m - 1) * r->n_rows;
            series[m - 1].marks = r->compared ? dm + (m - 1) * r->n_rows : NULL;
            series[m - 1].tips = NULL;
            series[m - 1].color = cm_svg_color(m);   /* the colour the model has in the category chart */
        }
        maxabs = ceil(maxabs);
        CM_TRY(cm_str_append(o, "<h2>Per-task difference to "));
        ESC(r->models[0].res->label);
        CM_TRY(cm_str_append(o, "</h2>\n<div class=\"chart\">\n"));
        char title[160];
        snprintf(title, sizeof title, "Per-task difference to the first model (points x100)");
        rc = cm_svg_hbars(o, "chart-task-diff", title, labels, r->n_rows, series, nm - 1, -maxabs, maxabs);
        if (!rc) rc = cm_str_append(o, "</div>\n");
    } else if (!rc && nm == 1) {
        double *sv = vals + ng;
        for (size_t i = 0; i < r->n_rows; i++)
            sv[i] = r->models[0].cells[i] ? 100.0 * r->models[0].cells[i]->value : NAN;
        series[0].values = sv;
        series[0].marks = NULL;
        CM_TRY(cm_str_append(o, "<h2>Per-task scores</h2>\n<div class=\"chart\">\n"));
        rc = cm_svg_hbars(o, "chart-task-scores", "Per-task scores (x100)", labels, r->n_rows, series, 1, 0, 100);
        if (!rc) rc = cm_str_append(o, "</div>\n");
    }
    free(vals);
    free(marks);
    free(series);
    free(labels);
    CM_TRY(rc);

    /* Task tables. */
    for (int c = 0; c < CM_REPORT_NCAT; c++) {
        if (!cat_has_rows(r, c)) continue;
        CM_TRY(cm_str_printf(o, "<h2>%s</h2>\n<table class=\"tasks\">\n<tr><th>Task</th><th>Metric</th>",
                             cm_report_category_name(c)));
        for (size_t m = 0; m < nm; m++) {
            CM_TRY(cm_str_append(o, "<th>"));
            ESC(r->models[m].res->label);
            CM_TRY(cm_str_append(o, "</th>"));
        }
        CM_TRY(cm_str_append(o, "</tr>\n"));
        for (size_t i = 0; i < r->n_rows; i++) {
            if (r->rows[i].category != c) continue;
            CM_TRY(cm_str_append(o, "<tr><td>"));
            ESC(r->rows[i].task);
            CM_TRY(cm_str_append(o, "</td><td>"));
            ESC(r->rows[i].metric);
            CM_TRY(cm_str_append(o, "</td>"));
            for (size_t m = 0; m < nm; m++) {
                const cm_task_score *s = r->models[m].cells[i];
                char b[32];
                cm_report_fmt_score(b, s ? 100.0 * s->value : NAN);
                CM_TRY(cm_str_append(o, "<td class=\"num\""));
                if (s && s->key) {
                    CM_TRY(cm_str_append(o, " title=\""));
                    ESC(s->key);
                    CM_TRY(cm_str_printf(o, ", split %s, subset %s", s->split, s->subset));
                    if (s->note) { CM_TRY(cm_str_append(o, "; ")); ESC(s->note); }
                    CM_TRY(cm_str_append(o, "\""));
                }
                CM_TRY(cm_str_printf(o, ">%s", b[0] ? b : "&mdash;"));
                if (m && r->compared && r->models[m].diff) CM_TRY(delta_html(o, r, &r->models[m].diff[i]));
                CM_TRY(cm_str_append(o, "</td>"));
            }
            CM_TRY(cm_str_append(o, "</tr>\n"));
        }
        CM_TRY(cm_str_append(o, "</table>\n"));
    }

    /* Missing tasks and notes. */
    int head = 0;
    for (size_t m = 0; m < nm; m++) {
        const cm_report_model *M = &r->models[m];
        if (M->overall.present == M->overall.total) continue;
        if (!head++) CM_TRY(cm_str_append(o, "<h2>Missing tasks</h2>\n<ul class=\"notes\" id=\"missing\">\n"));
        CM_TRY(cm_str_append(o, "<li><b>"));
        ESC(M->res->label);
        CM_TRY(cm_str_printf(o, "</b> (%zu of %zu):", M->overall.total - M->overall.present, M->overall.total));
        for (size_t i = 0, k = 0; i < r->n_rows; i++) {
            const cm_task_score *s = M->cells[i];
            if (s && !isnan(s->value)) continue;
            CM_TRY(cm_str_append(o, k++ ? ", " : " "));
            ESC(r->rows[i].task);
            if (s && s->note) { CM_TRY(cm_str_append(o, " (")); ESC(s->note); CM_TRY(cm_str_append(o, ")")); }
        }
        CM_TRY(cm_str_append(o, "</li>\n"));
    }
    if (head) CM_TRY(cm_str_append(o, "</ul>\n"));
    head = 0;
    for (size_t m = 0; m < nm; m++) {
        const cm_report_model *M = &r->models[m];
        size_t n_percent = 0;
        for (size_t i = 0; i < r->n_rows; i++) {
            const cm_task_score *s = M->cells[i];
            if (!s || isnan(s->value)) continue;
            n_percent += s->percent;
            if (!s->note) continue;
            if (!head++) CM_TRY(cm_str_append(o, "<h2>Notes</h2>\n<ul class=\"notes\">\n"));
            CM_TRY(cm_str_append(o, "<li>"));
            ESC(M->res->label);
            CM_TRY(cm_str_append(o, ", "));
            ESC(r->rows[i].task);
            CM_TRY(cm_str_append(o, ": "));
            ESC(s->note);
            CM_TRY(cm_str_append(o, " (read "));
            ESC(s->key);
            CM_TRY(cm_str_append(o, ")</li>\n"));
        }
        if (n_percent) {
            if (!head++) CM_TRY(cm_str_append(o, "<h2>Notes</h2>\n<ul class=\"notes\">\n"));
            CM_TRY(cm_str_append(o, "<li>"));
            ESC(M->res->label);
            CM_TRY(cm_str_printf(o, ": %zu file%s store%s scores x100 (model-card conversions); read as such</li>\n",
                                 n_percent, n_percent == 1 ? "" : "s", n_percent == 1 ? "s" : ""));
        }
        for (size_t w = 0; w < M->res->n_warnings; w++) {
            if (!head++) CM_TRY(cm_str_append(o, "<h2>Notes</h2>\n<ul class=\"notes\">\n"));
            CM_TRY(cm_str_append(o, "<li>"));
            ESC(M->res->warnings[w]);
            CM_TRY(cm_str_append(o, "</li>\n"));
        }
    }
    if (head) CM_TRY(cm_str_append(o, "</ul>\n"));
    CM_TRY(cm_str_append(o, "<p class=\"legend\">Made by cmteb. Aggregation as the MTEB(eng, v1) leaderboard: plain "
                            "means of per-task scores; CQADupstackRetrieval counts once.</p>\n</body>\n</html>\n"));
    return CM_OK;
}
