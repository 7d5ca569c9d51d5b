/*
 * openai_pool.c: sends embedding requests to a set of replica endpoints
 * serving the same model, several in flight at once (libcurl multi).
 *
 * Work is cut into batches (jobs). A free slot takes the lowest pending job
 * and a usable replica: a healthy one before one recovering from failures,
 * one other than the replica that last failed that job, the fewest requests
 * in flight. A replica that fails
 * (HTTP 408/429/5xx, timeout, refused or dropped connection, a body that is
 * not JSON) cools down for a jittered exponential backoff, or for its
 * Retry-After (seconds or HTTP date, capped) when longer, and then gets one
 * request at a time until one succeeds; the job goes back to the queue and
 * another replica takes it. A job that fails 1 + max_retries times ends the
 * call with the endpoint and status of its last failure. Non-retryable
 * statuses (other 4xx) and well-formed but wrong responses (count,
 * dimension, index, non-finite values) end it at once. Each response's rows
 * are written at their input positions, so completion order never matters.
 */
#include "engine/http/openai_int.h"
#include "cmteb/interrupt.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char  *url;
    int    inflight;
    int    fails;        /* consecutive failures; > 0: one request at a time */
    double avail_at;     /* cm_now() before which it gets no request */
    size_t n_ok, n_fail;
} oa_replica;

typedef struct {
    size_t off, m;       /* rows off..off+m of the call */
    int    attempts;     /* failed tries so far */
    int    last_replica; /* -1: none */
    int    state;        /* 0 pending, 1 running, 2 done */
    char  *last_err;     /* message of the last failure (owned) */
} oa_job;

typedef struct {
    CURL              *easy;
    struct curl_slist *hdr;
    char              *payload;
    cm_str             body;
    size_t             job;
    int                replica;
    int                used;
} oa_xfer;

struct oa_pool {
    oa_replica *rep;
    size_t      n_rep;
    char       *auth;    /* "Authorization: Bearer ..." or NULL */
    oa_settings st;
    uint64_t    rng;
    size_t      n_logged;
};

oa_settings oa_settings_default(size_t n_replicas) {
    oa_settings s;
    size_t c = 4 * (n_replicas ? n_replicas : 1);
    s.concurrency = (int)(c > 64 ? 64 : c);
    s.max_retries = 5;
    s.timeout_s = 300;
    s.backoff_s = 0.5;
    s.backoff_max_s = 30;
    s.retry_after_max_s = 120;
    return s;
}

/* Reads one numeric variable into *v when set, checked against [lo, hi]. */
static int env_num(const char *name, double lo, double hi, double *v) {
    const char *s = getenv(name);
    if (!s || !*s) return CM_OK;
    char *end = NULL;
    double x = strtod(s, &end);
    if (end == s || *end || !(x >= lo && x <= hi))
        return cm_error(CM_ERR_ARG, "$%s is '%s': expected a number from %g to %g", name, s, lo, hi);
    *v = x;
    return CM_OK;
}

int oa_settings_from_env(oa_settings *st) {
    double c = st->concurrency, r = st->max_retries;
    CM_TRY(env_num("CMTEB_OPENAI_CONCURRENCY", 1, 1024, &c));
    CM_TRY(env_num("CMTEB_OPENAI_MAX_RETRIES", 0, 100, &r));
    if (c != (int)c) return cm_error(CM_ERR_ARG, "$CMTEB_OPENAI_CONCURRENCY must be a whole number");
    if (r != (int)r) return cm_error(CM_ERR_ARG, "$CMTEB_OPENAI_MAX_RETRIES must be a whole number");
    st->concurrency = (int)c;
    st->max_retries = (int)r;
    CM_TRY(env_num("CMTEB_OPENAI_TIMEOUT", 0.001, 86400, &st->timeout_s));
    CM_TRY(env_num("CMTEB_OPENAI_BACKOFF", 0, 3600, &st->backoff_s));
    CM_TRY(env_num("CMTEB_OPENAI_BACKOFF_MAX", 0, 3600, &st->backoff_max_s));
    CM_TRY(env_num("CMTEB_OPENAI_RETRY_AFTER_MAX", 0, 86400, &st->retry_after_max_s));
    return CM_OK;
}

