/*
 * test_openai_response.c: the openai: backend's response parser and backoff
 * (engine/http/openai_response.c). Rows are checked against Python's json +
 * numpy (Debian /usr/bin/python3): a response whose items come in shuffled
 * order with "index" fields and random doubles must give, row for row, the
 * float32 values numpy gets for the same items. Then each malformed response
 * is refused with a message naming the endpoint, and only a non-JSON body is
 * marked transient.
 */
#include "check.h"
#include "engine/http/openai_int.h"

#include <string.h>

enum { N = 7, D = 5 };

/* Python writes a shuffled response body and the expected (N, D) float32 rows as hex. */
static const char *PY =
    "import json, random, sys, numpy as np\n"
    "r = random.Random(7); n, d = %d, %d\n"
    "rows = [[r.uniform(-3, 3) * 10 ** r.randint(-8, 3) for _ in range(d)] for _ in range(n)]\n"
    "items = [{'object': 'embedding', 'index': i, 'embedding': v} for i, v in enumerate(rows)]\n"
    "r.shuffle(items)\n"
    "open(sys.argv[1], 'w').write(json.dumps({'object': 'list', 'data': items}))\n"
    "print(np.array(rows, np.float32).tobytes().hex())\n";

int main(void) {
    const char *tmp = check_env("CMTEB_TMP");
    char body_path[512], py_path[512], cmd[1200];
    snprintf(body_path, sizeof body_path, "%s/openai_resp.json", *tmp ? tmp : "/tmp");
    snprintf(py_path, sizeof py_path, "%s/openai_resp.py", *tmp ? tmp : "/tmp");
    FILE *g = fopen(py_path, "w");
    if (!g) SKIP("cannot write temporaries");
    fprintf(g, PY, N, D);
    fclose(g);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", py_path, body_path);
    FILE *p = popen(cmd, "r");
    if (!p) SKIP("no /usr/bin/python3");
    char hex[2 * N * D * 4 + 8] = {0};
    size_t got = fread(hex, 1, sizeof hex - 1, p);
    if (pclose(p) != 0 || got < 2 * N * D * 4) SKIP("the Python reference did not run (python3-numpy missing?)");
    float want[N * D];
    unsigned char *wb = (unsigned char *)want;
    for (size_t i = 0; i < sizeof want; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        wb[i] = (unsigned char)v;
    }
    FILE *f = fopen(body_path, "r");
    if (!f) SKIP("no response body");
    char body[16384] = {0};
    size_t bl = fread(body, 1, sizeof body - 1, f);
    fclose(f);
    CHECK(bl > 0);

    /* shuffled items land at their index; dimension learned; values equal numpy's float32 */
    float out[N * D];
    memset(out, 0xff, sizeof out);
    size_t dim = 0;
    int transient = -1;
    CHECK_OK(oa_parse_response("http://h/v1/embeddings", body, N, &dim, out, &transient));
    CHECK(dim == D);
    CHECK(transient == 0);
    CHECK(memcmp(out, want, sizeof out) == 0);
    /* a known dimension that differs is refused */
    dim = D + 1;
    CHECK(oa_parse_response("http://h/v1/embeddings", body, N, &dim, out, &transient) == CM_ERR_FORMAT);
    CHECK(strstr(cm_last_error(), "http://h/v1/embeddings: response data[0].embedding has 5 values, expected "
                                  "dimension 6") != NULL);
    /* the wrong count */
    dim = 0;
    CHECK(oa_parse_response("http://h", body, N + 1, &dim, NULL, &transient) == CM_ERR_FORMAT);
    CHECK(strstr(cm_last_error(), "http://h: response has 7 embeddings for 8 inputs") != NULL);

    struct { const char *body; int rc, transient; const char *msg; } bad[] = {
        {"{\"data\": [{\"index\": 0, \"embedding\": [1, 2]}, {\"index\": 0, \"embedding\": [3, 4]}]}", CM_ERR_FORMAT,
         0, "data[1]: index 0 appears twice"},
        {"{\"data\": [{\"index\": 2, \"embedding\": [1, 2]}, {\"index\": 0, \"embedding\": [3, 4]}]}", CM_ERR_FORMAT,
         0, "data[0].index is not an integer in 0..1"},
        {"{\"data\": [{\"index\": 0.5, \"embedding\": [1, 2]}, {\"embedding\": [3, 4]}]}", CM_ERR_FORMAT, 0,
         "data[0].index is not an integer"},
        {"{\"data\": [{\"embedding\": [1, 2]}, {\"embedding\": [3]}]}", CM_ERR_FORMAT, 0,
         "data[1].embedding has 1 values, expected dimension 2"},
        {"{\"data\": [{\"embedding\": [1, \"x\"]}, {\"embedding\": [3, 4]}]}", CM_ERR_NUMERIC, 0,
         "data[0].embedding[1] is not a finite float"},
        {"{\"data\": [{\"embedding\": [1, 1e300]}, {\"embedding\": [3, 4]}]}", CM_ERR_NUMERIC, 0,
         "data[0].embedding[1] is not a finite float"},
        {"{\"data\": [{\"embedding\": [1, NaN]}, {\"embedding\": [3, 4]}]}", CM_ERR_NUMERIC, 0, "not valid JSON"},
        {"{\"data\": [{\"embedding\": []}, {\"embedding\": [3, 4]}]}", CM_ERR_FORMAT, 0,
         "data[0].embedding is not a non-empty array"},
        {"{\"error\": \"overloaded\"}", CM_ERR_FORMAT, 0, "response has no \"data\" array"},
        {"{\"data\": [{\"embedding\": [1, 2]}, {\"emb", CM_ERR_FORMAT, 1, "response is not valid JSON"},
        {"", CM_ERR_FORMAT, 1, "response is not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        dim = 0;
        int rc = oa_parse_response("http://e:1/v1/embeddings", bad[i].body, 2, &dim, NULL, &transient);
        CHECK(rc == bad[i].rc);
        CHECK(transient == bad[i].transient);
        CHECK(strstr(cm_last_error(), "http://e:1/v1/embeddings: ") != NULL);
        if (!strstr(cm_last_error(), bad[i].msg)) fprintf(stderr, "case %zu: %s\n", i, cm_last_error());
        CHECK(strstr(cm_last_error(), bad[i].msg) != NULL);
    }
    /* items without index fields go in order */
    float o2[4];
    dim = 0;
    CHECK_OK(oa_parse_response("u", "{\"data\": [{\"embedding\": [1, 2]}, {\"embedding\": [3, 4]}]}", 2, &dim, o2,
                               &transient));
    CHECK(o2[0] == 1 && o2[1] == 2 && o2[2] == 3 && o2[3] == 4);

    /* backoff: base * 2^(k-1), capped, jitter factor in [0.5, 1] */
    CHECK_NEAR(oa_backoff_delay(0.5, 30, 1, 1.0), 0.5, 1e-12);
    CHECK_NEAR(oa_backoff_delay(0.5, 30, 3, 1.0), 2.0, 1e-12);
    CHECK_NEAR(oa_backoff_delay(0.5, 30, 3, 0.0), 1.0, 1e-12);
    CHECK_NEAR(oa_backoff_delay(0.5, 30, 50, 1.0), 30.0, 1e-12);
    CHECK_NEAR(oa_backoff_delay(0.5, 30, 50, 0.5), 22.5, 1e-12);

    /* settings from the environment */
    oa_settings st = oa_settings_default(3);
    CHECK(st.concurrency == 12 && st.max_retries == 5);
    setenv("CMTEB_OPENAI_CONCURRENCY", "7", 1);
    setenv("CMTEB_OPENAI_TIMEOUT", "2.5", 1);
    CHECK_OK(oa_settings_from_env(&st));
    CHECK(st.concurrency == 7 && st.timeout_s == 2.5);
    setenv("CMTEB_OPENAI_CONCURRENCY", "2.5", 1);
    CHECK(oa_settings_from_env(&st) == CM_ERR_ARG);
    setenv("CMTEB_OPENAI_CONCURRENCY", "4", 1);
    setenv("CMTEB_OPENAI_MAX_RETRIES", "-1", 1);
    CHECK(oa_settings_from_env(&st) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "$CMTEB_OPENAI_MAX_RETRIES is '-1'") != NULL);
    return check_report();
}
