/*
 * hub_fetch.c: cmteb fetch (see hub.h): for each task, the repositories it
 * reads, their listings, the files it needs (hub_select), what is already
 * there (DATA_DIR/<repo>, else the hub cache), then the missing files
 * downloaded by a pool of threads (resumable, verified, renamed into place)
 * while the calling thread reports bytes and rate to the progress sink.
 */
#include "datasets/hub/hub_int.h"
#include "cmteb/interrupt.h"
#include "cmteb/log.h"
#include "cmteb/progress.h"
#include "cmteb/status.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

cm_hub_params cm_hub_default_params(void) {
    cm_hub_params p;
    memset(&p, 0, sizeof p);
    p.data_dir = "data";
    p.offline = -1;
    p.jobs = 4;
    p.max_retries = 5;
    p.backoff_base = 0.5;
    p.backoff_max = 30;
    p.retry_after_max = 120;
    p.stall_timeout = 30;
    return p;
}

static int env_offline(void) {
    const char *v = getenv("HF_HUB_OFFLINE");
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

/* One repository a task reads. */
typedef struct repo_job {
    const char *repo, *revision;   /* borrowed from the task */
    hub_need    need;
    const cm_task *task;
} repo_job;

/* One file to download. */
typedef struct item {
    const char      *repo, *revision;
    const hub_entry *e;            /* borrowed from its job's listing */
    const char      *commit;       /* the listing's, may be NULL */
    char            *dest, *incomplete, *meta;
    int              rc;
} item;

/* The repositories of a task: its dataset, or each hub repo of settings.subsets (read at main). */
static size_t task_jobs(const cm_task *t, repo_job *out, size_t cap) {
    if (t->data || !t->dataset_path || (t->source && !strcmp(t->source, "demo"))) return 0;
    hub_need need = {t->type, t->split, NULL, t->subset, NULL};
    if (t->type == CM_TASK_CLASSIFICATION) need.train_split = t->settings.classification.train_split;
    need.patterns = (const char *const *)t->dataset_files;   /* the catalog's "dataset": {"files": [...]} */
    size_t n = 0;
    if (t->type == CM_TASK_RETRIEVAL && t->settings.retrieval.subsets.n) {
        const cm_setting_strs *s = &t->settings.retrieval.subsets;
        for (size_t i = 0; i < s->n && n < cap; i++)
            if (s->v[i][0] != '/' && strchr(s->v[i], '/')) {
                out[n] = (repo_job){s->v[i], "main", need, t};
                out[n].need.patterns = NULL;   /* the patterns name files of the task's own repository */
                out[n++].need.subset = NULL;
            }
        return n;
    }
    out[n++] = (repo_job){t->dataset_path, t->dataset_revision ? t->dataset_revision : "main", need, t};
    return n;
}

static int file_size_is(const char *path, uint64_t size) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size;
}

static const char *etag_of(const hub_entry *e) { return e->sha256 ? e->sha256 : e->oid; }

/* Checks a file's content against the listing: size, then the LFS sha256 or the git blob id. 0 when it
 * matches; CM_ERR_FORMAT (with a message) when not. */
static int verify(const char *path, const hub_entry *e, const char *repo) {
    struct stat st;
    if (stat(path, &st)) return cm_error(CM_ERR_IO, "%s: missing after download", path);
    if ((uint64_t)st.st_size != e->size)
        return cm_error(CM_ERR_FORMAT, "%s: %s: size %lld, the hub lists %llu", repo, e->path, (long long)st.st_size,
                        (unsigned long long)e->size);
    char d[65];
    if (e->sha256) {
        CM_TRY(hub_file_sha256(path, d));
        if (strcmp(d, e->sha256))
            return cm_error(CM_ERR_FORMAT, "%s: %s: sha256 %s, the hub lists %s", repo, e->path, d, e->sha256);
    } else if (e->oid && strlen(e->oid) == 40) {
        CM_TRY(hub_file_git_sha1(path, d));
        if (strcmp(d, e->oid))
            return cm_error(CM_ERR_FORMAT, "%s: %s: git blob id %s, the hub lists %s", repo, e->path, d, e->oid);
    }
    return CM_OK;
}

