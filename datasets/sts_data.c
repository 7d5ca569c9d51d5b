/* sts_data.c: loading STS pairs (see sts_data.h). */
#include "datasets/sts_data.h"
#include "cmteb/array.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cm_sts_data_free(cm_sts_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) { free(d->s1[i]); free(d->s2[i]); }
    free(d->s1);
    free(d->s2);
    free(d->score);
    free(d->path);
    memset(d, 0, sizeof *d);
}

int cm_sts_data_load(const char *folder, const char *subset, const char *split, const char *f1,
                     const char *f2, const char *fscore, cm_sts_data *d) {
    memset(d, 0, sizeof *d);
    if (!f1) f1 = "sentence1";
    if (!f2) f2 = "sentence2";
    if (!fscore) fscore = "score";
    CM_TRY(cm_data_find_split(folder, subset, split, &d->path));
    cm_records *r = NULL;
    int rc = cm_data_open(&r, d->path);
    if (rc) { cm_sts_data_free(d); return rc; }
    size_t cap1 = 0, cap2 = 0, cap3 = 0;
    cJSON *o;
    while ((rc = cm_records_next(r, &o)) == 1) {
        const char *a, *b;
        double s;
        if ((rc = cm_rec_string(r, o, f1, &a)) || (rc = cm_rec_string(r, o, f2, &b)) ||
            (rc = cm_rec_number(r, o, fscore, &s)))
            break;
        if (!isfinite(s)) { rc = cm_rec_error(r, fscore, "expected a finite number"); break; }
        if (cm_array_reserve(d->s1, cap1, d->n + 1) || cm_array_reserve(d->s2, cap2, d->n + 1) ||
            cm_array_reserve(d->score, cap3, d->n + 1)) {
            rc = CM_ERR_NOMEM;
            break;
        }
        d->s1[d->n] = cm_strdup(a);
        d->s2[d->n] = cm_strdup(b);
        d->score[d->n] = s;
        d->n++;
        if (!d->s1[d->n - 1] || !d->s2[d->n - 1]) { rc = CM_ERR_NOMEM; break; }
    }
    cm_records_close(r);
    if (rc < 0) { cm_sts_data_free(d); return rc; }
    if (d->n == 0) {
        rc = cm_error(CM_ERR_FORMAT, "%s: no pairs found (expected rows with %s, %s, %s)", d->path, f1, f2, fscore);
        cm_sts_data_free(d);
        return rc;
    }
    return CM_OK;
}
