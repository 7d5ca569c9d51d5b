/*
 * decoder_ops.h: the float32 CPU kernels of the decoder forward pass and of
 * NV-Embed's latent attention: RMSNorm, rotary position embedding (HF
 * rotate-half layout), grouped-query attention over packed sequences
 * (causal with an optional sliding window, or bidirectional), SwiGLU, GEGLU,
 * LayerNorm. Row-major; OpenMP over rows with `threads` threads; nothing
 * here allocates except cm_dec_attention's scratch (documented there).
 */
#ifndef CMTEB_ENGINE_ARCH_DECODER_OPS_H
#define CMTEB_ENGINE_ARCH_DECODER_OPS_H

#include <stddef.h>

/* y[i,:] = w * x[i,:] / sqrt(mean(x[i,:]^2) + eps), n rows of width d (x, y may alias). */
void cm_dec_rmsnorm(const float *x, float *y, const float *w, size_t n, size_t d, float eps, int threads);

/* y[i,:] = (x[i,:] - mean) / sqrt(var + eps) * g + b (x, y may alias). */
void cm_dec_layernorm(const float *x, float *y, const float *g, const float *b, size_t n, size_t d, float eps,
                      int threads);

/* Rotary tables for positions [0, max_len): cos/sin (max_len, head_dim/2),
 * angle = pos * theta^(-2i/head_dim), computed in double. */
void cm_dec_rope_table(double theta, size_t head_dim, size_t max_len, float *cos_t, float *sin_t);

/* Applies RoPE in place to x (n_tokens rows of n_heads * head_dim, row stride
 * ld) with the per-token positions pos[] (rotate-half: pairs (i, i + hd/2)). */
void cm_dec_rope_apply(float *x, size_t ld, size_t n_tokens, size_t n_heads, size_t head_dim, const size_t *pos,
                       const float *cos_t, const float *sin_t, int threads);

/* Grouped-query attention over packed sequences.
 *   q   (n_tokens, ldq): head h at columns [h*hd, (h+1)*hd)
 *   k,v (n_tokens, ldkv): kv head g at columns [g*hd, (g+1)*hd); query head h
 *       uses kv head h / (n_heads / n_kv_heads)
 *   out (n_tokens, ldo): heads concatenated
 * causal: token i sees tokens j <= i of its sequence, and only j > i - window
 * when window > 0. Scratch: one (64 x max_len) score block per thread,
 * allocated here; CM_ERR_NOMEM if that fails. */
int cm_dec_attention(const float *q, size_t ldq, const float *k, const float *v, size_t ldkv, float *out,
                     size_t ldo, size_t n_heads, size_t n_kv_heads, size_t head_dim, const size_t *offset,
                     const size_t *length, size_t n_seqs, int causal, size_t window, int threads);

/* g[i,j] = silu(g[i,j]) * u[i,j] over n rows of width d (strides ldg, ldu). */
void cm_dec_swiglu(float *g, size_t ldg, const float *u, size_t ldu, size_t n, size_t d, int threads);

/* GEGLU in place on u (n, 2d) with bias b (2d, may be NULL): out[i,j] =
 * (u[i,j] + b[j]) * gelu(u[i,d+j] + b[d+j]) into out (n, d) (exact erf GELU). */
void cm_dec_geglu(const float *u, const float *b, float *out, size_t n, size_t d, int threads);

#endif
