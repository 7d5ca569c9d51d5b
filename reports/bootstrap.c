/*
 * bootstrap.c: per-item data (parse, load, pair) and the paired bootstrap
 * with multiplicity-weighted Spearman, AP and mean (see bootstrap.h).
 */
#include "cmteb/bootstrap.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct cm_items {
    cm_items_kind kind;
    size_t  n;
    char  **ids;     /* NULL or n strings */
    double *x;       /* (n) */
    double *y;       /* (n) or NULL */
    /* Prepared on first use: orders and tie groups. */
    int     prepared;
    size_t *ord_x;   /* (n) indices sorted by x (ascending; descending for AP) */
    size_t *grp_x;   /* (n) group end (exclusive, in ord_x positions) for each position */
    size_t *ord_y;   /* (n) indices sorted by y (SPEARMAN) */
    size_t *grp_y;
    double *rx, *ry; /* (n) scratch ranks */
};

const char *cm_items_kind_name(cm_items_kind k) {
    switch (k) {
    case CM_ITEMS_MEAN:     return "mean";
    case CM_ITEMS_SPEARMAN: return "spearman";
    case CM_ITEMS_AP:       return "ap";
    default:                return "unknown";
    }
}

void cm_items_free(cm_items *it) {
    if (!it) return;
    if (it->ids)
        for (size_t i = 0; i < it->n; i++) free(it->ids[i]);
    free(it->ids); free(it->x); free(it->y);
    free(it->ord_x); free(it->grp_x); free(it->ord_y); free(it->grp_y); free(it->rx); free(it->ry);
    free(it);
}

cm_items_kind cm_items_kind_of(const cm_items *it) { return it->kind; }
size_t cm_items_count(const cm_items *it) { return it->n; }

int cm_items_from_arrays(cm_items **out, cm_items_kind kind, size_t n, const char *const *ids, const double *x,
                         const double *y) {
    *out = NULL;
    if (kind != CM_ITEMS_MEAN && kind != CM_ITEMS_SPEARMAN && kind != CM_ITEMS_AP)
        return cm_error(CM_ERR_ARG, "unknown per-item kind %d", (int)kind);
    if (kind != CM_ITEMS_MEAN && !y)
        return cm_error(CM_ERR_ARG, "per-item kind %s needs two arrays", cm_items_kind_name(kind));
    cm_items *it = cm_calloc(1, sizeof *it);
    if (!it) return CM_ERR_NOMEM;
    it->kind = kind;
    it->n = n;
    if (!(it->x = cm_malloc(n * sizeof *it->x))) goto nomem;
    memcpy(it->x, x, n * sizeof *x);
    if (kind != CM_ITEMS_MEAN) {
        if (!(it->y = cm_malloc(n * sizeof *it->y))) goto nomem;
        memcpy(it->y, y, n * sizeof *y);
    }
    if (ids) {
        if (!(it->ids = cm_calloc(n, sizeof *it->ids))) goto nomem;
        for (size_t i = 0; i < n; i++)
            if (!(it->ids[i] = cm_strdup(ids[i]))) goto nomem;
    }
    *out = it;
    return CM_OK;
nomem:
    cm_items_free(it);
    return CM_ERR_NOMEM;
}

/* A numeric array field; labels accept true/false too. */
static int num_array(const cJSON *obj, const char *field, const char *where, double **out, size_t *n) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(obj, field);
    *out = NULL;
    if (!cJSON_IsArray(a)) return cm_error(CM_ERR_FORMAT, "%s: field '%s': expected an array of numbers", where, field);
    size_t len = (size_t)cJSON_GetArraySize(a);
    double *v = cm_malloc((len ? len : 1) * sizeof *v);
    if (!v) return CM_ERR_NOMEM;
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) {
        if (cJSON_IsNumber(e)) v[i] = e->valuedouble;
        else if (cJSON_IsBool(e)) v[i] = cJSON_IsTrue(e) ? 1.0 : 0.0;
        else {
            free(v);
            return cm_error(CM_ERR_FORMAT, "%s: field '%s': element %zu is not a number", where, field, i);
        }
        if (!isfinite(v[i])) {
            free(v);
            return cm_error(CM_ERR_FORMAT, "%s: field '%s': element %zu is not finite", where, field, i);
        }
        i++;
    }
    *out = v;
    *n = len;
    return CM_OK;
}

