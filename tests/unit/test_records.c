/*
 * test_records.c: the streaming record readers and split discovery
 * (include/cmteb/dataset.h).
 *
 * Small files written to $CMTEB_TMP cover each format (jsonl, jsonl.gz, json
 * object and array, csv, tsv) with CRLF line ends, a UTF-8 BOM, blank lines
 * and a quoted newline; the bad-input files in tests/fixtures/records check
 * that errors name file:line (and the field or row). The real datasets under
 * $CMTEB_SHARED/data are read end to end when present (row counts from
 * ../shared/data/README.md).
 */
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

static char tmpdir[1024];
static char fixdir[1024];

/* Writes text to tmpdir/name (gzip-compressed when gz); returns the path (static buffer). */
static const char *write_tmp(const char *name, const char *text, int gz) {
    static char path[2048];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
        gzwrite(f, text, (unsigned)strlen(text));
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        if (!f) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
        fputs(text, f);
        fclose(f);
    }
    return path;
}

static const char *fixture(const char *name) {
    static char path[2048];
    snprintf(path, sizeof path, "%s/%s", fixdir, name);
    return path;
}

/* 1 when the last error contains s; prints the message otherwise. */
static int err_has(const char *s) {
    if (strstr(cm_last_error(), s)) return 1;
    fprintf(stderr, "  expected \"%s\" in: %s\n", s, cm_last_error());
    return 0;
}

/* Reads every record; returns the count, or -1 on error. lines[] gets cm_records_line per record. */
static long read_all(const char *path, size_t *lines, size_t max_lines) {
    cm_records *r;
    if (cm_records_open(&r, path)) return -1;
    long n = 0;
    cJSON *o;
    int got;
    while ((got = cm_records_next(r, &o)) == 1) {
        if (lines && (size_t)n < max_lines) lines[n] = cm_records_line(r);
        n++;
    }
    cm_records_close(r);
    return got < 0 ? -1 : n;
}

static const char *str_field(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "<missing>";
}

static void test_jsonl(int gz) {
    /* BOM, CRLF, a blank line (line 2), a whitespace-only line (line 4), no final newline */
    const char *text = "\xEF\xBB\xBF{\"text\": \"caf\xC3\xA9\", \"label\": 1}\r\n"
                       "\r\n"
                       "{\"text\": \"two\\nlines\", \"label\": 0}\r\n"
                       "   \t \r\n"
                       "{\"text\": \"  spaced  \", \"label\": 2}";
    const char *path = write_tmp(gz ? "ok.jsonl.gz" : "ok.jsonl", text, gz);
    cm_records *r;
    CHECK_OK(cm_records_open(&r, path));
    if (!r) return;
    cJSON *o;
    const char *s;
    double d;
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 1);
    CHECK_OK(cm_rec_string(r, o, "text", &s));
    CHECK(!strcmp(s, "caf\xC3\xA9"));
    CHECK_OK(cm_rec_number(r, o, "label", &d));
    CHECK(d == 1);
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 3);
    CHECK_OK(cm_rec_string(r, o, "text", &s));
    CHECK(!strcmp(s, "two\nlines"));
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 5);
    CHECK_OK(cm_rec_string(r, o, "text", &s));
    CHECK(!strcmp(s, "  spaced  "));
    CHECK(cm_records_next(r, &o) == 0);
    CHECK(cm_records_next(r, &o) == 0);
    CHECK(!strcmp(cm_records_path(r), path));
    cm_records_close(r);
}

static void test_jsonl_long_line(void) {
    /* a line longer than the reader's first buffer (64 KiB) */
    size_t n = 200000;
    char *text = malloc(n + 100);
    strcpy(text, "{\"a\": 1}\n{\"text\": \"");
    size_t len = strlen(text);
    memset(text + len, 'x', n);
    strcpy(text + len + n, "\"}\n{\"a\": 3}\n");
    const char *path = write_tmp("long.jsonl", text, 0);
    free(text);
    cm_records *r;
    CHECK_OK(cm_records_open(&r, path));
    if (!r) return;
    cJSON *o;
    const char *s = "";
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_next(r, &o) == 1);
    CHECK_OK(cm_rec_string(r, o, "text", &s));
    CHECK(strlen(s) == n);
    CHECK(cm_records_line(r) == 2);
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 3);
    CHECK(cm_records_next(r, &o) == 0);
    cm_records_close(r);
}

