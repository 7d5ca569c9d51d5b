/*
 * test_formats.c: the formats the pinned MTEB(eng, v1) revisions hold beyond
 * JSON Lines/CSV (datasets/formats/, cmteb/dataset.h cm_data_open):
 *
 * - parquet: tests/fixtures/formats/summeval_like.{zstd,snappy}.parquet were
 *   written by DuckDB (tests/reference/ref_parquet_fixture.js) from
 *   summeval_like.jsonl; every row read from each must equal the jsonl's row
 *   (strings byte for byte, numbers bit for bit, list<string>/list<double> as
 *   arrays), also through the SummEval loader. Skipped (exit 77) when DuckDB's
 *   libduckdb.so is not installed, after the other parts ran.
 * - the MASSIVE tarball: a fixture made by GNU tar + gzip
 *   (tests/reference/ref_massive_fixture.sh) read in place: partition
 *   filtering, file order, intent vs scenario labels; truncated, damaged and
 *   missing-member errors.
 * - AmazonCounterfactual's data/EN_*.tsv (the upstream files in
 *   $CMTEB_SHARED/data) must give exactly the rows of the jsonl conversion
 *   made there with Python's csv module (same texts, labels, order).
 * - BEIR folders with qrels/test.jsonl and .jsonl.gz corpus/queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "cmteb/dataset.h"
#include "cmteb/records.h"
#include "cmteb/util.h"
#include "datasets/classification_data.h"
#include "datasets/formats/formats.h"
#include "datasets/retrieval_data.h"
#include "datasets/summarization_data.h"

static char tmpdir[1024], fixdir[1024];

static int err_has(const char *s) {
    if (strstr(cm_last_error(), s)) return 1;
    fprintf(stderr, "  expected \"%s\" in: %s\n", s, cm_last_error());
    return 0;
}

static const char *tmp_path(const char *name) {
    static char p[4][2048];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static void write_bytes(const char *path, const void *data, size_t n) {
    char *dir = cm_path_dirname(path);
    if (dir) cm_mkdir_p(dir);
    free(dir);
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
    if (n) fwrite(data, 1, n, f);
    fclose(f);
}

static void copy_file(const char *from, const char *to, long max) {
    char *data = NULL;
    size_t n = 0;
    if (cm_read_file_max(from, &data, &n, (size_t)1 << 30)) { fprintf(stderr, "cannot read %s\n", from); exit(1); }
    write_bytes(to, data, max >= 0 && (size_t)max < n ? (size_t)max : n);
    free(data);
}

/* Same JSON value: strings byte for byte, numbers bit for bit, arrays and objects element-wise. */
static int same_json(const cJSON *a, const cJSON *b) {
    if (!a || !b) return a == b;
    if (cJSON_IsString(a)) return cJSON_IsString(b) && !strcmp(a->valuestring, b->valuestring);
    if (cJSON_IsNumber(a)) return cJSON_IsNumber(b) && a->valuedouble == b->valuedouble;
    if (cJSON_IsNull(a)) return cJSON_IsNull(b);
    if (cJSON_IsBool(a)) return cJSON_IsBool(b) && cJSON_IsTrue(a) == cJSON_IsTrue(b);
    if (cJSON_IsArray(a)) {
        if (!cJSON_IsArray(b) || cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
        for (int i = 0; i < cJSON_GetArraySize(a); i++)
            if (!same_json(cJSON_GetArrayItem(a, i), cJSON_GetArrayItem(b, i))) return 0;
        return 1;
    }
    if (cJSON_IsObject(a)) {
        if (!cJSON_IsObject(b) || cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) return 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, a) if (!same_json(it, cJSON_GetObjectItemCaseSensitive(b, it->string))) return 0;
        return 1;
    }
    return 0;
}

/* ---- parquet ------------------------------------------------------------------- */
static void test_parquet_rows(const char *pq) {
    char ref[2048], got[2048];
    snprintf(ref, sizeof ref, "%s/summeval_like.jsonl", fixdir);
    snprintf(got, sizeof got, "%s/%s", fixdir, pq);
    cm_records *a = NULL, *b = NULL;
    CHECK_OK(cm_data_open(&a, ref));
    CHECK_OK(cm_data_open(&b, got));
    if (!a || !b) { cm_records_close(a); cm_records_close(b); return; }
    size_t rows = 0;
    for (;;) {
        cJSON *x, *y;
        int ra = cm_records_next(a, &x), rb = cm_records_next(b, &y);
        CHECK(ra == rb);
        if (ra != 1 || rb != 1) break;
        rows++;
        int same = same_json(x, y);
        if (!same) {
            char *sx = cJSON_PrintUnformatted(x), *sy = cJSON_PrintUnformatted(y);
            fprintf(stderr, "  %s row %zu differs:\n    jsonl   %s\n    parquet %s\n", pq, rows, sx, sy);
            free(sx);
            free(sy);
        }
        CHECK(same);
        CHECK(cm_records_line(b) == rows);
    }
    CHECK(rows == 3);
    cm_records_close(a);
    cm_records_close(b);
}

