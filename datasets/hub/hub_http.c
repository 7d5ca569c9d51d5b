/*
 * hub_http.c: HTTP for the hub client over libcurl (see hub_int.h): one GET
 * or HEAD with redirects followed by hand (so that the token never leaves the
 * endpoint's host), hub headers read, bodies into a file (resumed with Range)
 * or memory, and bounded retries with backoff, jitter and Retry-After.
 */
#include "datasets/hub/hub_int.h"
#include "cmteb/interrupt.h"
#include "cmteb/lazylib.h"
#include "cmteb/log.h"
#include "cmteb/status.h"

#include <curl/curl.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { MAX_REDIRECTS = 10, MAX_ERROR_BODY = 1 << 16 };

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* libcurl, loaded on first use (cmteb/lazylib.h) and initialised once. */
static int need_curl(void) {
    CM_TRY(cm_need_curl());
    pthread_once(&curl_once, curl_init_once);
    return CM_OK;
}

int hub_client_init(hub_client *c, const cm_hub_params *p) {
    memset(c, 0, sizeof *c);
    c->p = *p;
    /* an offline client (cmteb list's sizes) never asks the network: it does not load libcurl */
    if (p->offline <= 0) CM_TRY(need_curl());
    const char *ep = p->endpoint ? p->endpoint : getenv("HF_ENDPOINT");
    if (!ep || !*ep) ep = "https://huggingface.co";
    c->endpoint = cm_strdup(ep);
    if (!c->endpoint) return CM_ERR_NOMEM;
    size_t n = strlen(c->endpoint);
    while (n > 0 && c->endpoint[n - 1] == '/') c->endpoint[--n] = '\0';
    if (strncmp(c->endpoint, "http://", 7) && strncmp(c->endpoint, "https://", 8)) {
        int rc = cm_error(CM_ERR_ARG, "hub endpoint '%s': expected an http:// or https:// URL (HF_ENDPOINT, "
                          "--endpoint)", c->endpoint);
        hub_client_free(c);
        return rc;
    }
    c->token = p->token ? cm_strdup(p->token) : hub_token_from_env();
    atomic_init(&c->requests, 0);
    atomic_init(&c->bytes, 0);
    return CM_OK;
}

void hub_client_free(hub_client *c) {
    if (!c) return;
    free(c->endpoint);
    free(c->token);
    c->endpoint = c->token = NULL;
}

void hub_response_free(hub_response *r) {
    free(r->error_code); free(r->error_message); free(r->repo_commit); free(r->etag); free(r->link_next);
    cm_str_free(&r->body);
    memset(r, 0, sizeof *r);
    r->size = -1;
    r->retry_after = -1;
}

/* ---- one hop ---------------------------------------------------------------- */
typedef struct hop {
    hub_client   *c;
    hub_response *r;
    FILE         *sink;
    off_t         range_from;   /* bytes already in sink (Range sent when > 0) */
    long          status;       /* from the status line of this hop */
    int           started;      /* the body of a 2xx answer has begun */
    int           first_hop;
    int           write_failed;
    int64_t       content_length;
} hop;

static void set_once(char **dst, const char *v, size_t n) {
    if (*dst) return;
    *dst = cm_strndup(v, n);
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud) {
    hop *h = ud;
    size_t n = size * nitems;
    if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {   /* a status line: a new answer (100-continue, ...) */
        const char *sp = memchr(buf, ' ', n);
        h->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        return n;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon) return n;
    size_t kn = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vn = n - kn - 1;
    while (vn && (*v == ' ' || *v == '\t')) { v++; vn--; }
    while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' ')) vn--;
    hub_response *r = h->r;
#define IS(name) (kn == sizeof(name) - 1 && !strncasecmp(buf, name, kn))
    if (IS("X-Error-Code")) { free(r->error_code); r->error_code = cm_strndup(v, vn); }
    else if (IS("X-Error-Message")) { free(r->error_message); r->error_message = cm_strndup(v, vn); }
    else if (IS("X-Repo-Commit")) set_once(&r->repo_commit, v, vn);
    else if (IS("X-Linked-Etag") || (IS("ETag") && h->first_hop && !r->etag)) {
        char *raw = cm_strndup(v, vn);
        if (raw) {
            if (IS("X-Linked-Etag")) { free(r->etag); r->etag = NULL; }
            if (!r->etag) r->etag = hub_etag_clean(raw);
        }
        free(raw);
    } else if (IS("X-Linked-Size")) {
        r->size = strtoll(v, NULL, 10);
    } else if (IS("Content-Length")) {
        h->content_length = strtoll(v, NULL, 10);
    } else if (IS("Link")) {
        char *raw = cm_strndup(v, vn);
        char *next = raw ? hub_link_next(raw) : NULL;
        if (next) { free(r->link_next); r->link_next = next; }
        free(raw);
    } else if (IS("Retry-After")) {
        char *raw = cm_strndup(v, vn);
        if (raw) r->retry_after = hub_retry_after_seconds(raw, (double)time(NULL));
        free(raw);
    }