/* Whether dest already holds the listed file: metadata with the same etag and the right size, or (no
 * metadata, e.g. copied by hand) the right content, which is then recorded. */
static int local_present(const item *it) {
    if (!file_size_is(it->dest, it->e->size)) return 0;
    char *commit = NULL, *etag = NULL;
    int meta = hub_local_meta_read(it->meta, &commit, &etag);
    int ok = meta && etag && !strcmp(etag, etag_of(it->e));
    free(commit);
    free(etag);
    if (ok || meta) return ok;
    if (verify(it->dest, it->e, it->repo)) { cm_error_clear(); return 0; }
    if (hub_local_meta_write(it->meta, it->commit, etag_of(it->e))) cm_error_clear();
    return 1;
}

static int mkdirs_for(const char *path) {
    char *d = cm_path_dirname(path);
    int rc = d ? cm_mkdir_p(d) : CM_ERR_NOMEM;
    free(d);
    return rc;
}

/* Downloads one file: into its .incomplete (resumed), verified (a mismatch: deleted and fetched once more),
 * renamed into place, its metadata written. */
static int download(hub_client *c, item *it) {
    CM_TRY(mkdirs_for(it->incomplete));
    CM_TRY(mkdirs_for(it->dest));
    char *rev = hub_percent_encode(it->revision, 0), *path = hub_percent_encode(it->e->path, 1);
    char *url = rev && path ? cm_asprintf("%s/datasets/%s/resolve/%s/%s", c->endpoint, it->repo, rev, path) : NULL;
    free(rev);
    free(path);
    if (!url) return CM_ERR_NOMEM;
    char what[700];
    snprintf(what, sizeof what, "%s@%s: %s", it->repo, it->revision, it->e->path);
    int rc = CM_OK;
    hub_response r = {0};
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!file_size_is(it->incomplete, it->e->size)) {   /* else: complete but not yet renamed: verify it */
            struct stat st;
            if (stat(it->incomplete, &st) == 0 && (uint64_t)st.st_size > it->e->size) unlink(it->incomplete);
            FILE *f = fopen(it->incomplete, "ab");
            if (!f) { rc = cm_error(CM_ERR_IO, "%s: cannot write", it->incomplete); break; }
            rc = hub_http_get(c, url, 0, f, what, &r);
            if (fclose(f) && !rc) rc = cm_error(CM_ERR_IO, "%s: cannot write", it->incomplete);
            if (rc && r.status == 416) {   /* the partial file does not fit the content any more */
                unlink(it->incomplete);
                continue;
            }
            if (rc && r.status >= 400) rc = hub_http_error(c, &r, it->repo, it->revision, it->e->path);
            if (rc) break;   /* the .incomplete stays for the next run to resume */
        }
        rc = verify(it->incomplete, it->e, it->repo);
        if (rc == CM_ERR_FORMAT) {
            unlink(it->incomplete);
            if (attempt == 0) {
                cm_log(CM_LOG_WARN, "%s; deleted, downloading it once more", cm_last_error());
                continue;
            }
            rc = cm_error_wrap(rc, "%s: corrupt twice (deleted)", what);
            break;
        }
        if (rc) break;
        if (rename(it->incomplete, it->dest)) {
            rc = cm_error(CM_ERR_IO, "%s: cannot rename to %s", it->incomplete, it->dest);
            break;
        }
        const char *commit = r.repo_commit && hub_is_commit(r.repo_commit) ? r.repo_commit
                           : hub_is_commit(it->revision) ? it->revision : it->commit;
        if (hub_local_meta_write(it->meta, commit, etag_of(it->e)))
            cm_log(CM_LOG_WARN, "%s: metadata not written: %s", it->dest, cm_last_error());
        break;
    }
    hub_response_free(&r);
    free(url);
    return rc;
}

/* ---- the pool ---------------------------------------------------------------- */
typedef struct pool {
    hub_client     *c;
    item           *items;
    size_t          n;
    pthread_mutex_t mu;
    size_t          next;
    size_t          finished_workers;
    size_t          ok, failed;
    int             first_rc;
    char            first_err[1024];
} pool;

