/*
 * hub_cache.c: where hub data lives on disk (see hub.h): the huggingface_hub
 * cache (datasets--ORG--NAME/{refs,snapshots,blobs}, read in place) and the
 * `--local-dir` layout cmteb fetch writes (DATA_DIR/<repo>/ with
 * .cache/huggingface/download/<path>.metadata), and the resolution of a
 * task's folder between them.
 */
#include "datasets/hub/hub_int.h"
#include "cmteb/status.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *cm_hub_cache_root(void) {
    const char *v = getenv("HF_HUB_CACHE");
    if (v && *v) return cm_strdup(v);
    if ((v = getenv("HF_HOME")) && *v) return cm_path_join(v, "hub");
    if ((v = getenv("XDG_CACHE_HOME")) && *v) return cm_asprintf("%s/huggingface/hub", v);
    const char *home = getenv("HOME");
    return cm_asprintf("%s/.cache/huggingface/hub", home && *home ? home : ".");
}

/* datasets--ORG--NAME (huggingface_hub's repo_folder_name: '/' becomes "--") */
static char *repo_folder(const char *root, const char *repo) {
    cm_str b = {0};
    cm_str_printf(&b, "%s/datasets--", root);
    for (const char *p = repo; *p; p++) {
        if (*p == '/') cm_str_append(&b, "--");
        else cm_str_appendn(&b, p, 1);
    }
    if (cm_str_error(&b)) { cm_str_free(&b); return NULL; }
    return b.s;
}

char *cm_hub_cache_snapshot(const char *root, const char *repo, const char *revision) {
    if (!root || !repo || !revision || !*revision || strstr(revision, "..")) return NULL;
    char *rf = repo_folder(root, repo);
    if (!rf) return NULL;
    char *snap = NULL, *commit = NULL;
    if (hub_is_commit(revision)) {
        commit = cm_strdup(revision);
    } else {
        char *ref = cm_asprintf("%s/refs/%s", rf, revision);
        char *text = NULL;
        if (ref && cm_file_exists(ref) && !cm_read_file_max(ref, &text, NULL, 4096)) {
            text[strcspn(text, "\r\n \t")] = '\0';
            if (hub_is_commit(text)) commit = text;
            else free(text);
        }
        free(ref);
        if (!commit && hub_is_hex_prefix(revision)) {   /* a short commit id: the one snapshot it starts */
            char *sd = cm_path_join(rf, "snapshots");
            DIR *d = sd ? opendir(sd) : NULL;
            struct dirent *e;
            int hits = 0;
            while (d && (e = readdir(d)))
                if (hub_is_commit(e->d_name) && !strncmp(e->d_name, revision, strlen(revision))) {
                    if (!hits++) commit = cm_strdup(e->d_name);
                }
            if (d) closedir(d);
            free(sd);
            if (hits > 1) { free(commit); commit = NULL; }   /* ambiguous: not this cache's call */
        }
    }
    if (commit) {
        snap = cm_asprintf("%s/snapshots/%s", rf, commit);
        if (snap && !cm_dir_exists(snap)) { free(snap); snap = NULL; }
    }
    cm_error_clear();
    free(commit);
    free(rf);
    return snap;
}

/* A folder with something in it besides .cache (the metadata or a kept listing alone is no data) */
static int has_data(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d)))
        any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".cache");
    closedir(d);
    return any;
}

char *cm_hub_task_folder(const char *data_dir, const char *repo, const char *revision) {
    char *local = cm_path_join(data_dir ? data_dir : "data", repo);
    if (!local || has_data(local) || !revision) return local;
    char *root = cm_hub_cache_root();
    char *snap = root ? cm_hub_cache_snapshot(root, repo, revision) : NULL;
    free(root);
    if (!snap) return local;
    free(local);
    return snap;
}

char *hub_local_meta_path(const char *repo_dir, const char *path) {
    return cm_asprintf("%s/.cache/huggingface/download/%s.metadata", repo_dir, path);
}

char *hub_local_incomplete_path(const char *repo_dir, const char *path) {
    return cm_asprintf("%s/.cache/huggingface/download/%s.incomplete", repo_dir, path);
}

char *hub_local_listing_path(const char *repo_dir, const char *revision) {
    char *rev = hub_percent_encode(revision, 0);
    char *p = rev ? cm_asprintf("%s/.cache/cmteb/tree-%s.json", repo_dir, rev) : NULL;
    free(rev);
    return p;
}

int hub_local_meta_read(const char *meta_path, char **commit, char **etag) {
    *commit = *etag = NULL;
    char *text = NULL;
    if (!cm_file_exists(meta_path) || cm_read_file_max(meta_path, &text, NULL, 4096)) {
        cm_error_clear();
        return 0;
    }
    char *nl = strchr(text, '\n');
    char *second = nl ? nl + 1 : NULL;
    if (nl) *nl = '\0';
    if (second) second[strcspn(second, "\r\n")] = '\0';
    int ok = hub_is_commit(text) && second && *second;
    if (ok) {
        *commit = cm_strdup(text);
        *etag = cm_strdup(second);
        if (!*commit || !*etag) { free(*commit); free(*etag); *commit = *etag = NULL; ok = 0; }
    }
    free(text);
    return ok;
}

int hub_local_meta_write(const char *meta_path, const char *commit, const char *etag) {
    /* huggingface_hub's format: commit, etag and a timestamp, one per line */
    char *text = cm_asprintf("%s\n%s\n%.3f\n", commit ? commit : "", etag, (double)time(NULL));
    char *dir = cm_path_dirname(meta_path);
    int rc = !text || !dir ? CM_ERR_NOMEM : cm_mkdir_p(dir);
    if (!rc) rc = cm_write_file_atomic(meta_path, text, strlen(text));
    free(text);
    free(dir);
    return rc;
}

/* the commit line of the first metadata file under dir (recursively), or 0 */
static int meta_commit_under(const char *dir, char out[41], int depth) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d))) {
        if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2]))) continue;
        char *p = cm_path_join(dir, e->d_name);
        if (!p) break;
        size_t n = strlen(e->d_name);
        if (n > 9 && !strcmp(e->d_name + n - 9, ".metadata") && cm_file_exists(p)) {
            char *commit, *etag;
            if (hub_local_meta_read(p, &commit, &etag)) {
                memcpy(out, commit, 41);
                found = 1;
            }
            free(commit);
            free(etag);
        } else if (depth < 8 && cm_dir_exists(p)) {
            found = meta_commit_under(p, out, depth + 1);
        }
        free(p);
    }
    closedir(d);
    return found;
}

int cm_hub_folder_commit(const char *folder, char out[41]) {
    const char *base = cm_path_basename(folder);
    char *parent = cm_path_dirname(folder);
    int snapshot = parent && hub_is_commit(base) && !strcmp(cm_path_basename(parent), "snapshots");
    free(parent);
    if (snapshot) {
        memcpy(out, base, 41);
        return 1;
    }
    char *dl = cm_asprintf("%s/.cache/huggingface/download", folder);
    int ok = dl && meta_commit_under(dl, out, 0);
    free(dl);
    return ok;
}
