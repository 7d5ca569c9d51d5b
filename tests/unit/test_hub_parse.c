/*
 * test_hub_parse.c: the hub client's parsers against Python's own (Debian /usr/bin/python3): percent-encoding
 * of revisions and paths vs urllib.parse.quote, Link headers vs requests.utils.parse_header_links,
 * Retry-After dates vs email.utils / time.strptime, sha256 and git blob ids vs hashlib; globs over listing
 * paths against the rules hub.h states.
 */
#include "check.h"
#include "datasets/hub/hub_int.h"

#include <string.h>
#include <time.h>

/* Runs a Python snippet over the JSON array `in` (as sys.argv[1]'s file) and returns its JSON output. */
static cJSON *python(const char *code, const cJSON *in) {
    const char *tmp = check_env("CMTEB_TMP");
    char inpath[512], pypath[512], cmd[1200];
    snprintf(inpath, sizeof inpath, "%s/hub_parse_in.json", *tmp ? tmp : "/tmp");
    snprintf(pypath, sizeof pypath, "%s/hub_parse.py", *tmp ? tmp : "/tmp");
    char *text = cJSON_PrintUnformatted(in);
    FILE *f = fopen(inpath, "w"), *g = fopen(pypath, "w");
    if (!f || !g || !text) SKIP("cannot write temporaries");
    fputs(text, f);
    fprintf(g, "import json, sys\nI = json.load(open(sys.argv[1]))\n%s\n", code);
    fclose(f);
    fclose(g);
    free(text);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", pypath, inpath);
    FILE *p = popen(cmd, "r");
    if (!p) SKIP("no /usr/bin/python3");
    cm_str out = {0};
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, p)) > 0) cm_str_appendn(&out, buf, k);
    int st = pclose(p);
    if (st != 0 || !out.s) SKIP("the Python reference did not run (python3-requests missing?)");
    cJSON *j = cJSON_Parse(out.s);
    cm_str_free(&out);
    return j;
}

static cJSON *strings(const char *const *v, size_t n) {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static void test_encoding(void) {
    const char *v[] = {"refs/convert/parquet", "main", "v1.0+x y", "caf\xc3\xa9/na\xc3\xafve", "e8379541af4e",
                       "data/test-00000-of-00001-a1b2.parquet", "a b/c#d?e&f=g.jsonl", "~tilde_under.dot-dash"};
    size_t n = sizeof v / sizeof v[0];
    cJSON *in = strings(v, n);
    cJSON *ref = python("from urllib.parse import quote\n"
                        "print(json.dumps([[quote(s, safe=''), quote(s, safe='/')] for s in I]))", in);
    CHECK(cJSON_GetArraySize(ref) == (int)n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *r = cJSON_GetArrayItem(ref, (int)i);
        char *a = hub_percent_encode(v[i], 0), *b = hub_percent_encode(v[i], 1);
        CHECK(a && !strcmp(a, cJSON_GetArrayItem(r, 0)->valuestring));
        CHECK(b && !strcmp(b, cJSON_GetArrayItem(r, 1)->valuestring));
        free(a);
        free(b);
    }
    cJSON_Delete(in);
    cJSON_Delete(ref);
}

static void test_link(void) {
    const char *v[] = {
        "<https://huggingface.co/api/datasets/mteb/x/tree/main?recursive=true&cursor=ZXlK>; rel=\"next\"",
        "<https://h/a?p=1>; rel=\"prev\", <https://h/b?p=3>; rel=\"next\"",
        "<https://h/a>; rel=\"last\"",
        "<https://h/only>; rel=next",
        "<https://h/x>; title=\"a, b\"; rel=\"next\"",
        "<https://h/p>; rel=\"prev\",<https://h/n>; rel=\"next\"; type=\"application/json\"",
    };
    size_t n = sizeof v / sizeof v[0];
    cJSON *in = strings(v, n);
    cJSON *ref = python("from requests.utils import parse_header_links\n"
                        "print(json.dumps([next((l['url'] for l in parse_header_links(s) if l.get('rel') == 'next'),"
                        " None) for s in I]))", in);
    CHECK(cJSON_GetArraySize(ref) == (int)n);
    for (size_t i = 0; i < n; i++) {
        const cJSON *r = cJSON_GetArrayItem(ref, (int)i);
        char *got = hub_link_next(v[i]);
        if (cJSON_IsNull(r)) CHECK(got == NULL);
        else CHECK(got && !strcmp(got, r->valuestring));
        if (got && cJSON_IsString(r) && strcmp(got, r->valuestring))
            fprintf(stderr, "link %zu: %s vs %s\n", i, got, r->valuestring);
        free(got);
    }
    cJSON_Delete(in);
    cJSON_Delete(ref);
}

static void test_retry_after(void) {
    const char *dates[] = {"Wed, 21 Oct 2015 07:28:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 1994", "Sunday, 06-Nov-94 08:49:37 GMT",
                           "Thu, 01 Jan 2037 00:00:01 GMT"};
    size_t n = sizeof dates / sizeof dates[0];
    cJSON *in = strings(dates, n);
    cJSON *ref = python("import email.utils, calendar, time\n"
                        "def p(s):\n"
                        "    try: return email.utils.parsedate_to_datetime(s).timestamp()\n"
                        "    except Exception: return calendar.timegm(time.strptime(s, '%A, %d-%b-%y %H:%M:%S GMT'))\n"
                        "print(json.dumps([p(s) for s in I]))", in);
    CHECK(cJSON_GetArraySize(ref) == (int)n);
    for (size_t i = 0; i < n; i++) {
        double want = cJSON_GetArrayItem(ref, (int)i)->valuedouble;
        CHECK_NEAR(hub_retry_after_seconds(dates[i], 0.0), want, 0.5);
        /* relative to a "now" 10 s before the date, and a date in the past is no wait */
        CHECK_NEAR(hub_retry_after_seconds(dates[i], want - 10), 10, 0.5);
        CHECK_NEAR(hub_retry_after_seconds(dates[i], want + 100), 0, 0);
    }
    CHECK_NEAR(hub_retry_after_seconds("120", 1e9), 120, 0);
    CHECK_NEAR(hub_retry_after_seconds(" 3 ", 1e9), 3, 0);
    CHECK(hub_retry_after_seconds("soon", 0) < 0);
    CHECK(hub_retry_after_seconds("", 0) < 0);
    cJSON_Delete(in);
    cJSON_Delete(ref);
}

static void test_digests(void) {
    const char *tmp = check_env("CMTEB_TMP");
    char path[512];
    snprintf(path, sizeof path, "%s/hub_digest.bin", *tmp ? tmp : "/tmp");
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < 200000; i++) fputc((i * 7919) & 255, f);
    fclose(f);
    cJSON *in = cJSON_CreateArray();
    cJSON_AddItemToArray(in, cJSON_CreateString(path));
    cJSON *ref = python("import hashlib\nd = open(I[0], 'rb').read()\n"
                        "print(json.dumps([hashlib.sha256(d).hexdigest(),"
                        " hashlib.sha1(b'blob %d\\0' % len(d) + d).hexdigest()]))", in);
    char s256[65], s1[41];
    CHECK_OK(hub_file_sha256(path, s256));
    CHECK_OK(hub_file_git_sha1(path, s1));
    CHECK(!strcmp(s256, cJSON_GetArrayItem(ref, 0)->valuestring));
    CHECK(!strcmp(s1, cJSON_GetArrayItem(ref, 1)->valuestring));
    CHECK(hub_file_sha256("/nonexistent/x", s256) == CM_ERR_IO);
    cJSON_Delete(in);
    cJSON_Delete(ref);
}