static void test_parquet_loader(void) {
    /* SummEval's hub layout: data/test-00000-of-00001-<hash>.parquet only */
    char src[2048];
    snprintf(src, sizeof src, "%s/summeval_like.zstd.parquet", fixdir);
    copy_file(src, tmp_path("summeval/data/test-00000-of-00001-0a1b2c3d.parquet"), -1);
    snprintf(src, sizeof src, "%s/summeval_like.jsonl", fixdir);
    copy_file(src, tmp_path("summeval_jsonl/test.jsonl"), -1);
    cm_summ_data *p = NULL, *j = NULL;
    CHECK_OK(cm_summ_data_load(&p, tmp_path("summeval"), NULL, "test"));
    CHECK_OK(cm_summ_data_load(&j, tmp_path("summeval_jsonl"), NULL, "test"));
    CHECK(p && j && p->n == 3 && j->n == 3);
    for (size_t i = 0; p && j && i < p->n && i < j->n; i++) {
        const cm_summ_item *x = &p->items[i], *y = &j->items[i];
        CHECK(!strcmp(x->id, y->id) && x->n_human == y->n_human && x->n_machine == y->n_machine);
        for (size_t k = 0; k < x->n_human && k < y->n_human; k++) CHECK(!strcmp(x->human[k], y->human[k]));
        for (size_t k = 0; k < x->n_machine && k < y->n_machine; k++) {
            CHECK(!strcmp(x->machine[k], y->machine[k]));
            CHECK(x->relevance[k] == y->relevance[k]);
        }
    }
    cm_summ_data_free(p);
    cm_summ_data_free(j);

    /* a parquet whose relevance column is text: the loader names the row and the field */
    cm_records *r = NULL;
    CHECK(cm_data_open(&r, tmp_path("summeval/data/test-00000-of-00001-0a1b2c3d.parquet")) == CM_OK);
    cm_records_close(r);

    /* bad magic, truncated footer, hostile bytes between good magics: errors, no crash */
    write_bytes(tmp_path("bad/magic.parquet"), "hello, not parquet at all", 25);
    CHECK(cm_data_open(&r, tmp_path("bad/magic.parquet")) == CM_ERR_FORMAT && r == NULL);
    CHECK(err_has("magic.parquet: not a parquet file (expected the magic bytes PAR1"));
    copy_file(src, tmp_path("bad/x.jsonl"), -1);
    snprintf(src, sizeof src, "%s/summeval_like.snappy.parquet", fixdir);
    copy_file(src, tmp_path("bad/cut.parquet"), 600);
    CHECK(cm_data_open(&r, tmp_path("bad/cut.parquet")) == CM_ERR_FORMAT && r == NULL);
    CHECK(err_has("cut.parquet: not a parquet file"));
    unsigned char junk[512];
    memcpy(junk, "PAR1", 4);
    for (size_t i = 4; i < sizeof junk - 8; i++) junk[i] = (unsigned char)(i * 131u + 7u);
    memcpy(junk + sizeof junk - 8, "\x10\x00\x00\x00PAR1", 8);
    write_bytes(tmp_path("bad/junk.parquet"), junk, sizeof junk);
    int rc = cm_data_open(&r, tmp_path("bad/junk.parquet"));
    if (rc == CM_OK) {   /* DuckDB may defer the failure to the first row */
        cJSON *o;
        rc = cm_records_next(r, &o);
        cm_records_close(r);
        CHECK(rc < 0);
    } else {
        CHECK(rc == CM_ERR_FORMAT && r == NULL);
        CHECK(err_has("junk.parquet: DuckDB could not read it as parquet"));
    }
}

