/*
 * logreg.h: multinomial / binary logistic regression as scikit-learn 1.2's
 * LogisticRegression(solver="lbfgs", penalty="l2") fits it:
 *
 *   objective  sum_i loss_i + (1 / 2C) ||W||^2   (intercepts not penalised;
 *              a sum over samples, not a mean, as in scikit-learn < 1.4)
 *   K > 2      multinomial softmax, loss_i = logsumexp(z_i) - z_i[y_i], K rows
 *   K == 2     one weight row for class 1 (the larger label), logistic loss
 *   solver     lbfgs.c with gtol = tol, maxiter = max_iter, m = 10, starting
 *              from zeros; features in float64, products through OpenBLAS.
 *
 * Prediction: argmax of X W' + b (first maximum), or z > 0 -> class 1 for K == 2.
 *
 * Ownership: cm_logreg_fit allocates the model (*out), cm_logreg_free
 * releases it (NULL is fine); inputs are borrowed.
 */
#ifndef CMTEB_TASKS_CLASSIFICATION_LOGREG_H
#define CMTEB_TASKS_CLASSIFICATION_LOGREG_H

#include <stddef.h>

typedef struct cm_logreg_params {
    double C;             /* inverse regularisation strength (default 1.0) */
    double tol;           /* lbfgs gtol (default 1e-4) */
    int    max_iter;      /* lbfgs iterations (default 100) */
    int    fit_intercept; /* default 1 */
} cm_logreg_params;

cm_logreg_params cm_logreg_default_params(void);

typedef struct cm_logreg {
    int     n_classes;  /* K >= 2 */
    size_t  dim;
    int     n_rows;     /* 1 when K == 2, else K */
    double *coef;       /* (n_rows, dim) row-major, scikit-learn's coef_ */
    double *intercept;  /* (n_rows), intercept_ */
    int     n_iter;     /* n_iter_ */
    int     converged;  /* 0 when it stopped at max_iter */
} cm_logreg;

/* Fits on X (n, d) row-major float32 with labels y[i] in [0, n_classes);
 * n_classes >= 2 and every class must occur (as scikit-learn's classes_). */
int  cm_logreg_fit(cm_logreg **out, const float *X, size_t n, size_t d, const int *y, int n_classes,
                   const cm_logreg_params *params);
/* decision_function: scores (n, n_rows) row-major, caller-allocated. */
int  cm_logreg_decision(const cm_logreg *m, const float *X, size_t n, double *scores);
/* predict: pred[i] in [0, n_classes). */
int  cm_logreg_predict(const cm_logreg *m, const float *X, size_t n, int *pred);
void cm_logreg_free(cm_logreg *m);

#endif
