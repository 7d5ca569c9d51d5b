/*
 * check.c: regression verdicts per task, the table of what moved and JUnit
 * XML for CI (see check.h).
 */
#include "cmteb/check.h"
#include "reports/svg.h"
#include "cmteb/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cm_check_status_name(cm_check_status s) {
    switch (s) {
    case CM_CHECK_OK:          return "ok";
    case CM_CHECK_IMPROVED:    return "improved";
    case CM_CHECK_DROPPED:     return "REGRESSED";
    case CM_CHECK_SIGNIFICANT: return "REGRESSED (significant)";
    case CM_CHECK_MISSING:     return "MISSING";
    case CM_CHECK_NEW:         return "new";
    case CM_CHECK_ABSENT:      return "absent";
    }
    return "?";
}

int cm_check_status_fails(cm_check_status s, int allow_missing) {
    return s == CM_CHECK_DROPPED || s == CM_CHECK_SIGNIFICANT || (s == CM_CHECK_MISSING && !allow_missing);
}

cm_check_params cm_check_default_params(void) {
    cm_check_params p = {0.5, 0};
    return p;
}

static double score_of(const cm_task_score *s) { return s && !isnan(s->value) ? 100.0 * s->value : NAN; }

int cm_check_evaluate(const cm_report *r, const cm_check_params *params, cm_check_verdict **verdicts,
                      size_t *n_failed) {
    *verdicts = NULL;
    *n_failed = 0;
    if (r->n_models != 2)
        return cm_error(CM_ERR_ARG, "a check compares exactly two result folders, got %zu", r->n_models);
    cm_check_params p = params ? *params : cm_check_default_params();
    cm_check_verdict *v = cm_calloc(r->n_rows ? r->n_rows : 1, sizeof *v);
    if (!v) return CM_ERR_NOMEM;
    const cm_report_model *cand = &r->models[1];
    for (size_t i = 0; i < r->n_rows; i++) {
        v[i].row = i;
        v[i].base = score_of(r->models[0].cells[i]);
        v[i].cand = score_of(cand->cells[i]);
        if (isnan(v[i].base) && isnan(v[i].cand)) v[i].status = CM_CHECK_ABSENT;
        else if (isnan(v[i].cand)) v[i].status = CM_CHECK_MISSING;
        else if (isnan(v[i].base)) v[i].status = CM_CHECK_NEW;
        else {
            double delta = v[i].cand - v[i].base;
            const cm_report_diff *d = cand->diff ? &cand->diff[i] : NULL;
            int tested = d && d->tested && d->bs.n_valid > 0;
            /* 1e-9: scores equal up to rounding in the files never count as moves. */
            if (delta < -p.tolerance - 1e-9) v[i].status = CM_CHECK_DROPPED;
            else if (tested && delta < 0 && d->bs.p_worse < r->alpha) v[i].status = CM_CHECK_SIGNIFICANT;
            else if (delta > p.tolerance + 1e-9 || (tested && delta > 0 && d->bs.p_better < r->alpha))
                v[i].status = CM_CHECK_IMPROVED;
            else v[i].status = CM_CHECK_OK;
        }
        *n_failed += cm_check_status_fails(v[i].status, p.allow_missing);
    }
    *verdicts = v;
    return CM_OK;
}

static void fmt2(char b[32], double x) {
    if (isnan(x)) snprintf(b, 32, "\xe2\x80\x94");
    else snprintf(b, 32, "%.2f", x + 0.0);
}

/* p-value text of a row: one-sided p that the candidate is worse (or better). */
static void fmt_p(char b[48], const cm_report *r, size_t row) {
    const cm_report_diff *d = r->models[1].diff ? &r->models[1].diff[row] : NULL;
    if (!d || !d->tested || !d->bs.n_valid) { snprintf(b, 48, "\xe2\x80\x94"); return; }
    double delta = d->delta;
    snprintf(b, 48, "%.4f", delta < 0 ? d->bs.p_worse : d->bs.p_better);
}

