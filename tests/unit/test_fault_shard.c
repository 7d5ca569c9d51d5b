/*
 * test_fault_shard.c: allocation fault injection (fault.h) over a sharded run
 * and its merge (eval/run.c, eval/shard_merge.c, the embedder's slice mode):
 * the demo benchmark (every task type) as shard 1 of 2 and as the merge of
 * both shards, with the hash:64 model.
 *
 * Each phase counts the allocations of a clean call, then fails allocation k
 * (strided to at most max_runs calls; CMTEB_FAULT_RUNS overrides) and checks:
 * no crash and no leak (LSan in the sanitizer build); the failure shows (an
 * error or failed tasks, each with a message) or the call recovered; no
 * temporary file is left; and then
 *   shard run: the same run again without faults (a resume over what the
 *              failed one left: partial slices, records) and the merge give
 *              exactly the clean merge's files;
 *   merge:     a merge reported complete wrote exactly the clean merge's
 *              files, and a failed one is followed by a clean merge that does.
 */
#include "check.h"
#include "fault.h"
#include "fault_demo.h"
#include "eval/run.h"
#include "eval/shard.h"

#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long max_runs = 48;


static char *root, *s0, *s1, *merged;
static cm_catalog *cat;
static cm_encoder *enc;
static const cm_task *tasks[N_DEMO];
static cJSON *ref;   /* the clean merge's files: relative path -> parsed JSON */
static size_t bad_files;
static const char *phase_name;
static long phase_k;


static void bad(const char *path, const char *why) {
    bad_files++;
    fprintf(stderr, "%s k=%ld: %s: %s\n", phase_name, phase_k, path, why);
}


static size_t root_len;   /* prefix stripped from paths: the merged folder */
static int collect_ref(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    if (flag != FTW_F || !ends_with(p, ".json") || strstr(p, "run.lock")) return 0;
    cJSON *j = load_json(p);
    CHECK(j != NULL);
    if (j) cJSON_AddItemToObject(ref, p + root_len, j);
    (void)f;
    return 0;
}

static size_t n_seen;
static int check_file(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    if (flag != FTW_F) return 0;
    const char *name = p + f->base;
    if (strstr(name, ".tmp.")) { bad(p, "temporary file left behind"); return 0; }
    if (!ends_with(name, ".json")) return 0;
    cJSON *j = load_json(p);
    const cJSON *want = cJSON_GetObjectItemCaseSensitive(ref, p + root_len);
    if (!j) bad(p, "does not parse");
    else if (!want) bad(p, "not in the clean merge");
    else if (!cJSON_Compare(compared_part(name, j), compared_part(name, want), 1)) bad(p, "differs from the clean merge");
    else n_seen++;
    cJSON_Delete(j);
    return 0;
}

static int no_temps(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    if (flag == FTW_F && strstr(p + f->base, ".tmp.")) bad(p, "temporary file left behind");
    return 0;
}

/* The merged folder holds exactly the clean merge's files. */
static void check_merged(void) {
    n_seen = 0;
    nftw(merged, check_file, 16, FTW_PHYS);
    if (n_seen != (size_t)cJSON_GetArraySize(ref)) bad(merged, "files missing after the merge");
}

typedef struct { int rc; size_t n_failed, n_silent; } outcome;

/* The summary's failed tasks, and those that failed without a message, into o. */
static void tally(outcome *o, const cm_run_summary *s) {
    o->n_failed = s->n_failed;
    for (size_t t = 0; t < s->n; t++)
        if (s->results[t].status && (!s->results[t].error || !*s->results[t].error)) o->n_silent++;
}

static outcome shard_run(const char *dir, size_t i) {
    outcome o = {0, 0, 0};
    cm_embedder_params bp = cm_embedder_default_params();
    bp.quiet = 1;
    cm_embedder *emb = NULL;
    o.rc = cm_embedder_init(&emb, enc, &bp);
    if (o.rc) return o;
    cm_run_params p = cm_run_default_params();
    p.output_dir = dir;
    p.quiet = 1;
    p.threads = 1;
    p.shard_index = i;
    p.shard_count = 2;
    cm_run_summary s;
    o.rc = cm_run_tasks(emb, tasks, N_DEMO, &p, &s);
    tally(&o, &s);
    cm_run_summary_free(&s);
    cm_embedder_free(emb);
    return o;
}

