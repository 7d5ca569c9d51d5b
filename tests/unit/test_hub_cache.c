/*
 * test_hub_cache.c: a huggingface_hub cache read in place (tests/fixtures/hub-cache: refs/, snapshots/ with
 * relative links into blobs/): the cache root from the environment, a snapshot by full commit, branch, tag,
 * refs/convert/parquet and commit prefix, a task's folder resolved to it when DATA_DIR lacks the dataset,
 * its split found and read through the links, and the commit recorded for results.
 */
#include "check.h"
#include "cmteb/dataset.h"
#include "cmteb/hub.h"
#include "cmteb/records.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define C1 "3f1a9c0e5b7d2468ace013579bdf2468ace01357"
#define C2 "9e8d7c6b5a49382716051f2e3d4c5b6a79881726"

static void expect_snapshot(const char *root, const char *rev, const char *commit) {
    char *s = cm_hub_cache_snapshot(root, "mteb/tiny-sts", rev);
    if (!commit) {
        CHECK(s == NULL);
    } else {
        char *want = cm_asprintf("%s/datasets--mteb--tiny-sts/snapshots/%s", root, commit);
        CHECK(s && !strcmp(s, want));
        if (!s || strcmp(s, want)) fprintf(stderr, "revision %s: %s, expected %s\n", rev, s ? s : "NULL", want);
        free(want);
    }
    free(s);
}

int main(void) {
    const char *src = check_env("CMTEB_SRC");
    if (!*src) SKIP("CMTEB_SRC not set");
    char *root = cm_path_join(src, "tests/fixtures/hub-cache");

    /* the root: HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/... */
    setenv("HOME", "/home/u", 1);
    unsetenv("HF_HUB_CACHE"); unsetenv("HF_HOME"); unsetenv("XDG_CACHE_HOME");
    char *r = cm_hub_cache_root();
    CHECK(r && !strcmp(r, "/home/u/.cache/huggingface/hub"));
    free(r);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    r = cm_hub_cache_root();
    CHECK(r && !strcmp(r, "/xdg/huggingface/hub"));
    free(r);
    setenv("HF_HOME", "/hfh", 1);
    r = cm_hub_cache_root();
    CHECK(r && !strcmp(r, "/hfh/hub"));
    free(r);
    setenv("HF_HUB_CACHE", root, 1);
    r = cm_hub_cache_root();
    CHECK(r && !strcmp(r, root));
    free(r);

    expect_snapshot(root, C1, C1);
    expect_snapshot(root, "main", C1);
    expect_snapshot(root, "v1.0", C1);
    expect_snapshot(root, "refs/convert/parquet", C2);
    expect_snapshot(root, "3f1a9c0e", C1);                 /* a prefix naming one snapshot */
    expect_snapshot(root, "0000000000000000000000000000000000000000", NULL);
    expect_snapshot(root, "dev", NULL);
    expect_snapshot(root, "../../etc", NULL);
    char *none = cm_hub_cache_snapshot(root, "mteb/absent", "main");
    CHECK(none == NULL);

    /* a task's folder: DATA_DIR/<repo> when it holds data, else the snapshot (read in place) */
    const char *tmp = check_env("CMTEB_TMP");
    char *dd = cm_asprintf("%s/hub_cache_dd.%d", *tmp ? tmp : "/tmp", (int)getpid());
    char *folder = cm_hub_task_folder(dd, "mteb/tiny-sts", "main");
    char *snap = cm_asprintf("%s/datasets--mteb--tiny-sts/snapshots/" C1, root);
    CHECK(folder && !strcmp(folder, snap));
    char commit[41] = "";
    CHECK(cm_hub_folder_commit(folder, commit) == 1 && !strcmp(commit, C1));
    char *split = NULL;
    CHECK_OK(cm_data_find_split(folder, NULL, "test", &split));
    CHECK(split && strstr(split, "/data/test.jsonl") != NULL);
    struct stat st;
    CHECK(split && lstat(split, &st) == 0 && S_ISLNK(st.st_mode));   /* the link itself: nothing was copied */
    cm_records *rec = NULL;
    size_t rows = 0;
    if (split && !cm_records_open(&rec, split)) {
        cJSON *o = NULL;
        while (cm_records_next(rec, &o) == 1 && o) rows++;
        cm_records_close(rec);
    }
    CHECK(rows == 3);
    free(split);
    free(folder);
    /* a revision the cache lacks: DATA_DIR/<repo>, so that "not found" names it */
    folder = cm_hub_task_folder(dd, "mteb/tiny-sts", "0000000000000000000000000000000000000000");
    char *local = cm_path_join(dd, "mteb/tiny-sts");
    CHECK(folder && !strcmp(folder, local));
    free(folder);
    /* DATA_DIR/<repo> holding only .cache (a kept listing) is no data: still the snapshot */
    char *meta = cm_asprintf("%s/.cache/cmteb", local);
    CHECK_OK(cm_mkdir_p(meta));
    folder = cm_hub_task_folder(dd, "mteb/tiny-sts", "main");
    CHECK(folder && !strcmp(folder, snap));
    free(folder);
    /* with data in DATA_DIR/<repo>, that folder wins */
    char *f = cm_path_join(local, "test.jsonl");
    CHECK_OK(cm_write_file_atomic(f, "{}\n", 3));
    folder = cm_hub_task_folder(dd, "mteb/tiny-sts", "main");
    CHECK(folder && !strcmp(folder, local));
    free(folder);
    unlink(f);
    free(f); free(meta); free(local); free(snap); free(dd); free(root);
    return check_report();
}