#undef IS
    return n;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ud) {
    hop *h = ud;
    size_t n = size * nmemb;
    int ok = h->status == 200 || h->status == 206;
    if (ok && h->sink) {
        if (!h->started) {
            h->started = 1;
            if (h->status == 200 && h->range_from > 0) {   /* the server ignored Range: start over */
                if (fflush(h->sink) || ftruncate(fileno(h->sink), 0) || fseeko(h->sink, 0, SEEK_SET)) {
                    h->write_failed = 1;
                    return 0;
                }
            }
        }
        if (fwrite(buf, 1, n, h->sink) != n) {
            h->write_failed = 1;
            return 0;
        }
        atomic_fetch_add(&h->c->bytes, (unsigned long long)n);
        return n;
    }
    if (!ok && h->r->body.len + n > MAX_ERROR_BODY) return n;   /* error bodies are only for the message */
    if (cm_str_appendn(&h->r->body, buf, n)) return 0;
    return n;
}

static int on_xfer(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)ud; (void)dt; (void)dn; (void)ut; (void)un;
    return cm_interrupted() ? 1 : 0;
}

/* scheme://host:port of url into out (lower-case host, default ports filled); 0 on failure */
static int origin_of(const char *url, char *out, size_t cap) {
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    int ok = u && !curl_url_set(u, CURLUPART_URL, url, 0) && !curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) &&
             !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
             !curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    if (ok) {
        for (char *q = host; *q; q++) *q = (char)tolower((unsigned char)*q);
        snprintf(out, cap, "%s://%s:%s", scheme, host, port);
    }
    curl_free(scheme); curl_free(host); curl_free(port);
    curl_url_cleanup(u);
    return ok;
}

typedef enum { HOP_OK, HOP_RETRY, HOP_FAIL } hop_outcome;

/* One request (with its redirects): HOP_OK on 2xx, HOP_RETRY for what may pass on a retry (the reason is
 * the last error), HOP_FAIL otherwise (r->status set for HTTP errors). */
static hop_outcome one_request(hub_client *c, CURL *e, const char *url0, int head, FILE *sink, const char *what,
                               hub_response *r, int *rc) {
    char ep_origin[512] = "", origin[512];
    origin_of(c->endpoint, ep_origin, sizeof ep_origin);
    char *url = cm_strdup(url0);
    if (!url) { *rc = CM_ERR_NOMEM; return HOP_FAIL; }
    hop_outcome out = HOP_FAIL;
    for (int hopn = 0;; hopn++) {
        hop h = {c, r, sink, 0, 0, 0, hopn == 0, 0, -1};
        if (sink) {
            if (fflush(sink)) { *rc = cm_error(CM_ERR_IO, "%s: cannot write", what); break; }
            struct stat st;
            if (fstat(fileno(sink), &st)) { *rc = cm_error(CM_ERR_IO, "%s: cannot stat", what); break; }
            h.range_from = st.st_size;
            if (fseeko(sink, 0, SEEK_END)) { *rc = cm_error(CM_ERR_IO, "%s: cannot seek", what); break; }
        }
        struct curl_slist *hdr = NULL;
        char buf[600];
        int same = origin_of(url, origin, sizeof origin) && !strcmp(origin, ep_origin);
        if (c->token && same) {
            char *a = cm_asprintf("Authorization: Bearer %s", c->token);
            if (a) hdr = curl_slist_append(hdr, a);
            free(a);
        }
        if (h.range_from > 0) {
            snprintf(buf, sizeof buf, "Range: bytes=%lld-", (long long)h.range_from);
            hdr = curl_slist_append(hdr, buf);
        }
        hdr = curl_slist_append(hdr, "Accept-Encoding: identity");   /* sizes and digests are of the bytes */
        curl_easy_reset(e);
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "cmteb/" CMTEB_VERSION);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_NOBODY, head ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &h);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &h);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xfer);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 15L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(c->p.stall_timeout > 1 ? c->p.stall_timeout : 1));
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        atomic_fetch_add(&c->requests, 1);
        CURLcode cc = curl_easy_perform(e);
        curl_slist_free_all(hdr);
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        r->status = status;
        if (!r->size || r->size < 0) {
            if (hopn == 0 && h.content_length >= 0 && (status == 200)) r->size = h.content_length;
        }
        if (cc == CURLE_ABORTED_BY_CALLBACK) { *rc = cm_error(CM_ERR_INTERRUPTED, "%s: interrupted", what); break; }
        if (h.write_failed) { *rc = cm_error(CM_ERR_IO, "%s: cannot write the download to disk", what); break; }
        if (cc != CURLE_OK) {
            *rc = cm_error(CM_ERR_IO, "%s: %s (%s)", what, curl_easy_strerror(cc), url);
            out = cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ? HOP_FAIL : HOP_RETRY;
            break;
        }
        if (status >= 300 && status < 400) {
            char *loc = NULL;
            curl_easy_getinfo(e, CURLINFO_REDIRECT_URL, &loc);
            if (!loc) { *rc = cm_error(CM_ERR_IO, "%s: HTTP %ld without a Location", what, status); break; }
            if (hopn >= MAX_REDIRECTS) { *rc = cm_error(CM_ERR_IO, "%s: more than %d redirects", what, hopn); break; }
            char *next = cm_strdup(loc);
            if (!next) { *rc = CM_ERR_NOMEM; break; }
            free(url);
            url = next;
            cm_str_free(&r->body);
            continue;
        }
        if (status >= 200 && status < 300) { *rc = CM_OK; out = HOP_OK; break; }
        *rc = cm_error(CM_ERR_IO, "%s: HTTP %ld", what, status);
        out = status == 408 || status == 429 || status >= 500 ? HOP_RETRY : HOP_FAIL;
        break;
    }
    free(url);
    return out;
}