int oa_pool_init(oa_pool **out, const char *const *urls, size_t n_urls, const char *key, const oa_settings *st) {
    *out = NULL;
    if (!n_urls) return cm_error(CM_ERR_ARG, "openai: no endpoint URL");
    oa_pool *p = cm_calloc(1, sizeof *p);
    if (!p) return CM_ERR_NOMEM;
    p->rep = cm_calloc(n_urls, sizeof *p->rep);
    p->n_rep = n_urls;
    p->st = *st;
    p->rng = (uint64_t)(cm_now() * 1e9) ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    int rc = p->rep ? CM_OK : CM_ERR_NOMEM;
    for (size_t i = 0; !rc && i < n_urls; i++)
        if (!(p->rep[i].url = cm_strdup(urls[i]))) rc = CM_ERR_NOMEM;
    if (!rc && key && !(p->auth = cm_asprintf("Authorization: Bearer %s", key))) rc = CM_ERR_NOMEM;
    if (rc) { oa_pool_free(p); return rc; }
    *out = p;
    return CM_OK;
}

void oa_pool_free(oa_pool *p) {
    if (!p) return;
    for (size_t i = 0; p->rep && i < p->n_rep; i++) free(p->rep[i].url);
    free(p->rep);
    free(p->auth);
    free(p);
}

size_t oa_pool_size(const oa_pool *p) { return p->n_rep; }
const char *oa_pool_url(const oa_pool *p, size_t i) { return i < p->n_rep ? p->rep[i].url : NULL; }

/* Uniform in [0, 1) from the pool's xorshift state. */
static double rng01(oa_pool *p) {
    p->rng ^= p->rng << 13; p->rng ^= p->rng >> 7; p->rng ^= p->rng << 17;
    return (double)(p->rng >> 11) / 9007199254740992.0;
}

static size_t on_body(char *ptr, size_t size, size_t n, void *ud) {
    return cm_str_appendn(ud, ptr, size * n) ? 0 : size * n;
}

/* The JSON request body for texts[off..off+m). Caller frees. */
static char *make_payload(const char *model, const char *const *texts, size_t off, size_t m) {
    cJSON *body = cJSON_CreateObject();
    if (!body) return NULL;
    int ok = !model || cJSON_AddStringToObject(body, "model", model);
    cJSON *in = ok ? cJSON_AddArrayToObject(body, "input") : NULL;
    for (size_t i = 0; in && i < m; i++) {
        cJSON *s = cJSON_CreateString(texts[off + i]);
        if (!s || !cJSON_AddItemToArray(in, s)) { cJSON_Delete(s); in = NULL; }
    }
    char *payload = in && cJSON_AddStringToObject(body, "encoding_format", "float") ? cJSON_PrintUnformatted(body)
                                                                                   : NULL;
    cJSON_Delete(body);
    return payload;
}

static void xfer_clear(CURLM *multi, oa_xfer *x) {
    if (x->easy) { curl_multi_remove_handle(multi, x->easy); curl_easy_cleanup(x->easy); }
    curl_slist_free_all(x->hdr);
    free(x->payload);
    cm_str_free(&x->body);
    memset(x, 0, sizeof *x);
}

/* Starts job j on replica r in slot x. */
static int xfer_start(oa_pool *p, CURLM *multi, oa_xfer *x, const char *model, const char *const *texts,
                      oa_job *jobs, size_t j, int r) {
    memset(x, 0, sizeof *x);
    x->payload = make_payload(model, texts, jobs[j].off, jobs[j].m);
    x->easy = curl_easy_init();
    x->hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (x->hdr && p->auth) {
        struct curl_slist *h = curl_slist_append(x->hdr, p->auth);
        if (h) x->hdr = h; else { curl_slist_free_all(x->hdr); x->hdr = NULL; }
    }
    if (!x->payload || !x->easy || !x->hdr) { xfer_clear(multi, x); return CM_ERR_NOMEM; }
    CURL *c = x->easy;
    curl_easy_setopt(c, CURLOPT_URL, p->rep[r].url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->hdr);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, x->payload);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &x->body);
    long tmo = (long)(p->st.timeout_s * 1000.0);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, tmo > 0 ? tmo : 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, tmo < 10000 ? (tmo > 0 ? tmo : 1L) : 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PRIVATE, (void *)x);
    if (curl_multi_add_handle(multi, c) != CURLM_OK) {
        xfer_clear(multi, x);
        return cm_error(CM_ERR_INTERNAL, "openai: libcurl refused a request to %s", p->rep[r].url);
    }
    x->job = j;
    x->replica = r;
    x->used = 1;
    jobs[j].state = 1;
    jobs[j].last_replica = r;
    p->rep[r].inflight++;
    return CM_OK;
}