/* A longer JSON Lines file: 5,000 records of ~110 bytes with a blank line every 97 lines, read in order with
 * their own line numbers; a bad line deep in the file (invalid JSON, a non-object, a \u0000) is reported at its
 * line (and column) after every record before it has been handed out. */
static void test_jsonl_many(int gz) {
    const int n = 5000;
    char *text = malloc((size_t)n * 160), *p = text;
    size_t *line_of = malloc((size_t)n * sizeof *line_of), phys = 0;
    for (int i = 0; i < n; i++) {
        if (i % 97 == 50) { p += sprintf(p, "\n"); phys++; }
        line_of[i] = ++phys;
        p += sprintf(p, "{\"i\": %d, \"t\": \"record %d of the batch test, padded to about a hundred bytes\"}\n", i, i);
    }
    const char *path = write_tmp(gz ? "batch.jsonl.gz" : "batch.jsonl", text, gz);
    cm_records *r;
    CHECK_OK(cm_records_open(&r, path));
    cJSON *o;
    int got, i = 0, order_ok = 1;
    while ((got = cm_records_next(r, &o)) == 1) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "i");
        if (!cJSON_IsNumber(v) || v->valueint != i || cm_records_line(r) != line_of[i]) order_ok = 0;
        i++;
    }
    CHECK(got == 0);
    CHECK(i == n);
    CHECK(order_ok);
    cm_records_close(r);
    /* the bad line: record 3000, three ways */
    const char *bad[3] = {"{\"i\": 3000, \"t\": oops}", "[3000]", "{\"i\": 3000, \"t\": \"a\\u0000b\"}"};
    const char *want[3] = {"invalid JSON near column 18", "expected a JSON object", "field 't': contains U+0000"};
    for (int b = 0; b < 3; b++) {
        char *t2 = malloc(strlen(text) + 64), *q = t2;
        const char *s0 = text;
        for (int line = 1; *s0; line++) {   /* copy, replacing the physical line of record 3000 */
            const char *e = strchr(s0, '\n');
            size_t l = (size_t)(e - s0) + 1;
            if ((size_t)line == line_of[3000]) q += sprintf(q, "%s\n", bad[b]);
            else { memcpy(q, s0, l); q += l; }
            s0 += l;
        }
        *q = '\0';
        path = write_tmp(gz ? "batch_bad.jsonl.gz" : "batch_bad.jsonl", t2, gz);
        CHECK_OK(cm_records_open(&r, path));
        i = 0;
        while ((got = cm_records_next(r, &o)) == 1) i++;
        char where[64];
        snprintf(where, sizeof where, "batch_bad.jsonl%s:%zu: ", gz ? ".gz" : "", line_of[3000]);
        CHECK(i == 3000);
        CHECK(got == CM_ERR_FORMAT);
        CHECK(err_has(where));
        CHECK(err_has(want[b]));
        cm_records_close(r);
        free(t2);
    }
    free(text);
    free(line_of);
}

