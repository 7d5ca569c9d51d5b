/*
 * openai_backend.c: `openai:URL[#MODEL]`, an OpenAI-compatible embeddings
 * endpoint (OpenAI, vLLM, TEI, llama.cpp server, ...).
 *
 * POSTs {"model": MODEL, "input": [texts...]} to URL (".../v1/embeddings"
 * is appended when URL does not already end in "/embeddings") and reads
 * {"data": [{"index": i, "embedding": [...]}, ...]}. The key comes from
 * $OPENAI_API_KEY (sent as a Bearer token when set). Batches of
 * --batch-size texts (default 64); HTTP 429 and 5xx are retried with
 * exponential backoff (5 tries). Queries and documents can get prefixes with
 * --query-template / --document-template ("{instruction}" and "{text}" are
 * substituted; without "{text}" the template is a prefix). The dimension is
 * learned from one probe request at start-up.
 */
#include "engine/backend.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char  *url;
    char  *model;
    char  *key;
    char  *qtpl, *dtpl;
    size_t dim;
    int    batch;
    char   name[300];
    char   fingerprint[400];
} oa_state;

static void oa_free(void *state) {
    oa_state *s = state;
    if (!s) return;
    free(s->url); free(s->model); free(s->key); free(s->qtpl); free(s->dtpl);
    free(s);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    cm_str *b = ud;
    return cm_str_appendn(b, p, size * n) ? 0 : size * n;
}

/* Applies a template: "{instruction}" and "{text}" substituted; no "{text}"
 * means the template is a prefix. Caller frees. */
static char *apply_template(const char *tpl, const char *instruction, const char *text) {
    if (!tpl || !*tpl) return cm_strdup(text);
    cm_str b = {0};
    int has_text = strstr(tpl, "{text}") != NULL;
    for (const char *p = tpl; *p;) {
        if (!strncmp(p, "{instruction}", 13)) { cm_str_append(&b, instruction ? instruction : ""); p += 13; }
        else if (!strncmp(p, "{text}", 6)) { cm_str_append(&b, text); p += 6; }
        else { cm_str_appendn(&b, p, 1); p++; }
    }
    if (!has_text) cm_str_append(&b, text);
    return b.s ? b.s : cm_strdup("");
}

/* One request; out may be NULL (probe: sets s->dim). */
static int request(oa_state *s, const char *const *texts, size_t n, float *out) {
    cJSON *body = cJSON_CreateObject();
    if (s->model) cJSON_AddStringToObject(body, "model", s->model);
    cJSON *in = cJSON_AddArrayToObject(body, "input");
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(in, cJSON_CreateString(texts[i]));
    cJSON_AddStringToObject(body, "encoding_format", "float");
    char *payload = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!payload) return CM_ERR_NOMEM;
    int rc = CM_OK;
    for (int attempt = 0; attempt < 5; attempt++) {
        CURL *c = curl_easy_init();
        if (!c) { rc = cm_error(CM_ERR_INTERNAL, "libcurl failed to start"); break; }
        cm_str resp = {0};
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
        char *auth = s->key ? cm_asprintf("Authorization: Bearer %s", s->key) : NULL;
        if (auth) h = curl_slist_append(h, auth);
        curl_easy_setopt(c, CURLOPT_URL, s->url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        CURLcode cc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        free(auth);
        curl_easy_cleanup(c);
        if (cc != CURLE_OK) {
            rc = cm_error(CM_ERR_IO, "%s: request failed: %s", s->url, curl_easy_strerror(cc));
        } else if (status == 429 || status >= 500) {
            rc = cm_error(CM_ERR_IO, "%s: HTTP %ld: %.200s", s->url, status, resp.s ? resp.s : "");
        } else if (status != 200) {
            rc = cm_error(CM_ERR_IO, "%s: HTTP %ld: %.300s", s->url, status, resp.s ? resp.s : "");
            cm_str_free(&resp);
            break; /* not retryable */
        } else {
            rc = CM_OK;
            cJSON *o = cJSON_Parse(resp.s ? resp.s : "");
            const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
            if (!cJSON_IsArray(data) || (size_t)cJSON_GetArraySize(data) != n)
                rc = cm_error(CM_ERR_FORMAT, "%s: response has no \"data\" array of %zu embeddings", s->url, n);
            size_t k = 0;
            const cJSON *it;
            cJSON_ArrayForEach(it, data) {
                if (rc) break;
                const cJSON *emb = cJSON_GetObjectItemCaseSensitive(it, "embedding");
                const cJSON *idx = cJSON_GetObjectItemCaseSensitive(it, "index");
                size_t row = cJSON_IsNumber(idx) ? (size_t)idx->valuedouble : k;
                size_t d = cJSON_IsArray(emb) ? (size_t)cJSON_GetArraySize(emb) : 0;
                if (!d) {
                    rc = cm_error(CM_ERR_FORMAT, "%s: data[%zu].embedding is not an array of numbers", s->url, k);
                    break;
                }
                if (!s->dim) s->dim = d;
                if (d != s->dim || row >= n) {
                    rc = cm_error(CM_ERR_FORMAT,
                                  "%s: data[%zu]: dimension %zu or index %zu unexpected (dim %zu, %zu inputs)", s->url,
                                  k, d, row, s->dim, n);
                    break;
                }
                if (out) {
                    size_t j = 0;
                    const cJSON *x;
                    cJSON_ArrayForEach(x, emb) out[row * d + j++] = (float)x->valuedouble;
                }
                k++;
            }
            cJSON_Delete(o);
            cm_str_free(&resp);
            break;
        }
        cm_str_free(&resp);
        usleep((useconds_t)(250000u << attempt));   /* 0.25, 0.5, 1, 2 s */
    }
    free(payload);
    return rc;
}

