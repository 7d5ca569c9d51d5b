/*
 * test_catalog.c: the built-in MTEB(eng, v1) catalog and task files
 * (include/cmteb/task.h).
 *
 * The catalog is compared with the task table of ../shared/spec/
 * mteb-eng-v1-tasks.md when that file is present (name, type, split, subset,
 * hub path, revision, in order), and with the per-type settings of
 * mteb-protocol.md section 1 written out below. Task files written to
 * $CMTEB_TMP check parsing, defaults and that every error names the file and
 * the field.
 */
#include <string.h>

#include "check.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/util.h"

static char tmpdir[1024];

static const char *write_tmp(const char *name, const char *text) {
    static char path[2048];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
    fputs(text, f);
    fclose(f);
    return path;
}

static int err_has(const char *s) {
    if (strstr(cm_last_error(), s)) return 1;
    fprintf(stderr, "  expected \"%s\" in: %s\n", s, cm_last_error());
    return 0;
}

static const cm_task *find(const cm_catalog *c, const char *name) {
    const cm_task *t = cm_catalog_find(c, name);
    if (!t) fprintf(stderr, "  task %s not in the catalog\n", name);
    return t;
}

static int streq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

/* The catalog's settings as written (t->settings_json): the value under key, or dflt when absent. */
static const cJSON *raw_setting(const cm_task *t, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(t->settings_json, key);
}
static double raw_num(const cm_task *t, const char *key, double dflt) {
    const cJSON *v = raw_setting(t, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}
static const char *raw_str(const cm_task *t, const char *key, const char *dflt) {
    const cJSON *v = raw_setting(t, key);
    return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* settings[key] as an array of numbers equal to want[0..n). */
static int nums_equal(const cm_task *t, const char *key, const double *want, size_t n) {
    const cJSON *v = raw_setting(t, key);
    if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) != n) return 0;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) if (!cJSON_IsNumber(it) || it->valuedouble != want[i++]) return 0;
    return 1;
}

static int setting_true(const cm_task *t, const char *key) { return cJSON_IsTrue(raw_setting(t, key)); }

static const char *const type_main[CM_TASK_TYPE_COUNT] = {
    "accuracy", "v_measure", "cosine_ap", "map", "ndcg_at_10", "cosine_spearman", "cosine_spearman",
};

static void test_counts(const cm_catalog *c) {
    const cm_task **tasks = NULL;
    size_t n = 0;
    CHECK_OK(cm_catalog_benchmark(c, "MTEB(eng, v1)", &tasks, &n));
    CHECK(n == 56);
    size_t per_type[CM_TASK_TYPE_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        const cm_task *t = tasks[i];
        per_type[t->type]++;
        /* every task: instruction, split, revision (a full commit id: 40 lowercase hex digits, as the hub
         * cache keys snapshots), hub path, language, main score */
        CHECK(t->instruction && strlen(t->instruction) > 10);
        CHECK(t->split && (streq(t->split, "test") || (streq(t->name, "MSMARCO") && streq(t->split, "dev"))));
        int full = t->dataset_revision && strlen(t->dataset_revision) == 40 &&
                   strspn(t->dataset_revision, "0123456789abcdef") == 40;
        if (!full) fprintf(stderr, "  %s: revision '%s' is not 40 lowercase hex\n", t->name, t->dataset_revision);
        CHECK(full);
        CHECK(t->dataset_path && !strncmp(t->dataset_path, "mteb/", 5));
        CHECK(t->data == NULL && streq(t->source, "builtin"));
        CHECK(t->n_languages == 1 && streq(t->languages[0], "eng-Latn"));
        CHECK(t->n_benchmarks == 1 && streq(t->benchmarks[0], "MTEB(eng, v1)"));
        CHECK(streq(t->main_score, type_main[t->type]));
        CHECK(streq(t->leaderboard_metric, type_main[t->type]));
        if (!streq(t->main_score, type_main[t->type])) fprintf(stderr, "  %s main_score %s\n", t->name, t->main_score);
    }
    const size_t want[CM_TASK_TYPE_COUNT] = {12, 11, 3, 4, 15, 10, 1};
    for (int k = 0; k < CM_TASK_TYPE_COUNT; k++) {
        if (per_type[k] != want[k]) fprintf(stderr, "  %s: %zu tasks\n", cm_task_type_name((cm_task_type)k), per_type[k]);
        CHECK(per_type[k] == want[k]);
    }
    /* names are unique (the catalog refuses duplicates, so 56 distinct tasks) */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) CHECK(strcmp(tasks[i]->name, tasks[j]->name) != 0);
    free(tasks);

    /* aliases give the same 56 */
    const char *aliases[] = {"MTEB", "MTEB(eng, classic)", "mteb(eng, v1)"};
    for (size_t a = 0; a < 3; a++) {
        CHECK_OK(cm_catalog_benchmark(c, aliases[a], &tasks, &n));
        CHECK(n == 56);
        free(tasks);
    }
    /* an unknown benchmark lists the known ones */
    CHECK(cm_catalog_benchmark(c, "MTEB(fra)", &tasks, &n) == CM_ERR_NOTFOUND);
    CHECK(tasks == NULL && n == 0);
    CHECK(err_has("unknown benchmark \"MTEB(fra)\""));
    CHECK(err_has("(known: "));
    CHECK(err_has("\"MTEB(eng, v1)\""));
}