static void test_json(void) {
    /* one object */
    const char *p1 = write_tmp("one.json", "\xEF\xBB\xBF\n {\"sent1\": [\"a\", \"b\"], \"sent2\": [\"c\", \"d\"], \"labels\": [1, 0]}\n", 0);
    cm_records *r;
    CHECK_OK(cm_records_open(&r, p1));
    if (r) {
        cJSON *o;
        const char **items = NULL;
        size_t n = 0;
        CHECK(cm_records_next(r, &o) == 1);
        CHECK(cm_records_line(r) == 2);
        CHECK_OK(cm_rec_strings(r, o, "sent1", &items, &n));
        CHECK(n == 2 && items && !strcmp(items[1], "b"));
        free(items);
        CHECK(cm_rec_strings(r, o, "labels", &items, &n) == CM_ERR_FORMAT);
        CHECK(err_has("one.json:2: field 'labels': item 0 is not a string"));
        CHECK(cm_records_next(r, &o) == 0);
        cm_records_close(r);
    }
    /* an array, items over several lines, CRLF, gzipped */
    const char *text = "[\r\n  {\"id\": \"a\", \"score\": 1},\r\n  {\"id\": \"b\",\r\n   \"score\": 2.5}\r\n  ,{\"id\": \"c\", \"score\": \"3\"}\r\n]\r\n";
    size_t lines[8] = {0};
    CHECK(read_all(write_tmp("arr.json", text, 0), lines, 8) == 3);
    CHECK(lines[0] == 2 && lines[1] == 3 && lines[2] == 5);
    CHECK(read_all(write_tmp("arr.json.gz", text, 1), NULL, 0) == 3);
    CHECK(read_all(write_tmp("empty_arr.json", " [ ] ", 0), NULL, 0) == 0);
    /* bad json */
    CHECK(read_all(write_tmp("empty.json", " \n\n", 0), NULL, 0) == -1);
    CHECK(err_has("empty.json: empty file"));
    CHECK(read_all(write_tmp("trail.json", "[{\"a\": 1}]\n\nx", 0), NULL, 0) == -1);
    CHECK(err_has("trail.json:3: unexpected text after"));
    CHECK(read_all(write_tmp("notobj.json", "[{\"a\": 1},\n 5]", 0), NULL, 0) == -1);
    CHECK(err_has("notobj.json:2: array item 2: expected a JSON object"));
    CHECK(read_all(write_tmp("open.json", "[{\"a\": 1},\n{\"a\": 2}\n", 0), NULL, 0) == -1);
    CHECK(err_has("open.json:3: invalid JSON"));
    CHECK(read_all(fixture("bad_item.json"), NULL, 0) == -1);
    CHECK(err_has("bad_item.json:6: invalid JSON"));
}

static void test_csv(void) {
    /* BOM, CRLF, a quoted newline, a quoted comma, "" quotes, kept spaces, empty fields, blank line */
    const char *text = "\xEF\xBB\xBFid,text,label\r\n"
                       "1,plain,0\r\n"
                       "2,\"first line\r\nsecond, line\",1\r\n"
                       "\r\n"
                       "3,\" say \"\"hi\"\" \",\r\n"
                       "4,  spaced  ,\"\"\r\n"
                       "5,last,7";
    const char *path = write_tmp("ok.csv", text, 0);
    cm_records *r;
    CHECK_OK(cm_records_open(&r, path));
    if (!r) return;
    cJSON *o;
    const char *s;
    double d;
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 2);
    CHECK(!strcmp(str_field(o, "id"), "1")); /* the BOM is not part of the first header name */
    CHECK(!strcmp(str_field(o, "text"), "plain"));
    CHECK_OK(cm_rec_number(r, o, "label", &d));
    CHECK(d == 0);
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 3);
    CHECK(!strcmp(str_field(o, "text"), "first line\r\nsecond, line"));
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 6); /* after the 2-line row and a blank line */
    CHECK(!strcmp(str_field(o, "text"), " say \"hi\" "));
    CHECK(!strcmp(str_field(o, "label"), ""));
    CHECK(cm_rec_number(r, o, "label", &d) == CM_ERR_FORMAT);
    CHECK(err_has("ok.csv:6: field 'label': expected a number"));
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 7);
    CHECK_OK(cm_rec_string(r, o, "text", &s));
    CHECK(!strcmp(s, "  spaced  "));
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(cm_records_line(r) == 8);
    CHECK_OK(cm_rec_number(r, o, "label", &d));
    CHECK(d == 7);
    CHECK(cm_records_next(r, &o) == 0);
    cm_records_close(r);

    CHECK(read_all(write_tmp("header_only.csv", "a,b\n", 0), NULL, 0) == 0);
    CHECK(read_all(write_tmp("nothing.csv", "", 0), NULL, 0) == 0);
    CHECK(read_all(write_tmp("gz.csv.gz", text, 1), NULL, 0) == 5);
}

