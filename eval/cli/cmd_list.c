/*
 * cmd_list.c: `cmteb list`, the tasks of the catalog, a benchmark or task
 * files, one row each (name, type, split, subset, main score) with whether
 * their data is present under the data folder, and a count line.
 *
 * Data presence follows the layouts the loaders read (dataset.h):
 * - Retrieval: a BEIR folder with corpus.*, queries.* and qrels/SPLIT.*;
 *   tasks with settings.subsets (CQADupstack) need every subset folder,
 *   each a hub repository under the data folder.
 * - Classification: the evaluation split and the training split
 *   (settings.train_split, default "train").
 * - Every other type: the evaluation split.
 * "parquet" means the files are there but only as parquet that this
 * installation cannot read (DuckDB's libduckdb.so missing, or a split in
 * several parquet shards).
 */
#include "eval/cli/cli.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/hub.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: cmteb list [--benchmark NAME] [--type TYPE] [--data-dir DIR] [--task-file FILE ...]\n"
            "                  [--format table|json] [--sizes]\n"
            "\n"
            "Lists tasks with their type, evaluation split, subset, main score and whether their data is\n"
            "present under DIR, then a count line.\n"
            "\n"
            "options:\n"
            "  --benchmark NAME   only the tasks of a benchmark: \"MTEB(eng, v1)\" (aliases \"MTEB(eng, classic)\",\n"
            "                     \"MTEB\"), \"demo\", or a name your task files declare\n"
            "  --type TYPE        only one task type: Classification, Clustering, PairClassification,\n"
            "                     Reranking, Retrieval, STS or Summarization (any case)\n"
            "  --data-dir DIR     folder holding hub downloads, e.g. DIR/mteb/stsbenchmark-sts (default: data)\n"
            "  --task-file FILE   add the task(s) defined in FILE (repeatable); without --benchmark only\n"
            "                     the task-file tasks are listed\n"
            "  --format FMT       table (default) or json (which always has the sizes known from listings\n"
            "                     kept by cmteb fetch)\n"
            "  --sizes            add a TO FETCH column: bytes still to download / total (the hub's listing,\n"
            "                     asked for unless HF_HUB_OFFLINE=1, else a kept one, else \"unknown\")\n"
            "  --help             this text\n"
            "\n"
            "exit status: 0 success, 1 failure (reason on stderr), 2 usage error\n");
}

/* ---- data presence ----------------------------------------------------------- */
typedef enum { DATA_YES = 0, DATA_PARTIAL, DATA_PARQUET, DATA_NO } data_state;
static const char *const state_names[] = {"yes", "partial", "parquet", "no"};

typedef struct {
    data_state state;
    size_t     found, needed;  /* pieces (files) found / needed */
    char      *missing;        /* the first missing piece's message; owned */
} data_check;

/* Records one piece: rc from cm_data_find_split. */
static void piece(data_check *d, int rc) {
    d->needed++;
    if (rc == CM_OK) { d->found++; return; }
    if (rc == CM_ERR_UNSUPPORTED && d->state != DATA_NO) d->state = DATA_PARQUET;
    if (rc != CM_ERR_UNSUPPORTED) d->state = DATA_NO;
    if (!d->missing) d->missing = cm_strdup(cm_last_error());
}

static void find_piece(data_check *d, const char *dir, const char *subset, const char *split) {
    char *path = NULL;
    piece(d, cm_data_find_split(dir, subset, split, &path));
    free(path);
}

