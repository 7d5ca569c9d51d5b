/*
 * svg.c: inline-SVG grouped and horizontal bar charts (see svg.h).
 */
#include "reports/svg.h"
#include "cmteb/status.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *cm_svg_color(size_t i) {
    static const char *const pal[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                      "#CC79A7", "#56B4E9", "#8C6D1F", "#000000"};
    return pal[i % (sizeof pal / sizeof pal[0])];
}

int cm_svg_escape(cm_str *o, const char *s) {
    for (const char *p = s ? s : ""; *p; p++) {
        switch (*p) {
        case '&':  CM_TRY(cm_str_append(o, "&amp;")); break;
        case '<':  CM_TRY(cm_str_append(o, "&lt;")); break;
        case '>':  CM_TRY(cm_str_append(o, "&gt;")); break;
        case '"':  CM_TRY(cm_str_append(o, "&quot;")); break;
        case '\'': CM_TRY(cm_str_append(o, "&#39;")); break;
        default:   CM_TRY(cm_str_appendn(o, p, 1));
        }
    }
    return CM_OK;
}

static const char *mark_style(int mark) {
    switch (mark) {
    case CM_SVG_NOT_SIGNIFICANT: return " fill-opacity=\"0.4\"";
    case CM_SVG_UNTESTED:        return " fill-opacity=\"0.4\" stroke=\"#444\" stroke-dasharray=\"3 2\"";
    default:                     return "";
    }
}

static const char *mark_text(int mark) {
    switch (mark) {
    case CM_SVG_SIGNIFICANT:     return " (significant)";
    case CM_SVG_NOT_SIGNIFICANT: return " (not significant)";
    case CM_SVG_UNTESTED:        return " (not tested)";
    default:                     return "";
    }
}

/* One bar with its tooltip. */
static int bar(cm_str *o, double x, double y, double w, double h, const cm_svg_series *s, size_t si, size_t li,
               const char *label) {
    int mark = s->marks ? s->marks[li] : CM_SVG_PLAIN;
    CM_TRY(cm_str_printf(o,
                         "<rect class=\"cm-bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s"
                         " data-series=\"",
                         x, y, w > 1 ? w : 1, h > 1 ? h : 1, s->color ? s->color : cm_svg_color(si), mark_style(mark)));
    CM_TRY(cm_svg_escape(o, s->name));
    CM_TRY(cm_str_append(o, "\" data-label=\""));
    CM_TRY(cm_svg_escape(o, label));
    CM_TRY(cm_str_printf(o, "\" data-value=\"%.4f\"><title>", s->values[li]));
    CM_TRY(cm_svg_escape(o, s->name));
    CM_TRY(cm_str_append(o, ", "));
    CM_TRY(cm_svg_escape(o, label));
    CM_TRY(cm_str_printf(o, ": %.2f%s", s->values[li] + 0.0, mark_text(mark)));
    if (s->tips && s->tips[li]) {
        CM_TRY(cm_str_append(o, "; "));
        CM_TRY(cm_svg_escape(o, s->tips[li]));
    }
    return cm_str_append(o, "</title></rect>\n");
}

static int legend(cm_str *o, const cm_svg_series *series, size_t n_series, double x, double y) {
    for (size_t s = 0; s < n_series; s++) {
        CM_TRY(
            cm_str_printf(o,
                          "<g class=\"cm-legend\"><rect x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                          "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\">",
                          x, y + 14.0 * (double)s, series[s].color ? series[s].color : cm_svg_color(s), x + 14,
                          y + 14.0 * (double)s + 9));
        CM_TRY(cm_svg_escape(o, series[s].name));
        CM_TRY(cm_str_append(o, "</text></g>\n"));
    }
    return CM_OK;
}

static int open_svg(cm_str *o, const char *id, const char *title, double w, double h) {
    CM_TRY(cm_str_printf(o, "<svg class=\"cm-chart\" id=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                            "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"", id, w, h, w, h));
    CM_TRY(cm_svg_escape(o, title));
    CM_TRY(cm_str_append(
        o, "\" font-family=\"sans-serif\">\n<text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"bold\">"));
    CM_TRY(cm_svg_escape(o, title));
    return cm_str_append(o, "</text>\n");
}

