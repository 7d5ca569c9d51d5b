/*
 * logreg.c: scikit-learn 1.2's lbfgs LogisticRegression (see logreg.h): the
 * summed half-binomial / half-multinomial losses with an L2 penalty on the
 * weights, their gradients through two OpenBLAS dgemm calls per
 * evaluation, minimised by lbfgs.c.
 */
#include "tasks/classification/logreg.h"
#include "tasks/classification/lbfgs.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

cm_logreg_params cm_logreg_default_params(void) {
    cm_logreg_params p = {1.0, 1e-4, 100, 1};
    return p;
}

/* What the objective needs: the data in float64 and scratch. */
typedef struct {
    const double *X;     /* (n, d) */
    const int    *y;
    size_t        n, d;
    int           rows;  /* 1 (binary) or K */
    int           fit_intercept;
    double        l2;    /* 1 / C */
    double       *raw;   /* (n, rows): raw predictions, then per-sample gradients */
} objective;

/* Loss and gradient of the logistic loss at raw prediction z for y in {0, 1},
 * in the overflow-safe forms scikit-learn uses. */
static double half_binomial(double y, double z, double *grad) {
    double e, loss;
    if (z <= 0) {
        e = exp(z);
        loss = z <= -37 ? e - y * z : log1p(e) - y * z;
        *grad = ((1 - y) * e - y) / (1 + e);
    } else {
        e = exp(-z);
        loss = z <= 18 ? log1p(e) + (1 - y) * z : e + (1 - y) * z;
        *grad = ((1 - y) - y * e) / (1 + e);
    }
    return loss;
}

/* x = [W (rows, d) row-major, b (rows)]. */
static int loss_grad(void *ud, const double *x, double *f, double *g) {
    const objective *o = ud;
    const size_t n = o->n, d = o->d, K = (size_t)o->rows;
    const double *W = x, *b = x + K * d;
    double *raw = o->raw;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)K, (int)d, 1.0, o->X, (int)d, W, (int)d,
                0.0, raw, (int)K);
    double loss = 0.0;
    if (K == 1) {
        for (size_t i = 0; i < n; i++) {
            double z = raw[i] + (o->fit_intercept ? b[0] : 0.0), gi;
            loss += half_binomial((double)o->y[i], z, &gi);
            raw[i] = gi;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            double *z = raw + i * K, mx = -INFINITY, sum = 0.0;
            for (size_t k = 0; k < K; k++) {
                if (o->fit_intercept) z[k] += b[k];
                if (z[k] > mx) mx = z[k];
            }
            size_t yi = (size_t)o->y[i];
            double zy = z[yi];
            for (size_t k = 0; k < K; k++) {
                z[k] = exp(z[k] - mx);
                sum += z[k];
            }
            loss += log(sum) + mx - zy;
            for (size_t k = 0; k < K; k++) z[k] = z[k] / sum - (k == yi ? 1.0 : 0.0);
        }
    }
    /* gradient: G' X + l2 W, intercepts: column sums of G */
    double *gW = g, *gb = g + K * d;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)K, (int)d, (int)n, 1.0, raw, (int)K, o->X, (int)d,
                0.0, gW, (int)d);
    double wsq = 0.0;
    for (size_t j = 0; j < K * d; j++) {
        wsq += W[j] * W[j];
        gW[j] += o->l2 * W[j];
    }
    if (o->fit_intercept) {
        for (size_t k = 0; k < K; k++) gb[k] = 0.0;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < K; k++) gb[k] += raw[i * K + k];
    }
    *f = loss + 0.5 * o->l2 * wsq;
    if (!isfinite(*f)) return cm_error(CM_ERR_NUMERIC, "logistic regression: the loss is not finite (%g)", *f);
    return CM_OK;
}

void cm_logreg_free(cm_logreg *m) {
    if (!m) return;
    free(m->coef);
    free(m->intercept);
    free(m);
}