static void *worker(void *arg) {
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next < p->n && !cm_interrupted() ? p->next++ : p->n;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n) break;
        item *it = &p->items[i];
        it->rc = download(p->c, it);
        pthread_mutex_lock(&p->mu);
        if (it->rc) {
            if (it->rc != CM_ERR_INTERRUPTED) cm_log(CM_LOG_WARN, "%s", cm_last_error());
            if (!p->failed++ || (p->first_rc == CM_ERR_INTERRUPTED && it->rc != CM_ERR_INTERRUPTED)) {
                p->first_rc = it->rc;
                snprintf(p->first_err, sizeof p->first_err, "%s", cm_last_error());
            }
        } else {
            p->ok++;
        }
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    p->finished_workers++;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static off_t size_or_zero(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : 0;
}

static int run_pool(hub_client *c, item *items, size_t n, cm_hub_fetch_stats *st) {
    pool p = {.c = c, .items = items, .n = n};
    pthread_mutex_init(&p.mu, NULL);
    size_t nt = c->p.jobs > 0 ? (size_t)c->p.jobs : 1;
    if (nt > n) nt = n;
    if (nt > 64) nt = 64;
    uint64_t total = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        total += items[i].e->size;
        start += (uint64_t)size_or_zero(items[i].incomplete);   /* resumed bytes count as done */
    }
    pthread_t th[64];
    size_t started = 0;
    for (; started < nt; started++)
        if (pthread_create(&th[started], NULL, worker, &p)) break;
    if (!started) worker(&p);   /* no thread could start: do it here */
    char label[96];
    snprintf(label, sizeof label, "fetch %zu file(s), bytes", n);
    cm_progress prog;
    cm_progress_begin(&prog, label, (size_t)total, c->p.quiet);
    for (;;) {
        pthread_mutex_lock(&p.mu);
        int done = p.finished_workers >= started;
        pthread_mutex_unlock(&p.mu);
        uint64_t now = start + atomic_load(&c->bytes);
        cm_progress_update(&prog, (size_t)(now < total ? now : total));
        if (done) break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    for (size_t i = 0; i < started; i++) pthread_join(th[i], NULL);
    cm_progress_end(&prog);
    pthread_mutex_destroy(&p.mu);
    st->files_downloaded += p.ok;
    st->files_failed += n - p.ok;
    st->bytes_downloaded += atomic_load(&c->bytes);
    if (cm_interrupted()) {
        st->interrupted = 1;
        return cm_error(CM_ERR_INTERRUPTED, "interrupted: %zu file(s) finished and kept, partial downloads kept as "
                        ".incomplete (run the same command again to resume)", p.ok);
    }
    if (p.failed)
        return cm_error(p.first_rc, "%zu of %zu download(s) failed; the first: %s", p.failed, n, p.first_err);
    return CM_OK;
}

/* ---- planning ------------------------------------------------------------------ */
typedef struct plan {
    hub_listing *listings;
    size_t       n_listings, cap_listings;
    item        *items;
    size_t       n_items, cap_items;
    cm_str       missing;   /* offline: what is not there */
    size_t       n_missing;
    char        *cache_root;
    int          first_rc;
    char         first_err[1024];
    size_t       n_errors;
} plan;

static void plan_error(plan *pl, cm_hub_fetch_stats *st, int rc) {
    cm_log(CM_LOG_WARN, "%s", cm_last_error());
    if (!pl->n_errors++) {
        pl->first_rc = rc;
        snprintf(pl->first_err, sizeof pl->first_err, "%s", cm_last_error());
    }
    st->files_failed++;
}

static int has_item(const plan *pl, const char *dest) {
    for (size_t i = 0; i < pl->n_items; i++)
        if (!strcmp(pl->items[i].dest, dest)) return 1;
    return 0;
}

/* Plans one repository: its listing, the chosen files, which are there, the rest as items (or, offline,
 * as missing). Returns CM_ERR_NOMEM or CM_ERR_INTERRUPTED only; other failures are recorded in pl. */