int cm_items_from_json(cm_items **out, const cJSON *obj, const char *where) {
    *out = NULL;
    if (cJSON_IsObject(obj) && !cJSON_GetObjectItemCaseSensitive(obj, "kind") &&
        cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(obj, "items")))
        obj = cJSON_GetObjectItemCaseSensitive(obj, "items");
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kind");
    if (!cJSON_IsString(k))
        return cm_error(CM_ERR_FORMAT, "%s: field 'kind': expected \"mean\", \"spearman\" or \"ap\"", where);
    cm_items_kind kind;
    const char *fx, *fy;
    if (!strcmp(k->valuestring, "mean")) { kind = CM_ITEMS_MEAN; fx = "values"; fy = NULL; }
    else if (!strcmp(k->valuestring, "spearman")) { kind = CM_ITEMS_SPEARMAN; fx = "pred"; fy = "gold"; }
    else if (!strcmp(k->valuestring, "ap")) { kind = CM_ITEMS_AP; fx = "scores"; fy = "labels"; }
    else return cm_error(CM_ERR_FORMAT, "%s: field 'kind': expected \"mean\", \"spearman\" or \"ap\", got \"%s\"",
                         where, k->valuestring);
    double *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    char **ids = NULL;
    int rc = num_array(obj, fx, where, &x, &nx);
    if (!rc && fy) {
        rc = num_array(obj, fy, where, &y, &ny);
        if (!rc && ny != nx)
            rc = cm_error(CM_ERR_FORMAT, "%s: fields '%s' and '%s' have different lengths (%zu and %zu)", where,
                          fx, fy, nx, ny);
    }
    if (!rc && kind == CM_ITEMS_AP)
        for (size_t i = 0; i < ny && !rc; i++)
            if (y[i] != 0.0 && y[i] != 1.0)
                rc = cm_error(CM_ERR_FORMAT, "%s: field 'labels': element %zu is %g, expected 0 or 1", where, i, y[i]);
    const cJSON *jids = cJSON_GetObjectItemCaseSensitive(obj, "ids");
    size_t n_ids = 0;
    if (!rc && jids && !cJSON_IsNull(jids)) {
        if (!cJSON_IsArray(jids) || (size_t)cJSON_GetArraySize(jids) != nx) {
            rc = cm_error(CM_ERR_FORMAT, "%s: field 'ids': expected an array of %zu strings", where, nx);
        } else if (!(ids = cm_calloc(nx ? nx : 1, sizeof *ids))) {
            rc = CM_ERR_NOMEM;
        } else {
            const cJSON *e;
            cJSON_ArrayForEach(e, jids) {
                /* Numeric ids (query ids read as numbers) are kept in their text form. */
                char *id = cJSON_IsString(e) ? cm_strdup(e->valuestring)
                         : cJSON_IsNumber(e) ? cm_asprintf("%.17g", e->valuedouble) : NULL;
                if (!id) {
                    rc = cJSON_IsString(e) || cJSON_IsNumber(e)
                             ? CM_ERR_NOMEM
                             : cm_error(CM_ERR_FORMAT, "%s: field 'ids': element %zu is not a string", where, n_ids);
                    break;
                }
                ids[n_ids++] = id;
            }
        }
    }
    if (!rc) rc = cm_items_from_arrays(out, kind, nx, (const char *const *)ids, x, y);
    for (size_t i = 0; i < n_ids; i++) free(ids[i]);
    free(ids);
    free(x);
    free(y);
    return rc;
}

int cm_items_load(cm_items **out, const char *model_dir, const char *task) {
    *out = NULL;
    char *path = cm_asprintf("%s/.cmteb/%s.items.json", model_dir, task);
    if (!path) return CM_ERR_NOMEM;
    if (!cm_file_exists(path)) {
        int rc = cm_error(CM_ERR_NOTFOUND, "%s: no per-item file", path);
        free(path);
        return rc;
    }
    char *text = NULL;
    int rc = cm_read_file(path, &text, NULL);
    if (rc) { free(path); return rc; }
    const char *end = NULL;
    size_t failures = cm_alloc_failures();
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root && cm_alloc_failures() != failures) {
        rc = cm_error(CM_ERR_NOMEM, "%s: out of memory parsing JSON", path);
    } else if (!root) {
        size_t line = 1;
        for (const char *p = text; end && p < end; p++) line += *p == '\n';
        rc = cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON (expected a per-item object)", path, line);
    } else {
        rc = cm_items_from_json(out, root, path);
    }
    cJSON_Delete(root);
    free(text);
    free(path);
    return rc;
}

