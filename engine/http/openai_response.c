/*
 * openai_response.c: checks and unpacks one /v1/embeddings response
 * ({"data": [{"index": i, "embedding": [...]}, ...]}) into rows at their
 * input positions, and the backoff formula the request pool uses.
 */
#include "engine/http/openai_int.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

double oa_backoff_delay(double base, double cap, int failures, double u01) {
    double d = base;
    for (int i = 1; i < failures && d < cap; i++) d *= 2.0;
    if (d > cap) d = cap;
    if (u01 < 0) u01 = 0;
    if (u01 > 1) u01 = 1;
    return d * (0.5 + 0.5 * u01);
}

/* Checks one data[k] item; writes its row into out (n, *dim) when out is set
 * and marks it in seen (n bytes, borrowed). */
static int parse_item(const char *url, const cJSON *it, size_t k, size_t n, size_t *dim, float *out,
                      unsigned char *seen) {
    const cJSON *emb = cJSON_GetObjectItemCaseSensitive(it, "embedding");
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(it, "index");
    size_t row = k;
    if (idx) {
        double v = cJSON_IsNumber(idx) ? idx->valuedouble : -1;
        if (!(v >= 0) || v != floor(v) || v >= (double)n)
            return cm_error(CM_ERR_FORMAT, "%s: response data[%zu].index is not an integer in 0..%zu", url, k,
                            n - 1);
        row = (size_t)v;
    }
    if (seen[row])
        return cm_error(CM_ERR_FORMAT, "%s: response data[%zu]: index %zu appears twice", url, k, row);
    seen[row] = 1;
    size_t d = cJSON_IsArray(emb) ? (size_t)cJSON_GetArraySize(emb) : 0;
    if (!d) return cm_error(CM_ERR_FORMAT, "%s: response data[%zu].embedding is not a non-empty array", url, k);
    if (*dim && d != *dim)
        return cm_error(CM_ERR_FORMAT, "%s: response data[%zu].embedding has %zu values, expected dimension %zu",
                        url, k, d, *dim);
    size_t j = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, emb) {
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) || !isfinite((float)x->valuedouble))
            return cm_error(CM_ERR_NUMERIC, "%s: response data[%zu].embedding[%zu] is not a finite float", url,
                            k, j);
        if (out) out[row * d + j] = (float)x->valuedouble;
        j++;
    }
    if (!*dim) *dim = d;
    return CM_OK;
}

int oa_parse_response(const char *url, const char *body, size_t n, size_t *dim, float *out, int *transient) {
    *transient = 0;
    cJSON *o = cJSON_Parse(body ? body : "");
    if (!o) {
        *transient = 1;
        /* Python's json module writes NaN / Infinity, which are not JSON. */
        if (body && (strstr(body, "NaN") || strstr(body, "Infinity"))) *transient = 0;
        return cm_error(*transient ? CM_ERR_FORMAT : CM_ERR_NUMERIC,
                        "%s: response is not valid JSON%s (starts \"%.60s\")", url,
                        *transient ? "" : " (non-finite numbers such as NaN)", body ? body : "");
    }
    int rc = CM_OK;
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
    size_t got = cJSON_IsArray(data) ? (size_t)cJSON_GetArraySize(data) : 0;
    if (!cJSON_IsArray(data)) rc = cm_error(CM_ERR_FORMAT, "%s: response has no \"data\" array", url);
    else if (got != n)
        rc = cm_error(CM_ERR_FORMAT, "%s: response has %zu embeddings for %zu inputs", url, got, n);
    unsigned char *seen = rc ? NULL : cm_calloc(n ? n : 1, 1);
    if (!rc && !seen) rc = CM_ERR_NOMEM;
    size_t k = 0, learned = *dim;
    const cJSON *it;
    if (!rc) cJSON_ArrayForEach(it, data) {
        if ((rc = parse_item(url, it, k++, n, &learned, out, seen))) break;
    }
    if (!rc) *dim = learned;
    free(seen);
    cJSON_Delete(o);
    return rc;
}
