/*
 * cmd_embed.c: `cmteb embed`: embeds a file of texts (JSON Lines with a
 * "text" field, or plain text with one text per line) with any backend and
 * writes a float32 (n, dim) .npy in input order.
 */
#include "eval/cli/cli.h"

#include "cmteb/records.h"
#include "cmteb/encoder.h"
#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: cmteb embed --model SPEC --input FILE --output OUT.npy [options]\n\n"
        "Embeds texts into a float32 (n, dim) .npy matrix, rows in input order.\n"
        "  --input FILE          .jsonl / .jsonl.gz / .json lines {\"text\": ...},\n"
        "                        or any other file as one text per line\n"
        "  --output OUT.npy      where to write the matrix\n"
        "  --model SPEC          hash[:DIM], glove:PATH, precomputed:DIR, hf:PATH, openai:URL[#MODEL]\n"
        "  --role query|document role of the texts (default document)\n"
        "  --instruction TEXT    task instruction (used when the model has a template for the role)\n"
        "  --query-template T    e.g. 'Instruct: {instruction}\\nQuery: ' (hf)\n"
        "  --document-template T template for documents (hf)\n"
        "  --pooling P           cls|mean|last|weightedmean|max|mean_sqrt_len|latent\n"
        "                        (hf; default: the model folder's)\n"
        "  --attention A         bidirectional|causal (hf)\n"
        "  --normalize | --no-normalize   L2-normalise the vectors or not (default: the model's)\n"
        "  --pool-instruction | --no-pool-instruction   keep instruction/prompt tokens in the pooled mean or not\n"
        "  --max-length N        truncate to N tokens (hf)\n"
        "  --dim N               keep the first N values of each vector, renormalised (Matryoshka; hf)\n"
        "  --device D            auto (default: the GPUs when built with CUDA and one is visible, else\n"
        "                        the CPU), cpu, cuda (every visible GPU), cuda:N, cuda:0,1,... (hf)\n"
        "  --dtype T             CPU: fp32 (default), bf16 or int8; GPU: bf16 (default), fp16 or fp32\n"
        "  --batch-size N        texts per forward batch\n"
        "  --threads N           CPU threads (default: all cores)\n"
        "  --quiet               no load messages\n");
}

/* Reads a plain text file whole into *out (caller frees), in chunks, so that
 * a binary input (a NUL byte: /dev/zero, an .npy, a gzip file without its
 * suffix) stops at the first chunk with an error naming the byte offset
 * instead of being read to the size cap. */
