/*
 * model.h: the architecture vtable of the native engine, the packed batch
 * layout, and pooling (kept apart from the forward pass so that several
 * poolings can share one forward pass).
 *
 * Data flow for a batch of texts:
 *   tokenize (tokenizer.h) -> cm_hf_batch (packed token ids, no padding) ->
 *   arch->forward -> hidden states (n_tokens, hidden) row-major ->
 *   cm_hf_pool for each cm_pool_spec -> (n_seqs, dim) -> optional L2 norm.
 *
 * Packed layout: the sequences of a batch are concatenated; sequence s owns
 * rows [offset[s], offset[s] + length[s]) of every activation matrix. Each
 * sequence attends only to itself (bidirectional, or causal when the
 * forward is asked for it); positions restart at 0 for every sequence.
 * n_instr[s] is the number of leading tokens of s that belong to the
 * instruction / prompt (counted the way the model's rule says: for BERT
 * models the prompt's own tokens after [CLS]; NV-Embed: BOS + the
 * instruction tokenized alone). Pooling may leave them out.
 *
 * Architectures register in cm_hf_archs[] (model.c): BERT-family encoders in
 * bert.c ("bert", "roberta", "xlm-roberta", "mpnet", ...); decoders
 * ("llama", "mistral", "qwen2", "qwen3", "nvembed") in decoder*.c, whose
 * vtable is the extern cm_hf_arch_decoder.
 *
 * Ownership: arch->load allocates the model state, arch->free releases it.
 * Batches are caller-owned (cm_hf_batch_free). Hidden-state buffers passed
 * to forward are caller-allocated.
 */
#ifndef CMTEB_ENGINE_ARCH_MODEL_H
#define CMTEB_ENGINE_ARCH_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cmteb/util.h"
#include "engine/nn/bf16.h"
#include "engine/nn/safetensors.h"

/* ---- configuration ---------------------------------------------------- */

typedef enum cm_attn_kind {
    CM_ATTN_DEFAULT       = 0,   /* what the architecture / model folder says */
    CM_ATTN_BIDIRECTIONAL = 1,
    CM_ATTN_CAUSAL        = 2,
} cm_attn_kind;

/* Sizes read from config.json (decoders fill n_kv_heads, head_dim, ...). */
typedef struct cm_hf_config {
    char    model_type[64];        /* config.json model_type ("bert", "mistral", ...) */
    char    architecture[96];      /* architectures[0] or "" */
    int64_t vocab_size;
    int64_t hidden;                /* hidden_size */
    int64_t n_layers;              /* num_hidden_layers */
    int64_t n_heads;               /* num_attention_heads */
    int64_t n_kv_heads;            /* num_key_value_heads (= n_heads for BERT) */
    int64_t head_dim;              /* hidden / n_heads unless config says */
    int64_t intermediate;          /* intermediate_size */
    int64_t max_positions;         /* max_position_embeddings */
    int64_t type_vocab_size;       /* BERT token types (0 if none) */
    int64_t pad_token_id;          /* -1 if none */
    double  norm_eps;              /* layer_norm_eps / rms_norm_eps */
    char    hidden_act[32];        /* "gelu", "gelu_new", "relu", "silu", ... */
    int64_t out_dim;               /* embedding width after pooling (hidden unless a head changes it) */
    cm_attn_kind default_attention;
    /* Per-architecture embedding defaults, applied before the folder's
     * sentence-transformers files and the flags (which both win). 0 / "" =
     * no opinion (read_config may memset the struct): */
    int     default_pool;          /* a cm_pool_kind, e.g. CM_POOL_LATENT for NV-Embed; 0 = none */
    int     default_normalize;     /* 1 = L2-normalise by default; 0 = no opinion (off) */
    int     default_exclude_instr; /* 1 = leave instruction tokens out of the pool; 0 = no opinion (keep) */
    char    default_query_template[96];   /* e.g. "Instruct: {instruction}\nQuery: "; "" = none */
    int64_t n_params_exact;        /* > 0: exact parameter count the arch computed (footprint may use it) */
    /* Engine tuning, not from config.json: set by hf_model.c at load (zero
     * after read_config means defaults). */
    cm_wlinear_params linear;      /* BF16 linear strategy (engine/nn/bf16.h) */
} cm_hf_config;