/* ---- preparation: sort orders and tie groups ------------------------------ */

typedef struct { const double *key; int desc; } sort_ctx;

static int cmp_idx(const void *a, const void *b, void *arg) {
    const sort_ctx *c = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = c->key[i], y = c->key[j];
    if (x < y) return c->desc ? 1 : -1;
    if (x > y) return c->desc ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* ord: indices sorted by key; grp[p]: end (exclusive) of the tie group holding position p. */
static int sort_groups(const double *key, size_t n, int desc, size_t **ord, size_t **grp) {
    *ord = cm_malloc((n ? n : 1) * sizeof **ord);
    *grp = cm_malloc((n ? n : 1) * sizeof **grp);
    if (!*ord || !*grp) return CM_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) (*ord)[i] = i;
    sort_ctx c = {key, desc};
    qsort_r(*ord, n, sizeof **ord, cmp_idx, &c);
    for (size_t p = 0; p < n;) {
        size_t q = p + 1;
        while (q < n && key[(*ord)[q]] == key[(*ord)[p]]) q++;
        for (size_t k = p; k < q; k++) (*grp)[k] = q;
        p = q;
    }
    return CM_OK;
}

static int prepare(cm_items *it) {
    if (it->prepared) return CM_OK;
    if (it->kind == CM_ITEMS_SPEARMAN) {
        CM_TRY(sort_groups(it->x, it->n, 0, &it->ord_x, &it->grp_x));
        CM_TRY(sort_groups(it->y, it->n, 0, &it->ord_y, &it->grp_y));
        it->rx = cm_malloc((it->n ? it->n : 1) * sizeof *it->rx);
        it->ry = cm_malloc((it->n ? it->n : 1) * sizeof *it->ry);
        if (!it->rx || !it->ry) return CM_ERR_NOMEM;
    } else if (it->kind == CM_ITEMS_AP) {
        CM_TRY(sort_groups(it->x, it->n, 1, &it->ord_x, &it->grp_x));
    }
    it->prepared = 1;
    return CM_OK;
}

/* ---- weighted statistics -------------------------------------------------- */

#define W(i) (counts ? (double)counts[i] : 1.0)

/* Average ranks (1-based) of the materialised resample, per item. */
static void weighted_ranks(const size_t *ord, const size_t *grp, size_t n, const uint32_t *counts, double *rank) {
    double before = 0;
    for (size_t p = 0; p < n;) {
        size_t q = grp[p];
        double w = 0;
        for (size_t k = p; k < q; k++) w += W(ord[k]);
        double r = before + (w + 1.0) / 2.0;
        for (size_t k = p; k < q; k++) rank[ord[k]] = r;
        before += w;
        p = q;
    }
}

static double weighted_pearson(const double *a, const double *b, size_t n, const uint32_t *counts) {
    double sw = 0, ma = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        double w = W(i);
        sw += w;
        ma += w * a[i];
        mb += w * b[i];
    }
    if (sw < 2) return NAN;
    ma /= sw;
    mb /= sw;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        double w = W(i);
        if (w == 0) continue;
        double da = a[i] - ma, db = b[i] - mb;
        sab += w * da * db;
        saa += w * da * da;
        sbb += w * db * db;
    }
    if (saa <= 0 || sbb <= 0) return NAN;
    double r = sab / sqrt(saa * sbb);
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

static double weighted_ap(const cm_items *it, const uint32_t *counts) {
    double npos = 0;
    for (size_t i = 0; i < it->n; i++) npos += W(i) * it->y[i];
    if (npos <= 0) return NAN;
    double tp = 0, fp = 0, prev_recall = 0, ap = 0;
    for (size_t p = 0; p < it->n;) {
        size_t q = it->grp_x[p];
        for (size_t k = p; k < q; k++) {
            size_t i = it->ord_x[k];
            double w = W(i);
            tp += w * it->y[i];
            fp += w * (1.0 - it->y[i]);
        }
        double recall = tp / npos;
        if (recall > prev_recall) ap += (recall - prev_recall) * (tp / (tp + fp));
        prev_recall = recall;
        p = q;
    }
    return ap;
}

