/* head_io.c: a head's folder (pooler_train.h): config.json (kind and sizes) and model.safetensors (F32 tensors
 * named as the head's table), written atomically and read back with every shape checked. */
#include "engine/train/head_int.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/nn/safetensors.h"

/* The safetensors bytes of h: u64 header length, JSON header (padded to 8 with spaces), raw F32 data. */
static int st_bytes(const cm_head *h, char **out, size_t *len) {
    cm_str hdr = {0};
    cm_str_append(&hdr, "{\"__metadata__\":{\"format\":\"pt\"}");
    size_t off = 0;
    for (size_t i = 0; i < h->n_t; i++) {
        const cm_head_slot *t = &h->t[i];
        size_t bytes = (size_t)(t->shape[0] * t->shape[1]) * sizeof(float);
        if (t->ndim == 2)
            cm_str_printf(&hdr, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%zu,%zu]}",
                          t->name, (long long)t->shape[0], (long long)t->shape[1], off, off + bytes);
        else
            cm_str_printf(&hdr, ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%zu,%zu]}", t->name,
                          (long long)t->shape[0], off, off + bytes);
        off += bytes;
    }
    cm_str_append(&hdr, "}");
    while (hdr.s && hdr.len % 8) cm_str_append(&hdr, " ");
    if (!hdr.s || cm_str_error(&hdr)) {
        cm_str_free(&hdr);
        return CM_ERR_NOMEM;
    }
    *len = 8 + hdr.len + h->n * sizeof(float);
    char *b = cm_malloc(*len);
    if (!b) {
        cm_str_free(&hdr);
        return CM_ERR_NOMEM;
    }
    uint64_t hl = hdr.len;
    for (int i = 0; i < 8; i++) b[i] = (char)((hl >> (8 * i)) & 0xff);   /* little-endian */
    memcpy(b + 8, hdr.s, hdr.len);
    memcpy(b + 8 + hdr.len, h->w, h->n * sizeof(float));
    cm_str_free(&hdr);
    *out = b;
    return CM_OK;
}

int cm_head_save(const cm_head *h, const char *dir) {
    CM_TRY(cm_mkdir_p(dir));
    char *bytes = NULL;
    size_t len = 0;
    CM_TRY(st_bytes(h, &bytes, &len));
    char *p = cm_path_join(dir, "model.safetensors");
    int rc = p ? cm_write_file_atomic(p, bytes, len) : CM_ERR_NOMEM;
    free(p);
    free(bytes);
    CM_TRY(rc);
    cm_str js = {0};
    cm_str_printf(&js, "{\n  \"cmteb_head\": \"%s\",\n  \"dim\": %lld,\n  \"n_latents\": %lld,\n  \"heads\": %lld,\n"
                  "  \"seed\": %llu\n}\n", cm_head_kind_name(h->p.kind), (long long)h->p.d,
                  (long long)h->p.n_latents, (long long)h->p.heads, (unsigned long long)h->p.seed);
    p = cm_path_join(dir, "config.json");
    rc = (p && js.s && !cm_str_error(&js)) ? cm_write_file_atomic(p, js.s, js.len) : CM_ERR_NOMEM;
    free(p);
    cm_str_free(&js);
    return rc;
}

static int jint(const cJSON *j, const char *key, const char *path, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e15 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return cm_error(CM_ERR_FORMAT, "%s: \"%s\": expected a non-negative integer", path, key);
    *out = (int64_t)v->valuedouble;
    return CM_OK;
}

int cm_head_load(cm_head **out, const char *dir, int64_t d) {
    *out = NULL;
    char *cp = cm_path_join(dir, "config.json");
    if (!cp) return CM_ERR_NOMEM;
    char *text = NULL;
    size_t len = 0;
    int rc = cm_read_file(cp, &text, &len);
    cJSON *j = rc == CM_OK ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    if (rc == CM_OK && !j) rc = cm_error(CM_ERR_FORMAT, "%s: not valid JSON", cp);
    cm_head_params p = cm_head_default_params();
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(j, "cmteb_head");
    if (rc == CM_OK && !cJSON_IsString(k))
        rc = cm_error(CM_ERR_FORMAT, "%s: \"cmteb_head\": expected the head kind (a string)", cp);
    if (rc == CM_OK) rc = cm_head_kind_parse(k->valuestring, &p.kind);
    int64_t seed = 0;
    if (rc == CM_OK) rc = jint(j, "dim", cp, &p.d);
    if (rc == CM_OK) rc = jint(j, "n_latents", cp, &p.n_latents);
    if (rc == CM_OK) rc = jint(j, "heads", cp, &p.heads);
    if (rc == CM_OK) rc = jint(j, "seed", cp, &seed);
    p.seed = (uint64_t)seed;
    if (rc == CM_OK && d > 0 && p.d != d)
        rc = cm_error(CM_ERR_FORMAT, "%s: \"dim\" is %lld but the backbone's hidden size is %lld", cp,
                      (long long)p.d, (long long)d);
    cJSON_Delete(j);
    cm_head *h = NULL;
    if (rc == CM_OK) rc = cm_head_init(&h, &p);
    cm_safetensors *st = NULL;
    if (rc == CM_OK) rc = cm_st_open(&st, dir);
    for (size_t i = 0; rc == CM_OK && i < h->n_t; i++) {
        const cm_head_slot *t = &h->t[i];
        const cm_st_tensor *tt = NULL;
        rc = cm_st_expect(st, t->name, t->ndim, t->shape, &tt);
        if (rc == CM_OK) rc = cm_st_read_f32(tt, 0, (size_t)(t->shape[0] * t->shape[1]), h->w + t->off);
    }
    cm_st_free(st);
    free(cp);
    if (rc != CM_OK) {
        cm_head_free(h);
        return rc;
    }
    *out = h;
    return CM_OK;
}
