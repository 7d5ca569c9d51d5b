/*
 * hub_api.c: a dataset repository's file listing (see hub_int.h): the hub's
 * tree API, paginated by Link rel="next", parsed into files with their size,
 * git oid and LFS sha256, and kept beside the data for offline use and
 * `cmteb list`.
 */
#include "datasets/hub/hub_int.h"
#include "cmteb/log.h"
#include "cmteb/status.h"

#include <cjson/cJSON.h>

#include <stdlib.h>
#include <string.h>

enum { MAX_PAGES = 10000 };

void hub_listing_free(hub_listing *l) {
    for (size_t i = 0; i < l->n; i++) {
        free(l->e[i].path);
        free(l->e[i].oid);
        free(l->e[i].sha256);
    }
    free(l->e);
    free(l->commit);
    memset(l, 0, sizeof *l);
}

static int str_field(const cJSON *o, const char *k, char **out, int required, const char *where, size_t i) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v && !required) return CM_OK;
    if (!cJSON_IsString(v))
        return cm_error(CM_ERR_FORMAT, "%s: entry %zu: field '%s': expected a string", where, i, k);
    *out = cm_strdup(v->valuestring);
    return *out ? CM_OK : CM_ERR_NOMEM;
}

static int size_field(const cJSON *o, const char *k, uint64_t *out, const char *where, size_t i) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.0e15)
        return cm_error(CM_ERR_FORMAT, "%s: entry %zu: field '%s': expected a size in bytes", where, i, k);
    *out = (uint64_t)v->valuedouble;
    return CM_OK;
}

int hub_listing_parse(hub_listing *l, const char *json, const char *where) {
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return cm_error(CM_ERR_FORMAT, "%s: expected a JSON array of entries", where);
    }
    int rc = CM_OK;
    size_t i = 0;
    for (const cJSON *o = root->child; o && !rc; o = o->next, i++) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "type");
        if (!cJSON_IsObject(o) || !cJSON_IsString(type)) {
            rc = cm_error(CM_ERR_FORMAT, "%s: entry %zu: expected an object with a string 'type'", where, i);
            break;
        }
        if (strcmp(type->valuestring, "file")) continue;   /* "directory" */
        hub_entry e = {0};
        const cJSON *lfs = cJSON_GetObjectItemCaseSensitive(o, "lfs");
        if ((rc = str_field(o, "path", &e.path, 1, where, i)) || (rc = str_field(o, "oid", &e.oid, 0, where, i)) ||
            (rc = size_field(o, "size", &e.size, where, i))) {
        } else if (cJSON_IsObject(lfs)) {
            if (!(rc = str_field(lfs, "oid", &e.sha256, 1, where, i))) rc = size_field(lfs, "size", &e.size, where, i);
            if (!rc && (strlen(e.sha256) != 64 || !hub_is_hex_prefix(e.sha256 + 24)))
                rc = cm_error(CM_ERR_FORMAT, "%s: entry %zu: lfs.oid: expected 64 hex digits", where, i);
        }
        if (!rc && (!e.path[0] || e.path[0] == '/' || strstr(e.path, "..") || strchr(e.path, '\\')))
            rc = cm_error(CM_ERR_FORMAT, "%s: entry %zu: path '%s' is not a plain relative path", where, i, e.path);
        if (!rc && l->n % 64 == 0) {
            hub_entry *g = cm_realloc(l->e, (l->n + 64) * sizeof *g);
            if (!g) rc = CM_ERR_NOMEM;
            else l->e = g;
        }
        if (rc) {
            free(e.path); free(e.oid); free(e.sha256);
            break;
        }
        l->e[l->n++] = e;
    }
    cJSON_Delete(root);
    return rc;
}

/* The kept listing: {"repo", "revision", "commit", "entries": [tree API entries]} */
static int kept_read(const char *path, hub_listing *l) {
    char *text = NULL;
    CM_TRY(cm_read_file_max(path, &text, NULL, (size_t)1 << 28));
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *ents = cJSON_GetObjectItemCaseSensitive(root, "entries");
    const cJSON *commit = cJSON_GetObjectItemCaseSensitive(root, "commit");
    int rc = CM_OK;
    if (!cJSON_IsArray(ents)) rc = cm_error(CM_ERR_FORMAT, "%s: not a kept listing (no 'entries')", path);
    char *etext = rc ? NULL : cJSON_PrintUnformatted(ents);
    if (!rc && !etext) rc = CM_ERR_NOMEM;
    if (!rc) rc = hub_listing_parse(l, etext, path);
    if (!rc && cJSON_IsString(commit) && !(l->commit = cm_strdup(commit->valuestring))) rc = CM_ERR_NOMEM;
    free(etext);
    cJSON_Delete(root);
    return rc;
}