/* A replica for a job that last failed on `avoid` (-1: none), or -1 when none
 * is usable now: healthy replicas before recovering ones (a dead replica
 * costs a job an attempt only when nothing healthy is free), then not the
 * one that failed this job, then the fewest requests in flight. */
static int pick_replica(oa_pool *p, int avoid, double now) {
    int best = -1;
    long best_key = 0;
    for (size_t i = 0; i < p->n_rep; i++) {
        const oa_replica *r = &p->rep[i];
        if (r->avail_at > now || (r->fails > 0 && r->inflight > 0)) continue;
        long key = (r->fails > 0 ? 1L << 40 : 0) + ((int)i == avoid ? 1L << 32 : 0) + r->inflight;
        if (best < 0 || key < best_key) { best = (int)i; best_key = key; }
    }
    return best;
}

/* Books a retryable failure of job j on replica r (message already in
 * cm_last_error); *rc is set when the job has no tries left. */
static void on_transient(oa_pool *p, oa_job *jobs, size_t j, int r, double retry_after, double now, int *rc) {
    oa_replica *R = &p->rep[r];
    oa_job *J = &jobs[j];
    free(J->last_err);
    J->last_err = cm_strdup(cm_last_error());
    J->attempts++;
    J->state = 0;
    R->n_fail++;
    if (R->avail_at <= now) R->fails++;   /* one step per cool-down, not per request of a burst */
    double wait = oa_backoff_delay(p->st.backoff_s, p->st.backoff_max_s, R->fails, rng01(p));
    if (retry_after > p->st.retry_after_max_s) retry_after = p->st.retry_after_max_s;
    if (retry_after > wait) wait = retry_after;
    if (now + wait > R->avail_at) R->avail_at = now + wait;
    if (p->n_logged < 20 && J->attempts <= p->st.max_retries) {
        p->n_logged++;
        cm_log(CM_LOG_INFO, "openai: %s; retry %d of %d in %.2f s or on another replica",
               J->last_err ? J->last_err : "", J->attempts, p->st.max_retries, wait);
    }
    if (J->attempts > p->st.max_retries && !*rc)
        *rc = cm_error(CM_ERR_IO, "openai: texts %zu..%zu: gave up after %d attempts; last: %s", J->off,
                       J->off + J->m, J->attempts, J->last_err ? J->last_err : "?");
}

/* Handles a finished transfer: rows into out, or a failure booked. */
static void on_done(oa_pool *p, oa_xfer *x, CURLcode cc, oa_job *jobs, size_t *dim, float *out, double now,
                    size_t *n_done, int *rc) {
    oa_replica *R = &p->rep[x->replica];
    oa_job *J = &jobs[x->job];
    R->inflight--;
    long status = 0;
    curl_off_t ra = -1;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->easy, CURLINFO_RETRY_AFTER, &ra);
    const char *body = x->body.s ? x->body.s : "";
    if (cc != CURLE_OK) {
        cm_error(CM_ERR_IO, "%s: request failed: %s", R->url, curl_easy_strerror(cc));
        on_transient(p, jobs, x->job, x->replica, 0, now, rc);
    } else if (status == 408 || status == 429 || status >= 500) {
        cm_error(CM_ERR_IO, "%s: HTTP %ld: %.200s", R->url, status, body);
        on_transient(p, jobs, x->job, x->replica, ra > 0 ? (double)ra : 0, now, rc);
    } else if (status != 200) {
        if (!*rc) *rc = cm_error(CM_ERR_IO, "%s: HTTP %ld (not retried): %.300s", R->url, status, body);
    } else {
        int transient = 0;
        int prc = oa_parse_response(R->url, body, J->m, dim, out ? out + J->off * *dim : NULL, &transient);
        if (!prc) {
            J->state = 2;
            (*n_done)++;
            R->n_ok++;
            R->fails = 0;
        } else if (transient) {
            on_transient(p, jobs, x->job, x->replica, 0, now, rc);
        } else if (!*rc) {
            *rc = cm_error_wrap(prc, "texts %zu..%zu", J->off, J->off + J->m);
        }
    }
}

