/*
 * cmd_info.c: `cmteb info`: describes a model: architecture and sizes from
 * config.json, parameter count, weight dtypes and bytes (safetensors header
 * only; weights are never converted), memory footprint, tokenizer, and the
 * resolved embedding settings (cm_model_describe, engine/hf/hf_describe.c).
 * Other backends print their cm_encoder_info.
 */
#include "eval/cli/cli.h"

#include "cmteb/encoder.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: cmteb info --model SPEC [--no-weights] [--json] [engine options]\n\n"
            "Describes a model. For hf:PATH: architecture, layers, hidden size, heads, vocabulary, parameters,\n"
            "weight dtypes and bytes, memory footprint, tokenizer, pooling and prompts. Nothing is converted or\n"
            "run; --no-weights does not even open the safetensors files (config-derived numbers only).\n"
            "Engine options (--pooling, --normalize, --max-length, ...) show how flags change the settings.\n");
}

/* Prints a description: "key   value" lines (the "details" block as it is),
 * or the JSON object. */
static void print_description(const cJSON *d, int json) {
    if (json) {
        char *out = cJSON_Print(d);
        printf("%s\n", out ? out : "{}");
        free(out);
        return;
    }
    for (const cJSON *it = d->child; it; it = it->next) {
        const char *v = cJSON_IsString(it) ? it->valuestring : "";
        if (!strcmp(it->string, "details")) {
            size_t len = strlen(v);
            printf("%s%s", v, len && v[len - 1] == '\n' ? "" : "\n");
        } else {
            printf("%-14s %s\n", it->string, v);
        }
    }
}

int cm_cmd_info(int argc, char **argv) {
    const char *model = NULL;
    cm_encoder_params p = cm_encoder_default_params();
    int json = 0, weights = 1, bad = 0;
    p.quiet = 1;
    for (int i = 1; i < argc && !bad; i++) {
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); return 0; }
        else if (cm_opt_value(argc, argv, &i, "--model", &model, &bad)) {}
        else if (cm_opt_flag(argv, i, "--json")) json = 1;
        else if (cm_opt_flag(argv, i, "--no-weights")) weights = 0;
        else if (cm_opt_engine(argc, argv, &i, &p, &bad)) {}
        else {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            return cm_cli_usage_error("info", msg);
        }
    }
    if (bad) return 2;
    if (!model) return cm_cli_usage_error("info", "--model is required");
    cJSON *d = NULL;
    if (cm_model_describe(model, &p, weights, &d)) return cm_cli_fail("info", NULL);
    print_description(d, json);
    cJSON_Delete(d);
    return 0;
}