/* Compares with the spec's table, row by row, when ../shared/spec is there. */
static void test_against_spec(const cm_catalog *c, const char *shared) {
    char path[2048];
    snprintf(path, sizeof path, "%s/spec/mteb-eng-v1-tasks.md", shared);
    char *text = NULL;
    if (!*shared || cm_read_file(path, &text, NULL) != CM_OK) {
        printf("note: %s absent, spec table comparison skipped\n", path);
        return;
    }
    const cm_task **tasks = NULL;
    size_t n = 0, row = 0;
    CHECK_OK(cm_catalog_benchmark(c, "MTEB(eng, v1)", &tasks, &n));
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        /* | # | Task | Type | Eval split | metric | hf_subset | HF dataset | revision | score | */
        if (line[0] != '|' || line[1] != ' ' || line[2] < '0' || line[2] > '9') continue;
        char *cell[10] = {0};
        int nc = 0;
        for (char *p = line + 1; *p && nc < 10;) {
            char *bar = strchr(p, '|');
            if (!bar) break;
            *bar = '\0';
            while (*p == ' ') p++;
            char *e = bar;
            while (e > p && e[-1] == ' ') *--e = '\0';
            cell[nc++] = p;
            p = bar + 1;
        }
        if (nc < 9) continue;
        CHECK(row < n);
        if (row >= n) break;
        const cm_task *t = tasks[row++];
        int ok = streq(t->name, cell[1]) && streq(cm_task_type_name(t->type), cell[2]) && streq(t->split, cell[3]) &&
                 streq(t->subset ? t->subset : "default", cell[5]) && t->dataset_revision &&
                 !strncmp(t->dataset_revision, cell[7], strlen(cell[7])) && strlen(cell[7]) == 12 &&
                 (cell[6][0] == '(' ? streq(t->dataset_path, "mteb/cqadupstack") : streq(t->dataset_path, cell[6]));
        if (!ok)
            fprintf(stderr, "  spec row %s (%s %s %s %s %s %s) vs catalog %s %s %s %s %s %s\n", cell[0], cell[1],
                    cell[2], cell[3], cell[5], cell[6], cell[7], t->name, cm_task_type_name(t->type), t->split,
                    t->subset ? t->subset : "default", t->dataset_path, t->dataset_revision);
        CHECK(ok);
    }
    CHECK(row == 56);
    free(tasks);
    free(text);
}

