/*
 * test_fault_injection.c: SQLite-style allocation fault injection over an
 * in-process `cmteb run` (eval/run.c cm_run_tasks) of the demo tasks, one per
 * evaluator type, with the hash model and an embedding cache.
 *
 * A hook (cm_set_alloc_hooks, core/util.c) fails allocation number k, counted
 * from when it is armed, and lets every other one through. For k = 1, 2, ...
 * up to the allocation count of a clean run (strided when that is large, so
 * that each phase stays a few hundred runs) the test checks:
 *   - no crash, and no leak (the sanitizer build runs this under LSan);
 *   - the failure shows: cm_run_tasks returns an error, the summary marks the
 *     task failed, or the run recovered and wrote what a clean run writes;
 *   - every file left in the output folder is complete: a result file parses
 *     and its "scores" equal the clean run's (so main_score is there and no
 *     metric was dropped silently), model_meta.json and the per-item side
 *     file equal the clean run's, no temporary file is left behind; the
 *     cache's meta.json, when present, is complete.
 * Phases: (1) catalog, encoder and embedder set-up; (2) each demo task run
 * alone with a cold cache; (3) all of them in one run with a warm cache.
 * Allocations inside OpenBLAS, FAISS and libcurl are not hooked.
 */
#include "check.h"
#include "fault.h"
#include "fault_demo.h"
#include "cmteb/task.h"
#include "eval/run.h"

#include <dirent.h>
#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Runs per phase (k strided to fit); CMTEB_FAULT_RUNS overrides it, e.g. a
 * large value for an exhaustive sweep by hand. */
static long max_runs = 64;



static char *root, *out_dir, *cache_dir, *warm_cache;
static cm_catalog *cat;
static cm_encoder *enc;
static const cm_task *tasks[N_DEMO];
static cJSON *ref;   /* the clean run's files: basename -> parsed JSON */

/* ---- the files a run leaves ------------------------------------------------ */

static int collect_ref(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    if (flag != FTW_F || !ends_with(p, ".json")) return 0;
    cJSON *j = load_json(p);
    CHECK(j != NULL);
    if (j) cJSON_AddItemToObject(ref, p + f->base, j);
    return 0;
}

static size_t bad_files;
static FILE *report_to;   /* stderr, also while the run's own messages go to /dev/null */
static const char *phase_name;
static long phase_k;

static void bad(const char *path, const char *why) {
    bad_files++;
    fprintf(report_to ? report_to : stderr, "%s k=%ld: %s: %s\n", phase_name, phase_k, path, why);
}

static int check_file(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    if (flag != FTW_F) return 0;
    const char *name = p + f->base;
    if (strstr(name, ".tmp.")) { bad(p, "temporary file left behind"); return 0; }
    if (!ends_with(name, ".json")) return 0;
    cJSON *j = load_json(p);
    if (!j) { bad(p, "does not parse (truncated?)"); return 0; }
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(ref, name);
    if (!want) bad(p, "not in the clean run");
    else {
        const cJSON *a = compared_part(name, j), *b = compared_part(name, want);
        if (!a || !cJSON_Compare(a, b, 1)) bad(p, "differs from the clean run's (incomplete)");
        if (a != j) {   /* a result file: scores.<split>[0].main_score */
            const cJSON *e0 = a ? cJSON_GetArrayItem(a->child, 0) : NULL;
            if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(e0, "main_score"))) bad(p, "no main_score");
        }
    }
    cJSON_Delete(j);
    return 0;
}

static int check_cache_file(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    if (flag != FTW_F) return 0;
    if (strstr(p + f->base, ".tmp.")) bad(p, "temporary file left behind");
    if (strcmp(p + f->base, "meta.json")) return 0;
    cJSON *j = load_json(p);
    if (!j || !cJSON_IsString(cJSON_GetObjectItem(j, "fingerprint")) || !cJSON_IsNumber(cJSON_GetObjectItem(j, "dim")))
        bad(p, "incomplete cache meta.json");
    cJSON_Delete(j);
    return 0;
}

/* 1 when task t has a result file (no allocation: the hook is armed). */
static int result_exists(const cm_run_summary *s, const cm_task *t) {
    char path[4096];
    if (!s->model_dir) return 0;
    snprintf(path, sizeof path, "%s/%s.json", s->model_dir, t->name);
    return cm_file_exists(path);
}

/* ---- one run ------------------------------------------------------------- */
typedef struct { int rc, init_failed; size_t n_failed, n_ok_without_file, n_failed_with_file; } run_out;

/* Embedder (cache in cache) + cm_run_tasks over ts into a fresh out_dir. */
static run_out run_once(const cm_task *const *ts, size_t n, const char *cache) {
    run_out o = {0};
    cm_embedder_params bp = cm_embedder_default_params();
    bp.quiet = 1;
    bp.cache_dir = cache;
    cm_embedder *emb = NULL;
    o.rc = cm_embedder_init(&emb, enc, &bp);
    if (o.rc) { o.init_failed = 1; return o; }
    cm_run_params p = cm_run_default_params();
    p.output_dir = out_dir;
    p.quiet = 1;
    p.threads = 1;
    cm_run_summary s;
    o.rc = cm_run_tasks(emb, ts, n, &p, &s);
    o.n_failed = s.n_failed;
    for (size_t i = 0; i < s.n; i++) {
        int e = result_exists(&s, s.results[i].task);
        if (!s.results[i].status && !e) o.n_ok_without_file++;
        if (s.results[i].status && e) o.n_failed_with_file++;
    }
    cm_run_summary_free(&s);
    cm_embedder_free(emb);
    return o;
}


