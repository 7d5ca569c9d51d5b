/* summ_metrics.c: per-text max-similarity predictions and their correlations with human relevance (see summ_metrics.h).
 */
#include "tasks/summarization/summ_metrics.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "tasks/metrics/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int all_equal(const double *x, size_t n) {
    for (size_t i = 1; i < n; i++)
        if (x[i] != x[0]) return 0;
    return 1;
}

int cm_summ_text(const float *human, size_t nh, const float *machine, size_t nm, size_t dim, const double *gold,
                 cm_summ_result *out) {
    memset(out, 0, sizeof *out);
    float *hn = cm_malloc((nh ? nh : 1) * dim * sizeof *hn), *mn = cm_malloc((nm ? nm : 1) * dim * sizeof *mn);
    double *cosp = cm_malloc((nm ? nm : 1) * sizeof *cosp), *dotp = cm_malloc((nm ? nm : 1) * sizeof *dotp);
    if (!hn || !mn || !cosp || !dotp) {
        free(hn); free(mn); free(cosp); free(dotp);
        return CM_ERR_NOMEM;
    }
    memcpy(hn, human, nh * dim * sizeof *hn);
    memcpy(mn, machine, nm * dim * sizeof *mn);
    cm_l2_normalize_rows(hn, nh, dim);
    cm_l2_normalize_rows(mn, nm, dim);
    for (size_t i = 0; i < nm; i++) {
        float bc = -INFINITY, bd = -INFINITY;
        for (size_t j = 0; j < nh; j++) {
            float c = (float)cm_dot(mn + i * dim, hn + j * dim, dim);
            float d = (float)cm_dot(machine + i * dim, human + j * dim, dim);
            if (c > bc) bc = c;
            if (d > bd) bd = d;
        }
        cosp[i] = bc;
        dotp[i] = bd;
    }
    if (nm < 2 || all_equal(gold, nm) || all_equal(cosp, nm) || all_equal(dotp, nm)) {
        out->skipped = 1;
    } else {
        out->stat[CM_SUMM_COS_SPEARMAN] = cm_spearman(gold, cosp, nm, &out->pvalue[CM_SUMM_COS_SPEARMAN]);
        out->stat[CM_SUMM_COS_PEARSON] = cm_pearson(gold, cosp, nm, &out->pvalue[CM_SUMM_COS_PEARSON]);
        out->stat[CM_SUMM_DOT_SPEARMAN] = cm_spearman(gold, dotp, nm, &out->pvalue[CM_SUMM_DOT_SPEARMAN]);
        out->stat[CM_SUMM_DOT_PEARSON] = cm_pearson(gold, dotp, nm, &out->pvalue[CM_SUMM_DOT_PEARSON]);
    }
    free(hn); free(mn); free(cosp); free(dotp);
    return CM_OK;
}