/* corpus, queries and qrels/SPLIT of a BEIR folder. */
static void check_beir(data_check *d, const char *dir, const char *split) {
    find_piece(d, dir, NULL, "corpus"); /* as datasets/retrieval_data.c looks them up */
    find_piece(d, dir, NULL, "queries");
    char *qrels = cm_path_join(dir, "qrels");
    char *path = NULL;
    int rc = qrels ? cm_data_find_split(qrels, NULL, split, &path) : CM_ERR_NOMEM;
    free(path);
    if (rc != CM_OK && rc != CM_ERR_NOMEM) {
        /* qrels published as parquet (the hub's "default" config) sit elsewhere: say so if so */
        char *saved = cm_strdup(cm_last_error());
        char *p2 = NULL;
        if (cm_data_find_split(dir, NULL, split, &p2) == CM_ERR_UNSUPPORTED) rc = CM_ERR_UNSUPPORTED;
        else cm_error(rc, "%s", saved ? saved : "qrels not found");
        free(p2);
        free(saved);
    }
    piece(d, rc);
    free(qrels);
}

static data_check check_data(const cm_task *t, const char *data_dir) {
    data_check d = {DATA_YES, 0, 0, NULL};
    if (t->type == CM_TASK_RETRIEVAL && t->settings.retrieval.subsets.n) {
        const cm_setting_strs *subsets = &t->settings.retrieval.subsets;
        /* each subset is a folder beside the others: DATA_DIR/<hub repo>, or inside a task file's folder */
        const char *base = t->data ? t->data
                         : (t->source && !strcmp(t->source, "demo")) ? cm_demo_dir() : data_dir;
        for (size_t i = 0; i < subsets->n; i++) {
            char *dir = cm_path_join(base, subsets->v[i]);
            if (dir) check_beir(&d, dir, t->split);
            free(dir);
        }
    } else {
        char *dir = cm_task_data_folder(t, data_dir);
        if (!dir) { d.state = DATA_NO; return d; }
        if (t->type == CM_TASK_RETRIEVAL) {
            check_beir(&d, dir, t->split);
        } else {
            find_piece(&d, dir, t->subset, t->split);
            if (t->type == CM_TASK_CLASSIFICATION) {
                const char *train = t->settings.classification.train_split;
                if (strcmp(train, t->split)) find_piece(&d, dir, t->subset, train);
            }
        }
        free(dir);
    }
    if (d.state == DATA_NO && d.found > 0) d.state = DATA_PARTIAL;
    cm_error_clear();
    return d;
}

/* ---- output -------------------------------------------------------------------- */
typedef struct {
    const cm_task *t;
    data_check     d;
} row;

static const char *subset_name(const cm_task *t) { return t->subset ? t->subset : "default"; }

/* --sizes: what is left to download, from the hub's listing (online) or one cmteb fetch kept */
static int list_sizes;

static cm_hub_task_size task_size(const cm_task *t, const char *data_dir, int online) {
    cm_hub_params hp = cm_hub_default_params();
    hp.data_dir = data_dir;
    cm_hub_task_size z;
    if (cm_hub_task_size_get(t, &hp, online, &z)) z.known = 0;
    cm_error_clear();
    return z;
}

static void size_text(const cm_hub_task_size *z, const cm_task *t, char *out, size_t cap) {
    if (!t->dataset_path || t->data || (t->source && !strcmp(t->source, "demo"))) snprintf(out, cap, "-");
    else if (!z->known) snprintf(out, cap, "unknown");
    else snprintf(out, cap, "%.1f/%.1f MB", (double)(z->bytes - z->bytes_present) / 1e6, (double)z->bytes / 1e6);
}