static int plan_job(hub_client *c, const repo_job *j, plan *pl, cm_hub_fetch_stats *st, cm_hub_task_size *size) {
    const char *dd = c->p.data_dir ? c->p.data_dir : "data";
    char *repo_dir = cm_path_join(dd, j->repo);
    char *snap = cm_hub_cache_snapshot(pl->cache_root, j->repo, j->revision);
    if (!repo_dir) { free(snap); return CM_ERR_NOMEM; }
    if (pl->n_listings == pl->cap_listings) {
        size_t cap = pl->cap_listings ? 2 * pl->cap_listings : 16;
        hub_listing *g = cm_realloc(pl->listings, cap * sizeof *g);
        if (!g) { free(repo_dir); free(snap); return CM_ERR_NOMEM; }
        pl->listings = g;
        pl->cap_listings = cap;
    }
    hub_listing *l = &pl->listings[pl->n_listings];
    int rc = hub_listing_get(c, j->repo, j->revision, snap != NULL, l, NULL);
    if (rc == CM_ERR_NOMEM || rc == CM_ERR_INTERRUPTED) { free(repo_dir); free(snap); return rc; }
    if (rc) {
        if (size) {   /* cmteb list: size unknown */
        } else if (c->p.offline && (snap || cm_dir_exists(repo_dir))) {
            cm_log(CM_LOG_INFO, "%s@%s: present in %s (not checked file by file: no listing kept)", j->repo,
                   j->revision, snap ? snap : repo_dir);
            cm_error_clear();
        } else if (c->p.offline) {
            cm_str_printf(&pl->missing, "\n  %s@%s: everything (nothing in %s or the hub cache, no listing kept)",
                          j->repo, j->revision, repo_dir);
            pl->n_missing++;
            st->files_failed++;
        } else {
            plan_error(pl, st, rc);
        }
        free(repo_dir);
        free(snap);
        return CM_OK;
    }
    pl->n_listings++;
    unsigned char *chosen = cm_calloc(l->n ? l->n : 1, 1);
    if (!chosen) { free(repo_dir); free(snap); return CM_ERR_NOMEM; }
    rc = hub_select(l->e, l->n, &j->need, j->repo, chosen);
    if (rc) {
        if (!size) plan_error(pl, st, rc);
        free(chosen); free(repo_dir); free(snap);
        return rc == CM_ERR_NOMEM ? rc : CM_OK;
    }
    /* the hub cache holds every chosen file at the pinned revision: read there, nothing to fetch */
    int in_cache = snap != NULL;
    for (size_t i = 0; i < l->n && in_cache; i++)
        if (chosen[i]) {
            char *p = cm_path_join(snap, l->e[i].path);
            in_cache = p && file_size_is(p, l->e[i].size);
            free(p);
        }
    if (size) size->known = 1;
    for (size_t i = 0; i < l->n; i++) {
        if (!chosen[i]) continue;
        st->files_needed++;
        st->bytes_needed += l->e[i].size;
        if (size) { size->files++; size->bytes += l->e[i].size; }
        item it = {j->repo, j->revision, &l->e[i], l->commit, cm_path_join(repo_dir, l->e[i].path),
                   hub_local_incomplete_path(repo_dir, l->e[i].path), hub_local_meta_path(repo_dir, l->e[i].path), 0};
        if (!it.dest || !it.incomplete || !it.meta) {
            free(it.dest); free(it.incomplete); free(it.meta);
            rc = CM_ERR_NOMEM;
            break;
        }
        int present = in_cache || local_present(&it);
        if (present || has_item(pl, it.dest)) {
            if (present) {
                st->files_present++;
                if (size) { size->files_present++; size->bytes_present += l->e[i].size; }
            }
            free(it.dest); free(it.incomplete); free(it.meta);
            continue;
        }
        if (c->p.offline || size) {
            if (!size) {
                cm_str_printf(&pl->missing, "\n  %s@%s: %s (%llu bytes)", j->repo, j->revision, l->e[i].path,
                              (unsigned long long)l->e[i].size);
                pl->n_missing++;
                st->files_failed++;
            }
            free(it.dest); free(it.incomplete); free(it.meta);
            continue;
        }
        if (pl->n_items == pl->cap_items) {
            size_t cap = pl->cap_items ? 2 * pl->cap_items : 64;
            item *g = cm_realloc(pl->items, cap * sizeof *g);
            if (!g) {
                free(it.dest); free(it.incomplete); free(it.meta);
                rc = CM_ERR_NOMEM;
                break;
            }
            pl->items = g;
            pl->cap_items = cap;
        }
        pl->items[pl->n_items++] = it;
    }
    if (!rc && in_cache && !size)
        cm_log(CM_LOG_INFO, "%s@%s: read from the hub cache at %s", j->repo, j->revision, snap);
    free(chosen);
    free(repo_dir);
    free(snap);
    return rc;
}