static int kept_write(const char *path, const char *repo, const char *revision, const char *commit, cJSON *ents) {
    cJSON *root = cJSON_CreateObject();
    char *text = NULL, *dir = cm_path_dirname(path);
    int rc = CM_OK;
    if (!root || !dir || !cJSON_AddStringToObject(root, "repo", repo) ||
        !cJSON_AddStringToObject(root, "revision", revision) ||
        !(commit ? cJSON_AddStringToObject(root, "commit", commit) : cJSON_AddNullToObject(root, "commit"))) {
        rc = CM_ERR_NOMEM;
    } else {
        cJSON_AddItemReferenceToObject(root, "entries", ents);
        text = cJSON_PrintUnformatted(root);
        if (!text) rc = CM_ERR_NOMEM;
        else if (!(rc = cm_mkdir_p(dir))) rc = cm_write_file_atomic(path, text, strlen(text));
    }
    free(text);
    free(dir);
    cJSON_Delete(root);
    return rc;
}

static int list_remote(hub_client *c, const char *repo, const char *revision, hub_listing *l, cJSON *all) {
    char *rev = hub_percent_encode(revision, 0);
    char *url = rev ? cm_asprintf("%s/api/datasets/%s/tree/%s?recursive=true", c->endpoint, repo, rev) : NULL;
    free(rev);
    if (!url) return CM_ERR_NOMEM;
    hub_response r = {0};
    int rc = CM_OK;
    char what[400];
    snprintf(what, sizeof what, "listing of %s@%s", repo, revision);
    for (int page = 0; url && page < MAX_PAGES; page++) {
        rc = hub_http_get(c, url, 0, NULL, what, &r);
        if (rc && r.status >= 400) rc = hub_http_error(c, &r, repo, revision, "the listing");
        if (rc) break;
        if (r.repo_commit && !l->commit && !(l->commit = cm_strdup(r.repo_commit))) { rc = CM_ERR_NOMEM; break; }
        char *body = r.body.s ? r.body.s : (char *)"";
        if ((rc = hub_listing_parse(l, body, what))) break;
        cJSON *page_j = cJSON_Parse(body);
        for (cJSON *o = page_j ? page_j->child : NULL; o;) {
            cJSON *next = o->next;
            cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(page_j, o));
            o = next;
        }
        cJSON_Delete(page_j);
        free(url);
        url = NULL;
        if (r.link_next) {
            /* the hub sends absolute links; a relative one is resolved against the endpoint */
            url = r.link_next[0] == '/' ? cm_asprintf("%s%s", c->endpoint, r.link_next) : cm_strdup(r.link_next);
            if (!url) { rc = CM_ERR_NOMEM; break; }
        }
    }
    if (!rc && url) rc = cm_error(CM_ERR_FORMAT, "%s: more than %d pages", what, MAX_PAGES);
    free(url);
    hub_response_free(&r);
    return rc;
}

int hub_listing_get(hub_client *c, const char *repo, const char *revision, int use_kept, hub_listing *l,
                    int *from_network) {
    memset(l, 0, sizeof *l);
    if (from_network) *from_network = 0;
    const char *dd = c->p.data_dir ? c->p.data_dir : "data";
    char *repo_dir = cm_path_join(dd, repo);
    char *kept = repo_dir ? hub_local_listing_path(repo_dir, revision) : NULL;
    free(repo_dir);
    if (!kept) return CM_ERR_NOMEM;
    int rc = CM_OK;
    int immutable = hub_is_hex_prefix(revision);
    if ((immutable || use_kept || c->p.offline) && cm_file_exists(kept)) {
        rc = kept_read(kept, l);
        if (!rc) { free(kept); return CM_OK; }
        cm_log(CM_LOG_WARN, "%s: unreadable, listing again (%s)", kept, cm_last_error());
        hub_listing_free(l);
    }
    if (c->p.offline) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s@%s: no listing kept in %s and HF_HUB_OFFLINE=1 forbids asking the hub",
                      repo, revision, kept);
        free(kept);
        return rc;
    }
    cJSON *all = cJSON_CreateArray();
    if (!all) { free(kept); return CM_ERR_NOMEM; }
    rc = list_remote(c, repo, revision, l, all);
    if (!rc) {
        if (from_network) *from_network = 1;
        int wrc = kept_write(kept, repo, revision, l->commit, all);
        if (wrc == CM_ERR_NOMEM) rc = wrc;
        else if (wrc) cm_log(CM_LOG_WARN, "listing not kept: %s", cm_last_error());
    }
    if (rc) hub_listing_free(l);
    cJSON_Delete(all);
    free(kept);
    return rc;
}
