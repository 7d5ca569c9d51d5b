/*
 * openai_backend.c: `openai:URL[,URL...][#MODEL]`, OpenAI-compatible
 * embeddings endpoints (OpenAI, vLLM, TEI, llama.cpp server, ...).
 *
 * Several comma-separated URLs are replicas of one served model (a URL given
 * twice gets twice the share of requests). Each URL gets ".../v1/embeddings"
 * appended unless it already ends in "/embeddings". Requests are
 * {"model": MODEL, "input": [texts...]} in batches of --batch-size texts
 * (default 64), spread over the replicas with several in flight, retried and
 * failed over by openai_pool.c (knobs: CMTEB_OPENAI_* variables, see
 * openai_int.h). The key comes from $OPENAI_API_KEY (sent as a Bearer token
 * when set). Queries and documents can get prefixes with --query-template /
 * --document-template ("{instruction}" and "{text}" are substituted; without
 * "{text}" the template is a prefix). The dimension is learned from one probe
 * request at start-up. The cache fingerprint names the first URL only, so
 * adding or removing replicas keeps cached vectors.
 */
#include "engine/backend.h"
#include "engine/http/openai_int.h"
#include "cmteb/lazylib.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    oa_pool *pool;
    char  *url;      /* the first endpoint (fingerprint) */
    char  *model;
    char  *key;
    char  *qtpl, *dtpl;
    size_t dim;
    size_t batch;
    char   name[300];
    char   fingerprint[400];
} oa_state;

static void oa_free(void *state) {
    oa_state *s = state;
    if (!s) return;
    oa_pool_free(s->pool);
    free(s->url); free(s->model); free(s->key); free(s->qtpl); free(s->dtpl);
    free(s);
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
    if (cm_str_error(&b)) { cm_str_free(&b); return NULL; }
    return b.s ? b.s : cm_strdup("");
}

/* The endpoint URL for one spec element base (trimmed, non-empty). Caller
 * frees. */
static char *endpoint_url(const char *base, size_t bl) {
    if (bl >= 11 && !strncmp(base + bl - 11, "/embeddings", 11)) return cm_strndup(base, bl);
    return cm_asprintf("%.*s%s", (int)bl, base, base[bl - 1] == '/' ? "v1/embeddings" : "/v1/embeddings");
}

/* Splits "URL1,URL2,..." into endpoint URLs in *urls (n_urls; caller frees
 * each and the array). */
static int parse_urls(const char *list, char ***urls, size_t *n_urls) {
    *urls = NULL;
    *n_urls = 0;
    size_t cap = 1;
    for (const char *c = list; *c; c++) cap += *c == ',';
    char **u = cm_calloc(cap, sizeof *u);
    if (!u) return CM_ERR_NOMEM;
    size_t n = 0;
    int rc = CM_OK;
    for (const char *p = list;; p++) {
        const char *e = strchr(p, ',');
        if (!e) e = p + strlen(p);
        const char *a = p, *b = e;
        while (a < b && (*a == ' ' || *a == '\t')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (a == b) {
            rc = cm_error(CM_ERR_ARG, "openai: endpoint %zu of '%s' is empty (expected openai:URL[,URL...][#MODEL])",
                          n + 1, list);
            break;
        }
        if (strncmp(a, "http://", 7) && strncmp(a, "https://", 8)) {
            rc = cm_error(CM_ERR_ARG, "openai: endpoint '%.*s' must start with http:// or https://", (int)(b - a), a);
            break;
        }
        if (!(u[n] = endpoint_url(a, (size_t)(b - a)))) { rc = CM_ERR_NOMEM; break; }
        n++;
        if (!*e) break;
        p = e;
    }
    if (rc) {
        for (size_t i = 0; i < n; i++) free(u[i]);
        free(u);
        return rc;
    }
    *urls = u;
    *n_urls = n;
    return CM_OK;
}

static int oa_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    if (!arg || !*arg) return cm_error(CM_ERR_ARG, "openai:URL[,URL...][#MODEL] needs the endpoint URL");
    CM_TRY(cm_need_curl());
    oa_state *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    const char *hash = strchr(arg, '#');
    char *list = hash ? cm_strndup(arg, (size_t)(hash - arg)) : cm_strdup(arg);
    if (hash && hash[1]) s->model = cm_strdup(hash + 1);
    char **urls = NULL;
    size_t n_urls = 0;
    int rc = list ? parse_urls(list, &urls, &n_urls) : CM_ERR_NOMEM;
    free(list);
    if (!rc && !(s->url = cm_strdup(urls[0]))) rc = CM_ERR_NOMEM;
    const char *key = getenv("OPENAI_API_KEY");
    if (!rc && key && *key && !(s->key = cm_strdup(key))) rc = CM_ERR_NOMEM;
    s->qtpl = params && params->query_template ? cm_strdup(params->query_template) : NULL;
    s->dtpl = params && params->document_template ? cm_strdup(params->document_template) : NULL;
    s->batch = params && params->batch_size > 0 ? (size_t)params->batch_size : 64;
    oa_settings st = oa_settings_default(n_urls);
    if (!rc) rc = oa_settings_from_env(&st);
    if (!rc) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        rc = oa_pool_init(&s->pool, (const char *const *)urls, n_urls, s->key, &st);
    }
    for (size_t i = 0; i < n_urls; i++) free(urls[i]);
    free(urls);
    const char *probe = "dimension probe";
    if (!rc) rc = oa_pool_embed(s->pool, s->model, &probe, 1, 1, &s->dim, NULL);
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
    /* enough texts per call to keep every request slot busy */
    size_t chunk = s->batch * (size_t)st.concurrency * 2;
    info->chunk = chunk > s->batch * 8 && chunk > 256 ? chunk : 0;
    *state = s;
    return CM_OK;
}

static int oa_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                     float *out) {
    oa_state *s = state;
    const char *tpl = role == CM_ROLE_QUERY ? s->qtpl : s->dtpl;
    char **in = cm_calloc(n ? n : 1, sizeof *in);
    if (!in) return CM_ERR_NOMEM;
    int rc = CM_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (!(in[i] = apply_template(tpl, instruction, texts[i]))) rc = CM_ERR_NOMEM;
    size_t dim = s->dim;
    if (!rc) rc = oa_pool_embed(s->pool, s->model, (const char *const *)in, n, s->batch, &dim, out);
    for (size_t i = 0; i < n; i++) free(in[i]);
    free(in);
    return rc;
}

const cm_backend_i cm_backend_openai = {
    .scheme = "openai",
    .usage = "openai:URL[,URL...][#MODEL]  OpenAI-compatible /v1/embeddings endpoints, replicas ($OPENAI_API_KEY)",
    .supported = CM_OPT_QUERY_TEMPLATE | CM_OPT_DOCUMENT_TEMPLATE | CM_OPT_BATCH_SIZE,
    .init = oa_init, .encode = oa_encode, .free = oa_free,
};
