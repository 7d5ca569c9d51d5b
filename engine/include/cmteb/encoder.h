/*
 * encoder.h: the one interface every embedding backend implements.
 *
 * An encoder turns n texts, for a role (query or document) and an optional
 * instruction, into an (n, dim) row-major float32 matrix. Backends are chosen
 * by a model SPEC string:
 *
 *   hash[:DIM]          lexical feature-hashing baseline, no weights (default)
 *   glove:PATH          averaged GloVe word vectors (text file or .npy cache)
 *   precomputed:DIR     vectors made elsewhere (DIR/texts.jsonl + embeddings.npy)
 *   hf:PATH             native engine over a Hugging Face model folder
 *   openai:URL[#MODEL]  an OpenAI-compatible /v1/embeddings endpoint
 *
 * Ownership: cm_encoder_init allocates the encoder, cm_encoder_free releases it
 * (NULL is fine). Strings returned by accessors are borrowed from the encoder.
 */
#ifndef CMTEB_ENCODER_H
#define CMTEB_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_role { CM_ROLE_QUERY = 0, CM_ROLE_DOCUMENT = 1 } cm_role;

const char *cm_role_name(cm_role r);   /* "query" / "document" */

/* Engine knobs. Defaults (cm_encoder_default_params) mean "what the model
 * folder says"; a set field overrides it. */
typedef struct cm_encoder_params {
    int         threads;            /* 0: all cores */
    int         batch_size;         /* texts per forward batch; 0: backend default */
    const char *device;             /* NULL or "auto" (default): cuda when the build has CUDA, a GPU is visible
                                       and the backend runs there (hf), else cpu; "cpu"; "cuda" (every visible
                                       GPU, one model replica each); "cuda:N"; "cuda:0,1,3" */
    const char *dtype;              /* NULL (default: bf16 on cuda, fp32 on cpu); cpu: fp32|bf16|int8 (the
                                       Linear layers' products), cuda: bf16|fp16|fp32; int8 with the device
                                       left to auto picks the CPU */
    const char *pooling;            /* NULL or cls|mean|last|weightedmean|latent */
    const char *attention;          /* NULL or bidirectional|causal */
    int         normalize;          /* -1 model default, 0 off, 1 L2-normalise */
    int         max_length;         /* 0 model default, else truncate to this many tokens */
    int         dim;                /* 0 the model's width, else keep the first dim values of each vector
                                       (Matryoshka), L2-renormalised when the model normalises (hf) */
    int         pool_instruction;   /* -1 model default, 0 leave instruction tokens out of the pool, 1 keep */
    const char *query_template;     /* NULL or e.g. "Instruct: {instruction}\nQuery: " */
    const char *document_template;  /* NULL or a template for documents */
    const char *model_name;         /* NULL or the name results are filed under ("org/model") */
    int         quiet;              /* 1: no load messages on stderr */
} cm_encoder_params;

cm_encoder_params cm_encoder_default_params(void);

/* What the results' model_meta.json says about the model. */
typedef struct cm_encoder_info {
    const char *name;              /* "org/model"; results go to OUTPUT/org__model/REVISION */
    const char *revision;          /* model revision or "no_revision_available" */
    const char *loader;            /* backend name, e.g. "hash" */
    const char *fingerprint;       /* stable id of weights + settings, keys the embedding cache */
    size_t      dim;
    int64_t     max_tokens;        /* -1 unknown */
    int64_t     n_parameters;      /* -1 unknown */
    int         uses_instructions; /* 1 if task instructions are passed to the model */
    size_t      chunk;             /* texts per encode call the backend prefers; 0 default,
                                      SIZE_MAX: everything at once (precomputed lookups) */
    const char *device;            /* where vectors are computed ("cpu", "cuda:0"), NULL when not applicable */
    const char *dtype;             /* their compute dtype ("fp32", "bf16", "int8", "fp16"), NULL when n/a */
    int         stored;            /* 1: the vectors are read from a vector store (precomputed): an embedding
                                      cache would only copy them, so a run keeps none unless asked for one */
} cm_encoder_info;

typedef struct cm_encoder cm_encoder;