static double jitter01(void) {
    static _Thread_local unsigned long long s;
    if (!s) s = (unsigned long long)(cm_now() * 1e9) ^ (unsigned long long)(uintptr_t)&s;
    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
    return (double)(s >> 11) / 9007199254740992.0;
}

int hub_http_get(hub_client *c, const char *url, int head, FILE *sink, const char *what, hub_response *r) {
    hub_response_free(r);
    CM_TRY(need_curl());
    CURL *e = curl_easy_init();
    if (!e) return cm_error(CM_ERR_INTERNAL, "libcurl: cannot create a handle");
    int rc = CM_OK;
    for (int attempt = 0;; attempt++) {
        hub_response_free(r);
        hop_outcome o = one_request(c, e, url, head, sink, what, r, &rc);
        if (o == HOP_OK || o == HOP_FAIL) break;
        if (attempt >= c->p.max_retries) {
            rc = cm_error_wrap(rc, "gave up after %d attempts", attempt + 1);
            break;
        }
        double wait;
        if (r->retry_after >= 0) {
            if (r->retry_after > c->p.retry_after_max) {
                rc = cm_error(CM_ERR_IO, "%s: the server asks to retry after %.0f s (more than %.0f s); try later",
                              what, r->retry_after, c->p.retry_after_max);
                break;
            }
            wait = r->retry_after;
        } else {
            wait = c->p.backoff_base * pow(2.0, attempt);
            if (wait > c->p.backoff_max) wait = c->p.backoff_max;
            wait *= 0.5 + 0.5 * jitter01();
        }
        cm_log(CM_LOG_INFO, "%s; retry %d of %d in %.1f s%s", cm_last_error(), attempt + 1, c->p.max_retries, wait,
               r->retry_after >= 0 ? " (Retry-After)" : "");
        double until = cm_now() + wait;
        while (cm_now() < until && !cm_interrupted()) {
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        if (cm_interrupted()) { rc = cm_error(CM_ERR_INTERRUPTED, "%s: interrupted", what); break; }
    }
    curl_easy_cleanup(e);
    return rc;
}

int hub_http_error(const hub_client *c, const hub_response *r, const char *repo, const char *revision,
                   const char *what) {
    const char *code = r->error_code ? r->error_code : "";
    const char *msg = r->error_message ? r->error_message : "";
    if (!strcmp(code, "GatedRepo"))
        return cm_error(CM_ERR_ARG, "%s: gated dataset: needs HF_TOKEN (or HUGGING_FACE_HUB_TOKEN, or a token in "
                        "$HF_HOME/token) of an account that accepted its conditions at %s/datasets/%s%s", repo,
                        c->endpoint, repo, c->token ? " (the token sent was refused)" : "");
    if (!strcmp(code, "RepoNotFound"))
        return cm_error(CM_ERR_NOTFOUND, "%s: dataset repository not found at %s%s", repo, c->endpoint,
                        c->token ? "" : " (a private one needs HF_TOKEN)");
    if (!strcmp(code, "RevisionNotFound"))
        return cm_error(CM_ERR_NOTFOUND, "%s: revision '%s' not found at %s", repo, revision, c->endpoint);
    if (!strcmp(code, "EntryNotFound"))
        return cm_error(CM_ERR_NOTFOUND, "%s@%s: %s not found at %s", repo, revision, what, c->endpoint);
    if (r->status == 401 || r->status == 403)
        return cm_error(CM_ERR_ARG, "%s: access denied (HTTP %ld)%s%s%s", repo, r->status,
                        c->token ? "" : ": set HF_TOKEN", *msg ? ": " : "", msg);
    if (r->status >= 400)
        return cm_error(CM_ERR_IO, "%s@%s: %s: HTTP %ld from %s%s%s", repo, revision, what, r->status, c->endpoint,
                        *msg ? ": " : "", msg);
    return cm_error_wrap(CM_ERR_IO, "%s@%s", repo, revision);
}
