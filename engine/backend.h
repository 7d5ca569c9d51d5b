/*
 * backend.h: the private vtable behind cm_encoder (engine/encoder.c).
 *
 * A backend is a table of function pointers. init parses the part of the
 * model SPEC after "scheme:" (NULL when absent), loads what it needs and
 * fills *info (strings it points to must live as long as the state). encode
 * writes (n, info->dim) float32 rows. free releases the state (NULL is fine).
 */
#ifndef CMTEB_ENGINE_BACKEND_H
#define CMTEB_ENGINE_BACKEND_H

#include <cjson/cJSON.h>

#include "cmteb/encoder.h"

/* The cm_encoder_params fields a backend honours (cm_backend_i.supported).
 * cm_encoder_init rejects a field set to a non-default value that the chosen
 * backend does not honour, except the run-wide hints CM_OPT_HINTS (the CLI
 * passes --threads / --batch-size to the evaluators too, so a backend
 * ignoring them is not an error). model_name and quiet apply to every
 * backend and have no bit. */
enum {
    CM_OPT_POOLING           = 1u << 0,   /* pooling */
    CM_OPT_ATTENTION         = 1u << 1,   /* attention */
    CM_OPT_NORMALIZE         = 1u << 2,   /* normalize >= 0 */
    CM_OPT_MAX_LENGTH        = 1u << 3,   /* max_length > 0 */
    CM_OPT_POOL_INSTRUCTION  = 1u << 4,   /* pool_instruction >= 0 */
    CM_OPT_QUERY_TEMPLATE    = 1u << 5,   /* query_template */
    CM_OPT_DOCUMENT_TEMPLATE = 1u << 6,   /* document_template */
    CM_OPT_BATCH_SIZE        = 1u << 7,   /* batch_size > 0 (a hint) */
    CM_OPT_THREADS           = 1u << 8,   /* threads > 0 (a hint) */
    CM_OPT_DEVICE_CUDA       = 1u << 9,   /* device "cuda" ("cpu" is every backend's) */
    CM_OPT_DIM               = 1u << 10,  /* dim > 0 (Matryoshka truncation) */
    CM_OPT_DTYPE             = 1u << 11,  /* dtype other than fp32 on the CPU (bf16, int8) */
};
#define CM_OPT_HINTS (CM_OPT_BATCH_SIZE | CM_OPT_THREADS)

typedef struct cm_backend_i {
    const char *scheme;   /* "hash", "glove", ... */
    const char *usage;    /* one line for --help, e.g. "hash[:DIM]  lexical baseline" */
    unsigned    supported;  /* CM_OPT_* bits of the encoder options init honours */
    int  (*init)(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info);
    int  (*encode)(void *state, const char *const *texts, size_t n, cm_role role,
                   const char *instruction, float *out);
    void (*free)(void *state);
    /* Optional (NULL: CM_ERR_UNSUPPORTED): one forward pass, npools poolings
     * into outs[k] (n, info->dim) each (cm_encoder_encode_pools). */
    int  (*encode_pools)(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                         const cm_pool_params *pools, size_t npools, float *const *outs);
    /* Optional (NULL: CM_ERR_UNSUPPORTED): rows[i] pointed at text i's vector
     * held by the backend, finite, valid until free (cm_encoder_view); may
     * also answer CM_ERR_UNSUPPORTED (no message) for a given call. */
    int  (*view)(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                 const float **rows);
    /* Optional (NULL: the generic description from cm_encoder_info): adds
     * what `cmteb info` shows of the model behind arg to out, string values
     * in display order, without necessarily loading weights
     * (cm_model_describe). */
    int  (*describe)(const char *arg, const cm_encoder_params *params, int open_weights, cJSON *out);
} cm_backend_i;

extern const cm_backend_i cm_backend_hash;
extern const cm_backend_i cm_backend_glove;
extern const cm_backend_i cm_backend_precomputed;
extern const cm_backend_i cm_backend_hf;
extern const cm_backend_i cm_backend_openai;

/* Wraps a caller-made backend state in an encoder (cm_encoder_init_fn
 * builds on it). Takes ownership of state: be->free releases
 * it when the encoder is freed. info is copied; its strings must outlive the
 * encoder. On failure state is released too. */
int cm_encoder_init_backend(cm_encoder **out, const cm_backend_i *be, void *state, const cm_encoder_info *info);

/* All backends, NULL-terminated (for --help). */
extern const cm_backend_i *const cm_backends[];

#endif