/* ---- the MASSIVE tarball ------------------------------------------------------------ */
static void test_massive(void) {
    char dir[2048];
    snprintf(dir, sizeof dir, "%s/massive", fixdir);
    cm_clf_data_params p = cm_clf_data_default_params();
    p.subset = "en";
    cm_clf_data *d = NULL;
    CHECK_OK(cm_clf_data_load(&d, dir, &p));
    if (d) {
        static const char *const train[] = {"olly quiet", "what alarms do i have \"set\"", "start the robot"};
        static const char *const train_lab[] = {"audio_volume_mute", "alarm_query", "iot_cleaning"};
        static const char *const test[] = {"wake me up at nine am on friday", "vacuum the house \xe2\x80\x94 now"};
        static const char *const test_lab[] = {"alarm_set", "iot_cleaning"};
        CHECK(d->train.n == 3 && d->eval.n == 2);
        for (size_t i = 0; i < d->train.n && i < 3; i++) {
            CHECK(!strcmp(d->train.texts[i], train[i]));
            CHECK(!strcmp(cm_label_table_name(d->labels, d->train.labels[i]), train_lab[i]));
        }
        for (size_t i = 0; i < d->eval.n && i < 2; i++) {
            CHECK(!strcmp(d->eval.texts[i], test[i]));
            CHECK(!strcmp(cm_label_table_name(d->labels, d->eval.labels[i]), test_lab[i]));
        }
        CHECK(strstr(d->train.path, "amazon-massive-dataset-1.0.tar.gz#cmteb:massive:en-US:train:intent"));
    }
    cm_clf_data_free(d);

    char *loc = NULL;
    cm_records *r = NULL;
    cJSON *o;
    CHECK_OK(cm_data_find_split(dir, "en", "validation", &loc));   /* validation = partition dev */
    CHECK(loc && cm_data_open(&r, loc) == CM_OK);
    CHECK(r && cm_records_next(r, &o) == 1 && !strcmp(cJSON_GetObjectItem(o, "text")->valuestring,
                                                        "turn the lights off"));
    CHECK(r && cm_records_line(r) == 3);
    CHECK(r && cm_records_next(r, &o) == 0);
    cm_records_close(r);
    free(loc);

    /* scenario labels: the folder's name says so (no loading script beside the tarball) */
    char tar[2200];
    snprintf(tar, sizeof tar, "%s/amazon-massive-dataset-1.0.tar.gz", dir);
    copy_file(tar, tmp_path("mteb/amazon_massive_scenario/amazon-massive-dataset-1.0.tar.gz"), -1);
    CHECK_OK(cm_clf_data_load(&d, tmp_path("mteb/amazon_massive_scenario"), &p));
    CHECK(d && d->train.n == 3 && !strcmp(cm_label_table_name(d->labels, d->train.labels[0]), "audio"));
    CHECK(d && !strcmp(cm_label_table_name(d->labels, d->eval.labels[1]), "iot"));
    cm_clf_data_free(d);
    d = NULL;
    /* neither a script nor a telling name: a clear error */
    copy_file(tar, tmp_path("massive_unknown/amazon-massive-dataset-1.0.tar.gz"), -1);
    CHECK(cm_data_find_split(tmp_path("massive_unknown"), "en", "test", &loc) == CM_ERR_FORMAT);
    CHECK(err_has("which labels (intent or scenario)"));
    /* a language the tarball does not hold */
    p.subset = "fr";
    CHECK(cm_clf_data_load(&d, dir, &p) == CM_ERR_NOTFOUND && d == NULL);
    CHECK(err_has("no member 1.0/data/fr-FR.jsonl"));
    p.subset = "xx";
    CHECK(cm_clf_data_load(&d, dir, &p) == CM_ERR_NOTFOUND);
    CHECK(err_has("MASSIVE has no subset 'xx'"));
    /* truncated and damaged tarballs */
    for (long cut = 40; cut <= 400; cut += 120) {
        copy_file(tar, tmp_path("massive_cut/amazon-massive-dataset-1.0.tar.gz"), cut);
        write_bytes(tmp_path("massive_cut/amazon_massive_intent.py"), "", 0);
        p.subset = "en";
        CHECK(cm_clf_data_load(&d, tmp_path("massive_cut"), &p) == CM_ERR_FORMAT && d == NULL);
        CHECK(err_has("amazon-massive-dataset-1.0.tar.gz: "));
        CHECK(strstr(cm_last_error(), "truncated or damaged") || strstr(cm_last_error(), "not a readable tar"));
    }
    write_bytes(tmp_path("massive_cut/amazon-massive-dataset-1.0.tar.gz"), "\x1f\x8b garbage", 10);
    CHECK(cm_clf_data_load(&d, tmp_path("massive_cut"), &p) == CM_ERR_FORMAT);
    CHECK(err_has("amazon-massive-dataset-1.0.tar.gz: "));
    CHECK(cm_data_open(&r, "/nonexistent/a.tar.gz#cmteb:massive:en-US:test:intent") == CM_ERR_NOTFOUND);
    CHECK(err_has("a.tar.gz: archive not found"));
    CHECK(cm_data_open(&r, "x.tar.gz#cmteb:massive:en-US") == CM_ERR_ARG);
    CHECK(cm_data_open(&r, "x.tsv#cmteb:nope") == CM_ERR_ARG);
    CHECK(err_has("unknown reader 'nope'"));
}