double cm_items_score(cm_items *it, const uint32_t *counts) {
    if (prepare(it)) return NAN;
    switch (it->kind) {
    case CM_ITEMS_MEAN: {
        double s = 0, sw = 0;
        for (size_t i = 0; i < it->n; i++) {
            s += W(i) * it->x[i];
            sw += W(i);
        }
        return sw > 0 ? s / sw : NAN;
    }
    case CM_ITEMS_SPEARMAN:
        weighted_ranks(it->ord_x, it->grp_x, it->n, counts, it->rx);
        weighted_ranks(it->ord_y, it->grp_y, it->n, counts, it->ry);
        return weighted_pearson(it->rx, it->ry, it->n, counts);
    case CM_ITEMS_AP:
        return weighted_ap(it, counts);
    }
    return NAN;
}

#undef W

/* ---- pairing -------------------------------------------------------------- */

static int cmp_id(const void *a, const void *b, void *arg) {
    char *const *ids = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(ids[i], ids[j]);
    return c ? c : (i < j ? -1 : i > j);
}

static int sorted_by_id(const cm_items *it, size_t **ord) {
    *ord = cm_malloc((it->n ? it->n : 1) * sizeof **ord);
    if (!*ord) return CM_ERR_NOMEM;
    for (size_t i = 0; i < it->n; i++) (*ord)[i] = i;
    qsort_r(*ord, it->n, sizeof **ord, cmp_id, it->ids);
    for (size_t k = 1; k < it->n; k++)
        if (!strcmp(it->ids[(*ord)[k]], it->ids[(*ord)[k - 1]])) {
            int rc = cm_error(CM_ERR_FORMAT, "per-item data: id \"%s\" appears twice", it->ids[(*ord)[k]]);
            free(*ord);
            *ord = NULL;
            return rc;
        }
    return CM_OK;
}

static int subset_copy(const cm_items *src, const size_t *sel, size_t m, cm_items **out) {
    *out = NULL;
    double *x = cm_malloc((m ? m : 1) * sizeof *x);
    double *y = src->y ? cm_malloc((m ? m : 1) * sizeof *y) : NULL;
    const char **ids = src->ids ? cm_malloc((m ? m : 1) * sizeof *ids) : NULL;
    int rc = CM_ERR_NOMEM;
    if (x && (!src->y || y) && (!src->ids || ids)) {
        for (size_t k = 0; k < m; k++) {
            x[k] = src->x[sel[k]];
            if (y) y[k] = src->y[sel[k]];
            if (ids) ids[k] = src->ids[sel[k]];
        }
        rc = cm_items_from_arrays(out, src->kind, m, ids, x, y);
    }
    free(x);
    free(y);
    free(ids);
    return rc;
}

int cm_items_pair(const cm_items *a, const cm_items *b, cm_items **pa, cm_items **pb) {
    *pa = *pb = NULL;
    if (a->kind != b->kind)
        return cm_error(CM_ERR_ARG, "per-item data of different kinds (%s and %s) cannot be paired",
                        cm_items_kind_name(a->kind), cm_items_kind_name(b->kind));
    if (!a->ids || !b->ids) {
        if (a->n != b->n)
            return cm_error(CM_ERR_ARG, "per-item data without ids has different counts (%zu and %zu)", a->n, b->n);
        size_t *sel = cm_malloc((a->n ? a->n : 1) * sizeof *sel);
        if (!sel) return CM_ERR_NOMEM;
        for (size_t i = 0; i < a->n; i++) sel[i] = i;
        int rc = subset_copy(a, sel, a->n, pa);
        if (!rc) rc = subset_copy(b, sel, b->n, pb);
        free(sel);
        if (rc) { cm_items_free(*pa); cm_items_free(*pb); *pa = *pb = NULL; }
        return rc;
    }
    size_t *oa = NULL, *ob = NULL, *sa = NULL, *sb = NULL;
    int rc = sorted_by_id(a, &oa);
    if (!rc) rc = sorted_by_id(b, &ob);
    if (!rc) {
        size_t cap = a->n < b->n ? a->n : b->n;
        sa = cm_malloc((cap ? cap : 1) * sizeof *sa);
        sb = cm_malloc((cap ? cap : 1) * sizeof *sb);
        if (!sa || !sb) rc = CM_ERR_NOMEM;
    }
    size_t m = 0;
    if (!rc) {
        /* Merge the two id orders; keep the baseline's order for the pairs. */
        size_t i = 0, j = 0;
        while (i < a->n && j < b->n) {
            int c = strcmp(a->ids[oa[i]], b->ids[ob[j]]);
            if (c == 0) { sa[m] = oa[i++]; sb[m] = ob[j++]; m++; }
            else if (c < 0) i++;
            else j++;
        }
        rc = subset_copy(a, sa, m, pa);
        if (!rc) rc = subset_copy(b, sb, m, pb);
    }
    free(oa); free(ob); free(sa); free(sb);
    if (rc) { cm_items_free(*pa); cm_items_free(*pb); *pa = *pb = NULL; }
    return rc;
}

