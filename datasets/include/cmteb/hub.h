/*
 * hub.h: getting a task's data from the Hugging Face hub, and finding it.
 *
 * Where data is found (cm_hub_task_folder, the one resolution every loader
 * goes through via cm_task_data_folder):
 *   1. DATA_DIR/<hub repo>/ (a `huggingface-cli download --local-dir` folder,
 *      or one `cmteb fetch` wrote) when that folder exists;
 *   2. else the huggingface_hub cache, read in place (nothing is copied):
 *      CACHE/datasets--ORG--NAME/snapshots/<commit>/ where <commit> is the
 *      pinned revision itself (40 hex), refs/<revision> (a branch, tag or
 *      prefix as huggingface_hub records it), or the one snapshot whose name
 *      starts with a hex prefix. CACHE is $HF_HUB_CACHE, else $HF_HOME/hub,
 *      else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub.
 *
 * Where `cmteb fetch` writes: DATA_DIR/<hub repo>/<path> in the layout of
 * `huggingface-cli download --local-dir`, with DATA_DIR/<repo>/.cache/
 * huggingface/download/<path>.metadata (commit, etag, timestamp lines) per
 * file, partial downloads as .../download/<path>.incomplete (resumed with a
 * Range request) and the repository listing kept as
 * .../.cache/cmteb/tree-<revision>.json. A task whose files the hub cache
 * already holds at the pinned revision is not downloaded again.
 *
 * Only the files a task reads are fetched (cm_hub_select): the task's
 * "dataset": {"files": [glob, ...]} patterns when the catalog gives them,
 * else per-type rules over the repository listing.
 *
 * Ownership: strings in params are borrowed; outputs say who frees them.
 * The library never prints: failures are logged (cm_log) as they happen and
 * progress (bytes, rate) goes to the progress sink.
 */
#ifndef CMTEB_HUB_H
#define CMTEB_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "cmteb/task.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_hub_params {
    const char *endpoint;        /* NULL: $HF_ENDPOINT, else https://huggingface.co */
    const char *token;           /* NULL: $HF_TOKEN, $HUGGING_FACE_HUB_TOKEN, then the file $HF_HOME/token */
    const char *data_dir;        /* where downloads go (DATA_DIR/<repo>/...; default "data") */
    int         offline;         /* 1: never touch the network; -1 (default): from $HF_HUB_OFFLINE */
    int         jobs;            /* files downloaded in parallel (default 4) */
    int         max_retries;     /* retries of one request on 408/429/5xx/timeouts/drops (default 5) */
    double      backoff_base;    /* first wait in seconds, doubled per retry, with jitter (default 0.5) */
    double      backoff_max;     /* cap of one wait (default 30) */
    double      retry_after_max; /* longest Retry-After honoured; longer is an error (default 120) */
    double      stall_timeout;   /* seconds without a byte before a transfer counts as timed out (default 30) */
    int         quiet;           /* no progress reports */
} cm_hub_params;

cm_hub_params cm_hub_default_params(void);

/* What a fetch did (totals over every task). */
typedef struct cm_hub_fetch_stats {
    size_t   files_needed;       /* files the tasks read */
    size_t   files_present;      /* already there (DATA_DIR or the hub cache) */
    size_t   files_downloaded;
    size_t   files_failed;       /* failed or missing (offline) */
    uint64_t bytes_needed;       /* sizes of the needed files, where listed */
    uint64_t bytes_downloaded;   /* bytes received in this call */
    size_t   requests;           /* HTTP requests made */
    int      interrupted;        /* stopped by SIGINT/SIGTERM (finished files kept, partial ones resumable) */
} cm_hub_fetch_stats;

/*
 * Fetches the files n tasks read at their pinned revisions (retrieval tasks
 * made of several repositories fetch each of settings.subsets at main).
 * Task-file tasks without a "dataset" path, and demo tasks, need nothing.
 * Returns CM_OK when every needed file is there; else an error saying how
 * many files failed and why (the first reason; each one was logged), offline
 * with the list of what is missing, CM_ERR_INTERRUPTED on Ctrl-C.
 */
int cm_hub_fetch_tasks(const cm_task *const *tasks, size_t n, const cm_hub_params *p, cm_hub_fetch_stats *st);

/* Download size and presence of one task's files, from a listing kept by an
 * earlier fetch (or, when online is 1 and the network is allowed, the hub's
 * listing, which is then kept). */
typedef struct cm_hub_task_size {
    int      known;              /* 0: no listing (size "unknown") */
    size_t   files, files_present;
    uint64_t bytes, bytes_present;
} cm_hub_task_size;

int cm_hub_task_size_get(const cm_task *t, const cm_hub_params *p, int online, cm_hub_task_size *out);

/* The huggingface_hub cache root from the environment (see above); caller
 * frees. NULL only when out of memory. */
char *cm_hub_cache_root(void);

/* The snapshot folder of repo ("org/name") at revision in the cache under
 * root, or NULL when the cache does not hold it (or out of memory). Caller
 * frees. */
char *cm_hub_cache_snapshot(const char *root, const char *repo, const char *revision);

/* The folder a hub dataset is read from: DATA_DIR/repo when it exists, else
 * the hub cache's snapshot at revision when it exists, else DATA_DIR/repo
 * (so that "not found" messages name it). data_dir NULL means "data"; caller
 * frees; NULL when out of memory. */
char *cm_hub_task_folder(const char *data_dir, const char *repo, const char *revision);

/* The commit a data folder holds, when known: the snapshot's name for a hub
 * cache folder, else the commit line of a .cache/huggingface/download
 * metadata file in it. Writes 40 hex + NUL into out and returns 1; 0 when
 * unknown. */
int cm_hub_folder_commit(const char *folder, char out[41]);

#ifdef __cplusplus
}
#endif
#endif