/* ---- AmazonCounterfactual TSVs -------------------------------------------------------- */
static void test_counterfactual(const char *shared) {
    /* a synthetic file: quoting as Python's csv reads it, and a bad label */
    const char *tsv = "sentence\tis_counterfactual\nplain text\t0\n\"quoted \"\"x\"\", y\"\t1\nbad\t2\n";
    write_bytes(tmp_path("cf/data/EN_test.tsv"), tsv, strlen(tsv));
    char *loc = NULL;
    cm_records *r = NULL;
    cJSON *o;
    CHECK_OK(cm_data_find_split(tmp_path("cf"), "en", "test", &loc));
    CHECK(loc && strstr(loc, "/cf/data/EN_test.tsv#cmteb:amazon_counterfactual"));
    CHECK(loc && cm_data_open(&r, loc) == CM_OK);
    CHECK(r && cm_records_next(r, &o) == 1 && !strcmp(cJSON_GetObjectItem(o, "text")->valuestring, "plain text") &&
          cJSON_GetObjectItem(o, "label")->valuedouble == 0);
    CHECK(r && cm_records_next(r, &o) == 1 && !strcmp(cJSON_GetObjectItem(o, "text")->valuestring,
                                                        "quoted \"x\", y") &&
          !strcmp(cJSON_GetObjectItem(o, "label_text")->valuestring, "counterfactual"));
    CHECK(r && cm_records_next(r, &o) < 0);
    CHECK(err_has("EN_test.tsv:4: field 'is_counterfactual': expected 0 or 1"));
    cm_records_close(r);
    free(loc);
    CHECK(cm_data_find_split(tmp_path("cf"), "de", "test", &loc) == CM_ERR_NOTFOUND);

    if (!*shared) return;
    char orig[2048], conv[2048];
    snprintf(orig, sizeof orig, "%s/data/mteb/amazon_counterfactual/en/original/data", shared);
    snprintf(conv, sizeof conv, "%s/data/mteb/amazon_counterfactual", shared);
    if (!cm_dir_exists(orig)) { fprintf(stderr, "  (no %s: real-data part skipped)\n", orig); return; }
    static const char *const files[] = {"EN_train.tsv", "EN_valid.tsv", "EN_test.tsv"};
    for (size_t i = 0; i < 3; i++) {
        char from[2200], to[64];
        snprintf(from, sizeof from, "%s/%s", orig, files[i]);
        snprintf(to, sizeof to, "cf_real/data/%s", files[i]);
        copy_file(from, tmp_path(to), -1);
    }
    /* the hub layout (TSVs + script mapping) against the jsonl conversion, for all three splits */
    static const char *const splits[] = {"train", "validation", "test"};
    static const size_t rows[] = {4018, 335, 670};
    for (size_t i = 0; i < 3; i++) {
        char *la = NULL, *lb = NULL;
        cm_records *a = NULL, *b = NULL;
        CHECK_OK(cm_data_find_split(tmp_path("cf_real"), "en", splits[i], &la));
        CHECK_OK(cm_data_find_split(conv, "en", splits[i], &lb));
        CHECK(la && strstr(la, "#cmteb:amazon_counterfactual") && lb && strstr(lb, ".jsonl"));
        if (la && lb && !cm_data_open(&a, la) && !cm_data_open(&b, lb)) {
            size_t n = 0, bad = 0;
            cJSON *x, *y;
            int ra, rb;
            while ((ra = cm_records_next(a, &x)) == 1 && (rb = cm_records_next(b, &y)) == 1) {
                n++;
                if (!same_json(x, y)) {
                    if (bad++ < 3) {
                        char *sx = cJSON_PrintUnformatted(x), *sy = cJSON_PrintUnformatted(y);
                        fprintf(stderr, "  %s row %zu:\n    tsv   %s\n    jsonl %s\n", splits[i], n, sx, sy);
                        free(sx);
                        free(sy);
                    }
                }
            }
            CHECK(ra == 0 && cm_records_next(b, &y) == 0);
            CHECK(n == rows[i]);
            CHECK(bad == 0);
        }
        cm_records_close(a);
        cm_records_close(b);
        free(la);
        free(lb);
    }
}

