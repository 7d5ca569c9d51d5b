/*
 * test_lbfgs.c: tasks/classification/lbfgs.c against scipy's L-BFGS-B
 * (tests/reference/ref_learn_lbfgs.py -> tests/fixtures/learning/lbfgs.json):
 * the same iteration and evaluation counts, the same stop reason and the
 * same point (1e-6) on Rosenbrock and a quartic, including runs cut at
 * maxiter, which only agree if every step agrees.
 */
#include "check.h"
#include "cmteb/util.h"
#include "tasks/classification/lbfgs.h"

#include <cjson/cJSON.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static int rosen(void *ud, const double *x, double *f, double *g) {
    size_t n = *(size_t *)ud;
    double s = 0;
    memset(g, 0, n * sizeof *g);
    for (size_t i = 0; i + 1 < n; i++) {
        double a = x[i + 1] - x[i] * x[i], b = 1.0 - x[i];
        s += 100.0 * a * a + b * b;
        g[i] += -400.0 * x[i] * a - 2.0 * b;
        g[i + 1] += 200.0 * a;
    }
    *f = s;
    return CM_OK;
}

typedef struct { size_t n; double a[16]; } quad_ud;

static int quad(void *ud, const double *x, double *f, double *g) {
    const quad_ud *q = ud;
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < q->n; i++) {
        s1 += q->a[i] * (x[i] - 1.0) * (x[i] - 1.0);
        s2 += x[i] * x[i] * x[i] * x[i];
        g[i] = q->a[i] * (x[i] - 1.0) + 0.4 * x[i] * x[i] * x[i];
    }
    *f = 0.5 * s1 + 0.1 * s2;
    return CM_OK;
}

static int failing(void *ud, const double *x, double *f, double *g) {
    (void)ud; (void)x; (void)f; (void)g;
    return cm_error(CM_ERR_NUMERIC, "objective failed on purpose");
}

int main(void) {
    char *path = cm_path_join(check_env("CMTEB_SRC"), "tests/fixtures/learning/lbfgs.json"), *text = NULL;
    if (cm_read_file(path, &text, NULL)) SKIP("fixture tests/fixtures/learning/lbfgs.json not found");
    cJSON *doc = cJSON_Parse(text);
    CHECK(doc != NULL);
    const cJSON *c;
    cJSON_ArrayForEach(c, get(doc, "cases")) {
        const cJSON *x0 = get(c, "x0"), *opt = get(c, "options"), *v;
        size_t n = (size_t)cJSON_GetArraySize(x0), i = 0;
        double x[16];
        cJSON_ArrayForEach(v, x0) x[i++] = v->valuedouble;
        cm_lbfgs_params p = cm_lbfgs_default_params();
        if (get(opt, "maxiter")) p.max_iter = get(opt, "maxiter")->valueint;
        if (get(opt, "gtol")) p.pgtol = get(opt, "gtol")->valuedouble;
        if (get(opt, "maxcor")) p.m = get(opt, "maxcor")->valueint;
        cm_lbfgs_result res;
        if (!strcmp(get(c, "name")->valuestring, "rosen")) {
            CHECK_OK(cm_lbfgs_minimize(n, x, rosen, &n, &p, &res));
        } else {
            quad_ud q = {n, {0}};
            i = 0;
            cJSON_ArrayForEach(v, get(c, "a")) q.a[i++] = v->valuedouble;
            CHECK_OK(cm_lbfgs_minimize(n, x, quad, &q, &p, &res));
        }
        printf("%s n=%zu: nit %d (scipy %d), nfev %d (scipy %d), f %.6g (scipy %.6g)\n", get(c, "name")->valuestring, n,
               res.n_iter, get(c, "nit")->valueint, res.n_fev, get(c, "nfev")->valueint, res.f, get(c, "fun")->valuedouble);
        CHECK(res.n_iter == get(c, "nit")->valueint);
        CHECK(res.n_fev == get(c, "nfev")->valueint);
        const char *msg = get(c, "message")->valuestring;
        int want = !strncmp(msg, "CONVERGENCE: NORM", 17) ? CM_LBFGS_CONV_PGTOL
                 : !strncmp(msg, "CONVERGENCE: REL", 16) ? CM_LBFGS_CONV_FTOL
                 : !strncmp(msg, "STOP: TOTAL NO. of ITER", 23) ? CM_LBFGS_MAX_ITER : -1;
        CHECK((int)res.stop == want);
        i = 0;
        cJSON_ArrayForEach(v, get(c, "x")) { CHECK_NEAR(x[i], v->valuedouble, 1e-6); i++; }
        CHECK_NEAR(res.f, get(c, "fun")->valuedouble, 1e-8 * (1 + fabs(get(c, "fun")->valuedouble)));
    }
    /* A failing objective aborts with its status. */
    double x[2] = {0, 0};
    cm_lbfgs_result res;
    CHECK(cm_lbfgs_minimize(2, x, failing, NULL, NULL, &res) == CM_ERR_NUMERIC);
    /* Already optimal: no iteration. */
    size_t n2 = 2;
    double opt[2] = {1, 1};
    CHECK_OK(cm_lbfgs_minimize(2, opt, rosen, &n2, NULL, &res));
    CHECK(res.n_iter == 0 && res.n_fev == 1 && res.stop == CM_LBFGS_CONV_PGTOL);
    cJSON_Delete(doc);
    free(text);
    free(path);
    return check_report();
}