static void test_settings(const cm_catalog *c) {
    const double k_values[] = {1, 3, 5, 10, 20, 100, 1000};
    size_t n = cm_catalog_count(c);
    for (size_t i = 0; i < n; i++) {
        const cm_task *t = cm_catalog_get(c, i);
        if (!streq(t->source, "builtin")) continue;
        switch (t->type) {
        case CM_TASK_STS:
            CHECK(streq(t->instruction, "Retrieve semantically similar text."));
            CHECK(cJSON_IsNumber(raw_setting(t, "min_score")) && cJSON_IsNumber(raw_setting(t, "max_score")));
            break;
        case CM_TASK_CLASSIFICATION:
            CHECK(raw_num(t, "n_experiments", -1) == 10);
            CHECK(streq(raw_str(t, "train_split", NULL), "train"));
            CHECK(streq(raw_str(t, "text_field", NULL), "text"));
            CHECK(streq(raw_str(t, "label_field", NULL), "label"));
            break;
        case CM_TASK_CLUSTERING:
            CHECK(raw_num(t, "batch_size", -1) == 500);
            CHECK(streq(raw_str(t, "protocol", NULL), "v1"));
            break;
        case CM_TASK_RETRIEVAL:
            CHECK(nums_equal(t, "k_values", k_values, 7));
            CHECK(raw_num(t, "corpus_chunk_size", -1) == 50000);
            CHECK(setting_true(t, "ignore_identical_ids"));
            CHECK(!!raw_setting(t, "subsets") == streq(t->name, "CQADupstackRetrieval"));
            break;
        case CM_TASK_RERANKING:
            CHECK(setting_true(t, "multi_query") == streq(t->name, "MindSmallReranking"));
            break;
        case CM_TASK_PAIRCLASSIFICATION:
            CHECK(streq(t->main_score, "cosine_ap"));
            break;
        default:
            break;
        }
    }
    /* STS score ranges (mteb-protocol.md 1.6) */
    struct { const char *name; double lo, hi; } sts[] = {
        {"BIOSSES", 0, 4}, {"SICK-R", 1, 5}, {"STS12", 0, 5}, {"STS13", 0, 5}, {"STS14", 0, 5},
        {"STS15", 0, 5},  {"STS16", 0, 5},  {"STS17", 0, 5}, {"STS22", 1, 4}, {"STSBenchmark", 0, 5},
    };
    for (size_t i = 0; i < sizeof sts / sizeof sts[0]; i++) {
        const cm_task *t = find(c, sts[i].name);
        if (!t) { CHECK(0); continue; }
        CHECK(t->type == CM_TASK_STS);
        CHECK(raw_num(t, "min_score", -1) == sts[i].lo);
        CHECK(raw_num(t, "max_score", -1) == sts[i].hi);
    }
    /* samples_per_label (mteb-protocol.md 1.3, m1.12 values) */
    struct { const char *name; double spl; } cls[] = {
        {"AmazonCounterfactualClassification", 32}, {"EmotionClassification", 16},
        {"ToxicConversationsClassification", 16},   {"TweetSentimentExtractionClassification", 32},
        {"Banking77Classification", 8},             {"ImdbClassification", 8},
        {"AmazonPolarityClassification", 8},        {"MTOPIntentClassification", 8},
    };
    for (size_t i = 0; i < sizeof cls / sizeof cls[0]; i++) {
        const cm_task *t = find(c, cls[i].name);
        CHECK(t && raw_num(t, "samples_per_label", -1) == cls[i].spl);
    }
    const cm_task *t = find(c, "ToxicConversationsClassification");
    CHECK(t && raw_num(t, "test_subsample", -1) == 2048 && raw_num(t, "test_subsample_seed", -1) == 42);
    t = find(c, "Banking77Classification");
    CHECK(t && raw_setting(t, "test_subsample") == NULL);

    /* subsets */
    struct { const char *name, *subset; } subs[] = {
        {"AmazonCounterfactualClassification", "en"}, {"AmazonReviewsClassification", "en"},
        {"MassiveIntentClassification", "en"},        {"MassiveScenarioClassification", "en"},
        {"MTOPDomainClassification", "en"},           {"MTOPIntentClassification", "en"},
        {"STS17", "en-en"},                           {"STS22", "en"},
        {"STSBenchmark", NULL},                       {"Banking77Classification", NULL},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        t = find(c, subs[i].name);
        CHECK(t && (subs[i].subset ? streq(t->subset, subs[i].subset) : t->subset == NULL));
    }
    t = find(c, "MSMARCO");
    CHECK(t && streq(t->split, "dev"));

    /* CQADupstack: the 12 hub repositories, averaged */
    t = find(c, "CQADupstackRetrieval");
    if (t) {
        static const char *const forums[12] = {"android", "english",     "gaming", "gis",  "mathematica", "physics",
                                               "programmers", "stats", "tex",    "unix", "webmasters",  "wordpress"};
        const cJSON *v = raw_setting(t, "subsets");
        CHECK(cJSON_IsArray(v) && cJSON_GetArraySize(v) == 12);
        int i = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            char want[64];
            snprintf(want, sizeof want, "mteb/cqadupstack-%s", i < 12 ? forums[i] : "?");
            CHECK(cJSON_IsString(it) && streq(it->valuestring, want));
            i++;
        }
        CHECK(streq(raw_str(t, "aggregate", NULL), "mean"));
    }
    t = find(c, "MindSmallReranking");
    CHECK(t && setting_true(t, "multi_query"));
    t = find(c, "SummEval");
    CHECK(t && t->type == CM_TASK_SUMMARIZATION && raw_num(t, "min_score", -1) == 0 &&
          raw_num(t, "max_score", -1) == 5 && setting_true(t, "v1_pvalue_bug"));

    /* instructions, including the ones the spec abbreviates with "..." */
    struct { const char *name, *instr; } ins[] = {
        {"ArxivClusteringS2S", "Identify the main and secondary category of Arxiv papers based on the titles"},
        {"BiorxivClusteringS2S", "Identify the main category of Biorxiv papers based on the titles"},
        {"MedrxivClusteringP2P", "Identify the main category of Medrxiv papers based on the titles and abstracts"},
        {"MedrxivClusteringS2S", "Identify the main category of Medrxiv papers based on the titles"},
        {"RedditClusteringP2P", "Identify the topic or theme of Reddit posts based on the titles and posts"},
        {"StackExchangeClusteringP2P", "Identify the topic or theme of StackExchange posts based on the given paragraphs"},
        {"TwitterURLCorpus", "Retrieve tweets that are semantically similar to the given tweet"},
        {"Banking77Classification", "Given a online banking query, find the corresponding intents"},
        {"SciFact", "Given a scientific claim, retrieve documents that support or refute the claim"},
        {"SummEval", "Given a news summary, retrieve other semantically similar summaries"},
    };
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++) {
        t = find(c, ins[i].name);
        CHECK(t && streq(t->instruction, ins[i].instr));
    }
}