/* ---- packed batch ----------------------------------------------------- */

typedef struct cm_hf_batch {
    int32_t *ids;        /* (n_tokens) packed token ids */
    size_t   n_tokens;
    size_t  *offset;     /* (n_seqs) first row of each sequence */
    size_t  *length;     /* (n_seqs) tokens of each sequence (>= 1) */
    size_t  *n_instr;    /* (n_seqs) leading instruction tokens (0 if none) */
    size_t   n_seqs;
    size_t   cap_tokens, cap_seqs;
} cm_hf_batch;

void cm_hf_batch_clear(cm_hf_batch *b);
/* Appends one sequence (ids copied). */
int  cm_hf_batch_add(cm_hf_batch *b, const int32_t *ids, size_t n, size_t n_instr);
void cm_hf_batch_free(cm_hf_batch *b);
/* The first token sequence s pools: its instruction's length when exclude_instr and that leaves a token, else 0
 * (a sequence that is all instruction is pooled whole). Every pooling that excludes instructions, on the CPU
 * (cm_hf_pool, latent.c) and the GPU (gpu_model.cu, gpu_plan.c), starts here. */
size_t cm_hf_batch_first_pooled(const cm_hf_batch *b, size_t s, int exclude_instr);
/* The longest sequence of b into *max_len, after checking every token id is
 * in [0, vocab_size): CM_ERR_ARG naming the id otherwise (a tokenizer that does
 * not match the model). For the forward passes. */
int  cm_hf_batch_check(const cm_hf_batch *b, int64_t vocab_size, size_t *max_len);

/* ---- architecture vtable --------------------------------------------- */

typedef struct cm_hf_forward_opts {
    cm_attn_kind attention;   /* resolved: BIDIRECTIONAL or CAUSAL */
    int          threads;     /* >= 1 */
} cm_hf_forward_opts;

typedef struct cm_hf_arch {
    const char *name;                  /* "bert", "mistral", ... (for messages) */
    const char *const *model_types;    /* config.json model_type values it accepts, NULL-terminated */
    /* Fills cfg from config.json (already parsed; dir for messages) without
     * touching weights. Used by `cmteb info` too. */
    int    (*read_config)(const cJSON *config, const char *dir, cm_hf_config *cfg);
    /* Parameter count and weight bytes as stored, from cfg alone. */
    void   (*footprint)(const cm_hf_config *cfg, int64_t *n_params, int64_t *weight_bytes_f32);
    /* Loads weights from st (borrowed: the checkpoint outlives the model;
     * an arch may convert and copy, or keep pointers into the mapping).
     * Validates every tensor's shape against cfg. *state is freed by free. */
    int    (*load)(void **state, const cm_hf_config *cfg, const cJSON *config, const cm_safetensors *st,
                   const char *dir);
    /* Runs the encoder over the packed batch and writes the last hidden
     * states, hidden: (b->n_tokens, cfg.hidden) row-major, caller-allocated.
     * Must give the same rows whatever else is in the batch. */
    int    (*forward)(void *state, const cm_hf_batch *b, const cm_hf_forward_opts *o, float *hidden);
    /* Bytes of scratch memory forward needs for a batch of n_tokens whose
     * longest sequence has max_len tokens (for planning). Optional (NULL). */
    size_t (*scratch_bytes)(const void *state, size_t n_tokens, size_t max_len);
    /* Optional: the arch's own pooling (NV-Embed latent attention). Pools
     * hidden states of the batch into out (n_seqs, cfg.out_dim), honouring
     * the pool mask given by n_instr when exclude_instr. NULL if none. */
    int    (*pool_latent)(void *state, const cm_hf_batch *b, const float *hidden, int exclude_instr,
                          int threads, float *out);
    /* Optional: text appended to every input before tokenizing (NV-Embed: the
     * EOS string "</s>"), or NULL. */
    const char *(*text_suffix)(const void *state);
    void   (*free)(void *state);
    /* Optional (NULL): extra lines for `cmteb info` computed from config.json
     * alone (no weights), e.g. "weights (bf16): N bytes" for a 7B shape;
     * appended to report. */
    int    (*describe)(const cJSON *config, const char *dir, cm_str *report);
} cm_hf_arch;