static void print_table(const row *rows, size_t n, const char *data_dir, const char *bench, const char *type) {
    size_t w[5] = {4, 4, 5, 6, 10}; /* TASK TYPE SPLIT SUBSET MAIN SCORE */
    for (size_t i = 0; i < n; i++) {
        const cm_task *t = rows[i].t;
        size_t l[5] = {strlen(t->name), strlen(cm_task_type_name(t->type)), strlen(t->split),
                       strlen(subset_name(t)), strlen(t->main_score)};
        for (int k = 0; k < 5; k++) if (l[k] > w[k]) w[k] = l[k];
    }
    printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int)w[0], "TASK", (int)w[1], "TYPE", (int)w[2], "SPLIT",
           (int)w[3], "SUBSET", (int)w[4], "MAIN SCORE", "DATA");
    size_t with_data = 0;
    for (size_t i = 0; i < n; i++) {
        const cm_task *t = rows[i].t;
        const data_check *d = &rows[i].d;
        with_data += d->state == DATA_YES;
        printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s", (int)w[0], t->name, (int)w[1], cm_task_type_name(t->type),
               (int)w[2], t->split, (int)w[3], subset_name(t), (int)w[4], t->main_score, state_names[d->state]);
        if (d->state == DATA_PARTIAL) printf(" (%zu/%zu files)", d->found, d->needed);
        if (list_sizes) {
            cm_hub_task_size z = task_size(t, data_dir, 1);
            char sz[64];
            size_text(&z, t, sz, sizeof sz);
            printf("  TO FETCH %s", sz);
        }
        printf("\n");
    }
    printf("%zu task%s", n, n == 1 ? "" : "s");
    if (bench) printf(" in %s", bench);
    if (type) printf(" of type %s", type);
    printf("; data present for %zu under %s\n", with_data, data_dir);
}

static int print_json(const row *rows, size_t n, const char *data_dir, const char *bench) {
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    if (!root || !arr) { cJSON_Delete(root); cJSON_Delete(arr); return cm_error(CM_ERR_NOMEM, "out of memory"); }
    cJSON_AddItemToObject(root, "tasks", arr);
    size_t with_data = 0;
    for (size_t i = 0; i < n; i++) {
        const cm_task *t = rows[i].t;
        const data_check *d = &rows[i].d;
        with_data += d->state == DATA_YES;
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", t->name);
        cJSON_AddStringToObject(o, "type", cm_task_type_name(t->type));
        cJSON_AddStringToObject(o, "split", t->split);
        cJSON_AddStringToObject(o, "subset", subset_name(t));
        cJSON_AddStringToObject(o, "main_score", t->main_score);
        cJSON_AddStringToObject(o, "leaderboard_metric", t->leaderboard_metric);
        if (t->dataset_path) cJSON_AddStringToObject(o, "dataset", t->dataset_path);
        else cJSON_AddNullToObject(o, "dataset");
        if (t->dataset_revision) cJSON_AddStringToObject(o, "revision", t->dataset_revision);
        else cJSON_AddNullToObject(o, "revision");
        cJSON_AddStringToObject(o, "source", t->source ? t->source : "");
        cJSON_AddStringToObject(o, "data", state_names[d->state]);
        if (d->missing) cJSON_AddStringToObject(o, "data_missing", d->missing);
        cm_hub_task_size z = task_size(t, data_dir, list_sizes);   /* bytes to fetch; null: unknown */
        if (z.known) cJSON_AddNumberToObject(o, "fetch_bytes", (double)(z.bytes - z.bytes_present));
        else cJSON_AddNullToObject(o, "fetch_bytes");
        if (z.known) cJSON_AddNumberToObject(o, "dataset_bytes", (double)z.bytes);
        else cJSON_AddNullToObject(o, "dataset_bytes");
    }
    cJSON_AddNumberToObject(root, "count", (double)n);
    cJSON_AddNumberToObject(root, "with_data", (double)with_data);
    cJSON_AddStringToObject(root, "data_dir", data_dir);
    if (bench) cJSON_AddStringToObject(root, "benchmark", bench);
    else cJSON_AddNullToObject(root, "benchmark");
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return cm_error(CM_ERR_NOMEM, "out of memory printing JSON");
    printf("%s\n", text);
    free(text);
    return CM_OK;
}