static void test_lookup(const cm_catalog *c) {
    const cm_task *t = cm_catalog_find(c, "stsbenchmark");
    CHECK(t && streq(t->name, "STSBenchmark"));
    CHECK(cm_catalog_find(c, "NoSuchTask") == NULL);
    CHECK(cm_catalog_get(c, cm_catalog_count(c)) == NULL);
    if (t) {
        char *d = cm_task_data_folder(t, "/data/hub");
        CHECK(streq(d, "/data/hub/mteb/stsbenchmark-sts"));
        free(d);
        d = cm_task_data_folder(t, NULL);
        CHECK(streq(d, "data/mteb/stsbenchmark-sts"));
        free(d);
    }
    for (int k = 0; k < CM_TASK_TYPE_COUNT; k++) {
        cm_task_type back = CM_TASK_TYPE_COUNT;
        CHECK_OK(cm_task_type_parse(cm_task_type_name((cm_task_type)k), &back));
        CHECK(back == (cm_task_type)k);
    }
    cm_task_type ty;
    CHECK_OK(cm_task_type_parse("pairclassification", &ty));
    CHECK(ty == CM_TASK_PAIRCLASSIFICATION);
    CHECK(cm_task_type_parse("Bitext", &ty) == CM_ERR_ARG);
    CHECK(err_has("unknown task type 'Bitext'"));
}

/* The catalog's own JSON passes the checks task files get (no unknown keys). */
static void test_catalog_json_strict(const char *src) {
    char path[2048];
    snprintf(path, sizeof path, "%s/datasets/catalog/mteb_eng_v1.json", src);
    char *text = NULL;
    CHECK_OK(cm_read_file(path, &text, NULL));
    if (!text) return;
    cJSON *root = cJSON_Parse(text);
    CHECK(cJSON_IsArray(root) && cJSON_GetArraySize(root) == 56);
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        cm_task *t = NULL;
        CHECK_OK(cm_task_from_json(&t, it, NULL, path));
        cm_task_free(t);
        const cJSON *notes = cJSON_GetObjectItemCaseSensitive(it, "notes");
        CHECK(!notes || cJSON_IsString(notes));
    }
    /* the m1.1 value of ToxicConversations is recorded in its notes */
    const cJSON *tox = NULL;
    cJSON_ArrayForEach(it, root) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (cJSON_IsString(nm) && streq(nm->valuestring, "ToxicConversationsClassification")) tox = it;
    }
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(tox, "notes");
    CHECK(cJSON_IsString(notes) && strstr(notes->valuestring, "32"));
    cJSON_Delete(root);
    free(text);
}

