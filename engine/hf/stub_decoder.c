/*
 * stub_decoder.c: placeholder for the decoder architectures (llama, mistral,
 * qwen2, nvembed; issue 6) until engine/hf/decoder*.c lands: recognises their
 * model_type values and says plainly they are not supported yet.
 * H5: delete this file in the commit that adds your cm_hf_arch_decoder.
 */
#include "engine/hf/model.h"
#include "cmteb/status.h"

#include <stdio.h>

static const char *const types[] = {"llama", "mistral", "qwen2", "nvembed", "bidir_mistral", NULL};

static int read_config(const cJSON *config, const char *dir, cm_hf_config *cfg) {
    (void)cfg;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(config, "model_type");
    return cm_error(CM_ERR_UNSUPPORTED, "%s/config.json: model_type '%s' (decoder LLM) is not supported yet: "
                    "decoder embedders arrive with issue 6", dir, cJSON_IsString(t) ? t->valuestring : "?");
}
static void footprint(const cm_hf_config *cfg, int64_t *n_params, int64_t *bytes) {
    (void)cfg;
    *n_params = -1;
    *bytes = -1;
}
static int load(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                const char *dir) {
    (void)cfg; (void)st; (void)state;
    return read_config(config, dir, NULL);
}
static int forward(void *state, const cm_hf_batch *b, const cm_hf_forward_opts *o, float *hidden) {
    (void)state; (void)b; (void)o; (void)hidden;
    return cm_error(CM_ERR_UNSUPPORTED, "decoder forward pass not available yet");
}
static void free_state(void *state) { (void)state; }

const cm_hf_arch cm_hf_arch_decoder = {
    .name = "decoder (not yet)", .model_types = types, .read_config = read_config, .footprint = footprint,
    .load = load, .forward = forward, .free = free_state,
};