/* ---- random numbers ------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

void cm_rng_seed(cm_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t cm_rng_next(cm_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t cm_rng_below(cm_rng *r, uint64_t n) {
    if (n <= 1) return 0;
    /* Rejection on the top of the range: exactly uniform. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do v = cm_rng_next(r);
    while (v >= limit);
    return v % n;
}

/* ---- the bootstrap -------------------------------------------------------- */

cm_bootstrap_params cm_bootstrap_default_params(void) {
    cm_bootstrap_params p = {1000, 42};
    return p;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Percentile with linear interpolation (numpy's default) of sorted v. */
static double percentile(const double *v, size_t n, double q) {
    if (!n) return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double f = pos - (double)lo;
    return v[lo] + (v[hi] - v[lo]) * f;
}

void cm_bootstrap_summarize(const double *deltas, size_t n, double observed, cm_bootstrap_result *res) {
    double *v = cm_malloc((n ? n : 1) * sizeof *v);
    size_t m = 0, ge = 0, le = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(deltas[i])) continue;
        if (v) v[m] = deltas[i];
        m++;
        ge += deltas[i] >= 0;
        le += deltas[i] <= 0;
    }
    res->delta = observed;
    res->n_valid = m;
    res->p_worse = (1.0 + (double)ge) / ((double)m + 1.0);
    res->p_better = (1.0 + (double)le) / ((double)m + 1.0);
    double p2 = 2.0 * (res->p_worse < res->p_better ? res->p_worse : res->p_better);
    res->p_two_sided = p2 > 1 ? 1 : p2;
    res->ci_lo = res->ci_hi = NAN;
    if (v && m) {
        qsort(v, m, sizeof *v, cmp_double);
        res->ci_lo = percentile(v, m, 0.025);
        res->ci_hi = percentile(v, m, 0.975);
    }
    free(v);
}

int cm_paired_bootstrap(cm_items *base, cm_items *cand, const cm_bootstrap_params *p, const char *key,
                        cm_bootstrap_result *res, double *deltas) {
    memset(res, 0, sizeof *res);
    if (base->kind != cand->kind || base->n != cand->n)
        return cm_error(CM_ERR_ARG, "paired bootstrap needs aligned items (use cm_items_pair)");
    CM_TRY(prepare(base));
    CM_TRY(prepare(cand));
    size_t n = base->n, B = p && p->resamples ? p->resamples : 1000;
    uint64_t seed = p ? p->seed : 42;
    if (key) seed ^= cm_hash64(key, strlen(key), 0x6a09e667f3bcc909ULL);
    double observed = cm_items_score(cand, NULL) - cm_items_score(base, NULL);
    uint32_t *counts = cm_malloc((n ? n : 1) * sizeof *counts);
    double *d = deltas ? deltas : cm_malloc(B * sizeof *d);
    if (!counts || !d) {
        free(counts);
        if (!deltas) free(d);
        return CM_ERR_NOMEM;
    }
    cm_rng rng;
    cm_rng_seed(&rng, seed);
    for (size_t b = 0; b < B; b++) {
        memset(counts, 0, n * sizeof *counts);
        for (size_t k = 0; k < n; k++) counts[cm_rng_below(&rng, n)]++;
        double sb = cm_items_score(base, counts), sc = cm_items_score(cand, counts);
        d[b] = isnan(sb) || isnan(sc) ? NAN : sc - sb;
    }
    cm_bootstrap_summarize(d, B, observed, res);
    res->n_items = n;
    free(counts);
    if (!deltas) free(d);
    return CM_OK;
}
