/*
 * hf_model.h: a loaded Hugging Face model folder (config, weights,
 * tokenizer, sentence-transformers settings) and the encode entry points the
 * hf backend (hf_backend.c) and `cmteb compare` use.
 *
 * Settings come from the folder (modules.json, 1_Pooling/config.json,
 * config_sentence_transformers.json prompts, sentence_bert_config.json
 * max_seq_length, a 2_Normalize module) and are overridden by the set fields
 * of cm_encoder_params.
 *
 * Texts are tokenized, sorted by length, packed without padding into
 * batches of at most batch_tokens tokens, run through the architecture's
 * forward pass once, and pooled by every requested cm_pool_spec
 * (cm_hf_encode_multi: variants that share a forward pass share it).
 *
 * Ownership: cm_hf_model_load allocates, cm_hf_model_free frees (NULL ok).
 * Strings returned are borrowed from the model.
 */
#ifndef CMTEB_ENGINE_HF_HF_MODEL_H
#define CMTEB_ENGINE_HF_HF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cmteb/encoder.h"
#include "engine/arch/model.h"
#include "engine/nn/st_dense.h"
#include "engine/tokenizer/tokenizer.h"

/* At most this many sentence-transformers Dense modules after pooling. */
enum { CM_HF_MAX_DENSE = 4 };

typedef struct cm_hf_model cm_hf_model;

/* What the folder says plus overrides, resolved at load. */
typedef struct cm_hf_settings {
    cm_pool_spec  pool;              /* default pooling (kind, exclude_instr, normalize) */
    cm_attn_kind  attention;         /* resolved */
    size_t        max_length;        /* tokens per sequence incl. special tokens */
    int           threads;           /* resolved (>= 1) */
    size_t        batch_tokens;      /* token budget of one packed forward batch */
    size_t        batch_seqs;        /* at most this many texts per forward batch (0: no limit) */
    const char   *query_prompt;      /* fixed prefix for queries ("" if none), e.g. "query: " */
    const char   *document_prompt;   /* fixed prefix for documents ("" if none) */
    const char   *query_template;    /* "{instruction}" template for queries with an instruction, or NULL */
    const char   *document_template; /* same for documents, or NULL */
} cm_hf_settings;

/* Loads DIR (a model folder). Only reads config.json and the tokenizer when
 * weights == 0 (for `cmteb info` / `cmteb tokenize`). */
int  cm_hf_model_load(cm_hf_model **out, const char *dir, const cm_encoder_params *params, int weights);
void cm_hf_model_free(cm_hf_model *m);

const cm_hf_config   *cm_hf_model_config(const cm_hf_model *m);
const cm_hf_settings *cm_hf_model_settings(const cm_hf_model *m);
const cm_tokenizer   *cm_hf_model_tokenizer(const cm_hf_model *m);
const cm_hf_arch     *cm_hf_model_arch(const cm_hf_model *m);
/* The architecture's loaded state (arch->load's *state: a cm_decoder for the
 * decoder arch, bert.c's model for BERT-family encoders), or NULL when loaded
 * without weights. For engines that run the same weights elsewhere (CUDA). */
const void           *cm_hf_model_state(const cm_hf_model *m);
/* The checkpoint, or NULL when loaded without weights. */
const cm_safetensors *cm_hf_model_weights(const cm_hf_model *m);
/* Stable hash of the weights (header + data sizes + sampled bytes) and of
 * every setting that changes vectors; hex, 16 chars. */
const char           *cm_hf_model_fingerprint(const cm_hf_model *m);
const char           *cm_hf_model_dir(const cm_hf_model *m);
/* The sentence-transformers Dense modules applied after pooling, in order
 * (*out borrowed); their count (0 for most models). */
size_t                cm_hf_model_dense(const cm_hf_model *m, const cm_dense **out);

/* The text actually tokenized for a role and instruction (prompt or
 * template applied); *instr_prefix_len = byte length of the prefix that
 * counts as instruction. Caller frees *out. */
int cm_hf_model_format(const cm_hf_model *m, const char *text, cm_role role, const char *instruction,
                       char **out, size_t *instr_prefix_len);

/* Encodes texts with the model's default pooling into out (n, out_dim). */
int cm_hf_encode(cm_hf_model *m, const char *const *texts, size_t n, cm_role role, const char *instruction,
                 float *out);
/* One forward pass, npools poolings: outs[k] is (n, out_dim) float32,
 * caller-allocated, for pools[k]. A spec with kind CM_POOL_DEFAULT takes the
 * model's pooling; normalize < 0 takes the model's choice. */
int cm_hf_encode_multi(cm_hf_model *m, const char *const *texts, size_t n, cm_role role,
                       const char *instruction, const cm_pool_spec *pools, size_t npools, float *const *outs);

/* Adds what `cmteb info` shows of model folder DIR to j (an object) as
 * string values in display order; "details" holds the architecture's extra
 * lines. Opens the safetensors headers only when weights is 1. Used by the
 * hf backend's describe entry (cm_model_describe). */
int cm_hf_describe(const char *dir, const cm_encoder_params *params, int weights, cJSON *j);

/* Names a model folder for results (hf_backend.c; caller frees; NULL when out
 * of memory): "org/model" from config.json's _name_or_path when it looks
 * like a hub id, else "local/<folder name>". */
char *cm_hf_folder_model_name(const char *dir);
/* The commit hash of a hub cache path (.../snapshots/<40 hex>/), or NULL. */
char *cm_hf_folder_revision(const char *dir);

#endif
