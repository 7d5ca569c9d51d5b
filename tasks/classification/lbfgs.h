/*
 * lbfgs.h: limited-memory BFGS for unconstrained problems, with the stopping
 * rules, step choices and line search of scipy.optimize.minimize(method=
 * "L-BFGS-B") (L-BFGS-B 3.0 without bounds), so that scikit-learn's lbfgs
 * solver can be reproduced iteration for iteration:
 *
 *   - the first step (and the step after a memory reset) goes along -g, the
 *     very first one scaled to unit length; later steps are the quasi-Newton
 *     direction -H g of the m most recent (s, y) pairs with H0 = s'y/y'y;
 *   - Moré-Thuente line search (MINPACK-2 dcsrch: ftol 1e-3, gtol 0.9,
 *     xtol 0.1, steps in [0, 1e10]), at most max_ls evaluations per search;
 *   - stop when max|g| <= pgtol, when (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1)
 *     <= ftol, or after max_iter iterations (counted as scipy counts them);
 *   - pairs with s'y <= eps * (-g's) are not stored; a failed line search
 *     resets the memory (or ends the run if the memory was already empty).
 *
 * Ownership: x is caller-owned (in: start, out: result); the callback's
 * user data is borrowed.
 */
#ifndef CMTEB_TASKS_CLASSIFICATION_LBFGS_H
#define CMTEB_TASKS_CLASSIFICATION_LBFGS_H

#include <stddef.h>

/* Evaluates f(x) into *f and its gradient into g (n doubles). Returns CM_OK
 * or a cmteb status, which aborts the minimisation with that status. */
typedef int (*cm_lbfgs_fn)(void *ud, const double *x, double *f, double *g);

typedef struct cm_lbfgs_params {
    int    m;         /* correction pairs kept (scipy maxcor, default 10) */
    double pgtol;     /* stop when max |g_i| <= pgtol (scipy gtol, default 1e-5) */
    double ftol;      /* relative reduction stop (scipy ftol, default 2.220446049250313e-09) */
    int    max_iter;  /* iterations (scipy maxiter, default 15000) */
    int    max_fun;   /* function evaluations (scipy maxfun, default 15000) */
    int    max_ls;    /* evaluations per line search (scipy maxls, default 20) */
} cm_lbfgs_params;

cm_lbfgs_params cm_lbfgs_default_params(void);

typedef enum cm_lbfgs_stop {
    CM_LBFGS_CONV_PGTOL = 0,   /* converged: projected gradient small */
    CM_LBFGS_CONV_FTOL,        /* converged: relative reduction of f small */
    CM_LBFGS_MAX_ITER,         /* stopped at max_iter */
    CM_LBFGS_MAX_FUN,          /* stopped at max_fun */
    CM_LBFGS_ABNORMAL          /* the line search failed with an empty memory */
} cm_lbfgs_stop;

typedef struct cm_lbfgs_result {
    double        f;        /* f at the returned x */
    double        pg_norm;  /* max |g_i| there */
    int           n_iter;   /* iterations, as scipy's OptimizeResult.nit */
    int           n_fev;    /* function evaluations, as scipy's nfev */
    cm_lbfgs_stop stop;
} cm_lbfgs_result;

/* Minimises fn from x (n variables) in place. Returns CM_OK (whatever the
 * stop reason, see res->stop), CM_ERR_NOMEM, or the callback's error. */
int cm_lbfgs_minimize(size_t n, double *x, cm_lbfgs_fn fn, void *ud, const cm_lbfgs_params *params,
                      cm_lbfgs_result *res);

#endif
