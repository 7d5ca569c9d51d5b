/*
 * ops.h: the float32 CPU kernels of the encoder forward pass: sgemm
 * wrappers (OpenBLAS), fused bias/activation and residual/LayerNorm passes,
 * vectorisable exp/erf/tanh approximations, and attention over packed
 * sequences (each sequence attends to itself only; no n_tokens^2 mask).
 *
 * All matrices are row-major. Functions here never allocate except
 * cm_ops_attention's per-thread scratch (documented there). Loops are
 * parallelised with OpenMP over rows using `threads` threads.
 */
#ifndef CMTEB_ENGINE_NN_OPS_H
#define CMTEB_ENGINE_NN_OPS_H

#include <stddef.h>
#include <stdint.h>

typedef enum cm_act {
    CM_ACT_NONE = 0,
    CM_ACT_GELU,        /* exact erf GELU (HF "gelu") */
    CM_ACT_GELU_TANH,   /* tanh approximation (HF "gelu_new", "gelu_pytorch_tanh", "gelu_fast") */
    CM_ACT_RELU,
    CM_ACT_SILU,        /* "silu", "swish" */
} cm_act;

/* Parses an HF hidden_act string; -1 when unknown. */
int cm_act_parse(const char *s);

/* Sets the BLAS thread count (OpenBLAS) once per call site. */
void cm_ops_set_threads(int threads);

/* y (n, out) = x (n, in) . W^T where W is (out, in) row-major (a Linear
 * weight). ldx/ldy are the row strides of x and y. */
void cm_ops_linear(const float *x, size_t ldx, const float *W, size_t n, size_t in, size_t out, float *y,
                   size_t ldy);

/* Same product split over `threads` OpenMP threads, each calling
 * single-threaded sgemm on a block of rows (or of output columns when n is
 * small), so BLAS threads never compete with the OpenMP pool. Call
 * cm_ops_blas_single() first (the forward pass does). */
void cm_ops_linear_mt(const float *x, size_t ldx, const float *W, size_t n, size_t in, size_t out, float *y,
                      size_t ldy, int threads);
/* Same with a bias: y = x . W^T + bias (bias (out) may be NULL). */
void cm_ops_linear_bias_mt(const float *x, size_t ldx, const float *W, const float *bias, size_t n, size_t in,
                           size_t out, float *y, size_t ldy, int threads);
/* Makes OpenBLAS single-threaded and returns the previous thread count (to
 * restore with cm_ops_set_threads after the forward pass). */
int cm_ops_blas_single(void);

/* y[i, :] = act(y[i, :] + b) over n rows of width d (stride ld); b may be NULL. */
void cm_ops_bias_act(float *y, size_t n, size_t d, size_t ld, const float *b, cm_act act, int threads);

/* x[i, :] = LayerNorm(x[i, :] + r[i, :] + b) * g + beta over n rows of width d.
 * r and b may be NULL. eps as in the config. */
void cm_ops_add_layernorm(float *x, const float *r, const float *b, const float *g, const float *beta, size_t n,
                          size_t d, float eps, int threads);

/* Approximations used by the kernels (max abs error measured in
 * test_bert.c): erf ~1e-7, exp relative ~2e-7, tanh via exp. */
float cm_fast_expf(float x);
float cm_fast_erff(float x);

/* Multi-head self-attention over packed sequences.
 *   qkv  (n_tokens, ld_qkv): q at column 0, k at column hidden, v at 2*hidden
 *   out  (n_tokens, hidden): context vectors, heads concatenated
 *   bias_fn optional: bias_fn(ctx, seq_len, head, row, scores (len)) adds a
 *        position bias to the scores of query `row` (MPNet); NULL for none.
 * causal: each token attends to itself and earlier tokens only.
 * Sequences s occupy rows [offset[s], offset[s] + length[s]).
 * Sequences up to 48 tokens use a row-by-row kernel; longer ones two
 * single-threaded sgemm calls per head (call with OpenBLAS single-threaded,
 * see cm_ops_blas_single). scratch: cm_ops_attention_scratch() floats
 * (borrowed), or NULL to allocate it here (one (max_len, max_len) score
 * matrix per thread, never n_tokens^2; CM_ERR_NOMEM if that fails). */
typedef void (*cm_attn_bias_fn)(const void *ctx, size_t len, size_t head, size_t row, float *scores);
int cm_ops_attention(const float *qkv, size_t ld_qkv, size_t hidden, size_t n_heads, const size_t *offset,
                     const size_t *length, size_t n_seqs, int causal, cm_attn_bias_fn bias_fn, const void *bias_ctx,
                     float *out, float *scratch, int threads);
/* Scratch floats cm_ops_attention needs for sequences up to max_len tokens. */
size_t cm_ops_attention_scratch(size_t hidden, size_t n_heads, size_t max_len, int threads);

#endif
