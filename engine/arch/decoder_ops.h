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

/* Options of cm_dec_attention_ex (cm_dec_attn_default_opts: scale 1/sqrt(head_dim) when 0, no mask beyond the
 * sequence, no window, no softcap, no bias). */
typedef struct cm_dec_attn_opts {
    float        scale;        /* scores = scale * q.k; 0: 1/sqrt(head_dim) */
    int          causal;       /* token i sees keys j <= i only */
    size_t       window;       /* > 0: only keys with i - j < window (Mistral, Qwen2, Gemma 3 sliding layers) */
    int          window_both;  /* with window: also j - i < window (Gemma 3 bidirectional sliding layers) */
    float        softcap;      /* > 0: scores = softcap * tanh(scores / softcap) (Gemma attn_logit_softcapping) */
    const float *rel_bias;     /* T5: (n_heads, 2 * rel_span - 1): added to the score of (i, j) at
                                  [h * (2 * rel_span - 1) + (j - i) + rel_span - 1]; NULL: none */
    size_t       rel_span;     /* every sequence must be at most rel_span long */
} cm_dec_attn_opts;

/* cm_dec_attention with the options above (cm_dec_attention is this with scale 0, causal and window as given). */
int cm_dec_attention_ex(const float *q, size_t ldq, const float *k, const float *v, size_t ldkv, float *out,
                        size_t ldo, size_t n_heads, size_t n_kv_heads, size_t head_dim, const size_t *offset,
                        const size_t *length, size_t n_seqs, const cm_dec_attn_opts *o, int threads);

/* Rotary scaling (config.json rope_scaling) as Hugging Face computes the inverse frequencies:
 *   DEFAULT inv_i = theta^(-2i/hd); LINEAR inv_i / factor;
 *   DYNAMIC (NTK, at inference for a sequence of seq_len tokens): when seq_len > max_positions,
 *     theta' = theta * (factor * seq_len / max_positions - (factor - 1))^(hd / (hd - 2)), else default;
 *   LLAMA3: wavelength w_i = 2 pi / inv_i; w_i < orig / high_freq_factor: inv_i; w_i > orig / low_freq_factor:
 *     inv_i / factor; between: (1 - s) inv_i / factor + s inv_i with s = (orig / w_i - low) / (high - low). */
typedef enum cm_rope_kind { CM_ROPE_DEFAULT = 0, CM_ROPE_LINEAR, CM_ROPE_DYNAMIC, CM_ROPE_LLAMA3 } cm_rope_kind;

typedef struct cm_dec_rope {
    cm_rope_kind kind;
    double       theta;              /* rope_theta */
    double       factor;             /* rope_scaling.factor (>= 1 for dynamic) */
    double       low_freq_factor, high_freq_factor;   /* llama3 */
    double       original_max;       /* llama3: original_max_position_embeddings; dynamic: max_position_embeddings */
} cm_dec_rope;

/* Tables like cm_dec_rope_table for positions [0, n_pos), for a sequence of seq_len tokens (dynamic only). */
void cm_dec_rope_table_ex(const cm_dec_rope *r, size_t head_dim, size_t seq_len, size_t n_pos, float *cos_t,
                          float *sin_t);

/* g[i,:] = gelu(g[i,:]) * u[i,:] (n, d) in place: tanh GELU (gelu_pytorch_tanh / gelu_new) when tanh_approx,
 * else the exact erf GELU. u NULL: g = gelu(g) (no gate). */
void cm_dec_gelu_gate(float *g, const float *u, size_t n, size_t d, int tanh_approx, int threads);

/* g[i,:] = max(g[i,:], 0) (n, d) in place. */
void cm_dec_relu(float *g, size_t n, size_t d, int threads);

/* g[i,j] = silu(g[i,j]) * u[i,j] over n rows of width d (strides ldg, ldu). */
void cm_dec_swiglu(float *g, size_t ldg, const float *u, size_t ldu, size_t n, size_t d, int threads);

/* GEGLU in place on u (n, 2d) with bias b (2d, may be NULL): out[i,j] =
 * (u[i,j] + b[j]) * gelu(u[i,d+j] + b[d+j]) into out (n, d) (exact erf GELU). */
void cm_dec_geglu(const float *u, const float *b, float *out, size_t n, size_t d, int threads);

#endif
