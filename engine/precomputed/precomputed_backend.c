/* precomputed_backend.c: placeholder until the precomputed backend lands; says so plainly. */
#include "engine/backend.h"
#include "cmteb/status.h"

static int be_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    (void)state; (void)arg; (void)params; (void)info;
    return cm_error(CM_ERR_UNSUPPORTED, "the precomputed backend is not implemented in this build yet");
}
static int be_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction, float *out) {
    (void)state; (void)texts; (void)n; (void)role; (void)instruction; (void)out;
    return CM_ERR_UNSUPPORTED;
}
static void be_free(void *state) { (void)state; }

const cm_backend_i cm_backend_precomputed = {"precomputed", "precomputed:...", be_init, be_encode, be_free};