int cm_svg_grouped_bars(cm_str *o, const char *id, const char *title, const char *const *labels, size_t n_labels,
                        const cm_svg_series *series, size_t n_series, double ymin, double ymax) {
    const double barw = n_series > 6 ? 10 : n_series > 4 ? 16 : 26;
    const double groupw = fmax(118.0, (double)n_series * barw + 24);
    const double legend_w = 190;
    const double left = 44, top = 40, plot_h = 240, bottom = 40;
    const double plot_w = groupw * (double)(n_labels ? n_labels : 1);
    const double w = left + plot_w + 16 + legend_w;
    const double legend_h = 14.0 * (double)n_series;
    const double h = fmax(top + plot_h + bottom, top + legend_h + 10);
    if (!(ymax > ymin)) ymax = ymin + 1;
#define Y(v) (top + plot_h * (1.0 - ((v) - ymin) / (ymax - ymin)))
    CM_TRY(open_svg(o, id, title, w, h));
    /* Grid and y axis. */
    int nt = 5;
    double step = (ymax - ymin) / 5.0;
    if (fmod(ymax - ymin, 20.0) == 0 && (ymax - ymin) / 20.0 <= 10) {   /* scores: a line every 20 points */
        nt = (int)((ymax - ymin) / 20.0);
        step = 20;
    }
    for (int k = 0; k <= nt; k++) {
        double v = ymin + step * k, y = Y(v);
        CM_TRY(cm_str_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.0f</text>\n",
                             left, y, left + plot_w, y, left - 4, y + 3, v));
    }
    CM_TRY(cm_str_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", left,
                         Y(ymin > 0 ? ymin : 0), left + plot_w, Y(ymin > 0 ? ymin : 0)));
    for (size_t g = 0; g < n_labels; g++) {
        double gx = left + groupw * (double)g;
        double x0 = gx + (groupw - (double)n_series * barw) / 2;
        for (size_t s = 0; s < n_series; s++) {
            double v = series[s].values[g];
            if (isnan(v)) continue;
            double vc = fmin(fmax(v, ymin), ymax), base = fmin(fmax(0.0, ymin), ymax);
            double y1 = Y(vc > base ? vc : base), y2 = Y(vc > base ? base : vc);
            CM_TRY(bar(o, x0 + barw * (double)s, y1, barw - 2, y2 - y1, &series[s], s, g, labels[g]));
            if (n_series <= 4)
                CM_TRY(cm_str_printf(o,
                                     "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\">%.1f</text>\n",
                                     x0 + barw * (double)s + (barw - 2) / 2, y1 - 3, v));
        }
        CM_TRY(cm_str_printf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"middle\">", gx + groupw / 2,
                             top + plot_h + 16));
        CM_TRY(cm_svg_escape(o, labels[g]));
        CM_TRY(cm_str_append(o, "</text>\n"));
    }
#undef Y
    CM_TRY(legend(o, series, n_series, left + plot_w + 16, top));
    return cm_str_append(o, "</svg>\n");
}

int cm_svg_hbars(cm_str *o, const char *id, const char *title, const char *const *labels, size_t n_labels,
                 const cm_svg_series *series, size_t n_series, double lo, double hi) {
    const double rh = n_series > 1 ? 11 : 14, pad = 6;
    size_t maxlen = 4;
    for (size_t i = 0; i < n_labels; i++) maxlen = strlen(labels[i]) > maxlen ? strlen(labels[i]) : maxlen;
    const double left = fmin(330.0, 6.5 * (double)maxlen + 16), top = 40, plot_w = 460, legend_w = 190;
    const double row_h = rh * (double)n_series + pad;
    const double plot_h = row_h * (double)n_labels;
    const double w = left + plot_w + 60 + legend_w;
    const double h = fmax(top + plot_h + 30, top + 14.0 * (double)n_series + 10);
    if (!(hi > lo)) hi = lo + 1;
#define X(v) (left + plot_w * (((v) - lo) / (hi - lo)))
    CM_TRY(open_svg(o, id, title, w, h));
    for (int k = 0; k <= 4; k++) {
        double v = lo + (hi - lo) * k / 4.0, x = X(v);
        CM_TRY(cm_str_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                                "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">%.*f</text>\n",
                             x, top, x, top + plot_h, x, top + plot_h + 14, hi - lo < 8 ? 1 : 0, v));
    }
    double zero = X(fmin(fmax(0.0, lo), hi));
    CM_TRY(cm_str_printf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", zero, top,
                         zero, top + plot_h));
    for (size_t i = 0; i < n_labels; i++) {
        double ry = top + row_h * (double)i;
        CM_TRY(cm_str_printf(o, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">", left - 6,
                             ry + row_h / 2 + 3));
        CM_TRY(cm_svg_escape(o, labels[i]));
        CM_TRY(cm_str_append(o, "</text>\n"));
        for (size_t s = 0; s < n_series; s++) {
            double v = series[s].values[i];
            if (isnan(v)) continue;
            if (fabs(v) < 5e-9) v = 0.0;   /* no "-0.00" from rounding noise */
            double xv = X(fmin(fmax(v, lo), hi));
            double x1 = fmin(xv, zero), x2 = fmax(xv, zero);
            double y = ry + pad / 2 + rh * (double)s;
            CM_TRY(bar(o, x1, y, x2 - x1, rh - 1, &series[s], s, i, labels[i]));
            CM_TRY(cm_str_printf(o, lo < 0 ? "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\"%s>%+.2f%s</text>\n"
                                           : "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\"%s>%.2f%s</text>\n",
                                 v >= 0 ? x2 + 3 : x1 - 3, y + rh - 3, v >= 0 ? "" : " text-anchor=\"end\"", v,
                                 series[s].marks && series[s].marks[i] == CM_SVG_SIGNIFICANT ? "*" : ""));
        }
    }
#undef X
    CM_TRY(legend(o, series, n_series, left + plot_w + 60, top));
    return cm_str_append(o, "</svg>\n");
}