int cm_logreg_fit(cm_logreg **out, const float *X, size_t n, size_t d, const int *y, int n_classes,
                  const cm_logreg_params *params) {
    *out = NULL;
    cm_logreg_params p = params ? *params : cm_logreg_default_params();
    if (n_classes < 2)
        return cm_error(CM_ERR_ARG, "logistic regression needs samples of at least 2 classes; the data holds %d",
                        n_classes);
    if (!(p.C > 0)) return cm_error(CM_ERR_ARG, "logistic regression: C must be positive, got %g", p.C);
    int *seen = cm_calloc((size_t)n_classes, sizeof *seen);
    if (!seen) return CM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= n_classes) {
            free(seen);
            return cm_error(CM_ERR_ARG, "logistic regression: label %d of sample %zu is outside [0, %d)", y[i], i,
                            n_classes);
        }
        seen[y[i]] = 1;
    }
    for (int k = 0; k < n_classes; k++)
        if (!seen[k]) {
            free(seen);
            return cm_error(CM_ERR_ARG, "logistic regression: class %d has no training sample", k);
        }
    free(seen);

    int rows = n_classes == 2 ? 1 : n_classes;
    size_t nvar = (size_t)rows * d + (p.fit_intercept ? (size_t)rows : 0);
    objective o = {NULL, y, n, d, rows, p.fit_intercept, 1.0 / p.C, NULL};
    double *Xd = cm_malloc((n * d > 0 ? n * d : 1) * sizeof *Xd);
    double *raw = cm_malloc((n * (size_t)rows > 0 ? n * (size_t)rows : 1) * sizeof *raw);
    double *x = cm_calloc(nvar + (size_t)rows, sizeof *x);   /* + rows: b exists even without intercept */
    cm_logreg *m = cm_calloc(1, sizeof *m);
    int rc = CM_OK;
    if (!Xd || !raw || !x || !m) { rc = CM_ERR_NOMEM; goto fail; }
    for (size_t i = 0; i < n * d; i++) Xd[i] = X[i];
    o.X = Xd;
    o.raw = raw;

    cm_lbfgs_params lp = cm_lbfgs_default_params();
    lp.pgtol = p.tol;
    lp.max_iter = p.max_iter;
    cm_lbfgs_result res;
    if ((rc = cm_lbfgs_minimize(nvar, x, loss_grad, &o, &lp, &res))) goto fail;

    m->n_classes = n_classes;
    m->dim = d;
    m->n_rows = rows;
    m->n_iter = res.n_iter;
    m->converged = res.stop == CM_LBFGS_CONV_PGTOL || res.stop == CM_LBFGS_CONV_FTOL;
    m->coef = cm_malloc(((size_t)rows * d > 0 ? (size_t)rows * d : 1) * sizeof *m->coef);
    m->intercept = cm_calloc((size_t)rows, sizeof *m->intercept);
    if (!m->coef || !m->intercept) { rc = CM_ERR_NOMEM; goto fail; }
    memcpy(m->coef, x, (size_t)rows * d * sizeof *x);
    if (p.fit_intercept) memcpy(m->intercept, x + (size_t)rows * d, (size_t)rows * sizeof *x);
    free(Xd);
    free(raw);
    free(x);
    *out = m;
    return CM_OK;
fail:
    free(Xd);
    free(raw);
    free(x);
    cm_logreg_free(m);
    return rc;
}

int cm_logreg_decision(const cm_logreg *m, const float *X, size_t n, double *scores) {
    const size_t d = m->dim, K = (size_t)m->n_rows, chunk = 1024;
    double *Xd = cm_malloc(chunk * (d ? d : 1) * sizeof *Xd);
    if (!Xd) return CM_ERR_NOMEM;
    for (size_t s = 0; s < n; s += chunk) {
        size_t r = n - s < chunk ? n - s : chunk;
        for (size_t i = 0; i < r * d; i++) Xd[i] = X[s * d + i];
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)r, (int)K, (int)d, 1.0, Xd, (int)d, m->coef,
                    (int)d, 0.0, scores + s * K, (int)K);
        for (size_t i = 0; i < r; i++)
            for (size_t k = 0; k < K; k++) scores[(s + i) * K + k] += m->intercept[k];
    }
    free(Xd);
    return CM_OK;
}

int cm_logreg_predict(const cm_logreg *m, const float *X, size_t n, int *pred) {
    const size_t K = (size_t)m->n_rows;
    double *sc = cm_malloc((n * K > 0 ? n * K : 1) * sizeof *sc);
    if (!sc) return CM_ERR_NOMEM;
    int rc = cm_logreg_decision(m, X, n, sc);
    if (!rc) {
        for (size_t i = 0; i < n; i++) {
            if (K == 1) {
                pred[i] = sc[i] > 0 ? 1 : 0;
            } else {
                size_t best = 0;
                for (size_t k = 1; k < K; k++)
                    if (sc[i * K + k] > sc[i * K + best]) best = k;
                pred[i] = (int)best;
            }
        }
    }
    free(sc);
    return rc;
}
