/*
 * hub_select.c: which files of a repository a task reads (see hub_int.h):
 * the task's own glob patterns when the catalog gives them, else the rules
 * below, one table over the task types.
 */
#include "datasets/hub/hub_int.h"
#include "cmteb/status.h"

#include <stdlib.h>
#include <string.h>

/*
 * The default rules. Each row is one thing a task reads; its candidate
 * locations are tried in order and the first with at least one matching
 * file wins (all of its matches are taken), mirroring the loaders' search
 * order (cm_data_find_split; BEIR folders). A location is '|'-separated
 * globs with {sub} (the hf subset; locations using it are skipped without
 * one) and {split} (per_split rows: the evaluated split, and a
 * classification task's training split).
 */
typedef struct rule {
    int         retrieval;   /* 1: retrieval (BEIR) rows; 0: every other type */
    const char *what;
    int         per_split;
    const char *loc[5];
} rule;

static const rule rules[] = {
    {0, "split", 1,
     {"{sub}/{split}.*|{sub}/{split}-*|{sub}/{split}/**", "data/{sub}/{split}.*|data/{sub}/{split}-*",
      "{split}.*|{split}-*|{split}/**", "data/{split}.*|data/{split}-*|data/{split}/**", NULL}},
    {1, "corpus", 0, {"{sub}/corpus.*|{sub}/corpus/**", "corpus.*|corpus/**", NULL}},
    {1, "queries", 0, {"{sub}/queries.*|{sub}/queries/**", "queries.*|queries/**", NULL}},
    {1, "qrels", 1, {"{sub}/qrels/{split}.*", "qrels/{split}.*", NULL}},
};

/* loading scripts and cards are never data */
static int is_data(const char *path) {
    size_t n = strlen(path);
    return !(n >= 3 && !strcmp(path + n - 3, ".py")) && !(n >= 3 && !strcmp(path + n - 3, ".md")) &&
           strncmp(path, ".git", 4) != 0;
}

/* one glob of a location with {sub}/{split} filled in; NULL if it needs a subset there is none of */
static char *expand(const char *g, size_t len, const char *sub, const char *split) {
    cm_str b = {0};
    for (size_t i = 0; i < len; i++) {
        if (!strncmp(g + i, "{sub}", 5)) {
            if (!sub) { cm_str_free(&b); return NULL; }
            cm_str_append(&b, sub);
            i += 4;
        } else if (!strncmp(g + i, "{split}", 7)) {
            cm_str_append(&b, split);
            i += 6;
        } else {
            cm_str_appendn(&b, g + i, 1);
        }
    }
    if (cm_str_error(&b) || !b.s) { cm_str_free(&b); return cm_strdup(""); }
    return b.s;
}

/* marks the matches of one location; returns how many (or -1 when the location does not apply) */
static int match_location(const hub_entry *e, size_t n, const char *loc, const char *sub, const char *split,
                          unsigned char *chosen, cm_str *tried) {
    int applies = 0, hits = 0;
    for (const char *p = loc; *p;) {
        size_t len = strcspn(p, "|");
        char *g = expand(p, len, sub, split);
        if (g && *g) {
            applies = 1;
            cm_str_printf(tried, "%s%s", tried->len ? ", " : "", g);
            for (size_t i = 0; i < n; i++)
                if (is_data(e[i].path) && hub_glob_match(g, e[i].path)) {
                    chosen[i] = 1;
                    hits++;
                }
        }
        free(g);
        p += len;
        if (*p == '|') p++;
    }
    return applies ? hits : -1;
}

int hub_select(const hub_entry *e, size_t n, const hub_need *need, const char *repo, unsigned char *chosen) {
    if (need->patterns && need->patterns[0]) {
        for (const char *const *p = need->patterns; *p; p++) {
            int hits = 0;
            for (size_t i = 0; i < n; i++)
                if (hub_glob_match(*p, e[i].path)) {
                    chosen[i] = 1;
                    hits++;
                }
            if (!hits)
                return cm_error(CM_ERR_NOTFOUND, "%s: no file of the repository matches the task's pattern '%s' "
                                "(dataset.files)", repo, *p);
        }
        return CM_OK;
    }
    const char *splits[2] = {need->split, NULL};
    if (need->train_split && strcmp(need->train_split, need->split)) splits[1] = need->train_split;
    int retrieval = need->type == CM_TASK_RETRIEVAL;
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        if (rules[r].retrieval != retrieval) continue;
        for (int s = 0; s < (rules[r].per_split ? 2 : 1); s++) {
            const char *split = splits[s];
            if (!split) continue;
            cm_str tried = {0};
            int found = 0;
            for (int l = 0; l < 5 && rules[r].loc[l] && !found; l++)
                found = match_location(e, n, rules[r].loc[l], need->subset, split, chosen, &tried) > 0;
            if (!found) {
                int rc = cm_error(CM_ERR_NOTFOUND, "%s: no file for the %s%s%s%s%s%s of this %s task (looked for %s)",
                                  repo, rules[r].what, rules[r].per_split ? " of split '" : "",
                                  rules[r].per_split ? split : "", rules[r].per_split ? "'" : "",
                                  need->subset ? " of subset " : "", need->subset ? need->subset : "",
                                  cm_task_type_name(need->type),
                                  tried.s ? tried.s : "?");
                cm_str_free(&tried);
                return rc;
            }
            cm_str_free(&tried);
        }
    }
    return CM_OK;
}
