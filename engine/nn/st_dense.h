/*
 * st_dense.h: sentence-transformers Dense modules, the Linear layer + activation some models put after
 * pooling (LaBSE, stella, GTR): y (n, out) = act(x (n, in) . W^T + b).
 *
 * A module folder (modules.json "path", e.g. 2_Dense) holds config.json {"in_features", "out_features",
 * "bias", "activation_function": "torch.nn.modules.activation.Tanh" | ...Identity | ReLU | Sigmoid | GELU}
 * and model.safetensors with linear.weight (out, in) and linear.bias (out), F32/F16/BF16. Older
 * sentence-transformers saved pytorch_model.bin (a pickle): refused with a message saying how to convert.
 *
 * Ownership: cm_dense_read_config fills a caller-owned cm_dense (its strings and weights are its own);
 * cm_dense_clear frees them.
 */
#ifndef CMTEB_ENGINE_NN_ST_DENSE_H
#define CMTEB_ENGINE_NN_ST_DENSE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/nn/bf16.h"

typedef enum cm_dense_act {
    CM_DENSE_IDENTITY = 0,
    CM_DENSE_TANH,
    CM_DENSE_RELU,
    CM_DENSE_SIGMOID,
    CM_DENSE_GELU,
} cm_dense_act;

typedef struct cm_dense {
    char        *dir;       /* the module folder */
    size_t       in, out;
    int          has_bias;
    cm_dense_act act;
    float       *W, *b;     /* (out, in), (out) or NULL; NULL until cm_dense_load_weights */
    cm_wmat      q;         /* W in the CPU compute dtype (cm_dense_prepare); empty (q.data NULL) for fp32 */
    cm_wlinear_params lp;   /* the compute dtype of q */
} cm_dense;

/* Reads MODEL_DIR/PATH/config.json into d (no weights). */
int  cm_dense_read_config(cm_dense *d, const char *model_dir, const char *path);
/* Reads the module's model.safetensors (shapes checked against the config). */
int  cm_dense_load_weights(cm_dense *d);
/* Prepares the loaded weights for the CPU compute dtype dt (engine/nn/bf16.h: bf16 or int8 copy in d->q; W is
 * kept, for the hash and the GPU engine); nothing for fp32. */
int  cm_dense_prepare(cm_dense *d, cm_cpu_dtype dt);
/* y (n, d->out) = act(x (n, d->in) . W^T + b) in the prepared dtype; x and y must not overlap. CM_ERR_NOMEM
 * when a low-precision product cannot get its scratch. */
int  cm_dense_apply(const cm_dense *d, const float *x, size_t n, float *y);
/* Mixes the module's sizes, activation and (when loaded) weights into h. */
uint64_t cm_dense_hash(const cm_dense *d, uint64_t h);
/* Writes a description like "64->32 tanh" into buf. */
void cm_dense_describe(const cm_dense *d, char *buf, size_t size);
void cm_dense_clear(cm_dense *d);

#endif