int cm_check_render_table(const cm_report *r, const cm_check_params *params, const cm_check_verdict *v, cm_str *o) {
    cm_check_params p = params ? *params : cm_check_default_params();
    size_t shown = 0, counts[CM_CHECK_ABSENT + 1] = {0};
    for (size_t i = 0; i < r->n_rows; i++) {
        counts[v[i].status]++;
        int moved = v[i].status != CM_CHECK_OK || fabs(v[i].cand - v[i].base) >= 0.005;
        if (!moved) continue;
        if (!shown++)
            CM_TRY(cm_str_printf(o, "| Task | Metric | Baseline | Candidate | \xce\x94 | p | Status |\n"
                                    "|---|---|---:|---:|---:|---:|---|\n"));
        char b[32], c[32], d[48], pv[48];
        fmt2(b, v[i].base);
        fmt2(c, v[i].cand);
        if (isnan(v[i].base) || isnan(v[i].cand)) snprintf(d, sizeof d, "\xe2\x80\x94");
        else snprintf(d, sizeof d, "%+.2f", v[i].cand - v[i].base + 0.0);
        fmt_p(pv, r, v[i].row);
        CM_TRY(cm_str_printf(o, "| %s | %s | %s | %s | %s | %s | %s |\n", r->rows[i].task, r->rows[i].metric, b, c, d,
                             pv, cm_check_status_name(v[i].status)));
    }
    if (shown) CM_TRY(cm_str_append(o, "\n"));
    for (size_t i = 0; r->models[1].diff && i < r->n_rows; i++) {
        const cm_report_diff *d = &r->models[1].diff[i];
        if (d->note && (d->tested || d->items_unreadable))
            CM_TRY(cm_str_printf(o, "Note: %s: %s\n", r->rows[i].task, d->note));
    }
    CM_TRY(cm_str_printf(o,
                         "%zu task%s: %zu regressed (%zu by more than %.2f points, %zu significantly), %zu missing%s, "
                         "%zu improved, %zu within tolerance, %zu new%s\n",
                         r->n_rows, r->n_rows == 1 ? "" : "s", counts[CM_CHECK_DROPPED] + counts[CM_CHECK_SIGNIFICANT],
                         counts[CM_CHECK_DROPPED], p.tolerance, counts[CM_CHECK_SIGNIFICANT], counts[CM_CHECK_MISSING],
                         p.allow_missing ? " (allowed)" : "", counts[CM_CHECK_IMPROVED], counts[CM_CHECK_OK],
                         counts[CM_CHECK_NEW], shown ? "" : "; nothing moved"));
    size_t tested = 0;
    for (size_t i = 0; r->compared && r->models[1].diff && i < r->n_rows; i++) tested += r->models[1].diff[i].tested;
    if (tested)
        CM_TRY(cm_str_printf(o, "Significance: one-sided paired bootstrap over the items of the %zu task%s both runs "
                                "kept per-item data for (%zu resamples, seed %llu, alpha %g); p: how often a resample "
                                "shows no move in that direction.\n", tested, tested == 1 ? "" : "s",
                             r->bootstrap.resamples, (unsigned long long)r->bootstrap.seed, r->alpha));
    else if (r->compared)
        CM_TRY(cm_str_append(o, "Significance: no task has per-item data in both runs; tolerance only.\n"));
    return CM_OK;
}

/* ---- JUnit ---------------------------------------------------------------- */

#define ESC(s) CM_TRY(cm_svg_escape(o, (s)))

