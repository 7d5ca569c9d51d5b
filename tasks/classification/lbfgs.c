/*
 * lbfgs.c: unconstrained L-BFGS with scipy's L-BFGS-B control flow and the
 * Moré-Thuente line search (see lbfgs.h for the rules it follows).
 *
 * Without bounds, L-BFGS-B's generalized Cauchy point plus subspace
 * minimisation reduce to: the step -g/theta while the memory is empty, and
 * the minimiser of the quadratic model, -B^{-1} g, afterwards. B^{-1} g is
 * computed here by the two-loop recursion, which gives the same direction
 * as L-BFGS-B's compact representation up to rounding.
 */
#include "tasks/classification/lbfgs.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

cm_lbfgs_params cm_lbfgs_default_params(void) {
    cm_lbfgs_params p;
    p.m = 10;
    p.pgtol = 1e-5;
    p.ftol = 2.2204460492503131e-09; /* scipy: factr 1e7 times machine epsilon */
    p.max_iter = 15000;
    p.max_fun = 15000;
    p.max_ls = 20;
    return p;
}

/* ---- Moré-Thuente line search ----------------------------------------------
 * Finds a step with f(stp) <= f(0) + ftol stp f'(0) and |f'(stp)| <= gtol |f'(0)|
 * by keeping an interval [stx, sty] that brackets such a step and choosing
 * trial steps by safeguarded cubic/quadratic/secant interpolation. */
enum { LS_FG, LS_CONV, LS_WARN, LS_ERROR };

typedef struct {
    double ftol, gtol, xtol, stpmin, stpmax;
    int    brackt, stage;
    double finit, ginit, gtest;
    double stx, fx, gx, sty, fy, gy;
    double stmin, stmax, width, width1;
} line_search;

/* The safeguarded step: updates the interval (stx, sty) from the trial
 * (stp, fp, dp) and returns the next trial step in *stp. */
static void ls_step(line_search *s, double *stp_io, double fp, double dp) {
    double stx = s->stx, fx = s->fx, dx = s->gx, sty = s->sty, fy = s->fy, dy = s->gy;
    double stp = *stp_io, stpf;
    const double stpmin = s->stmin, stpmax = s->stmax;
    double sgnd = dp * (dx / fabs(dx));

    if (fp > fx) {
        /* Higher value: bracketed. Cubic if closer to stx than the quadratic,
         * else the mean of the two. */
        double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        double sc = fmax(fabs(theta), fmax(fabs(dx), fabs(dp)));
        double gamma = sc * sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
        if (stp < stx) gamma = -gamma;
        double p = (gamma - dx) + theta, q = ((gamma - dx) + gamma) + dp;
        double stpc = stx + (p / q) * (stp - stx);
        double stpq = stx + ((dx / ((fx - fp) / (stp - stx) + dx)) / 2.0) * (stp - stx);
        stpf = fabs(stpc - stx) < fabs(stpq - stx) ? stpc : stpc + (stpq - stpc) / 2.0;
        s->brackt = 1;
    } else if (sgnd < 0.0) {
        /* Lower value, derivatives of opposite sign: bracketed. The cubic if
         * farther from stp than the secant step, else the secant. */
        double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        double sc = fmax(fabs(theta), fmax(fabs(dx), fabs(dp)));
        double gamma = sc * sqrt((theta / sc) * (theta / sc) - (dx / sc) * (dp / sc));
        if (stp > stx) gamma = -gamma;
        double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dx;
        double stpc = stp + (p / q) * (stx - stp);
        double stpq = stp + (dp / (dp - dx)) * (stx - stp);
        stpf = fabs(stpc - stp) > fabs(stpq - stp) ? stpc : stpq;
        s->brackt = 1;
    } else if (fabs(dp) < fabs(dx)) {
        /* Lower value, same sign, derivative shrinking. */
        double theta = 3.0 * (fx - fp) / (stp - stx) + dx + dp;
        double sc = fmax(fabs(theta), fmax(fabs(dx), fabs(dp)));
        double gamma = sc * sqrt(fmax(0.0, (theta / sc) * (theta / sc) - (dx / sc) * (dp / sc)));
        if (stp > stx) gamma = -gamma;
        double p = (gamma - dp) + theta, q = (gamma + (dx - dp)) + gamma;
        double r = p / q, stpc;
        if (r < 0.0 && gamma != 0.0) stpc = stp + r * (stx - stp);
        else if (stp > stx) stpc = stpmax;
        else stpc = stpmin;
        double stpq = stp + (dp / (dp - dx)) * (stx - stp);
        if (s->brackt) {
            stpf = fabs(stpc - stp) < fabs(stpq - stp) ? stpc : stpq;
            if (stp > stx) stpf = fmin(stp + 0.66 * (sty - stp), stpf);
            else stpf = fmax(stp + 0.66 * (sty - stp), stpf);
        } else {
            stpf = fabs(stpc - stp) > fabs(stpq - stp) ? stpc : stpq;
            stpf = fmin(stpmax, stpf);
            stpf = fmax(stpmin, stpf);
        }
    } else {
        /* Lower value, same sign, derivative not shrinking. */
        if (s->brackt) {
            double theta = 3.0 * (fp - fy) / (sty - stp) + dy + dp;
            double sc = fmax(fabs(theta), fmax(fabs(dy), fabs(dp)));
            double gamma = sc * sqrt((theta / sc) * (theta / sc) - (dy / sc) * (dp / sc));
            if (stp > sty) gamma = -gamma;
            double p = (gamma - dp) + theta, q = ((gamma - dp) + gamma) + dy;
            stpf = stp + (p / q) * (sty - stp);
        } else {
            stpf = stp > stx ? stpmax : stpmin;
        }
    }
    /* New interval. */
    if (fp > fx) {
        sty = stp; fy = fp; dy = dp;
    } else {
        if (sgnd < 0.0) { sty = stx; fy = fx; dy = dx; }
        stx = stp; fx = fp; dx = dp;
    }
    s->stx = stx; s->fx = fx; s->gx = dx; s->sty = sty; s->fy = fy; s->gy = dy;
    *stp_io = stpf;
}

