/*
 * cmd_info.c: `cmteb info`: describes a model: architecture and sizes from
 * config.json, parameter count, weight dtypes and bytes (safetensors header
 * only; weights are never converted), memory footprint, tokenizer, and the
 * resolved embedding settings (cm_model_describe, engine/hf/hf_describe.c),
 * and for hf models the device memory the weights need per GPU dtype and
 * whether they fit each visible GPU. Other backends print their
 * cm_encoder_info. Then the GPUs this process sees (cm_devices_describe);
 * without --model only those.
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
            "usage: cmteb info [--model SPEC] [--no-weights] [--json] [engine options]\n\n"
            "Describes a model. For hf:PATH: architecture, layers, hidden size, heads, vocabulary, parameters,\n"
            "weight dtypes and bytes, memory footprint, tokenizer, pooling and prompts, the device memory the\n"
            "weights need in bf16/fp16 and fp32 and whether they fit each visible GPU. Nothing is converted or\n"
            "run; --no-weights does not even open the safetensors files (config-derived numbers only).\n"
            "Engine options (--pooling, --normalize, --max-length, --device, --dtype, ...) show how flags change\n"
            "the settings. Then the GPUs seen (name, memory, compute capability), \"none visible\" or \"built\n"
            "without CUDA\"; without --model only those.\n");
}

/* Prints the GPUs of g (cm_devices_describe) as "gpu" lines. */
static void print_gpus(const cJSON *g) {
    const cJSON *devs = cJSON_GetObjectItemCaseSensitive(g, "devices");
    const cJSON *built = cJSON_GetObjectItemCaseSensitive(g, "cuda");
    if (cJSON_GetArraySize(devs) == 0) {
        printf("%-14s %s\n", "gpus", cJSON_IsString(built) && !strcmp(built->valuestring, "built")
                                       ? "none visible" : "built without CUDA");
        return;
    }
    for (const cJSON *d = devs->child; d; d = d->next) {
        char key[32];
        snprintf(key, sizeof key, "gpu cuda:%d", cJSON_GetObjectItemCaseSensitive(d, "index")->valueint);
        double gib = 1024.0 * 1024 * 1024;
        printf("%-14s %s, %.1f GiB (%.1f GiB free), compute capability %s, %d SMs\n", key,
               cJSON_GetObjectItemCaseSensitive(d, "name")->valuestring,
               cJSON_GetObjectItemCaseSensitive(d, "memory_total")->valuedouble / gib,
               cJSON_GetObjectItemCaseSensitive(d, "memory_free")->valuedouble / gib,
               cJSON_GetObjectItemCaseSensitive(d, "compute_capability")->valuestring,
               cJSON_GetObjectItemCaseSensitive(d, "sm_count")->valueint);
    }
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
        if (!strcmp(it->string, "gpus")) {
            print_gpus(it);
            continue;
        }
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
    cJSON *d = NULL, *g = NULL;
    if (model && cm_model_describe(model, &p, weights, &d)) return cm_cli_fail("info", NULL);
    if (!d && !(d = cJSON_CreateObject())) return cm_cli_fail("info", NULL);
    if (cm_devices_describe(&g)) {
        cJSON_Delete(d);
        return cm_cli_fail("info", NULL);
    }
    cJSON_AddItemToObject(d, "gpus", g);
    print_description(d, json);
    cJSON_Delete(d);
    return 0;
}