static void test_tsv(void) {
    /* tabs only: commas and a stray quote inside a field are literal */
    const char *text = "query-id\tcorpus-id\tscore\n"
                       "q1\td1, d2\t1\n"
                       "q2\tsaid \"no\t2\n"
                       "\n"
                       "q3\td3\t0\n";
    size_t lines[4] = {0};
    const char *path = write_tmp("qrels.tsv", text, 0);
    CHECK(read_all(path, lines, 4) == 3);
    CHECK(lines[0] == 2 && lines[1] == 3 && lines[2] == 5);
    cm_records *r;
    CHECK_OK(cm_records_open(&r, path));
    if (!r) return;
    cJSON *o;
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(!strcmp(str_field(o, "corpus-id"), "d1, d2"));
    CHECK(cm_records_next(r, &o) == 1);
    CHECK(!strcmp(str_field(o, "corpus-id"), "said \"no"));
    cm_records_close(r);
}

static void test_bad_inputs(void) {
    size_t lines[4] = {0};
    CHECK(read_all(fixture("bad_line4.jsonl"), lines, 4) == -1);
    CHECK(err_has("bad_line4.jsonl:4: invalid JSON"));
    CHECK(lines[0] == 1 && lines[1] == 2);

    CHECK(read_all(fixture("bad_fields.csv"), NULL, 0) == -1);
    CHECK(err_has("bad_fields.csv:4: row 3: expected 3 fields as in the header line, found 4"));

    CHECK(read_all(fixture("unclosed_quote.tsv"), NULL, 0) == -1);
    CHECK(err_has("unclosed_quote.tsv:3: a quoted field is never closed"));

    cm_records *r;
    CHECK_OK(cm_records_open(&r, fixture("wrong_types.jsonl")));
    if (r) {
        cJSON *o;
        const char *s;
        double d;
        const char **items = NULL;
        size_t n;
        CHECK(cm_records_next(r, &o) == 1);
        CHECK_OK(cm_rec_number(r, o, "score", &d)); /* "4.5": a number in a string is fine */
        CHECK(d == 4.5);
        CHECK(cm_rec_number(r, o, "missing", &d) == CM_ERR_FORMAT);
        CHECK(err_has("wrong_types.jsonl:1: field 'missing': missing (expected a number)"));
        CHECK(cm_records_next(r, &o) == 1);
        CHECK(cm_rec_string(r, o, "sentence2", &s) == CM_ERR_FORMAT);
        CHECK(err_has("wrong_types.jsonl:2: field 'sentence2': expected a string"));
        CHECK(cm_rec_number(r, o, "score", &d) == CM_ERR_FORMAT);
        CHECK(err_has("wrong_types.jsonl:2: field 'score': expected a number, found \"high\""));
        CHECK(cm_records_next(r, &o) == 1);
        CHECK(cm_rec_strings(r, o, "labels", &items, &n) == CM_ERR_FORMAT);
        CHECK(err_has("wrong_types.jsonl:3: field 'labels': item 0 is not a string"));
        CHECK(cm_rec_strings(r, o, "sentence1", &items, &n) == CM_ERR_FORMAT);
        CHECK(err_has("wrong_types.jsonl:3: field 'sentence1': expected an array of strings"));
        CHECK(cm_rec_number(r, o, "score", &d) == CM_ERR_FORMAT);
        CHECK(err_has("wrong_types.jsonl:3: field 'score': expected a number"));
        CHECK(cm_rec_error(r, "x", "custom") == CM_ERR_FORMAT);
        CHECK(err_has("wrong_types.jsonl:3: field 'x': custom"));
        cm_records_close(r);
    }

    CHECK(cm_records_open(&r, fixture("single.parquet")) == CM_ERR_UNSUPPORTED);
    CHECK(r == NULL);
    CHECK(err_has("single.parquet: parquet is not supported yet"));
    CHECK(cm_records_open(&r, fixture("README.md")) == CM_ERR_FORMAT);
    CHECK(err_has("README.md: unknown file type"));
    CHECK(read_all(write_tmp("empty.jsonl", "", 0), NULL, 0) == 0);
    char missing[2048];
    snprintf(missing, sizeof missing, "%s/no_such_file.jsonl", tmpdir);
    CHECK(cm_records_open(&r, missing) == CM_ERR_IO);
    CHECK(err_has("no_such_file.jsonl: cannot open"));
    cm_records_close(NULL);
}