/* First call: f, g at step 0 and the first trial step. */
static int ls_start(line_search *s, double f, double g, double stp) {
    if (stp < s->stpmin || stp > s->stpmax || g >= 0.0) return LS_ERROR;
    s->brackt = 0;
    s->stage = 1;
    s->finit = f;
    s->ginit = g;
    s->gtest = s->ftol * g;
    s->width = s->stpmax - s->stpmin;
    s->width1 = s->width / 0.5;
    s->stx = 0.0; s->fx = f; s->gx = g;
    s->sty = 0.0; s->fy = f; s->gy = g;
    s->stmin = 0.0;
    s->stmax = stp + 4.0 * stp;
    return LS_FG;
}

/* Later calls: f, g at *stp; returns LS_CONV/LS_WARN (accept *stp) or LS_FG
 * with the next trial in *stp. */
static int ls_next(line_search *s, double *stp, double f, double g) {
    double ftest = s->finit + *stp * s->gtest;
    int task = LS_FG;
    if (s->stage == 1 && f <= ftest && g >= 0.0) s->stage = 2;
    if (s->brackt && (*stp <= s->stmin || *stp >= s->stmax)) task = LS_WARN;      /* rounding errors */
    if (s->brackt && s->stmax - s->stmin <= s->xtol * s->stmax) task = LS_WARN;   /* xtol */
    if (*stp == s->stpmax && f <= ftest && g <= s->gtest) task = LS_WARN;         /* stp = stpmax */
    if (*stp == s->stpmin && (f > ftest || g >= s->gtest)) task = LS_WARN;        /* stp = stpmin */
    if (f <= ftest && fabs(g) <= s->gtol * (-s->ginit)) task = LS_CONV;
    if (task != LS_FG) return task;

    if (s->stage == 1 && f <= s->fx && f > ftest) {
        /* Use the modified function psi(stp) = f - ftol stp f'(0) until a
         * step with psi <= 0 and f' >= 0 is seen. */
        double gt = s->gtest;
        s->fx -= s->stx * gt; s->fy -= s->sty * gt; s->gx -= gt; s->gy -= gt;
        ls_step(s, stp, f - *stp * gt, g - gt);
        s->fx += s->stx * gt; s->fy += s->sty * gt; s->gx += gt; s->gy += gt;
    } else {
        ls_step(s, stp, f, g);
    }
    if (s->brackt) {
        if (fabs(s->sty - s->stx) >= 0.66 * s->width1) *stp = s->stx + 0.5 * (s->sty - s->stx);
        s->width1 = s->width;
        s->width = fabs(s->sty - s->stx);
        s->stmin = fmin(s->stx, s->sty);
        s->stmax = fmax(s->stx, s->sty);
    } else {
        s->stmin = *stp + 1.1 * (*stp - s->stx);
        s->stmax = *stp + 4.0 * (*stp - s->stx);
    }
    *stp = fmax(*stp, s->stpmin);
    *stp = fmin(*stp, s->stpmax);
    if ((s->brackt && (*stp <= s->stmin || *stp >= s->stmax)) ||
        (s->brackt && s->stmax - s->stmin <= s->xtol * s->stmax))
        *stp = s->stx;
    return LS_FG;
}

