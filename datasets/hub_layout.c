/*
 * hub_layout.c: finding the file that holds a split in a hub download folder
 * (see dataset.h).
 */
#include "cmteb/dataset.h"
#include "datasets/formats/formats.h"
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
                                   ".csv.gz", ".tsv",      ".tsv.gz", ".parquet", NULL};

static char *try_base(const char *dir, const char *name) {
    for (int i = 0; exts[i]; i++) {
        char *p = cm_asprintf("%s/%s%s", dir, name, exts[i]);
        if (p && cm_file_exists(p)) return p;
        free(p);
    }
    return NULL;
}

/* DIR/SPLIT-00000-of-00001.jsonl style names (the first in name order, so the
 * choice does not depend on the file system); parquet only when nothing else
 * is there (*n_parquet counts its shards: more than one is an error). */
static char *try_prefixed(const char *dir, const char *split, int *n_parquet) {
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *e;
    char *found = NULL, *parquet = NULL;
    size_t ls = strlen(split);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, split, ls) != 0 || (e->d_name[ls] != '-' && e->d_name[ls] != '.')) continue;
        if (ends_with(e->d_name, ".parquet")) {
            char *p = cm_asprintf("%s/%s", dir, e->d_name);
            (*n_parquet)++;
            if (p && (!parquet || strcmp(p, parquet) < 0)) { free(parquet); parquet = p; }
            else free(p);
            continue;
        }
        for (int i = 0; exts[i]; i++)
            if (ends_with(e->d_name, exts[i])) {
                char *p = cm_asprintf("%s/%s", dir, e->d_name);
                if (p && (!found || strcmp(p, found) < 0)) { free(found); found = p; }
                else free(p);
                break;
            }
    }
    closedir(d);
    if (found) { free(parquet); *n_parquet = 0; return found; }
    return parquet;
}

/* ---- layouts defined by loading scripts -------------------------------------- */
/* mteb/amazon_counterfactual: data/{EN,DE,JP,EN-ext}_{train,valid,test}.tsv, subset code -> file prefix. */
static char *try_counterfactual(const char *dir, const char *subset, const char *split) {
    static const char *const langs[][2] = {{"en", "EN"}, {"de", "DE"}, {"ja", "JP"}, {"en-ext", "EN-ext"}};
    const char *code = NULL, *part = !strcmp(split, "validation") ? "valid" : split;
    for (size_t i = 0; subset && i < sizeof langs / sizeof langs[0]; i++)
        if (!strcmp(subset, langs[i][0])) code = langs[i][1];
    if (!code || (strcmp(part, "train") && strcmp(part, "valid") && strcmp(part, "test"))) return NULL;
    char *p = cm_asprintf("%s/data/%s_%s.tsv", dir, code, part);
    if (p && cm_file_exists(p)) {
        char *loc = cm_asprintf("%s#cmteb:amazon_counterfactual", p);
        free(p);
        return loc;
    }
    free(p);
    return NULL;
}

/* MTEB's MASSIVE subsets -> the tarball's locale files (mteb MassiveIntentClassification _LANGUAGES). */
static const char *massive_locale(const char *subset) {
    static const char *const loc[] = {
        "af-ZA", "am-ET", "ar-SA", "az-AZ", "bn-BD", "cy-GB", "da-DK", "de-DE", "el-GR", "en-US", "es-ES",
        "fa-IR", "fi-FI", "fr-FR", "he-IL", "hi-IN", "hu-HU", "hy-AM", "id-ID", "is-IS", "it-IT", "ja-JP",
        "jv-ID", "ka-GE", "km-KH", "kn-IN", "ko-KR", "lv-LV", "ml-IN", "mn-MN", "ms-MY", "my-MM", "nb-NO",
        "nl-NL", "pl-PL", "pt-PT", "ro-RO", "ru-RU", "sl-SL", "sq-AL", "sv-SE", "sw-KE", "ta-IN", "te-IN",
        "th-TH", "tl-PH", "tr-TR", "ur-PK", "vi-VN", "zh-CN", "zh-TW"};
    for (size_t i = 0; subset && i < sizeof loc / sizeof loc[0]; i++) {
        size_t n = strlen(subset);
        if (!strcmp(subset, loc[i]) || (n == 2 && !strncmp(loc[i], subset, 2) && strncmp(subset, "zh", 2)))
            return loc[i];
    }
    return NULL;
}