int cm_check_render_junit(const cm_report *r, const cm_check_params *params, const cm_check_verdict *v, cm_str *o) {
    cm_check_params p = params ? *params : cm_check_default_params();
    size_t failures = 0, skipped = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        failures += cm_check_status_fails(v[i].status, p.allow_missing);
        skipped += v[i].status == CM_CHECK_ABSENT;
    }
    const char *base = r->models[0].res->label, *cand = r->models[1].res->label;
    CM_TRY(cm_str_printf(o,
                         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cmteb check\" tests=\"%zu\" "
                         "failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
                         r->n_rows, failures, skipped));
    CM_TRY(cm_str_append(o, "  <testsuite name=\"cmteb check: "));
    ESC(cand);
    CM_TRY(cm_str_append(o, " vs "));
    ESC(base);
    CM_TRY(cm_str_printf(o, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" time=\"0\">\n", r->n_rows,
                         failures, skipped));
    CM_TRY(cm_str_append(o, "    <properties>\n      <property name=\"baseline\" value=\""));
    ESC(r->models[0].res->dir);
    CM_TRY(cm_str_append(o, "\"/>\n      <property name=\"candidate\" value=\""));
    ESC(r->models[1].res->dir);
    CM_TRY(cm_str_printf(o, "\"/>\n      <property name=\"tolerance_points\" value=\"%g\"/>\n", p.tolerance));
    if (r->compared)
        CM_TRY(cm_str_printf(o,
                             "      <property name=\"bootstrap\" value=\"paired, one-sided, %zu resamples, seed %llu, "
                             "alpha %g\"/>\n",
                             r->bootstrap.resamples, (unsigned long long)r->bootstrap.seed, r->alpha));
    CM_TRY(cm_str_append(o, "    </properties>\n"));
    for (size_t i = 0; i < r->n_rows; i++) {
        const char *task = r->rows[i].task;
        CM_TRY(cm_str_printf(o, "    <testcase classname=\"cmteb.check.%s\" name=\"",
                             cm_report_category_name(r->rows[i].category)));
        ESC(task);
        CM_TRY(cm_str_append(o, "\" time=\"0\">\n"));
        char msg[512], pv[48];
        fmt_p(pv, r, i);
        double delta = v[i].cand - v[i].base;
        switch (v[i].status) {
        case CM_CHECK_DROPPED:
        case CM_CHECK_SIGNIFICANT:
            if (v[i].status == CM_CHECK_DROPPED)
                snprintf(msg, sizeof msg, "%s %s fell %.2f points (%.2f -> %.2f), more than the tolerance %.2f", task,
                         r->rows[i].metric, -delta, v[i].base, v[i].cand, p.tolerance);
            else
                snprintf(msg, sizeof msg, "%s %s fell %.2f points (%.2f -> %.2f), significantly (p = %s)", task,
                         r->rows[i].metric, -delta, v[i].base, v[i].cand, pv);
            CM_TRY(cm_str_append(o, "      <failure type=\"regression\" message=\""));
            ESC(msg);
            CM_TRY(cm_str_append(o, "\">"));
            ESC(msg);
            CM_TRY(cm_str_append(o, "</failure>\n"));
            break;
        case CM_CHECK_MISSING:
            snprintf(msg, sizeof msg, "%s: the baseline has a score (%.2f), the candidate has none", task, v[i].base);
            CM_TRY(cm_str_append(o, p.allow_missing ? "      <system-out>"
                                                    : "      <failure type=\"missing\" message=\""));
            ESC(msg);
            CM_TRY(cm_str_append(o, p.allow_missing ? "</system-out>\n" : "\"/>\n"));
            break;
        case CM_CHECK_ABSENT:
            CM_TRY(cm_str_append(o, "      <skipped message=\"in neither the baseline nor the candidate\"/>\n"));
            break;
        default:
            if (isnan(v[i].base)) snprintf(msg, sizeof msg, "%s %s: new, %.2f", task, r->rows[i].metric, v[i].cand);
            else snprintf(msg, sizeof msg, "%s %s: %.2f -> %.2f (%+.2f%s%s): %s", task, r->rows[i].metric, v[i].base,
                          v[i].cand, delta + 0.0, strcmp(pv, "\xe2\x80\x94") ? ", p = " : "",
                          strcmp(pv, "\xe2\x80\x94") ? pv : "", cm_check_status_name(v[i].status));
            CM_TRY(cm_str_append(o, "      <system-out>"));
            ESC(msg);
            CM_TRY(cm_str_append(o, "</system-out>\n"));
        }
        CM_TRY(cm_str_append(o, "    </testcase>\n"));
    }
    return cm_str_append(o, "  </testsuite>\n</testsuites>\n");
}