static void test_glob_and_misc(void) {
    CHECK(hub_glob_match("data/EN_*.tsv", "data/EN_test.tsv"));
    CHECK(!hub_glob_match("data/EN_*.tsv", "data/DE_test.tsv"));
    CHECK(!hub_glob_match("data/EN_*.tsv", "data/x/EN_test.tsv"));          /* '*' stays in one folder */
    CHECK(hub_glob_match("data/test-00000-of-00001-*.parquet", "data/test-00000-of-00001-5a0c2d1e.parquet"));
    CHECK(!hub_glob_match("data/test-00000-of-00001-*.parquet", "data/train-00000-of-00001-5a0c2d1e.parquet"));
    CHECK(hub_glob_match("**/*.jsonl", "a.jsonl"));
    CHECK(hub_glob_match("**/*.jsonl", "a/b/c.jsonl"));
    CHECK(hub_glob_match("qrels/**", "qrels/test.tsv"));
    CHECK(hub_glob_match("qrels/**", "qrels/x/y.tsv"));
    CHECK(!hub_glob_match("qrels/**", "queries.jsonl"));
    CHECK(hub_glob_match("te?t.jsonl", "test.jsonl"));
    CHECK(!hub_glob_match("te?t.jsonl", "te/t.jsonl"));
    CHECK(hub_glob_match("data/[ED][NE]_test.tsv", "data/DE_test.tsv"));
    CHECK(!hub_glob_match("data/[!E]*_test.tsv", "data/EN_test.tsv"));
    CHECK(hub_glob_match("amazon-massive-dataset-1.0.tar.gz", "amazon-massive-dataset-1.0.tar.gz"));
    CHECK(!hub_glob_match("test.jsonl", "test.jsonl.gz"));
    CHECK(hub_is_commit("b0fddb56ed78048fa8b90373c8a3cfc37b684831"));
    CHECK(!hub_is_commit("b0fddb56ed78"));
    CHECK(hub_is_hex_prefix("b0fddb56ed78"));
    CHECK(!hub_is_hex_prefix("main"));
    CHECK(!hub_is_hex_prefix("B0FDDB56"));
    char *e = hub_etag_clean("W/\"abc123\"");
    CHECK(e && !strcmp(e, "abc123"));
    free(e);
}

int main(void) {
    test_glob_and_misc();
    test_encoding();
    test_link();
    test_retry_after();
    test_digests();
    return check_report();
}