/* mteb/amazon_massive_{intent,scenario}: amazon-massive-dataset-1.0.tar.gz at the root. Which label the
 * rows carry is the repository's: told by its loading script's file name, else by the folder's path
 * (DATA_DIR/mteb/amazon_massive_scenario or a hub-cache datasets--mteb--amazon_massive_scenario). */
static char *try_massive(const char *dir, const char *subset, const char *split, int *rc) {
    char *tar = cm_path_join(dir, "amazon-massive-dataset-1.0.tar.gz");
    if (!tar || !cm_file_exists(tar)) { free(tar); return NULL; }
    const char *locale = massive_locale(subset ? subset : "en");
    const char *part = !strcmp(split, "validation") ? "dev" : split;
    char *si = cm_path_join(dir, "amazon_massive_intent.py"), *ss = cm_path_join(dir, "amazon_massive_scenario.py");
    const char *kind = ss && cm_file_exists(ss) ? "scenario" : si && cm_file_exists(si) ? "intent"
                       : strstr(dir, "massive_scenario") ? "scenario" : strstr(dir, "massive_intent") ? "intent" : NULL;
    free(si);
    free(ss);
    char *loc = NULL;
    if (!locale)
        *rc = cm_error(CM_ERR_NOTFOUND, "%s: MASSIVE has no subset '%s' (expected a language code such as en, de, "
                       "zh-CN)", dir, subset);
    else if (strcmp(part, "train") && strcmp(part, "dev") && strcmp(part, "test"))
        *rc = cm_error(CM_ERR_NOTFOUND, "%s: MASSIVE has no split '%s' (expected train, validation or test)", dir,
                       split);
    else if (!kind)
        *rc = cm_error(CM_ERR_FORMAT, "%s: a MASSIVE tarball, but which labels (intent or scenario)? Expected the "
                       "loading script amazon_massive_intent.py or amazon_massive_scenario.py beside it", dir);
    else if (!(loc = cm_asprintf("%s#cmteb:massive:%s:%s:%s", tar, locale, part, kind)))
        *rc = CM_ERR_NOMEM;
    free(tar);
    return loc;
}

int cm_data_find_split(const char *dir, const char *subset, const char *split, char **path) {
    *path = NULL;
    if (!cm_dir_exists(dir))
        return cm_error(CM_ERR_NOTFOUND, "%s: data folder not found (download the dataset there, e.g. "
                        "huggingface-cli download --repo-type dataset REPO --local-dir %s)", dir, dir);
    int parquet = 0;   /* parquet shards of the split seen in the folder that had them */
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
    if (found && parquet > 1) {
        rc = cm_error(CM_ERR_UNSUPPORTED, "%s: split '%s' is %d parquet shards; reading more than one shard is not "
                      "supported yet (found %s)", dir, split, parquet, found);
        free(found);
        return rc;
    }
    if (!found && !rc) found = try_counterfactual(dir, subset, split);
    if (!found && !rc) found = try_massive(dir, subset, split, &rc);
    if (found) {
        *path = found;
        return CM_OK;
    }
    if (rc) return rc;
    return cm_error(CM_ERR_NOTFOUND, "%s: no file for split '%s'%s%s (looked in %s%s%s%s./ and data/ for %s.jsonl, "
                    "%s.jsonl.gz, %s.json, %s.csv, %s.tsv (optionally .gz) and %s-*.* files)",
                    dir, split, subset ? " of subset " : "", subset ? subset : "", subset ? subset : "",
                    subset ? "/, data/" : "", subset ? subset : "", subset ? "/, " : "", split, split, split, split,
                    split, split);
}

int cm_data_open(cm_records **out, const char *where) {
    *out = NULL;
    const char *mark = strstr(where, "#cmteb:");
    if (mark) {
        char *file = cm_strndup(where, (size_t)(mark - where));
        if (!file) return CM_ERR_NOMEM;
        int rc = cm_script_open(out, file, mark + 7);
        free(file);
        return rc;
    }
    if (ends_with(where, ".parquet")) return cm_parquet_open(out, where);
    return cm_records_open(out, where);
}