static void plan_free(plan *pl) {
    for (size_t i = 0; i < pl->n_listings; i++) hub_listing_free(&pl->listings[i]);
    free(pl->listings);
    for (size_t i = 0; i < pl->n_items; i++) {
        free(pl->items[i].dest); free(pl->items[i].incomplete); free(pl->items[i].meta);
    }
    free(pl->items);
    cm_str_free(&pl->missing);
    free(pl->cache_root);
}

int cm_hub_fetch_tasks(const cm_task *const *tasks, size_t n, const cm_hub_params *p, cm_hub_fetch_stats *st) {
    memset(st, 0, sizeof *st);
    cm_hub_params hp = *p;
    if (hp.offline < 0) hp.offline = env_offline();
    hub_client c;
    CM_TRY(hub_client_init(&c, &hp));
    plan pl = {0};
    int rc = CM_OK;
    if (!(pl.cache_root = cm_hub_cache_root())) rc = CM_ERR_NOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        repo_job jobs[64];
        size_t nj = task_jobs(tasks[i], jobs, 64);
        for (size_t k = 0; k < nj && !rc; k++) rc = plan_job(&c, &jobs[k], &pl, st, NULL);
        if (!rc && cm_interrupted()) rc = cm_error(CM_ERR_INTERRUPTED, "interrupted while listing");
    }
    if (!rc && pl.n_missing)
        rc = cm_error(CM_ERR_NOTFOUND, "HF_HUB_OFFLINE=1: %zu file(s) missing, not downloaded:%s", pl.n_missing,
                      pl.missing.s ? pl.missing.s : "");
    int prc = CM_OK;
    if (!rc && pl.n_items && !hp.offline) prc = run_pool(&c, pl.items, pl.n_items, st);
    st->requests = atomic_load(&c.requests);
    if (!rc && pl.n_errors) {
        rc = cm_error(pl.first_rc, "%zu repository listing(s) or selection(s) failed%s; the first: %s", pl.n_errors,
                      prc ? " and downloads failed" : "", pl.first_err);
    } else if (!rc) {
        rc = prc;
    }
    if (rc == CM_ERR_INTERRUPTED) st->interrupted = 1;
    plan_free(&pl);
    hub_client_free(&c);
    return rc;
}

int cm_hub_task_size_get(const cm_task *t, const cm_hub_params *p, int online, cm_hub_task_size *out) {
    memset(out, 0, sizeof *out);
    cm_hub_params hp = *p;
    hp.offline = online ? (hp.offline < 0 ? env_offline() : hp.offline) : 1;
    hp.quiet = 1;
    hub_client c;
    CM_TRY(hub_client_init(&c, &hp));
    plan pl = {0};
    cm_hub_fetch_stats st = {0};
    int rc = (pl.cache_root = cm_hub_cache_root()) ? CM_OK : CM_ERR_NOMEM;
    repo_job jobs[64];
    size_t nj = rc ? 0 : task_jobs(t, jobs, 64);
    int known = nj > 0;
    for (size_t k = 0; k < nj && !rc; k++) {
        cm_hub_task_size one = {0};
        rc = plan_job(&c, &jobs[k], &pl, &st, &one);
        known = known && one.known;
        out->files += one.files; out->files_present += one.files_present;
        out->bytes += one.bytes; out->bytes_present += one.bytes_present;
    }
    out->known = known;
    cm_error_clear();
    plan_free(&pl);
    hub_client_free(&c);
    return rc;
}
