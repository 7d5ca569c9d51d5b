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
 * Devices: params->device "cuda", "cuda:N" or "cuda:0,1,..." (resolved by
 * cm_encoder_init; NULL, "auto" and "cpu" mean the CPU here) also loads one
 * replica per listed GPU in params->dtype (NULL: bf16) when weights are
 * loaded, and cm_hf_encode_multi then runs there (hf_gpu.h): tokenization on
 * CPU threads overlapped with the GPUs' batches, results in input order.
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
    size_t        dim;               /* width of the vectors encode writes: cfg.out_dim, or --dim (Matryoshka:
                                        the first dim values, L2-renormalised when pool.normalize) */
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

/* One tokenized text: ids (n, caller frees), its leading instruction tokens
 * and its position in the caller's input. */
typedef struct cm_hf_item {
    int32_t *ids;
    size_t   n, n_instr, index;
} cm_hf_item;

/* Per-thread tokenization scratch (the last prompt prefix and its token
 * count, encoding buffers); zero-initialised, released with
 * cm_hf_tok_scratch_free. */
typedef struct cm_hf_tok_scratch {
    char            *last_prefix;
    size_t           last_prefix_ntok;
    cm_tok_encoding  enc, penc;
} cm_hf_tok_scratch;

void cm_hf_tok_scratch_free(cm_hf_tok_scratch *s);

/* Formats and tokenizes text (NULL = "") for role and instruction into *it
 * (it->ids allocated, caller frees), index recorded for ordering and
 * messages. Thread-safe for distinct scratch. */
int cm_hf_tokenize(const cm_hf_model *m, cm_hf_tok_scratch *s, const char *text, cm_role role,
                   const char *instruction, size_t index, cm_hf_item *it);

/* Orders items by length, then input position (qsort comparator). */
int cm_hf_item_cmp(const void *a, const void *b);

/* The device the model runs on ("cpu" or "cuda:0,1"), and its dtype
 * ("fp32" on the CPU). Borrowed. */
const char *cm_hf_model_device(const cm_hf_model *m);
const char *cm_hf_model_dtype(const cm_hf_model *m);
/* The CPU engine's compute dtype (CM_CPU_FP32 when the model runs on CUDA). */
cm_cpu_dtype cm_hf_model_cpu_dtype(const cm_hf_model *m);

/* Encodes texts with the model's default pooling into out (n, settings.dim). */
int cm_hf_encode(cm_hf_model *m, const char *const *texts, size_t n, cm_role role, const char *instruction,
                 float *out);
/* One forward pass, npools poolings: outs[k] is (n, settings.dim) float32,
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
