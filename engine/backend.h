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

#include "cmteb/encoder.h"

typedef struct cm_backend_i {
    const char *scheme;   /* "hash", "glove", ... */
    const char *usage;    /* one line for --help, e.g. "hash[:DIM]  lexical baseline" */
    int  (*init)(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info);
    int  (*encode)(void *state, const char *const *texts, size_t n, cm_role role,
                   const char *instruction, float *out);
    void (*free)(void *state);
} cm_backend_i;

extern const cm_backend_i cm_backend_hash;
extern const cm_backend_i cm_backend_glove;
extern const cm_backend_i cm_backend_precomputed;
extern const cm_backend_i cm_backend_hf;
extern const cm_backend_i cm_backend_openai;

/* Wraps a caller-made backend state in an encoder (used by `cmteb compare`
 * for views of a shared model). Takes ownership of state: be->free releases
 * it when the encoder is freed. info is copied; its strings must outlive the
 * encoder. On failure state is released too. */
int cm_encoder_init_backend(cm_encoder **out, const cm_backend_i *be, void *state, const cm_encoder_info *info);

/* All backends, NULL-terminated (for --help). */
extern const cm_backend_i *const cm_backends[];

#endif