static outcome merge_run(void) {
    outcome o = {0, 0, 0};
    const char *dirs[2] = {s0, s1};
    cm_merge_params mp = cm_merge_default_params();
    mp.output_dir = merged;
    mp.quiet = 1;
    mp.threads = 1;
    cm_catalog *mc = NULL;
    cm_run_summary s;
    o.rc = cm_shard_merge(dirs, 2, &mp, &mc, &s);
    tally(&o, &s);
    cm_run_summary_free(&s);
    cm_catalog_free(mc);
    return o;
}


int main(void) {
    max_runs = fault_runs(max_runs);
    root = cm_asprintf("%s/fault_shard.%d", check_env("CMTEB_TMP"), (int)getpid());
    s0 = cm_path_join(root, "s0");
    s1 = cm_path_join(root, "s1");
    merged = cm_path_join(root, "merged");
    root_len = strlen(merged);
    ref = cJSON_CreateObject();
    if (!fault_demo_set_up(&cat, &enc, tasks)) return check_report();

    /* the clean shards and merge: the reference */
    fault_rm_rf(root);
    outcome o = shard_run(s0, 0);
    CHECK(o.rc == CM_OK && o.n_failed == 0);
    fault_arm(0);
    o = shard_run(s1, 1);
    fault_disarm();
    long clean_shard = fault_allocs;
    CHECK(o.rc == CM_OK && o.n_failed == 0);
    fault_arm(0);
    o = merge_run();
    fault_disarm();
    long clean_merge = fault_allocs;
    CHECK(o.rc == CM_OK && o.n_failed == 0);
    nftw(merged, collect_ref, 16, FTW_PHYS);
    CHECK(cJSON_GetArraySize(ref) == (int)N_DEMO * 2 + 1);   /* results, side files, model_meta */

    size_t shown = 0, recovered = 0, runs = 0;
    double t0 = cm_now();
    FILE *saved = fault_quiet_stderr();
    /* 1. shard 1's run, failing allocation k; then resumed cleanly and merged */
    phase_name = "shard run";
    for (long k = 1; k <= clean_shard; k += clean_shard / max_runs + 1) {
        phase_k = k;
        fault_rm_rf(s1);
        fault_arm(k);
        o = shard_run(s1, 1);
        fault_disarm();
        runs++;
        nftw(s1, no_temps, 16, FTW_PHYS);
        if (o.n_silent) bad(s1, "a task failed without a message");
        if (fault_injected && (o.rc || o.n_failed)) shown++;
        else if (fault_injected) recovered++;
        o = shard_run(s1, 1);   /* resume over whatever the failed run left */
        if (o.rc || o.n_failed) bad(s1, "the resumed shard run failed");
        fault_rm_rf(merged);
        o = merge_run();
        if (o.rc || o.n_failed) bad(merged, "the merge after the resumed shard failed");
        else check_merged();
    }
    /* 2. the merge, failing allocation k */
    phase_name = "merge";
    for (long k = 1; k <= clean_merge; k += clean_merge / max_runs + 1) {
        phase_k = k;
        fault_rm_rf(merged);
        fault_arm(k);
        o = merge_run();
        fault_disarm();
        runs++;
        nftw(merged, no_temps, 16, FTW_PHYS);
        if (o.n_silent) bad(merged, "a task failed without a message");
        if (!o.rc && !o.n_failed) {
            if (fault_injected) recovered++;
            check_merged();
        } else {
            if (fault_injected) shown++;
            o = merge_run();   /* over what the failed merge left */
            if (o.rc || o.n_failed) bad(merged, "the merge after a failed one failed");
            else check_merged();
        }
    }
    fault_restore_stderr(saved);
    CHECK(bad_files == 0);
    CHECK(shown > 0);
    printf("shard run %ld allocations, merge %ld; %zu runs with a fault: %zu failed visibly, %zu recovered (%.1f s)\n",
           clean_shard, clean_merge, runs, shown, recovered, cm_now() - t0);
    fault_rm_rf(root);
    cJSON_Delete(ref);
    cm_encoder_free(enc);
    cm_catalog_free(cat);
    free(root); free(s0); free(s1); free(merged);
    return check_report();
}
