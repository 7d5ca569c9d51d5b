/*
 * hub_layout.c: finding the file that holds a split in a hub download folder
 * (see dataset.h).
 */
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suf) {
    size_t ls = strlen(s), lf = strlen(suf);
    return ls >= lf && strcmp(s + ls - lf, suf) == 0;
}

/* ---- locating a split ------------------------------------------------------ */
static const char *const exts[] = {".jsonl",  ".jsonl.gz", ".json",   ".json.gz", ".csv",
                                   ".csv.gz", ".tsv",      ".tsv.gz", NULL};

static char *try_base(const char *dir, const char *name) {
    for (int i = 0; exts[i]; i++) {
        char *p = cm_asprintf("%s/%s%s", dir, name, exts[i]);
        if (p && cm_file_exists(p)) return p;
        free(p);
    }
    return NULL;
}

/* DIR/SPLIT-00000-of-00001.jsonl style names (the first in name order, so the
 * choice does not depend on the file system), or parquet (reported). */
static char *try_prefixed(const char *dir, const char *split, int *saw_parquet) {
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *e;
    char *found = NULL;
    size_t ls = strlen(split);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, split, ls) != 0 || (e->d_name[ls] != '-' && e->d_name[ls] != '.')) continue;
        if (ends_with(e->d_name, ".parquet")) { *saw_parquet = 1; continue; }
        for (int i = 0; exts[i]; i++)
            if (ends_with(e->d_name, exts[i])) {
                char *p = cm_asprintf("%s/%s", dir, e->d_name);
                if (p && (!found || strcmp(p, found) < 0)) { free(found); found = p; }
                else free(p);
                break;
            }
    }
    closedir(d);
    return found;
}

int cm_data_find_split(const char *dir, const char *subset, const char *split, char **path) {
    *path = NULL;
    if (!cm_dir_exists(dir))
        return cm_error(CM_ERR_NOTFOUND, "%s: data folder not found (download the dataset there, e.g. "
                        "huggingface-cli download --repo-type dataset REPO --local-dir %s)", dir, dir);
    int parquet = 0;
    char *cands[4] = {0};
    int nc = 0;
    if (subset) {
        cands[nc++] = cm_path_join(dir, subset);
        cands[nc++] = cm_asprintf("%s/data/%s", dir, subset);
    }
    cands[nc++] = cm_strdup(dir);
    cands[nc++] = cm_path_join(dir, "data");
    char *found = NULL;
    int rc = CM_OK;
    for (int i = 0; i < nc && !found; i++) {
        if (!cands[i]) { rc = CM_ERR_NOMEM; break; }
        found = try_base(cands[i], split);
        if (!found) found = try_prefixed(cands[i], split, &parquet);
    }
    for (int i = 0; i < nc; i++) free(cands[i]);
    if (found) {
        *path = found;
        return CM_OK;
    }
    if (rc) return rc;
    if (parquet)
        return cm_error(
            CM_ERR_UNSUPPORTED,
            "%s: split '%s'%s%s is only available as parquet, which is not supported yet "
            "(convert it to JSON Lines, e.g. pd.read_parquet(f).to_json('%s.jsonl', orient='records', lines=True))",
            dir, split, subset ? " of subset " : "", subset ? subset : "", split);
    return cm_error(CM_ERR_NOTFOUND, "%s: no file for split '%s'%s%s (looked in %s%s%s%s./ and data/ for %s.jsonl, "
                    "%s.jsonl.gz, %s.json, %s.csv, %s.tsv (optionally .gz) and %s-*.* files)",
                    dir, split, subset ? " of subset " : "", subset ? subset : "", subset ? subset : "",
                    subset ? "/, data/" : "", subset ? subset : "", subset ? "/, " : "", split, split, split, split,
                    split, split);
}