static int oa_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    if (!arg || !*arg) return cm_error(CM_ERR_ARG, "openai:URL[#MODEL] needs the endpoint URL");
    oa_state *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    const char *hash = strchr(arg, '#');
    char *base = hash ? cm_strndup(arg, (size_t)(hash - arg)) : cm_strdup(arg);
    if (hash) s->model = cm_strdup(hash + 1);
    size_t bl = base ? strlen(base) : 0;
    if (base && bl >= 11 && !strcmp(base + bl - 11, "/embeddings")) s->url = cm_strdup(base);
    else if (base) s->url = cm_asprintf("%s%s", base, base[bl - 1] == '/' ? "v1/embeddings" : "/v1/embeddings");
    free(base);
    const char *key = getenv("OPENAI_API_KEY");
    if (key && *key) s->key = cm_strdup(key);
    s->qtpl = params && params->query_template ? cm_strdup(params->query_template) : NULL;
    s->dtpl = params && params->document_template ? cm_strdup(params->document_template) : NULL;
    s->batch = params && params->batch_size > 0 ? params->batch_size : 64;
    if (!s->url) { oa_free(s); return CM_ERR_NOMEM; }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *probe = "dimension probe";
    int rc = request(s, &probe, 1, NULL);
    if (rc) { oa_free(s); return rc; }
    if (params && params->model_name) snprintf(s->name, sizeof s->name, "%s", params->model_name);
    else snprintf(s->name, sizeof s->name, "%s", s->model ? s->model : "openai/endpoint");
    snprintf(s->fingerprint, sizeof s->fingerprint, "openai-v1|%s|%s|%zu|%s|%s", s->url, s->model ? s->model : "",
             s->dim, s->qtpl ? s->qtpl : "", s->dtpl ? s->dtpl : "");
    info->name = s->name;
    info->loader = "openai";
    info->fingerprint = s->fingerprint;
    info->dim = s->dim;
    info->max_tokens = -1;
    info->n_parameters = -1;
    info->uses_instructions = s->qtpl && strstr(s->qtpl, "{instruction}") != NULL;
    *state = s;
    return CM_OK;
}

static int oa_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                     float *out) {
    oa_state *s = state;
    const char *tpl = role == CM_ROLE_QUERY ? s->qtpl : s->dtpl;
    for (size_t off = 0; off < n; off += (size_t)s->batch) {
        size_t m = n - off < (size_t)s->batch ? n - off : (size_t)s->batch;
        char **in = cm_calloc(m, sizeof *in);
        if (!in) return CM_ERR_NOMEM;
        int rc = CM_OK;
        for (size_t i = 0; i < m && !rc; i++)
            if (!(in[i] = apply_template(tpl, instruction, texts[off + i]))) rc = CM_ERR_NOMEM;
        if (!rc) rc = request(s, (const char *const *)in, m, out + off * s->dim);
        for (size_t i = 0; i < m; i++) free(in[i]);
        free(in);
        if (rc) return rc;
    }
    return CM_OK;
}

const cm_backend_i cm_backend_openai = {
    .scheme = "openai",
    .usage = "openai:URL[#MODEL]  an OpenAI-compatible /v1/embeddings endpoint ($OPENAI_API_KEY)",
    .supported = CM_OPT_QUERY_TEMPLATE | CM_OPT_DOCUMENT_TEMPLATE | CM_OPT_BATCH_SIZE,
    .init = oa_init, .encode = oa_encode, .free = oa_free,
};