extern const cm_hf_arch cm_hf_arch_bert;     /* bert.c */
extern const cm_hf_arch cm_hf_arch_decoder;  /* decoder*.c */
extern const cm_hf_arch cm_hf_arch_t5;       /* t5.c */

/* NULL-terminated list (model.c). */
extern const cm_hf_arch *const cm_hf_archs[];

/* Finds the arch for config.json's model_type; CM_ERR_UNSUPPORTED naming the
 * model_type, the architectures entry and the supported list otherwise. */
int cm_hf_arch_find(const cJSON *config, const char *dir, const cm_hf_arch **out);

/* Checks the sizes an architecture's read_config filled against sane limits
 * (hidden_size, intermediate_size, head_dim <= 1<<17 and 1<<20; layers <= 4096;
 * heads <= 1<<14; vocab_size, max_position_embeddings <= 1<<24; norm eps finite
 * and in (0, 1)), so that later size arithmetic cannot overflow. where names the
 * file ("DIR/config.json"); the error names the field and the value. */
int cm_hf_config_check_limits(const cm_hf_config *cfg, const char *where, const char *eps_key);

/* ---- pooling ----------------------------------------------------------- */

typedef enum cm_pool_kind {
    CM_POOL_DEFAULT      = 0,   /* what the model folder says */
    CM_POOL_CLS          = 1,   /* first token of each sequence */
    CM_POOL_MEAN         = 2,   /* mean over the (pool-masked) tokens */
    CM_POOL_LAST         = 3,   /* last token of each sequence */
    CM_POOL_WEIGHTEDMEAN = 4,   /* position-weighted mean, weights 1..L (sentence-transformers) */
    CM_POOL_LATENT       = 5,   /* the arch's pool_latent (NV-Embed) */
    CM_POOL_MAX          = 6,   /* elementwise max over the (pool-masked) tokens */
    CM_POOL_MEAN_SQRT    = 7,   /* sum over the (pool-masked) tokens / sqrt(their count) */
    CM_POOL_HEAD         = 8,   /* a trained pooling head (the model folder `cmteb train-pooler` writes) */
} cm_pool_kind;

/* Parses "cls|mean|last|weightedmean|max|mean_sqrt_len|latent" (also
 * sentence-transformers' "lasttoken", "mean_tokens", "max_tokens", ...).
 * CM_ERR_ARG naming the choices if bad. */
int         cm_pool_parse(const char *s, cm_pool_kind *out);
const char *cm_pool_name(cm_pool_kind k);

typedef struct cm_pool_spec {
    cm_pool_kind kind;
    int          exclude_instr;   /* 1: leave the n_instr leading tokens out (mean, weightedmean, latent);
                                     -1 (cm_hf_encode_multi only): the model's choice */
    int          normalize;       /* 1: L2-normalise the pooled vector; -1: the model's choice */
} cm_pool_spec;

/* Pools hidden (b->n_tokens, hidden) into out (b->n_seqs, hidden) with the
 * generic kinds (CLS, MEAN, LAST, WEIGHTEDMEAN). When exclude_instr leaves a
 * sequence with no token, the whole sequence is used (never divides by 0). */
int cm_hf_pool(const cm_hf_batch *b, const float *hidden, size_t hidden_dim, const cm_pool_spec *spec,
               float *out);


/* Low-precision Linear layers of the float32-loaded encoders (bert.c, enc.c): replaces the owned float32
 * matrix *W (rows, cols) by its form for compute dtype dt in *q (engine/nn/bf16.h: bf16 rounded or int8
 * quantized; *W freed and set to NULL). Nothing for fp32 (q left empty). On error *W is kept, q empty. */
int cm_arch_prepare_f32(float **W, size_t rows, size_t cols, cm_cpu_dtype dt, cm_wmat *q);
/* y (n, out) = x (n, in) . W^T + bias (bias may be NULL) through q when it holds a prepared matrix, else
 * through the float32 W (cm_ops_linear_bias_mt, unchanged fp32 results). ws: the caller's reusable scratch.
 * CM_ERR_NOMEM when a low-precision product cannot get its scratch. */
int cm_arch_linear(const float *x, size_t ldx, const float *W, const cm_wmat *q, const float *bias, size_t n,
                   size_t in, size_t out, float *y, size_t ldy, int threads, const cm_wlinear_params *lp,
                   cm_wscratch *ws);

#endif