/* Parses SPEC and loads the model. On failure *out is NULL and the last error
 * says what was wrong (unknown scheme, missing file, ...). */
int cm_encoder_init(cm_encoder **out, const char *spec, const cm_encoder_params *params);

/* Encodes texts[0..n) for role with instruction (NULL or "" for none) into
 * out, (n, dim) float32 row-major, caller-allocated. */
int cm_encoder_encode(cm_encoder *e, const char *const *texts, size_t n, cm_role role,
                      const char *instruction, float *out);

/* As cm_encoder_encode, but rows[i] points at text i's (dim) float32 vector
 * where the backend already holds it (precomputed: a float32 store's map),
 * checked finite, valid until the encoder is freed: no copy. CM_ERR_UNSUPPORTED
 * (no message) when the backend cannot lend these rows; encode them then. */
int cm_encoder_view(cm_encoder *e, const char *const *texts, size_t n, cm_role role, const char *instruction,
                    const float **rows);

const cm_encoder_info *cm_encoder_get_info(const cm_encoder *e);
size_t cm_encoder_dim(const cm_encoder *e);

/* The pooling stage of a forward pass: what may differ between variants of
 * one model that share the backbone's hidden states (cmteb/variants.h).
 * Defaults (cm_pool_default_params) mean "what the model says". */
typedef struct cm_pool_params {
    const char *pooling;          /* NULL or cls|mean|last|weightedmean|max|mean_sqrt_len|latent */
    int         normalize;        /* -1 model default, 0 off, 1 L2-normalise */
    int         pool_instruction; /* -1 model default, 0 leave instruction tokens out of the pool, 1 keep */
} cm_pool_params;

cm_pool_params cm_pool_default_params(void);

/* CM_OK when pooling is NULL or a pooling name the native engine knows,
 * else CM_ERR_ARG naming the choices (hf/hf_backend.c). */
int cm_pool_check(const char *pooling);

/* One forward pass, npools poolings: outs[k] is (n, cm_encoder_dim(e))
 * float32 row-major, caller-allocated, for pools[k] (a pooling keeps the
 * model's output width). The caller keeps texts, pools and outs.
 * CM_ERR_UNSUPPORTED for backends that cannot (all but hf:). */
int cm_encoder_encode_pools(cm_encoder *e, const char *const *texts, size_t n, cm_role role,
                            const char *instruction, const cm_pool_params *pools, size_t npools,
                            float *const *outs);

/* An encoder whose work a caller does: encode(ctx, ...) writes (n, info->dim)
 * rows. ctx is borrowed and must outlive the encoder; info is copied and its
 * strings must outlive the encoder too (cmteb/variants.h: one pooling
 * variant of a shared forward pass). cm_encoder_free releases the encoder only. */
typedef int (*cm_encode_fn)(void *ctx, const char *const *texts, size_t n, cm_role role,
                            const char *instruction, float *out);
int cm_encoder_init_fn(cm_encoder **out, cm_encode_fn encode, void *ctx, const cm_encoder_info *info);

void cm_encoder_free(cm_encoder *e);

/* The GPUs this process sees, as `cmteb info` shows them: a new cJSON object
 * (*out, caller frees with cJSON_Delete) {"cuda": "built" | "not built",
 * "devices": [{"index", "name", "memory_total", "memory_free" (bytes),
 * "compute_capability" ("9.0"), "sm_count"}, ...]} (an empty array when none
 * is visible or the build has no CUDA). */
int cm_devices_describe(cJSON **out);

/* Describes the model behind SPEC as `cmteb info` shows it: a new cJSON
 * object (*out, caller frees with cJSON_Delete) of string values in display
 * order ("model", "architecture", "layers", ..., "fingerprint"; "details"
 * holds extra lines some architectures add). For hf:PATH it reads
 * config.json and the tokenizer and, when open_weights is 1, the safetensors
 * headers; nothing is converted or run. Other backends load the model and
 * report their cm_encoder_info. */
int cm_model_describe(const char *spec, const cm_encoder_params *params, int open_weights, cJSON **out);

#ifdef __cplusplus
}
#endif
#endif