static void test_task_files(void) {
    cm_catalog *c = NULL;
    CHECK_OK(cm_catalog_init(&c));
    if (!c) return;
    size_t base = cm_catalog_count(c);

    /* one object, relative data folder, defaults */
    const char *p = write_tmp("one_task.json",
                              "{\"name\": \"MySTS\", \"type\": \"sts\", \"data\": \"my_sts\", "
                              "\"settings\": {\"min_score\": 0, \"max_score\": 1}, \"notes\": \"x\"}\n");
    CHECK_OK(cm_catalog_add_file(c, p));
    const cm_task *t = cm_catalog_find(c, "MySTS");
    CHECK(t != NULL);
    if (t) {
        char want[2100];
        snprintf(want, sizeof want, "%s/my_sts", tmpdir);
        CHECK(streq(t->data, want));
        char *d = cm_task_data_folder(t, "elsewhere");
        CHECK(streq(d, want));
        free(d);
        CHECK(t->type == CM_TASK_STS);
        CHECK(streq(t->split, "test"));
        CHECK(t->subset == NULL);
        CHECK(streq(t->main_score, "cosine_spearman") && streq(t->leaderboard_metric, "cosine_spearman"));
        CHECK(t->instruction == NULL && t->dataset_path == NULL);
        CHECK(streq(t->source, p));
        CHECK(raw_num(t, "max_score", -1) == 1);
    }
    /* an array, an absolute data path, subset "default" means none, a benchmark of its own */
    p = write_tmp("two_tasks.json",
                  "[{\"name\": \"A1\", \"type\": \"Retrieval\", \"data\": \"/abs/beir\", \"split\": \"dev\", "
                  "\"subset\": \"default\", \"benchmarks\": [\"mine\"], \"instruction\": \"Find it\"},\n"
                  " {\"name\": \"A2\", \"type\": \"Classification\", \"dataset\": \"org/repo\", \"subset\": \"de\", "
                  "\"main_score\": \"f1\", \"benchmarks\": \"mine\", \"languages\": [\"deu-Latn\"]}]\n");
    char two[2048];
    snprintf(two, sizeof two, "%s", p);
    CHECK_OK(cm_catalog_add_file(c, two));
    CHECK(cm_catalog_count(c) == base + 3);
    t = cm_catalog_find(c, "A1");
    CHECK(t && streq(t->data, "/abs/beir") && streq(t->split, "dev") && t->subset == NULL &&
          streq(t->main_score, "ndcg_at_10") && streq(t->instruction, "Find it"));
    t = cm_catalog_find(c, "A2");
    CHECK(t && streq(t->dataset_path, "org/repo") && streq(t->subset, "de") && streq(t->main_score, "f1") &&
          streq(t->leaderboard_metric, "accuracy") && t->n_languages == 1);
    const cm_task **tasks = NULL;
    size_t n = 0;
    CHECK_OK(cm_catalog_benchmark(c, "mine", &tasks, &n));
    CHECK(n == 2);
    free(tasks);
    /* {"tasks": [...]} form */
    CHECK_OK(cm_catalog_add_file(c, write_tmp("wrapped.json", "{\"tasks\": [{\"name\": \"W\", \"type\": \"Clustering\", \"data\": \"w\"}]}")));
    CHECK(cm_catalog_find(c, "W") != NULL);
    size_t have = cm_catalog_count(c);

    /* errors name the file and the field */
    struct { const char *file, *text, *expect; } bad[] = {
        {"bad_json.json", "[\n{\"name\": \"B\", \"type\": \"STS\", \"data\": \"x\"},\n{\"name\": \"C\" \"type\": \"STS\"}\n]",
         "bad_json.json:3: invalid JSON"},
        {"no_name.json", "{\"type\": \"STS\", \"data\": \"x\"}", "no_name.json: task has no \"name\""},
        {"no_type.json", "{\"name\": \"B\", \"data\": \"x\"}", "no_type.json: task B: field 'type': missing"},
        {"bad_type.json", "{\"name\": \"B\", \"type\": \"Bitext\", \"data\": \"x\"}",
         "bad_type.json: task B: field 'type': unknown task type 'Bitext'"},
        {"split_num.json", "{\"name\": \"B\", \"type\": \"STS\", \"data\": \"x\", \"split\": 5}",
         "split_num.json: task B: field 'split' must be a string"},
        {"no_data.json", "{\"name\": \"B\", \"type\": \"STS\"}", "no_data.json: task B: needs \"data\""},
        {"bad_ds.json", "{\"name\": \"B\", \"type\": \"STS\", \"dataset\": 3}", "bad_ds.json: task B: field 'dataset'"},
        {"unknown_key.json", "{\"name\": \"B\", \"type\": \"STS\", \"data\": \"x\", \"setings\": {}}",
         "unknown_key.json: task B: unknown field 'setings'"},
        {"settings_arr.json", "{\"name\": \"B\", \"type\": \"STS\", \"data\": \"x\", \"settings\": [1]}",
         "settings_arr.json: task B: field 'settings' must be an object"},
        {"min_str.json", "{\"name\": \"B\", \"type\": \"STS\", \"data\": \"x\", \"settings\": {\"min_score\": \"0\"}}",
         "min_str.json: task B: field 'settings.min_score': expected a number"},
        {"range.json", "{\"name\": \"B\", \"type\": \"STS\", \"data\": \"x\", \"settings\": {\"min_score\": 5, \"max_score\": 1}}",
         "range.json: task B: field 'settings.max_score': expected more than min_score"},
        {"kvals.json", "{\"name\": \"B\", \"type\": \"Retrieval\", \"data\": \"x\", \"settings\": {\"k_values\": [10, 0.5]}}",
         "kvals.json: task B: field 'settings.k_values': expected an array of positive integers"},
        {"spl.json", "{\"name\": \"B\", \"type\": \"Classification\", \"data\": \"x\", \"settings\": {\"samples_per_label\": 0}}",
         "spl.json: task B: field 'settings.samples_per_label': expected a positive integer"},
        {"flag.json", "{\"name\": \"B\", \"type\": \"Reranking\", \"data\": \"x\", \"settings\": {\"multi_query\": 1}}",
         "flag.json: task B: field 'settings.multi_query': expected true or false"},
        {"langs.json", "{\"name\": \"B\", \"type\": \"STS\", \"data\": \"x\", \"languages\": [\"eng\", 3]}",
         "langs.json: task B: field 'languages' must be an array of strings"},
        {"dup_builtin.json", "{\"name\": \"SciFact\", \"type\": \"Retrieval\", \"data\": \"x\"}",
         "dup_builtin.json: task SciFact: duplicate name (already defined by the built-in catalog)"},
        {"dup_inside.json", "[{\"name\": \"D\", \"type\": \"STS\", \"data\": \"x\"}, {\"name\": \"D\", \"type\": \"STS\", \"data\": \"y\"}]",
         "dup_inside.json: task D: duplicate name (already defined by"},
        {"not_task.json", "[\"STS\"]", "not_task.json: a task must be a JSON object"},
        {"scalar.json", "42", "scalar.json: expected a task object or an array of task objects"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = write_tmp(bad[i].file, bad[i].text);
        int rc = cm_catalog_add_file(c, path);
        CHECK(rc == CM_ERR_FORMAT || rc == CM_ERR_ARG);
        if (rc == CM_OK) fprintf(stderr, "  %s was accepted\n", bad[i].file);
        CHECK(err_has(bad[i].expect));
        /* all or nothing: a failed file adds no task */
        CHECK(cm_catalog_count(c) == have);
    }
    CHECK(cm_catalog_find(c, "B") == NULL && cm_catalog_find(c, "D") == NULL);
    /* a second load of the same file is a duplicate */
    CHECK(cm_catalog_add_file(c, two) == CM_ERR_FORMAT);
    CHECK(err_has("duplicate name"));
    char missing[2048];
    snprintf(missing, sizeof missing, "%s/no_such_task.json", tmpdir);
    CHECK(cm_catalog_add_file(c, missing) == CM_ERR_IO);
    CHECK(err_has("no_such_task.json: cannot open"));
    CHECK(cm_catalog_count(c) == have);
    cm_catalog_free(c);
    cm_catalog_free(NULL);
    cm_task_free(NULL);
}

/* "dataset": {"files": [...], "revision_note": ...}: the catalog's special layouts, and task files. */
static void test_dataset_files(const cm_catalog *c) {
    static const struct { const char *task, *first; size_t n; } want[] = {
        {"AmazonCounterfactualClassification", "data/EN_train.tsv", 2},
        {"MassiveIntentClassification", "amazon-massive-dataset-1.0.tar.gz", 2},
        {"MassiveScenarioClassification", "amazon-massive-dataset-1.0.tar.gz", 2},
        {"SummEval", "data/test-*.parquet", 1},
    };
    size_t with_files = 0;
    for (size_t i = 0; i < cm_catalog_count(c); i++) with_files += cm_catalog_get(c, i)->dataset_files != NULL;
    CHECK(with_files >= 4);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cm_task *t = find(c, want[i].task);
        if (!t) { CHECK(0); continue; }
        size_t n = 0;
        while (t->dataset_files && t->dataset_files[n]) n++;
        CHECK(n == want[i].n);
        CHECK(n && streq(t->dataset_files[0], want[i].first));
    }
    const cm_task *st = find(c, "STSBenchmark");
    CHECK(st && st->dataset_files == NULL);

    cm_catalog *u = NULL;
    CHECK_OK(cm_catalog_init(&u));
    if (!u) return;
    size_t before = cm_catalog_count(u);
    const char *ok = write_tmp("files_ok.json",
                               "{\"name\": \"F1\", \"type\": \"STS\", \"dataset\": {\"path\": \"org/x\", "
                               "\"revision\": \"0123456789012345678901234567890123456789\", \"revision_note\": \"n\", "
                               "\"files\": [\"data/a_*.tsv\", \"b.parquet\"]}}");
    CHECK_OK(cm_catalog_add_file(u, ok));
    const cm_task *t = cm_catalog_find(u, "F1");
    CHECK(t && t->dataset_files && streq(t->dataset_files[0], "data/a_*.tsv") &&
          streq(t->dataset_files[1], "b.parquet") && t->dataset_files[2] == NULL);
    static const struct { const char *json, *msg; } bad[] = {
        {"\"files\": []", "field 'dataset.files' must be a non-empty array"},
        {"\"files\": \"a.tsv\"", "field 'dataset.files' must be a non-empty array"},
        {"\"files\": [\"a\", 3]", "field 'dataset.files' item 1"},
        {"\"files\": [\"../a\"]", "no '..' component"},
        {"\"files\": [\"x/../../a\"]", "field 'dataset.files' item 0"},
        {"\"files\": [\"/etc/passwd\"]", "no leading '/'"},
        {"\"revision_note\": 5", "field 'dataset.revision_note' must be a string"},
        {"\"file\": [\"a\"]", "unknown field 'dataset.file'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "{\"name\": \"B%zu\", \"type\": \"STS\", \"dataset\": {\"path\": \"o/x\", %s}}", i,
                 bad[i].json);
        const char *path = write_tmp("files_bad.json", text);
        CHECK(cm_catalog_add_file(u, path) == CM_ERR_FORMAT);
        CHECK(err_has(bad[i].msg));
        CHECK(err_has("files_bad.json: task B"));
    }
    CHECK(cm_catalog_count(u) == before + 1);
    cm_catalog_free(u);
}

int main(void) {
    const char *tmp = check_env("CMTEB_TMP"), *src = check_env("CMTEB_SRC");
    if (!*tmp || !*src) SKIP("CMTEB_TMP and CMTEB_SRC must be set (run through ctest)");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_catalog", tmp);
    CHECK_OK(cm_mkdir_p(tmpdir));

    cm_catalog *c = NULL;
    CHECK_OK(cm_catalog_init(&c));
    if (!c) return check_report();
    test_counts(c);
    test_against_spec(c, check_env("CMTEB_SHARED"));
    test_settings(c);
    test_lookup(c);
    test_dataset_files(c);
    cm_catalog_free(c);
    test_catalog_json_strict(src);
    test_task_files();
    return check_report();
}