/* ---- the optimiser ----------------------------------------------------------- */
static double dot(const double *a, const double *b, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double max_abs(const double *a, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

int cm_lbfgs_minimize(size_t n, double *x, cm_lbfgs_fn fn, void *ud, const cm_lbfgs_params *params,
                      cm_lbfgs_result *res) {
    cm_lbfgs_params p = params ? *params : cm_lbfgs_default_params();
    const double eps = DBL_EPSILON;
    const size_t m = (size_t)(p.m > 0 ? p.m : 1);
    memset(res, 0, sizeof *res);
    double *buf = cm_malloc((5 * n + 2 * m * n + 2 * m) * sizeof *buf);
    if (!buf) return CM_ERR_NOMEM;
    double *g = buf, *d = g + n, *t = d + n, *r = t + n, *z = r + n;
    double *S = z + n, *Y = S + m * n, *sy = Y + m * n, *alpha = sy + m;
    size_t col = 0, head = 0; /* pairs stored, index of the oldest */
    double theta = 1.0, f = 0.0;
    int iter = 0, rc;

    if ((rc = fn(ud, x, &f, g))) goto out;
    res->n_fev = 1;
    double sbgnrm = max_abs(g, n);
    if (sbgnrm <= p.pgtol) { res->stop = CM_LBFGS_CONV_PGTOL; goto done; }

    for (;;) {
        /* Search direction d = z - x. */
        if (col == 0) {
            for (size_t i = 0; i < n; i++) z[i] = x[i] - g[i] / theta;
        } else {
            double *q = d;
            memcpy(q, g, n * sizeof *q);
            for (size_t k = col; k-- > 0;) {
                size_t j = (head + k) % m;
                alpha[j] = dot(S + j * n, q, n) / sy[j];
                for (size_t i = 0; i < n; i++) q[i] -= alpha[j] * Y[j * n + i];
            }
            for (size_t i = 0; i < n; i++) q[i] /= theta;
            for (size_t k = 0; k < col; k++) {
                size_t j = (head + k) % m;
                double beta = dot(Y + j * n, q, n) / sy[j];
                for (size_t i = 0; i < n; i++) q[i] += (alpha[j] - beta) * S[j * n + i];
            }
            for (size_t i = 0; i < n; i++) z[i] = x[i] - q[i];
        }
        for (size_t i = 0; i < n; i++) d[i] = z[i] - x[i];

        /* Line search along d. */
        double dtd = dot(d, d, n), dnorm = sqrt(dtd);
        line_search ls = {1e-3, 0.9, 0.1, 0.0, 1e10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        double stp = iter == 0 ? fmin(1.0 / dnorm, ls.stpmax) : 1.0;
        memcpy(t, x, n * sizeof *t);
        memcpy(r, g, n * sizeof *r);
        double fold = f, gd = 0.0, gdold = 0.0;
        int ifun = 0, failed = 0, task = LS_FG;
        for (;;) {
            gd = dot(g, d, n);
            if (ifun == 0) {
                gdold = gd;
                if (gd >= 0.0) { failed = 1; break; }   /* not a descent direction */
                task = ls_start(&ls, f, gd, stp);
            } else {
                task = ls_next(&ls, &stp, f, gd);
            }
            if (task == LS_CONV || task == LS_WARN) break;
            if (task == LS_ERROR) { failed = 1; break; }
            ifun++;
            if (ifun - 1 >= p.max_ls) { failed = 1; break; }
            if (stp == 1.0) memcpy(x, z, n * sizeof *x);
            else for (size_t i = 0; i < n; i++) x[i] = stp * d[i] + t[i];
            if ((rc = fn(ud, x, &f, g))) goto out;
            res->n_fev++;
        }
        if (failed) {
            memcpy(x, t, n * sizeof *x);
            memcpy(g, r, n * sizeof *g);
            f = fold;
            if (col == 0) { res->stop = CM_LBFGS_ABNORMAL; break; }
            col = 0; head = 0; theta = 1.0;   /* forget the pairs and restart */
            continue;
        }
        iter++;
        res->n_iter++;
        sbgnrm = max_abs(g, n);
        if (res->n_iter >= p.max_iter) { res->stop = CM_LBFGS_MAX_ITER; break; }
        if (res->n_fev > p.max_fun) { res->stop = CM_LBFGS_MAX_FUN; break; }
        if (sbgnrm <= p.pgtol) { res->stop = CM_LBFGS_CONV_PGTOL; break; }
        double ddum = fmax(fmax(fabs(fold), fabs(f)), 1.0);
        if (fold - f <= p.ftol * ddum) { res->stop = CM_LBFGS_CONV_FTOL; break; }

        /* New pair s = stp d, y = g - g_old. */
        for (size_t i = 0; i < n; i++) r[i] = g[i] - r[i];
        double rr = dot(r, r, n), dr;
        if (stp == 1.0) {
            dr = gd - gdold;
            ddum = -gdold;
        } else {
            dr = (gd - gdold) * stp;
            for (size_t i = 0; i < n; i++) d[i] *= stp;
            ddum = -gdold * stp;
        }
        if (dr <= eps * ddum) continue;   /* curvature too small: skip the update */
        size_t slot;
        if (col < m) {
            slot = (head + col) % m;
            col++;
        } else {
            slot = head;
            head = (head + 1) % m;
        }
        memcpy(S + slot * n, d, n * sizeof *d);
        memcpy(Y + slot * n, r, n * sizeof *r);
        sy[slot] = dr;
        theta = rr / dr;
    }
done:
    res->f = f;
    res->pg_norm = max_abs(g, n);
    rc = CM_OK;
out:
    free(buf);
    return rc;
}