/* Runs ts (cache: NULL cold, fresh each run; else that warm folder) clean,
 * then with each k failing; totals in *clean_allocs, *injected. */
static void phase(const char *name, const cm_task *const *ts, size_t n, const char *warm, long *clean_allocs,
                  long *injected) {
    phase_name = name;
    phase_k = 0;
    const char *cache = warm ? warm : cache_dir;
    fault_rm_rf(out_dir);
    if (!warm) fault_rm_rf(cache_dir);
    fault_arm(0);
    run_out o = run_once(ts, n, cache);
    fault_disarm();
    long clean = fault_allocs;
    CHECK_OK(o.rc);
    CHECK(o.n_failed == 0);
    bad_files = 0;
    nftw(out_dir, check_file, 16, FTW_PHYS);
    CHECK(bad_files == 0);
    long stride = clean / max_runs + 1;
    size_t runs = 0, shown = 0, silent = 0, recovered = 0;
    FILE *saved = fault_quiet_stderr();
    report_to = saved;
    for (long k = 1; k <= clean; k += stride) {
        phase_k = k;
        fault_rm_rf(out_dir);
        if (!warm) fault_rm_rf(cache_dir);
        fault_arm(k);
        o = run_once(ts, n, cache);
        fault_disarm();
        runs++;
        *injected += fault_injected;
        nftw(out_dir, check_file, 16, FTW_PHYS);
        nftw(cache, check_cache_file, 16, FTW_PHYS);
        if (o.n_ok_without_file || o.n_failed_with_file) {
            bad(out_dir, o.n_ok_without_file ? "a task reported done has no result file"
                                             : "a task reported failed has a result file");
        }
        if (!fault_injected) continue;
        if (o.rc || o.n_failed) shown++;
        else if (o.n_ok_without_file == 0) recovered++;   /* files checked equal to the clean run's above */
        else { silent++; bad(out_dir, "failure injected, run reported success, result missing"); }
    }
    fault_restore_stderr(saved);
    report_to = NULL;
    CHECK(bad_files == 0);
    CHECK(silent == 0);
    CHECK(shown > 0);
    printf("%-24s %6ld allocations in a clean run; %zu runs (stride %ld): %zu failed visibly, %zu recovered\n",
           name, clean, runs, stride, shown, recovered);
    *clean_allocs += clean;
}

/* Set-up: catalog, encoder and embedder (with its cache folder) creation. */
static void setup_phase(long *clean_allocs, long *injected) {
    phase_name = "set-up";
    long clean = 0;
    for (long k = 0; k == 0 || k <= clean; k += k ? clean / max_runs + 1 : 1) {
        fault_rm_rf(cache_dir);
        fault_arm(k);
        cm_catalog *c = NULL;
        cm_encoder *e = NULL;
        cm_embedder *b = NULL;
        cm_encoder_params ep = cm_encoder_default_params();
        ep.quiet = 1;
        cm_embedder_params bp = cm_embedder_default_params();
        bp.quiet = 1;
        bp.cache_dir = cache_dir;
        int rc = cm_catalog_init(&c);
        if (!rc) rc = cm_catalog_find(c, "DemoRetrieval") ? CM_OK : CM_ERR_NOTFOUND;
        if (!rc) rc = cm_encoder_init(&e, "hash:64", &ep);
        if (!rc) rc = cm_embedder_init(&b, e, &bp);
        fault_disarm();
        if (k == 0) { clean = fault_allocs; CHECK_OK(rc); }
        else { CHECK(rc != CM_OK || fault_injected == 0); *injected += fault_injected; }
        if (rc) CHECK(b == NULL);
        cm_embedder_free(b);
        cm_encoder_free(e);
        cm_catalog_free(c);
        phase_k = k;
        nftw(cache_dir, check_cache_file, 16, FTW_PHYS);
    }
    printf("%-24s %6ld allocations in a clean run\n", "set-up", clean);
    *clean_allocs += clean;
}

int main(void) {
    max_runs = fault_runs(max_runs);
    root = cm_asprintf("%s/fault_injection.%d", check_env("CMTEB_TMP"), (int)getpid());
    out_dir = cm_path_join(root, "results");
    cache_dir = cm_path_join(root, "cache");
    warm_cache = cm_path_join(root, "warm-cache");
    ref = cJSON_CreateObject();
    if (!fault_demo_set_up(&cat, &enc, tasks)) return check_report();

    /* The clean run's files, the reference every file is compared to; its
     * cache is the warm cache of phase 3. */
    fault_rm_rf(root);
    run_out o = run_once(tasks, N_DEMO, warm_cache);
    CHECK_OK(o.rc);
    CHECK(o.n_failed == 0);
    nftw(out_dir, collect_ref, 16, FTW_PHYS);
    CHECK(cJSON_GetArraySize(ref) == (int)N_DEMO * 2 + 1);   /* results, side files, model_meta */

    long clean = 0, injected = 0;
    double t0 = cm_now();
    setup_phase(&clean, &injected);
    for (size_t i = 0; i < N_DEMO; i++) phase(demo_names[i], &tasks[i], 1, NULL, &clean, &injected);
    phase("all tasks, warm cache", tasks, N_DEMO, warm_cache, &clean, &injected);
    printf("%ld allocations in the clean runs, %ld failures injected one at a time, %.1f s\n", clean, injected,
           cm_now() - t0);

    fault_rm_rf(root);
    cJSON_Delete(ref);
    cm_encoder_free(enc);
    cm_catalog_free(cat);
    free(root);
    free(out_dir);
    free(cache_dir);
    free(warm_cache);
    return check_report();
}
