/*
 * gpu_stub.c: implements gpu.h for builds without the CUDA toolkit (CMake
 * compiles it exactly when the .cu files of engine/cuda are not). No device is ever
 * visible; every call that needs one fails with CM_ERR_UNSUPPORTED.
 */
#include "engine/cuda/gpu.h"

#include "cmteb/status.h"

#define NO_CUDA "this cmteb was built without CUDA (configure with -DCMTEB_CUDA=ON and the CUDA toolkit)"

/* No CUDA in this build: 0. */
int cm_gpu_built(void) { return 0; }

/* No devices without CUDA: *n = 0, CM_OK. */
int cm_gpu_count(int *n) {
    *n = 0;
    return CM_OK;
}

/* Nothing to describe: CM_ERR_UNSUPPORTED. */
int cm_gpu_device_info(int index, cm_gpu_device *out) {
    (void)index;
    (void)out;
    return cm_error(CM_ERR_UNSUPPORTED, NO_CUDA);
}

/* CM_ERR_UNSUPPORTED; *bytes untouched. */
int cm_gpu_weight_bytes(const cm_hf_model *m, cm_gpu_dtype dtype, size_t *bytes) {
    (void)m;
    (void)dtype;
    (void)bytes;
    return cm_error(CM_ERR_UNSUPPORTED, NO_CUDA);
}

/* CM_ERR_UNSUPPORTED; *out = NULL. */
int cm_gpu_model_load(cm_gpu_model **out, const cm_hf_model *m, int device, cm_gpu_dtype dtype) {
    (void)m;
    (void)device;
    (void)dtype;
    *out = NULL;
    return cm_error(CM_ERR_UNSUPPORTED, NO_CUDA);
}

/* Nothing was ever allocated. */
void cm_gpu_model_free(cm_gpu_model *g) { (void)g; }

/* No replica exists without CUDA: 0. */
size_t cm_gpu_batch_bytes(const cm_gpu_model *g, size_t n_tokens, size_t n_seqs, size_t max_len) {
    (void)g;
    (void)n_tokens;
    (void)n_seqs;
    (void)max_len;
    return 0;
}

/* CM_ERR_UNSUPPORTED; outs untouched. */
int cm_gpu_model_encode(cm_gpu_model *g, const cm_hf_batch *b, cm_attn_kind attention, const cm_pool_spec *pools,
                        size_t npools, float *const *outs) {
    (void)g;
    (void)b;
    (void)attention;
    (void)pools;
    (void)npools;
    (void)outs;
    return cm_error(CM_ERR_UNSUPPORTED, NO_CUDA);
}