/* ---- BEIR: qrels/<split>.jsonl, gzipped corpus and queries ------------------------------- */
static void write_gz(const char *path, const char *text) {
    char *dir = cm_path_dirname(path);
    if (dir) cm_mkdir_p(dir);
    free(dir);
    gzFile g = gzopen(path, "wb");
    if (!g) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
    gzputs(g, text);
    gzclose(g);
}

static void test_beir_jsonl_qrels(void) {
    write_gz(tmp_path("beir/corpus.jsonl.gz"),
             "{\"_id\": \"d1\", \"title\": \"T\", \"text\": \"one\"}\n{\"_id\": \"d2\", \"title\": \"\", \"text\": \"two\"}\n");
    write_gz(tmp_path("beir/queries.jsonl.gz"), "{\"_id\": \"q1\", \"text\": \"first\"}\n{\"_id\": \"q9\", \"text\": \"x\"}\n"
                                               "{\"_id\": 7, \"text\": \"numeric id\"}\n");
    const char *qrels = "{\"query-id\": \"q1\", \"corpus-id\": \"d2\", \"score\": 1}\n"
                        "{\"query-id\": \"q1\", \"corpus-id\": \"d1\", \"score\": 0}\n"
                        "{\"query-id\": 7, \"corpus-id\": \"d1\", \"score\": 2}\n";
    write_bytes(tmp_path("beir/qrels/test.jsonl"), qrels, strlen(qrels));
    cm_retrieval_data *d = NULL;
    CHECK_OK(cm_retrieval_data_load(&d, tmp_path("beir"), "test"));
    CHECK(d && d->n_queries == 2 && d->n_with_text == 2 && d->n_qrels_rows == 3);
    CHECK(d && strstr(d->qrels_path, "qrels/test.jsonl") && strstr(d->corpus_path, "corpus.jsonl.gz"));
    if (d && d->n_queries == 2) {
        CHECK(!strcmp(d->queries[0].id, "q1") && !strcmp(d->queries[0].text, "first"));
        CHECK(d->queries[0].n_judged == 2 && !strcmp(d->queries[0].judged[0].doc, "d1") &&
              d->queries[0].judged[0].rel == 0 && d->queries[0].judged[1].rel == 1);
        CHECK(!strcmp(d->queries[1].id, "7") && d->queries[1].judged[0].rel == 2);
    }
    size_t n = 0;
    CHECK_OK(cm_corpus_count_file(d ? d->corpus_path : "", &n));
    CHECK(n == 2);
    cm_retrieval_data_free(d);
    /* a gzipped qrels file too */
    unlink(tmp_path("beir/qrels/test.jsonl"));
    write_gz(tmp_path("beir/qrels/test.jsonl.gz"), qrels);
    CHECK_OK(cm_retrieval_data_load(&d, tmp_path("beir"), "test"));
    CHECK(d && d->n_qrels_rows == 3 && strstr(d->qrels_path, "qrels/test.jsonl.gz"));
    cm_retrieval_data_free(d);
}

int main(void) {
    const char *tmp = check_env("CMTEB_TMP"), *src = check_env("CMTEB_SRC");
    if (!*tmp || !*src) SKIP("CMTEB_TMP and CMTEB_SRC must be set (run through ctest)");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_formats", tmp);
    snprintf(fixdir, sizeof fixdir, "%s/tests/fixtures/formats", src);
    CHECK_OK(cm_mkdir_p(tmpdir));
    test_massive();
    test_counterfactual(check_env("CMTEB_SHARED"));
    test_beir_jsonl_qrels();
    if (!cm_parquet_available()) {
        fprintf(stderr, "DuckDB's libduckdb.so is not installed (scripts/setup.sh): parquet part skipped\n");
        if (check_report() != 0) return 1;
        SKIP("parquet needs DuckDB");
    }
    test_parquet_rows("summeval_like.zstd.parquet");
    test_parquet_rows("summeval_like.snappy.parquet");
    test_parquet_loader();
    return check_report();
}
