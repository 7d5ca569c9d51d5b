/*
 * test_hub_select.c: which files of a repository a task reads (hub_select), over listings shaped like the
 * MTEB repositories at their pinned revisions: split files at the root and under data/, subsets, BEIR
 * folders with qrels as .tsv or .jsonl, and the catalog's patterns for AmazonCounterfactual (TSVs),
 * MASSIVE (a tarball) and SummEval (parquet).
 */
#include "check.h"
#include "datasets/hub/hub_int.h"

#include <string.h>

/* Selects over the NULL-terminated paths and checks the chosen set equals want (NULL-terminated). */
static int pick(const char *const *paths, const hub_need *need, const char *const *want) {
    size_t n = 0;
    while (paths[n]) n++;
    hub_entry e[64] = {{0}};
    for (size_t i = 0; i < n; i++) e[i].path = (char *)paths[i];
    unsigned char chosen[64] = {0};
    int rc = hub_select(e, n, need, "test/repo", chosen);
    if (!want) return rc;
    CHECK_OK(rc);
    size_t nw = 0;
    for (; want[nw]; nw++) {
        int found = 0;
        for (size_t i = 0; i < n; i++) found |= chosen[i] && !strcmp(paths[i], want[nw]);
        if (!found) fprintf(stderr, "expected %s to be chosen\n", want[nw]);
        CHECK(found);
    }
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) nc += chosen[i];
    if (nc != nw)
        for (size_t i = 0; i < n; i++)
            if (chosen[i]) fprintf(stderr, "chosen: %s\n", paths[i]);
    CHECK(nc == nw);
    return rc;
}

int main(void) {
    /* mteb/stsbenchmark-sts: jsonl.gz per split at the root, the original release beside them */
    const char *sts[] = {".gitattributes", "README.md", "test.jsonl.gz", "train.jsonl.gz", "validation.jsonl.gz",
                         "original/sts-test.csv", "original/readme.txt", NULL};
    hub_need n_sts = {CM_TASK_STS, "test", NULL, NULL, NULL};
    pick(sts, &n_sts, (const char *[]){"test.jsonl.gz", NULL});

    /* mteb/banking77: classification reads its training split too */
    const char *bank[] = {"README.md", "test.jsonl", "train.jsonl", NULL};
    hub_need n_bank = {CM_TASK_CLASSIFICATION, "test", "train", NULL, NULL};
    pick(bank, &n_bank, (const char *[]){"test.jsonl", "train.jsonl", NULL});

    /* mteb/amazon_reviews_multi: one folder per language subset */
    const char *rev[] = {"README.md", "amazon_reviews_multi.py", "de/test.jsonl", "de/train.jsonl", "en/test.jsonl",
                         "en/train.jsonl", "en/validation.jsonl", NULL};
    hub_need n_rev = {CM_TASK_CLASSIFICATION, "test", "train", "en", NULL};
    pick(rev, &n_rev, (const char *[]){"en/test.jsonl", "en/train.jsonl", NULL});

    /* sharded split files under data/ (a parquet conversion or a jsonl export) */
    const char *sh[] = {"README.md", "data/test-00000-of-00002.jsonl", "data/test-00001-of-00002.jsonl",
                        "data/train-00000-of-00001.jsonl", NULL};
    pick(sh, &n_sts, (const char *[]){"data/test-00000-of-00002.jsonl", "data/test-00001-of-00002.jsonl", NULL});

    /* mteb/scifact: a BEIR folder */
    const char *sci[] = {"README.md", "corpus.jsonl", "queries.jsonl", "qrels/test.tsv", "qrels/train.tsv", NULL};
    hub_need n_ret = {CM_TASK_RETRIEVAL, "test", NULL, NULL, NULL};
    pick(sci, &n_ret, (const char *[]){"corpus.jsonl", "queries.jsonl", "qrels/test.tsv", NULL});
    /* qrels as jsonl, compressed corpus */
    const char *beir2[] = {"corpus.jsonl.gz", "queries.jsonl.gz", "qrels/dev.jsonl", "qrels/test.jsonl", NULL};
    pick(beir2, &n_ret, (const char *[]){"corpus.jsonl.gz", "queries.jsonl.gz", "qrels/test.jsonl", NULL});

    /* the catalog's patterns: AmazonCounterfactual @e837954 (en subset only), MASSIVE, SummEval */
    const char *ac[] = {"README.md", "amazon_counterfactual.py", "data/DE_test.tsv", "data/DE_train.tsv",
                        "data/EN_test.tsv", "data/EN_train.tsv", "data/EN_valid.tsv", "data/EN-ext_test.tsv",
                        "data/JP_test.tsv", NULL};
    const char *ac_pat[] = {"data/EN_train.tsv", "data/EN_test.tsv", NULL};
    hub_need n_ac = {CM_TASK_CLASSIFICATION, "test", "train", "en", ac_pat};
    pick(ac, &n_ac, (const char *[]){"data/EN_train.tsv", "data/EN_test.tsv", NULL});
    const char *ac_glob[] = {"data/EN_*.tsv", NULL};
    n_ac.patterns = ac_glob;
    pick(ac, &n_ac, (const char *[]){"data/EN_train.tsv", "data/EN_test.tsv", "data/EN_valid.tsv", NULL});
    const char *mas[] = {"README.md", "amazon_massive_intent.py", "amazon-massive-dataset-1.0.tar.gz", NULL};
    const char *mas_pat[] = {"amazon-massive-dataset-1.0.tar.gz", NULL};
    hub_need n_mas = {CM_TASK_CLASSIFICATION, "test", "train", "en", mas_pat};
    pick(mas, &n_mas, (const char *[]){"amazon-massive-dataset-1.0.tar.gz", NULL});
    const char *se[] = {"README.md", "data/test-00000-of-00001-6a0b3e1c2d4f5a6b.parquet", NULL};
    const char *se_pat[] = {"data/test-00000-of-00001-*.parquet", NULL};
    hub_need n_se = {CM_TASK_SUMMARIZATION, "test", NULL, NULL, se_pat};
    pick(se, &n_se, (const char *[]){"data/test-00000-of-00001-6a0b3e1c2d4f5a6b.parquet", NULL});
    /* the default rules find the SummEval shard too */
    n_se.patterns = NULL;
    pick(se, &n_se, (const char *[]){"data/test-00000-of-00001-6a0b3e1c2d4f5a6b.parquet", NULL});

    /* errors name what was looked for */
    CHECK(pick(mas, &(hub_need){CM_TASK_CLASSIFICATION, "test", "train", "en", NULL}, NULL) == CM_ERR_NOTFOUND);
    CHECK(strstr(cm_last_error(), "looked for") && strstr(cm_last_error(), "en/test"));
    const char *bad_pat[] = {"data/XX_*.tsv", NULL};
    CHECK(pick(ac, &(hub_need){CM_TASK_CLASSIFICATION, "test", "train", "en", bad_pat}, NULL) == CM_ERR_NOTFOUND);
    CHECK(strstr(cm_last_error(), "data/XX_*.tsv") != NULL);
    const char *noqrels[] = {"corpus.jsonl", "queries.jsonl", "qrels/dev.tsv", NULL};
    CHECK(pick(noqrels, &n_ret, NULL) == CM_ERR_NOTFOUND);
    CHECK(strstr(cm_last_error(), "qrels/test.*") != NULL);
    return check_report();
}