/* Seconds until the next moment a pending job could start (>= 0). */
static double next_event(const oa_pool *p, double now) {
    double t = 1e9;
    for (size_t i = 0; i < p->n_rep; i++) {
        const oa_replica *r = &p->rep[i];
        if (r->fails > 0 && r->inflight > 0) continue;
        double w = r->avail_at - now;
        if (w < t) t = w;
    }
    return t < 0 ? 0 : t;
}

int oa_pool_embed(oa_pool *p, const char *model, const char *const *texts, size_t n, size_t batch, size_t *dim,
                  float *out) {
    if (!n) return CM_OK;
    if (!batch) batch = 1;
    size_t nj = (n + batch - 1) / batch;
    size_t nslots = (size_t)(p->st.concurrency > 0 ? p->st.concurrency : 1);
    if (nslots > nj) nslots = nj;
    oa_job *jobs = cm_calloc(nj, sizeof *jobs);
    oa_xfer *xs = cm_calloc(nslots, sizeof *xs);
    CURLM *multi = curl_multi_init();
    int rc = jobs && xs ? CM_OK : CM_ERR_NOMEM;
    if (!rc && !multi) rc = cm_error(CM_ERR_INTERNAL, "openai: libcurl multi interface failed to start");
    for (size_t j = 0; !rc && j < nj; j++) {
        jobs[j].off = j * batch;
        jobs[j].m = n - jobs[j].off < batch ? n - jobs[j].off : batch;
        jobs[j].last_replica = -1;
    }
    size_t n_done = 0, next_pending = 0;
    int running = 0;
    while (!rc && n_done < nj) {
        if (cm_interrupted()) { rc = cm_error(CM_ERR_INTERRUPTED, "openai: interrupted"); break; }
        double now = cm_now();
        /* fill free slots: lowest pending job first, so rows finish roughly in order */
        int blocked = 0;   /* a pending job and a free slot, but no usable replica */
        while (!rc && (size_t)running < nslots) {
            while (next_pending < nj && jobs[next_pending].state == 2) next_pending++;
            size_t j = next_pending;
            while (j < nj && jobs[j].state != 0) j++;
            if (j >= nj) break;
            int r = pick_replica(p, jobs[j].last_replica, now);
            if (r < 0) { blocked = 1; break; }
            size_t s = 0;
            while (xs[s].used) s++;
            rc = xfer_start(p, multi, &xs[s], model, texts, jobs, j, r);
            if (!rc) running++;
        }
        if (rc) break;
        /* wait for a transfer or the next replica to cool down (at most 100 ms, to see Ctrl-C) */
        double wait = blocked ? next_event(p, now) : 1.0;
        int wait_ms = wait > 0.1 ? 100 : (int)(wait * 1000.0) + 1;
        if (running) {
            int still = 0;
            curl_multi_perform(multi, &still);
            curl_multi_poll(multi, NULL, 0, wait_ms, NULL);
            curl_multi_perform(multi, &still);
            CURLMsg *msg;
            int left = 0;
            while ((msg = curl_multi_info_read(multi, &left))) {
                if (msg->msg != CURLMSG_DONE) continue;
                oa_xfer *x = NULL;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
                CURLcode cc = msg->data.result;
                on_done(p, x, cc, jobs, dim, out, cm_now(), &n_done, &rc);
                xfer_clear(multi, x);
                running--;
            }
        } else {
            usleep((useconds_t)wait_ms * 1000u);
        }
    }
    for (size_t s = 0; xs && s < nslots; s++)
        if (xs[s].used) { p->rep[xs[s].replica].inflight--; xfer_clear(multi, &xs[s]); }
    if (multi) curl_multi_cleanup(multi);
    for (size_t j = 0; jobs && j < nj; j++) free(jobs[j].last_err);
    free(jobs);
    free(xs);
    return rc;
}
