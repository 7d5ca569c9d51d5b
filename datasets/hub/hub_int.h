/*
 * hub_int.h: the hub client's private pieces, shared by the files of datasets/hub/ and
 * the unit tests: header and URL parsing (hub_parse.c), HTTP with redirects
 * and retries (hub_http.c), the repository listing (hub_api.c), the local
 * layouts (hub_cache.c) and the choice of files a task reads (hub_select.c).
 */
#ifndef CMTEB_HUB_INT_H
#define CMTEB_HUB_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmteb/hub.h"
#include "cmteb/util.h"

/* ---- parsing (hub_parse.c) ------------------------------------------------ */

/* Percent-encodes s: every byte but A-Z a-z 0-9 - . _ ~ (and '/' when
 * keep_slash), as Python's urllib.parse.quote. Caller frees. */
char *hub_percent_encode(const char *s, int keep_slash);

/* The target of the rel="next" link of a Link header value
 * (`<URL>; rel="next", <URL2>; rel="last"`), or NULL; caller frees. */
char *hub_link_next(const char *link_header);

/* Seconds to wait from a Retry-After value, either delta-seconds or an
 * HTTP date (IMF-fixdate, RFC 850, asctime), relative to now (Unix time);
 * a date in the past gives 0. -1 when the value is malformed. */
double hub_retry_after_seconds(const char *value, double now);

/* An ETag value without W/ and quotes, into a new string; caller frees. */
char *hub_etag_clean(const char *v);

/* Whether path matches a glob pattern: '*' and '?' stay within one path
 * component, a double star spans components (a/ + double star matches everything under a/,
 * "**" + "/" matches zero or more folders), [abc] classes. */
int hub_glob_match(const char *pattern, const char *path);

/* 1 when s is 40 lower-case hex digits (a full commit id). */
int hub_is_commit(const char *s);
/* 1 when s is 4 to 40 hex digits (a commit or a prefix of one). */
int hub_is_hex_prefix(const char *s);

/* The token to send: $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, else the first line
 * of $HF_HOME/token (HF_HOME default ~/.cache/huggingface); NULL if none.
 * Caller frees. */
char *hub_token_from_env(void);

/* sha256 (hex, 64 + NUL) and git blob sha1 (hex, 40 + NUL) of a file. */
int hub_file_sha256(const char *path, char out[65]);
int hub_file_git_sha1(const char *path, char out[41]);

/* ---- HTTP (hub_http.c) --------------------------------------------------- */

typedef struct hub_client {
    char   *endpoint;          /* without a trailing slash */
    char   *token;             /* may be NULL */
    cm_hub_params p;
    atomic_size_t requests;    /* every request made, redirects included */
    atomic_ullong bytes;       /* body bytes written to files */
} hub_client;

int  hub_client_init(hub_client *c, const cm_hub_params *p);
void hub_client_free(hub_client *c);

typedef struct hub_response {
    long     status;           /* final status (after redirects) */
    char    *error_code;       /* X-Error-Code */
    char    *error_message;    /* X-Error-Message */
    char    *repo_commit;      /* X-Repo-Commit (first seen) */
    char    *etag;             /* X-Linked-Etag, else ETag, cleaned (first seen) */
    int64_t  size;             /* X-Linked-Size, else Content-Length of the hub's answer; -1 unknown */
    char    *link_next;        /* Link rel="next" target */
    double   retry_after;      /* seconds, -1 none */
    cm_str   body;             /* the body when no file sink was given (or an error body, capped) */
} hub_response;

void hub_response_free(hub_response *r);

/* GET url (HEAD when head), following up to 10 redirects by hand: the
 * Authorization header is sent only to the endpoint's own scheme://host:port,
 * never to the host a redirect points at. With sink set, a 200/206 body is
 * written there, resuming from the sink's current size with Range (a 200 to a
 * Range request starts the file over). Retries 408/429/5xx and transport
 * failures (timeouts, dropped connections) up to max_retries times with
 * exponential backoff and jitter, or Retry-After. what names the request in
 * messages. Returns CM_OK for a 2xx answer; else an error (the response
 * keeps the status and hub headers) that names what failed. */
int hub_http_get(hub_client *c, const char *url, int head, FILE *sink, const char *what, hub_response *r);

/* The readable error for a failed hub answer (RepoNotFound, RevisionNotFound,
 * EntryNotFound, GatedRepo, other statuses); returns the cm_error code. */
int hub_http_error(const hub_client *c, const hub_response *r, const char *repo, const char *revision,
                   const char *what);

/* ---- listing (hub_api.c) ------------------------------------------------- */

typedef struct hub_entry {
    char    *path;
    uint64_t size;             /* the content's size (lfs.size for LFS files) */
    char    *oid;              /* git blob sha1 */
    char    *sha256;           /* lfs.oid, NULL for non-LFS files */
} hub_entry;

typedef struct hub_listing {
    hub_entry *e;              /* files only, in listing order */
    size_t     n;
    char      *commit;         /* X-Repo-Commit when the hub sent it; may be NULL */
} hub_listing;

void hub_listing_free(hub_listing *l);

/* Parses one page of the tree API (a JSON array) into l (appending). */
int hub_listing_parse(hub_listing *l, const char *json, const char *where);

/* The listing of repo at revision: the one kept in DATA_DIR/<repo>/.cache/
 * cmteb/ when revision is a commit (or hex prefix), or when offline or
 * use_kept; else the hub's tree API (all pages), then kept. *from_network
 * (may be NULL) says which. CM_ERR_NOTFOUND when offline and none is kept. */
int hub_listing_get(hub_client *c, const char *repo, const char *revision, int use_kept, hub_listing *l,
                    int *from_network);

/* ---- layouts (hub_cache.c) ----------------------------------------------- */

/* DATA_DIR/<repo>/.cache/huggingface/download/<path>.metadata and
 * .incomplete, and the kept listing's path; caller frees. */
char *hub_local_meta_path(const char *repo_dir, const char *path);
char *hub_local_incomplete_path(const char *repo_dir, const char *path);
char *hub_local_listing_path(const char *repo_dir, const char *revision);

/* Reads a metadata file: commit and etag (either may be NULL); 0 when absent
 * or malformed. Strings are allocated; caller frees. */
int hub_local_meta_read(const char *meta_path, char **commit, char **etag);
int hub_local_meta_write(const char *meta_path, const char *commit, const char *etag);

/* ---- selection (hub_select.c) ------------------------------------------- */

/* What one task needs from one repository. */
typedef struct hub_need {
    cm_task_type        type;
    const char         *split;        /* the evaluated split */
    const char         *train_split;  /* classification: its training split, else NULL */
    const char         *subset;       /* hf subset (NULL: default) */
    const char *const  *patterns;     /* the task's "dataset.files" globs (NULL-terminated), or NULL */
} hub_need;

/* Marks in chosen[i] (n entries, zeroed by the caller) the files of the
 * listing a task reads: each pattern must match at least one file; without
 * patterns the default rules of the task's type (one table in hub_select.c)
 * pick, for each thing the task reads, the first of its candidate locations
 * that has a match. Error (naming what was looked for) when something the
 * task reads matches no file. */
int hub_select(const hub_entry *e, size_t n, const hub_need *need, const char *repo, unsigned char *chosen);

#endif
