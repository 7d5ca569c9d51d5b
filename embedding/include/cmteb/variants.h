/*
 * variants.h: several variants of one model (pooling, normalisation,
 * instruction tokens pooled or not, attention, max length, instruction use)
 * that share the backbone's forward pass (`cmteb compare`,
 * eval/cli/cmd_compare.c).
 *
 * Variants whose inputs are the same (same attention, max length, templates
 * and instruction use) form a group around one loaded encoder. Each variant
 * gets its own cm_encoder and cm_embedder. When one of a group's variants
 * asks for texts, the backbone runs once on them (cm_encoder_encode_pools)
 * and every pooling of the group is applied to the same hidden states. With
 * a cache, the siblings' vectors go straight into their own embedders'
 * caches (cm_embedder_put), where they find them on their turn, so memory
 * does not grow with the corpus and an interrupted run resumes inside a
 * task. Without one, they wait in the group's in-memory stash, keyed by
 * (role, instruction, text), until cm_variants_end_task.
 *
 * Use: cm_variants_init; per task, per variant i: cm_variants_ready(vs, i),
 * then embed through cm_variants_embedder(vs, i); after each task
 * cm_variants_end_task; cm_variants_get_stats for the passes saved.
 *
 * Ownership: cm_variants_init allocates the set (it copies the definitions),
 * cm_variants_free releases it with its encoders and embedders (NULL ok).
 * Strings and embedders returned are borrowed from the set.
 */
#ifndef CMTEB_VARIANTS_H
#define CMTEB_VARIANTS_H

#include <stddef.h>

#include "cmteb/embedder.h"
#include "cmteb/encoder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One variant: a name and the overrides it applies to the model. */
typedef struct cm_variant_def {
    const char       *name;         /* results are filed as <model>-<name> */
    const char       *spec;         /* the overrides as text ("pooling=cls,normalize=off"): provenance, and
                                       hashed into the variant's fingerprint (the cache key) */
    cm_encoder_params params;       /* read: pooling, normalize, pool_instruction (the pooling stage);
                                       attention, max_length, query_template, document_template (the pass) */
    int               instructions; /* -1 as the model says, 0 never pass task instructions, 1 always */
} cm_variant_def;

/* A definition that changes nothing: the model's defaults. */
cm_variant_def cm_variant_default_def(void);

/* What every variant shares. */
typedef struct cm_variants_params {
    const char *model_spec;  /* "hf:PATH" (a backend with cm_encoder_encode_pools) */
    const char *model_name;  /* NULL: from the model; variants are named <model_name>-<variant> */
    const char *cache_dir;   /* NULL: no cache, siblings' vectors wait in memory (one task's worth) */
    int         threads;     /* 0: all cores */
    int         batch_size;  /* 0: defaults */
    int         quiet;       /* 1: no load messages or progress */
    const char *device;      /* NULL (auto) or a cm_encoder_params device ("cpu", "cuda:0", ...) */
    const char *dtype;       /* NULL (the device's default) or bf16|fp16|fp32 */
} cm_variants_params;

cm_variants_params cm_variants_default_params(void);

typedef struct cm_variants cm_variants;

/* Loads one encoder per distinct forward pass and makes each variant's
 * encoder and embedder. Fails (CM_ERR_ARG) on two variants with one name
 * or an unknown pooling; CM_ERR_UNSUPPORTED when the backend cannot pool a
 * pass several ways. */
int cm_variants_init(cm_variants **out, const cm_variant_def *defs, size_t n, const cm_variants_params *p);
void cm_variants_free(cm_variants *vs);

size_t cm_variants_count(const cm_variants *vs);
/* The model's name (params.model_name or what the model says), borrowed. */
const char *cm_variants_model_name(const cm_variants *vs);
/* Variant i's name, as defined (borrowed). */
const char *cm_variants_name(const cm_variants *vs, size_t i);
/* The forward-pass group of variant i, 0 .. n_groups-1. */
size_t cm_variants_group(const cm_variants *vs, size_t i);
/* Variant i's embedder (borrowed; its info names the results <model>-<name>). */
cm_embedder *cm_variants_embedder(cm_variants *vs, size_t i);

/* Makes the vectors siblings computed for variant i visible to its embedder
 * (flushes its cache); call before embedding with variant i. */
int cm_variants_ready(cm_variants *vs, size_t i);
/* Empties the in-memory stash; call once every variant has embedded a
 * task's texts (it keeps memory at one task's texts x variants). */
void cm_variants_end_task(cm_variants *vs);

typedef struct cm_variants_stats {
    size_t n_groups;   /* forward-pass groups */
    size_t n_models;   /* encoders loaded (one per attention, max length, templates) */
    size_t forwarded;  /* texts run through the backbone */
    size_t separate;   /* texts the variants run one by one would have run */
} cm_variants_stats;

cm_variants_stats cm_variants_get_stats(const cm_variants *vs);

#ifdef __cplusplus
}
#endif
#endif
