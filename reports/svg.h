/*
 * svg.h: small inline-SVG bar charts for the HTML reports (no scripts, no
 * external resources, so the page is self-contained and renders anywhere).
 *
 * Each chart is one <svg class="cm-chart" id=...> element; every bar is a
 * <rect class="cm-bar" data-series=... data-label=... data-value=...> with a
 * <title> tooltip, so tests can find the bars in the rendered DOM.
 *
 * Ownership: everything is borrowed; output is appended to a cm_str.
 */
#ifndef CMTEB_REPORTS_SVG_H
#define CMTEB_REPORTS_SVG_H

#include <stddef.h>

#include "cmteb/util.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Significance of one bar: how it is drawn. */
enum { CM_SVG_PLAIN = 0, CM_SVG_SIGNIFICANT = 1, CM_SVG_NOT_SIGNIFICANT = 2, CM_SVG_UNTESTED = 3 };

typedef struct cm_svg_series {
    const char   *name;     /* legend text */
    const double *values;   /* (n_labels); NaN: no bar */
    const int    *marks;    /* (n_labels) CM_SVG_* or NULL (all plain) */
    const char *const *tips;/* (n_labels) extra tooltip text or NULL */
    const char   *color;    /* NULL: the palette colour of the series' position */
} cm_svg_series;

/* Vertical grouped bars: one group per label, one bar per series, y axis
 * from ymin to ymax (scores x100: 0..100). */
int cm_svg_grouped_bars(cm_str *o, const char *id, const char *title, const char *const *labels, size_t n_labels,
                        const cm_svg_series *series, size_t n_series, double ymin, double ymax);

/* Horizontal bars, one row per label and series, from 0 to the value on an
 * axis [lo, hi] (lo < 0 gives a diverging chart centred on 0). */
int cm_svg_hbars(cm_str *o, const char *id, const char *title, const char *const *labels, size_t n_labels,
                 const cm_svg_series *series, size_t n_series, double lo, double hi);

/* The colour of series i (Okabe-Ito palette, cycling). */
const char *cm_svg_color(size_t i);

/* Appends s with &, <, >, " and ' escaped. */
int cm_svg_escape(cm_str *o, const char *s);

#ifdef __cplusplus
}
#endif
#endif
