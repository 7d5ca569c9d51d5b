/* cmd_tokenize.c: `cmteb tokenize`: prints the token ids and pieces the native engine's
 * tokenizer gives for each input text (for debugging and for comparing with
 * other tools, e.g. Hugging Face tokenizers).
 */
#include "eval/cli/cli.h"

#include "cmteb/status.h"
#include "cmteb/tokenizer.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static void usage(FILE *f) {
    fprintf(
        f, "usage: cmteb tokenize --model hf:PATH [--input FILE] [--no-special] [--max-length N] [--json] [TEXT...]\n\n"
           "Prints, for each text (the TEXT arguments, else each line of --input, else each line of stdin),\n"
           "one line: the token ids, a tab, and the token pieces. With --json: one JSON object per line\n"
           "{\"ids\": [...], \"tokens\": [...], \"offsets\": [[start, end], ...]} (byte offsets into the text).\n"
           "  --model hf:PATH   a model folder (tokenizer.json or vocab.txt) or a tokenizer.json file\n"
           "  --no-special      leave out the special tokens the post-processor adds ([CLS]/[SEP], <s>, ...)\n"
           "  --max-length N    truncate like the engine does\n");
}

static int one(const cm_tokenizer *t, const char *text, const cm_tok_options *o, int json, cm_tok_encoding *e) {
    CM_TRY(cm_tokenizer_encode(t, text, o, e));
    if (json) {
        cJSON *j = cJSON_CreateObject(), *ids = cJSON_AddArrayToObject(j, "ids"),
              *toks = cJSON_AddArrayToObject(j, "tokens"), *offs = cJSON_AddArrayToObject(j, "offsets");
        for (size_t i = 0; i < e->n; i++) {
            const char *p = cm_tokenizer_id_to_token(t, e->ids[i]);
            cJSON_AddItemToArray(ids, cJSON_CreateNumber(e->ids[i]));
            cJSON_AddItemToArray(toks, cJSON_CreateString(p ? p : ""));
            int pair[2] = {(int)e->offsets[i].start, (int)e->offsets[i].end};
            cJSON_AddItemToArray(offs, cJSON_CreateIntArray(pair, 2));
        }
        char *s = cJSON_PrintUnformatted(j);
        printf("%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(j);
        return CM_OK;
    }
    for (size_t i = 0; i < e->n; i++) printf("%s%d", i ? " " : "", e->ids[i]);
    printf("\t");
    for (size_t i = 0; i < e->n; i++) {
        const char *p = cm_tokenizer_id_to_token(t, e->ids[i]);
        printf("%s%s", i ? " " : "", p ? p : "?");
    }
    printf("\n");
    return CM_OK;
}

int cm_cmd_tokenize(int argc, char **argv) {
    const char *model = NULL, *input = NULL, *v = NULL;
    cm_tok_options o = cm_tok_default_options();
    int json = 0, bad = 0;
    int first_text = argc;
    char **texts = cm_calloc((size_t)argc + 1, sizeof *texts);
    size_t nt = 0;
    if (!texts) return 1;
    for (int i = 1; i < argc && !bad; i++) {
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); free(texts); return 0; }
        else if (cm_opt_value(argc, argv, &i, "--model", &model, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--input", &input, &bad)) {}
        else if (cm_opt_flag(argv, i, "--no-special")) o.add_special_tokens = 0;
        else if (cm_opt_flag(argv, i, "--json")) json = 1;
        else if (cm_opt_value(argc, argv, &i, "--max-length", &v, &bad)) {
            long x = cm_opt_long("--max-length", v);
            if (x < 0) { free(texts); return 2; }
            o.max_length = (size_t)x;
        } else if (!strcmp(argv[i], "--")) {
            for (int k = i + 1; k < argc; k++) texts[nt++] = argv[k];
            break;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            free(texts);
            return cm_cli_usage_error("tokenize", msg);
        } else {
            texts[nt++] = argv[i];
            if (first_text == argc) first_text = i;
        }
    }
    if (bad) { free(texts); return 2; }
    if (!model) { free(texts); return cm_cli_usage_error("tokenize", "--model hf:PATH is required"); }
    const char *path = strncmp(model, "hf:", 3) == 0 ? model + 3 : model;
    cm_tokenizer *t = NULL;
    int rc = cm_tokenizer_load(&t, path);
    cm_tok_encoding e = {0};
    if (rc == CM_OK && nt) {
        for (size_t i = 0; rc == CM_OK && i < nt; i++) rc = one(t, texts[i], &o, json, &e);
    } else if (rc == CM_OK) {
        char *text = NULL;
        size_t len = 0;
        if (input) {
            rc = cm_read_file(input, &text, &len);
        } else {
            cm_str s = {0};
            char buf[65536];
            size_t k;
            while ((k = fread(buf, 1, sizeof buf, stdin)) > 0 && rc == CM_OK) rc = cm_str_appendn(&s, buf, k);
            text = s.s ? s.s : cm_strdup("");
            len = s.len;
        }
        for (char *p = text; rc == CM_OK && text && p < text + len;) {
            char *nl = memchr(p, '\n', (size_t)(text + len - p));
            char *end = nl ? nl : text + len;
            if (end > p && end[-1] == '\r') end[-1] = '\0';
            *end = '\0';
            rc = one(t, p, &o, json, &e);
            p = end + 1;
        }
        free(text);
    }
    cm_tok_encoding_free(&e);
    cm_tokenizer_free(t);
    free(texts);
    if (rc) return cm_cli_fail("tokenize", NULL);
    return 0;
}