static void test_find_split(void) {
    char *path = NULL;
    char dir[2048], sub[2100], data[2100];
    snprintf(dir, sizeof dir, "%s/hub", tmpdir);
    snprintf(sub, sizeof sub, "%s/en", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    CHECK_OK(cm_mkdir_p(sub));
    CHECK_OK(cm_mkdir_p(data));
    char f[2200];
    snprintf(f, sizeof f, "%s/test.jsonl", sub);
    FILE *fp = fopen(f, "w");
    if (fp) fclose(fp);
    snprintf(f, sizeof f, "%s/train-00001-of-00002.jsonl.gz", data);
    fp = fopen(f, "w");
    if (fp) fclose(fp);
    snprintf(f, sizeof f, "%s/train-00000-of-00002.jsonl.gz", data);
    fp = fopen(f, "w");
    if (fp) fclose(fp);
    snprintf(f, sizeof f, "%s/validation.csv", dir);
    fp = fopen(f, "w");
    if (fp) fclose(fp);

    CHECK_OK(cm_data_find_split(dir, "en", "test", &path));
    CHECK(path && strstr(path, "/hub/en/test.jsonl"));
    free(path);
    CHECK_OK(cm_data_find_split(dir, NULL, "train", &path));
    CHECK(path && strstr(path, "/hub/data/train-00000-of-00002.jsonl.gz")); /* the first shard by name */
    free(path);
    CHECK_OK(cm_data_find_split(dir, "en", "validation", &path)); /* falls back to the top folder */
    CHECK(path && strstr(path, "/hub/validation.csv"));
    free(path);

    CHECK(cm_data_find_split(dir, "de", "dev", &path) == CM_ERR_NOTFOUND);
    CHECK(path == NULL);
    CHECK(err_has("no file for split 'dev' of subset de"));
    CHECK(err_has("de/"));
    CHECK(err_has("dev.jsonl"));
    CHECK(cm_data_find_split(dir, NULL, "dev", &path) == CM_ERR_NOTFOUND);
    CHECK(err_has("no file for split 'dev' (looked in ./ and data/ for dev.jsonl"));

    char nodir[2100];
    snprintf(nodir, sizeof nodir, "%s/not_downloaded", tmpdir);
    CHECK(cm_data_find_split(nodir, NULL, "test", &path) == CM_ERR_NOTFOUND);
    CHECK(err_has("not_downloaded: data folder not found"));

    /* parquet is found when nothing else is there; these fixtures are 10 bytes, too short for a footer */
    CHECK_OK(cm_data_find_split(fixture("parquet_only"), NULL, "test", &path));
    CHECK(path && strstr(path, "parquet_only/data/test") && strstr(path, ".parquet"));
    cm_records *r = NULL;
    CHECK(path && cm_data_open(&r, path) == CM_ERR_FORMAT && r == NULL);
    CHECK(err_has("not a parquet file (expected the magic bytes PAR1 at the start and the end"));
    free(path);
    path = NULL;
    CHECK_OK(cm_data_find_split(fixture("parquet_subset"), "en", "test", &path));
    CHECK(path && strstr(path, "parquet_subset/en/"));
    free(path);
}

/* The real datasets: row counts from ../shared/data/README.md. */
static void test_real_data(const char *shared) {
    struct { const char *dir, *subset, *split; long rows; } sets[] = {
        {"mteb/stsbenchmark-sts", NULL, "test", 1379},
        {"mteb/sickr-sts", NULL, "test", 9927},
        {"mteb/banking77", NULL, "test", 3080},
        {"mteb/banking77", NULL, "train", 10003},
        {"mteb/amazon_counterfactual", "en", "test", 670},
        {"mteb/scifact", NULL, "corpus", 5183},
        {"mteb/scifact", NULL, "queries", 1109},
        {"mteb/scifact", "qrels", "test", 339},
        {"mteb/scifact", "qrels", "train", 919},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char dir[2048], *path = NULL;
        snprintf(dir, sizeof dir, "%s/data/%s", shared, sets[i].dir);
        CHECK_OK(cm_data_find_split(dir, sets[i].subset, sets[i].split, &path));
        if (!path) continue;
        long n = read_all(path, NULL, 0);
        if (n != sets[i].rows) fprintf(stderr, "  %s: %ld rows, expected %ld (%s)\n", path, n, sets[i].rows, cm_last_error());
        CHECK(n == sets[i].rows);
        free(path);
    }
    /* field values on the first STS Benchmark test row and a BEIR qrels row */
    char path[2048];
    snprintf(path, sizeof path, "%s/data/mteb/stsbenchmark-sts/test.jsonl.gz", shared);
    cm_records *r;
    CHECK_OK(cm_records_open(&r, path));
    if (r) {
        cJSON *o;
        double sum = 0, d;
        long n = 0;
        const char *s1, *s2;
        while (cm_records_next(r, &o) == 1) {
            CHECK_OK(cm_rec_number(r, o, "score", &d));
            CHECK_OK(cm_rec_string(r, o, "sentence1", &s1));
            CHECK_OK(cm_rec_string(r, o, "sentence2", &s2));
            sum += d;
            n++;
        }
        CHECK(n == 1379);
        CHECK_NEAR(sum / (double)n, 2.6079166, 1e-6); /* mean score from the data README */
        cm_records_close(r);
    }
    snprintf(path, sizeof path, "%s/data/mteb/scifact/qrels/test.tsv", shared);
    CHECK_OK(cm_records_open(&r, path));
    if (r) {
        cJSON *o;
        double score;
        const char *q, *doc;
        CHECK(cm_records_next(r, &o) == 1);
        CHECK(cm_records_line(r) == 2);
        CHECK_OK(cm_rec_string(r, o, "query-id", &q));
        CHECK_OK(cm_rec_string(r, o, "corpus-id", &doc));
        CHECK_OK(cm_rec_number(r, o, "score", &score));
        CHECK(score == 1);
        cm_records_close(r);
    }
}

int main(void) {
    const char *tmp = check_env("CMTEB_TMP"), *src = check_env("CMTEB_SRC");
    if (!*tmp || !*src) SKIP("CMTEB_TMP and CMTEB_SRC must be set (run through ctest)");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_records", tmp);
    snprintf(fixdir, sizeof fixdir, "%s/tests/fixtures/records", src);
    CHECK_OK(cm_mkdir_p(tmpdir));

    test_jsonl(0);
    test_jsonl(1);
    test_jsonl_long_line();
    test_jsonl_many(0);
    test_jsonl_many(1);
    test_json();
    test_csv();
    test_tsv();
    test_bad_inputs();
    test_find_split();

    const char *shared = check_env("CMTEB_SHARED");
    char probe[2048];
    snprintf(probe, sizeof probe, "%s/data/mteb", shared);
    if (*shared && cm_dir_exists(probe)) test_real_data(shared);
    else printf("note: %s absent, real-data checks skipped\n", probe);
    return check_report();
}
