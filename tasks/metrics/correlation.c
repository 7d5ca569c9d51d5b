/*
 * correlation.c: Pearson and Spearman correlations with their two-sided
 * p-values, as scipy.stats.pearsonr / spearmanr compute them, and the
 * regularised incomplete beta function the p-values need.
 *
 * Sums run in double over centred values (scipy centres, normalises, then
 * takes the dot product). A constant input has no defined correlation:
 * NaN, as scipy returns (with a warning).
 */
#include "tasks/metrics/metrics.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

typedef struct { double v; size_t i; } ranked;

static int cmp_ranked(const void *a, const void *b) {
    double x = ((const ranked *)a)->v, y = ((const ranked *)b)->v;
    if (x < y) return -1;
    if (x > y) return 1;
    size_t i = ((const ranked *)a)->i, j = ((const ranked *)b)->i;
    return (i > j) - (i < j);
}

void cm_rankdata(const double *x, size_t n, double *ranks) {
    ranked *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) { for (size_t i = 0; i < n; i++) ranks[i] = NAN; return; }
    for (size_t i = 0; i < n; i++) { r[i].v = x[i]; r[i].i = i; }
    qsort(r, n, sizeof *r, cmp_ranked);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && r[j].v == r[i].v) j++;
        double avg = 0.5 * (double)(i + 1 + j); /* mean of ranks i+1 .. j */
        for (size_t k = i; k < j; k++) ranks[r[k].i] = avg;
        i = j;
    }
    free(r);
}

/* Continued fraction for I_x(a, b) (modified Lentz). */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 100000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d; if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c; if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps) break;
    }
    return h;
}

double cm_betainc(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double cm_corr_pvalue(double r, size_t n) {
    if (isnan(r) || n < 3) return NAN;
    double ar = fabs(r);
    if (ar >= 1) return 0;
    /* scipy pearsonr: 2 * btdtr(n/2-1, n/2-1, (1-|r|)/2); equals the t-test with n-2 df. */
    double ab = 0.5 * (double)n - 1;
    double p = 2 * cm_betainc(ab, ab, 0.5 * (1 - ar));
    return p > 1 ? 1 : p;
}

/* scipy.stats.pearsonr (1.10): r = dot(xm/|xm|, ym/|ym|), clipped to [-1, 1]. */
double cm_pearson(const double *x, const double *y, size_t n, double *pvalue) {
    if (pvalue) *pvalue = NAN;
    if (n < 2) return NAN;
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx; syy += dy * dy;
    }
    if (sxx == 0 || syy == 0) return NAN;
    double nx = sqrt(sxx), ny = sqrt(syy), r = 0;
    for (size_t i = 0; i < n; i++) r += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
    if (r > 1) r = 1;
    if (r < -1) r = -1;
    if (pvalue) *pvalue = n == 2 ? 1.0 : cm_corr_pvalue(r, n);
    return r;
}

/* numpy.corrcoef on two variables, as scipy.stats.spearmanr uses it:
 * cov / sqrt(var_x) / sqrt(var_y), clipped. */
static double corrcoef(const double *x, const double *y, size_t n) {
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= (double)n;
    my /= (double)n;
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx; syy += dy * dy; sxy += dx * dy;
    }
    double f = (double)n - 1;
    if (sxx == 0 || syy == 0) return NAN;
    double r = (sxy / f) / sqrt(sxx / f) / sqrt(syy / f);
    if (r > 1) r = 1;
    if (r < -1) r = -1;
    return r;
}

double cm_spearman(const double *x, const double *y, size_t n, double *pvalue) {
    if (pvalue) *pvalue = NAN;
    double *rx = malloc((n ? n : 1) * sizeof *rx), *ry = malloc((n ? n : 1) * sizeof *ry);
    if (!rx || !ry) { free(rx); free(ry); return NAN; }
    cm_rankdata(x, n, rx);
    cm_rankdata(y, n, ry);
    double r = n < 2 ? NAN : corrcoef(rx, ry, n);
    free(rx);
    free(ry);
    if (pvalue && !isnan(r)) {
        /* scipy spearmanr: t = r sqrt((n-2)/((r+1)(1-r))), p = 2 t.sf(|t|, n-2) */
        if (n < 3) *pvalue = NAN;
        else if (fabs(r) >= 1) *pvalue = 0;
        else {
            double df = (double)n - 2;
            double t = r * sqrt(df / ((r + 1) * (1 - r)));
            *pvalue = cm_betainc(0.5 * df, 0.5, df / (df + t * t));
        }
    }
    return r;
}
