/*
 * openai_int.h: the private pieces of the openai: backend (engine/http/).
 *
 * openai_response.c parses one /v1/embeddings response into rows;
 * openai_pool.c sends batches of texts to a set of replica endpoints, N
 * requests in flight (libcurl multi), with bounded retries, backoff, jitter,
 * Retry-After and failover; openai_backend.c parses the spec and is the
 * cm_backend_i. Nothing here prints (cm_log only).
 */
#ifndef CMTEB_ENGINE_OPENAI_INT_H
#define CMTEB_ENGINE_OPENAI_INT_H

#include <stddef.h>

/* Parses a /v1/embeddings response body holding n embeddings into out
 * (n, *dim) row-major: data[k].index (or k when absent) is the row. *dim 0
 * means "learn it from this response" (set on success). url names the
 * endpoint in the error. Every row must arrive exactly once, with *dim
 * finite numbers. *transient is set to 1 when the body is not JSON (a
 * truncated or garbled reply worth retrying), 0 otherwise. out may be NULL
 * (the rows are checked, not stored). Borrowed arguments; nothing allocated
 * survives the call. */
int oa_parse_response(const char *url, const char *body, size_t n, size_t *dim, float *out, int *transient);

/* Seconds to wait before a request that failed `failures` times in a row
 * (1, 2, ...): base * 2^(failures-1), capped at cap, times a jitter factor u
 * in [0.5, 1] given as u01 in [0, 1). Pure, for tests. */
double oa_backoff_delay(double base, double cap, int failures, double u01);

/* The knobs of the request pool; oa_settings_default() gives the defaults,
 * oa_settings_from_env() applies the CMTEB_OPENAI_* variables on top. */
typedef struct oa_settings {
    int    concurrency;      /* requests in flight across all replicas (CMTEB_OPENAI_CONCURRENCY) */
    int    max_retries;      /* retries per batch after the first try (CMTEB_OPENAI_MAX_RETRIES) */
    double timeout_s;        /* whole-request timeout (CMTEB_OPENAI_TIMEOUT) */
    double backoff_s;        /* first backoff (CMTEB_OPENAI_BACKOFF) */
    double backoff_max_s;    /* backoff cap (CMTEB_OPENAI_BACKOFF_MAX) */
    double retry_after_max_s;/* longest Retry-After honoured (CMTEB_OPENAI_RETRY_AFTER_MAX) */
} oa_settings;

/* Defaults for n_replicas endpoints: concurrency 4 per replica (at most 64),
 * 5 retries, 300 s timeout, backoff 0.5 s doubling up to 30 s, Retry-After
 * up to 120 s. */
oa_settings oa_settings_default(size_t n_replicas);
/* Overrides *st from the environment; a malformed or out-of-range value is
 * CM_ERR_ARG naming the variable. */
int oa_settings_from_env(oa_settings *st);

typedef struct oa_pool oa_pool;

/* Opens a pool over n_urls endpoints (full URLs, ".../v1/embeddings"); key is
 * the Bearer token or NULL. Copies urls, key and st. Caller frees with
 * oa_pool_free. */
int oa_pool_init(oa_pool **out, const char *const *urls, size_t n_urls, const char *key, const oa_settings *st);
void oa_pool_free(oa_pool *p);   /* NULL is fine */

/* Embeds n texts in requests of at most batch texts each, spread over the
 * replicas, into out (n, *dim) row-major: each request's rows land at their
 * input positions whatever order responses complete in. *dim 0: learned from
 * the first response (out must be NULL then, or sized by the caller after a
 * probe). model may be NULL. Texts are borrowed. Fails with the endpoint and
 * its last status when a batch runs out of retries, or at once on a
 * non-retryable status or a malformed response. */
int oa_pool_embed(oa_pool *p, const char *model, const char *const *texts, size_t n, size_t batch, size_t *dim,
                  float *out);

/* The endpoint URLs (borrowed) and how many there are. */
size_t      oa_pool_size(const oa_pool *p);
const char *oa_pool_url(const oa_pool *p, size_t i);

#endif
