/*
 * test_glove.c: the GloVe backend against sentence-transformers' tokenizer
 * rules as Python runs them (fixtures by tests/reference/ref_glove.py):
 * Unicode whitespace splitting, punctuation stripping, Python lowercasing,
 * stop words, duplicate words (later wins), skipped malformed lines, float32
 * means (tolerance 1e-6), and the binary cache (a second load maps it).
 */
#include "check.h"
#include "cmteb/util.h"
#include "engine/glove/glove.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char *src = cm_asprintf("%s/tests/fixtures/glove/vocab.txt", check_env("CMTEB_SRC"));
    char *dir = cm_asprintf("%s/test_glove", check_env("CMTEB_TMP"));
    char *dst = cm_asprintf("%s/vocab.txt", dir), *bin = cm_asprintf("%s.cmteb.bin", dst);
    char *text = NULL, *cases_path = cm_asprintf("%s/tests/fixtures/glove/cases.json", check_env("CMTEB_SRC"));
    size_t len;
    CHECK_OK(cm_mkdir_p(dir));
    CHECK_OK(cm_read_file(src, &text, &len));
    unlink(bin);
    CHECK_OK(cm_write_file_atomic(dst, text, len));
    free(text);

    for (int round = 0; round < 2; round++) {   /* 0: converts the text; 1: maps the binary */
        cm_glove *g = NULL;
        CHECK_OK(cm_glove_load(&g, dst, 1));
        if (!g) break;
        CHECK(cm_file_exists(bin));
        CHECK(cm_glove_dim(g) == 8);
        CHECK(cm_glove_size(g) == 26);                    /* "broken" line skipped */
        CHECK(cm_glove_lookup(g, "dup", 3) == 25);        /* the later duplicate wins */
        CHECK(cm_glove_lookup(g, "missing", 7) == -1);
        CHECK_OK(cm_read_file(cases_path, &text, NULL));
        cJSON *root = cJSON_Parse(text);
        free(text);
        const cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "cases")) {
            const char *t = cJSON_GetObjectItemCaseSensitive(c, "text")->valuestring;
            float v[8];
            CHECK_OK(cm_glove_embed(g, t, v));
            int k = 0, ok = 1;
            const cJSON *x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(c, "vector")) {
                if (fabs(v[k] - x->valuedouble) > 1e-6) ok = 0;
                k++;
            }
            if (!ok) fprintf(stderr, "vector differs for text \"%s\" (first value %g vs %g)\n", t, v[0],
                             cJSON_GetObjectItemCaseSensitive(c, "vector")->child->valuedouble);
            CHECK(ok && k == 8);
        }
        cJSON_Delete(root);
        cm_glove_free(g);
    }
    /* a damaged binary is rebuilt from the text, a missing file is a clear error */
    FILE *f = fopen(bin, "r+b");
    if (f) { fseek(f, 60, SEEK_SET); fputc('Z', f); fclose(f); }
    cm_glove *g = NULL;
    CHECK_OK(cm_glove_load(&g, dst, 1));
    CHECK(g && cm_glove_lookup(g, "cat", 3) == 0);
    cm_glove_free(g);
    CHECK(cm_glove_load(&g, "/nonexistent/glove.txt", 1) == CM_ERR_NOTFOUND);
    CHECK(strstr(cm_last_error(), "/nonexistent/glove.txt") != NULL);
    free(src); free(dir); free(dst); free(bin); free(cases_path);
    return check_report();
}