/* ---- command --------------------------------------------------------------------- */
int cm_cmd_list(int argc, char **argv) {
    const char *bench = NULL, *type_s = NULL, *data_dir = "data", *format = "table";
    const char **files = cm_calloc((size_t)argc + 1, sizeof *files);
    size_t n_files = 0;
    if (!files) { fprintf(stderr, "cmteb list: out of memory\n"); return 1; }
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) {
            usage(stdout);
            free(files);
            return 0;
        }
        if (cm_opt_value(argc, argv, &i, "--benchmark", &bench, &bad) ||
            cm_opt_value(argc, argv, &i, "--type", &type_s, &bad) ||
            cm_opt_value(argc, argv, &i, "--data-dir", &data_dir, &bad) ||
            cm_opt_value(argc, argv, &i, "--format", &format, &bad)) {
            if (bad) { free(files); return 2; }
            continue;
        }
        if (cm_opt_flag(argv, i, "--sizes")) {
            list_sizes = 1;
            continue;
        }
        if (cm_opt_value(argc, argv, &i, "--task-file", &v, &bad)) {
            if (bad) { free(files); return 2; }
            files[n_files++] = v;
            continue;
        }
        char msg[300];
        snprintf(msg, sizeof msg, argv[i][0] == '-' ? "unknown option '%.200s'" : "unexpected argument '%.200s'",
                 argv[i]);
        free(files);
        return cm_cli_usage_error("list", msg);
    }
    if (strcmp(format, "table") && strcmp(format, "json")) {
        free(files);
        return cm_cli_usage_error("list", "--format expects table or json");
    }
    cm_task_type type = CM_TASK_TYPE_COUNT;
    if (type_s && cm_task_type_parse(type_s, &type)) {
        free(files);
        return cm_cli_usage_error("list", cm_last_error());
    }
    if (bench && !*bench) {
        free(files);
        return cm_cli_usage_error("list", "--benchmark needs a name");
    }

    cm_catalog *cat = NULL;
    const cm_task **sel = NULL;
    row *rows = NULL;
    size_t n_sel = 0, n_rows = 0;
    int code = 1;
    if (cm_catalog_init(&cat)) goto done;
    size_t n_builtin = cm_catalog_count(cat);
    for (size_t i = 0; i < n_files; i++)
        if (cm_catalog_add_file(cat, files[i])) goto done;
    size_t n_all = cm_catalog_count(cat);
    if (bench) {
        if (cm_catalog_benchmark(cat, bench, &sel, &n_sel)) goto done;
        /* task-file tasks are listed with the benchmark's even when they do not declare it */
        const cm_task **grown = cm_realloc(sel, (n_sel + n_all - n_builtin + 1) * sizeof *grown);
        if (!grown) goto done;
        sel = grown;
        for (size_t i = n_builtin; i < n_all; i++) {
            const cm_task *t = cm_catalog_get(cat, i);
            int dup = 0;
            for (size_t j = 0; j < n_sel && !dup; j++) dup = sel[j] == t;
            if (!dup) sel[n_sel++] = t;
        }
    } else {
        size_t from = n_files ? n_builtin : 0;
        sel = cm_calloc(n_all - from + 1, sizeof *sel);
        if (!sel) goto done;
        for (size_t i = from; i < n_all; i++) sel[n_sel++] = cm_catalog_get(cat, i);
    }
    rows = cm_calloc(n_sel + 1, sizeof *rows);
    if (!rows) goto done;
    for (size_t i = 0; i < n_sel; i++) {
        if (type != CM_TASK_TYPE_COUNT && sel[i]->type != type) continue;
        rows[n_rows].t = sel[i];
        rows[n_rows].d = check_data(sel[i], data_dir);
        n_rows++;
    }
    if (!strcmp(format, "json")) {
        if (print_json(rows, n_rows, data_dir, bench)) goto done;
    } else {
        print_table(rows, n_rows, data_dir, bench, type_s ? cm_task_type_name(type) : NULL);
    }
    code = 0;
done:
    if (code) cm_cli_fail("list", NULL);
    for (size_t i = 0; i < n_rows; i++) free(rows[i].d.missing);
    free(rows);
    free(sel);
    cm_catalog_free(cat);
    free(files);
    return code;
}