static int read_text_file(const char *path, char **out, size_t *len) {
    *out = NULL;
    *len = 0;
    size_t pl = strlen(path);
    if (pl > 3 && !strcmp(path + pl - 3, ".gz")) {   /* inflated whole by cm_read_file, then checked */
        CM_TRY(cm_read_file(path, out, len));
        const char *nul = memchr(*out, '\0', *len);
        if (!nul) return CM_OK;
        size_t at = (size_t)(nul - *out);
        free(*out);
        *out = NULL;
        return cm_error(CM_ERR_FORMAT, "%s: byte %zu (inflated) is NUL: expected text", path, at);
    }
    FILE *f = fopen(path, "rb");
    if (!f) return cm_error(CM_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    cm_str s = {0};
    char buf[1 << 16];
    size_t got;
    int rc = CM_OK;
    while (!rc && (got = fread(buf, 1, sizeof buf, f)) > 0) {
        const char *nul = memchr(buf, '\0', got);
        if (nul)
            rc = cm_error(CM_ERR_FORMAT, "%s: byte %zu is NUL: expected text (JSON Lines with a \"text\" field, or one "
                          "text per line)", path, s.len + (size_t)(nul - buf));
        else if (s.len + got > CM_READ_MAX_DATA)
            rc = cm_error(CM_ERR_FORMAT, "%s: larger than %zu bytes", path, (size_t)CM_READ_MAX_DATA);
        else if (cm_str_appendn(&s, buf, got))
            rc = CM_ERR_NOMEM;
    }
    if (!rc && ferror(f)) rc = cm_error(CM_ERR_IO, "%s: read error (%s)", path, strerror(errno));
    fclose(f);
    if (rc) { cm_str_free(&s); return rc; }
    *len = s.len;
    *out = s.s ? s.s : cm_strdup("");
    return *out ? CM_OK : CM_ERR_NOMEM;
}

/* Reads the texts of path into a growing array (owned strings). */
static int read_texts(const char *path, char ***out, size_t *n) {
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    char **v = NULL;
    int rc = CM_OK;
    const char *dot = strrchr(path, '.');
    int jsonl = strstr(path, ".jsonl") || (dot && !strcmp(dot, ".json"));
    if (jsonl) {
        cm_records *r = NULL;
        CM_TRY(cm_records_open(&r, path));
        cJSON *obj;
        int k;
        while ((k = cm_records_next(r, &obj)) == 1) {
            const char *t = NULL;
            if ((rc = cm_rec_string(r, obj, "text", &t))) break;
            if ((rc = cm_array_reserve(v, cap, *n + 1)) != CM_OK) break;
            if (!(v[*n] = cm_strdup(t))) { rc = CM_ERR_NOMEM; break; }
            (*n)++;
        }
        if (rc == CM_OK && k < 0) rc = k;
        cm_records_close(r);
    } else {
        char *text = NULL;
        size_t len = 0;
        CM_TRY(read_text_file(path, &text, &len));
        for (char *p = text; rc == CM_OK && p < text + len;) {
            char *nl = memchr(p, '\n', (size_t)(text + len - p));
            char *e = nl ? nl : text + len;
            size_t l = (size_t)(e - p);
            if (l && p[l - 1] == '\r') l--;
            if ((rc = cm_array_reserve(v, cap, *n + 1)) != CM_OK) break;
            if (!(v[*n] = cm_strndup(p, l))) { rc = CM_ERR_NOMEM; break; }
            (*n)++;
            p = e + 1;
        }
        free(text);
    }
    if (rc) {
        for (size_t i = 0; i < *n; i++) free(v[i]);
        free(v);
        *n = 0;
        return rc;
    }
    *out = v;
    return CM_OK;
}

int cm_cmd_embed(int argc, char **argv) {
    const char *model = NULL, *input = NULL, *output = NULL, *role_s = "document", *instruction = NULL, *v = NULL;
    cm_encoder_params p = cm_encoder_default_params();
    int bad = 0;
    for (int i = 1; i < argc && !bad; i++) {
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); return 0; }
        else if (cm_opt_value(argc, argv, &i, "--model", &model, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--input", &input, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--output", &output, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--role", &role_s, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--instruction", &instruction, &bad)) {}
        else if (cm_opt_engine(argc, argv, &i, &p, &bad)) {}
        else if (cm_opt_flag(argv, i, "--quiet")) p.quiet = 1;
        else if (cm_opt_value(argc, argv, &i, "--batch-size", &v, &bad)) {
            long x = cm_opt_long("--batch-size", v);
            if (x < 0) return 2;
            p.batch_size = (int)x;
        } else if (cm_opt_value(argc, argv, &i, "--threads", &v, &bad)) {
            long x = cm_opt_long("--threads", v);
            if (x < 0) return 2;
            p.threads = (int)x;
        } else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return cm_cli_usage_error("embed", msg);
        }
    }
    if (bad) return 2;
    if (!model) return cm_cli_usage_error("embed", "--model is required");
    if (!input || !output) return cm_cli_usage_error("embed", "--input and --output are required");
    cm_role role;
    if (!strcmp(role_s, "query")) role = CM_ROLE_QUERY;
    else if (!strcmp(role_s, "document") || !strcmp(role_s, "passage")) role = CM_ROLE_DOCUMENT;
    else return cm_cli_usage_error("embed", "--role must be query or document");

    char **texts = NULL;
    size_t n = 0;
    if (read_texts(input, &texts, &n))
        return cm_cli_fail("embed", "--input expects JSON Lines with a \"text\" field or one text per line");
    cm_encoder *enc = NULL;
    double t_load = cm_now();
    int rc = cm_encoder_init(&enc, model, &p);
    t_load = cm_now() - t_load;
    float *out = NULL;
    size_t dim = 0;
    double t0 = cm_now();
    if (rc == CM_OK) {
        const cm_encoder_info *info = cm_encoder_get_info(enc);
        dim = info->dim;
        if (instruction && *instruction && !info->uses_instructions && !p.quiet)
            fprintf(stderr, "cmteb embed: note: %s has no instruction template; --instruction is ignored "
                    "(set --query-template / --document-template)\n", info->name);
        out = cm_malloc((n ? n : 1) * dim * sizeof *out);
        if (!out) rc = CM_ERR_NOMEM;
    }
    size_t chunk = p.batch_size > 0 ? (size_t)p.batch_size * 16 : 1024;
    for (size_t i = 0; rc == CM_OK && i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        rc = cm_encoder_encode(enc, (const char *const *)texts + i, k, role, instruction, out + i * dim);
        if (rc == CM_OK) rc = cm_check_finite(out + i * dim, k * dim, "embedding");
    }
    double secs = cm_now() - t0;
    if (rc == CM_OK) rc = cm_npy_write_f32(output, out, n, dim);
    int ret = 0;
    if (rc) ret = cm_cli_fail("embed", NULL);
    else if (!p.quiet)
        fprintf(stderr, "cmteb embed: %zu texts -> %s (%zu x %zu); load %.3f s, encode %.3f s (%.1f texts/s)\n", n,
                output, n, dim, t_load, secs, secs > 0 ? (double)n / secs : 0.0);
    free(out);
    cm_encoder_free(enc);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    return ret;
}
