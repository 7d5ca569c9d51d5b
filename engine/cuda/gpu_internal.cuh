/*
 * gpu_internal.cuh: what the .cu files of engine/cuda share: the replica
 * (struct cm_gpu_model) with its device weights, the error helpers, the
 * dtype helpers and the kernel launchers each file implements.
 *
 * Numerics (the same for every dtype T of the replica, cm_gpu_dtype):
 *   - weight matrices (Linear weights, embedding tables) are stored in T;
 *     vectors (biases, norm weights), MPNet's bias table, NV-Embed's latent
 *     K/V and the Dense modules stay float32;
 *   - every GEMM reads T operands and writes float32 (cuBLAS, fp32
 *     accumulation: CUBLAS_COMPUTE_32F);
 *   - the residual stream, norms, softmax, RoPE and pooling run in float32
 *     (double for the reductions the CPU engine does in double); kernels
 *     that feed a GEMM write T.
 * With CM_GPU_FP32 T is float and nothing is rounded below float32.
 *
 * Layout: every matrix is row-major as in the CPU engine; a Linear is
 * y (n, out) = x (n, in) . W^T with W (out, in).
 *
 * Ownership: gpu_weights.cu allocates and frees the replica; launchers
 * borrow their pointers and run on g->stream.
 */
#ifndef CMTEB_ENGINE_CUDA_GPU_INTERNAL_CUH
#define CMTEB_ENGINE_CUDA_GPU_INTERNAL_CUH

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stddef.h>
#include <stdint.h>

extern "C" {
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/arch/bert.h"
#include "engine/arch/decoder.h"
#include "engine/arch/latent.h"
#include "engine/arch/model.h"
#include "engine/hf/hf_model.h"
#include "engine/nn/bf16.h"
#include "engine/nn/ops.h"
#include "engine/nn/st_dense.h"
}
#include "engine/cuda/gpu.h"

/* ---- the replica ------------------------------------------------------------------------------------- */

enum { GPU_ARCH_BERT = 0, GPU_ARCH_DECODER = 1 };

/* BERT-family layer; matrices in T, vectors float32. */
typedef struct gpu_bert_layer {
    void  *wqkv, *wo, *wi, *wo2;       /* (3h, h), (h, h), (I, h), (h, I) */
    float *bqkv, *bo, *bi, *bo2;       /* (3h), (h), (I), (h) */
    float *ln1_g, *ln1_b, *ln2_g, *ln2_b;
} gpu_bert_layer;

/* Decoder layer: q/k/v fused into one matrix, gate/up into another. */
typedef struct gpu_dec_layer {
    void  *wqkv;                       /* (qd + 2 kvd, h): q rows, then k, then v */
    void  *wo;                         /* (h, qd) */
    void  *wgu;                        /* (2 I, h): gate rows, then up */
    void  *wdown;                      /* (h, I) */
    float *bqkv;                       /* (qd + 2 kvd) or NULL */
    float *bo;                         /* (h) or NULL */
    float *bgu;                        /* (2 I) or NULL */
    float *bdown;                      /* (h) or NULL */
    float *ln_in, *ln_post;            /* (h) */
    float *q_norm, *k_norm;            /* (head_dim) or NULL (Qwen3 only) */
} gpu_dec_layer;

/* NV-Embed latent attention (latent.h). */
typedef struct gpu_latent {
    int64_t d, r, heads, dh, ff;
    int     normalize;
    float  *ln0_g, *ln0_b, *ln1_g, *ln1_b;
    float  *kv;                        /* (r, 2 inner) float32, precomputed on the CPU at load */
    void   *to_q, *to_out, *net0, *net2;   /* (inner, d), (d, inner), (2 ff, d), (d, ff) */
    float  *b0, *b2;                   /* (2 ff), (d) */
} gpu_latent;

/* A sentence-transformers Dense module, float32. */
typedef struct gpu_dense {
    size_t       in, out;
    cm_dense_act act;
    float       *W, *b;                /* (out, in), (out) or NULL */
} gpu_dense;

struct cm_gpu_model {
    const cm_hf_model *hf;
    cm_hf_config       cfg;            /* copy of the model's config (out_dim: after the Dense modules) */
    int                device;
    char               device_name[128];
    cm_gpu_dtype       dtype;
    int                arch;           /* GPU_ARCH_* */
    size_t             hidden, pool_dim, out_dim;
    /* BERT family */
    int                bert_kind;      /* CM_BERT_KIND_* */
    cm_act             act;
    void              *word, *pos;     /* (V, h), (P, h) in T */
    float             *type0;          /* (h) or NULL */
    float             *emb_ln_g, *emb_ln_b;
    gpu_bert_layer    *blayers;
    float             *rel_bias;       /* MPNet (buckets, heads) */
    int32_t           *bucket;         /* MPNet (2 P + 1) */
    /* decoders */
    void              *embed;          /* (V, h) in T */
    gpu_dec_layer     *dlayers;
    float             *norm;           /* (h) */
    double             rope_theta;
    int64_t            sliding_window;
    int                has_latent;
    gpu_latent         lat;
    /* Dense modules after pooling */
    gpu_dense          dense[CM_HF_MAX_DENSE];
    size_t             n_dense;
    /* device resources */
    void              *weights;        /* one allocation holding every tensor above */
    size_t             weight_bytes;
    cudaStream_t       stream;
    cublasHandle_t     blas;
    void              *blas_ws;        /* cuBLAS workspace (GPU_BLAS_WS bytes) */
    void              *arena;          /* activations, grown on demand */
    size_t             arena_cap;
    void              *host;           /* host staging for the batch's index arrays, grown on demand */
    size_t             host_cap;
};

enum { GPU_BLAS_WS = 32 << 20 };       /* cuBLAS workspace bytes per replica */

/* ---- cuBLAS, loaded on first use (gpu_blas.cu) --------------------------------------------------------- */

/* The cuBLAS entry points the engine calls (cublas_v2.h names; calls read gpu_blas.cublasGemmEx(...)). */
#define GPU_BLAS_FUNCTIONS(X)                                                                                  \
    X(cublasCreate) X(cublasDestroy) X(cublasSetStream) X(cublasSetWorkspace) X(cublasSetMathMode)             \
    X(cublasGemmEx) X(cublasGemmStridedBatchedEx) X(cublasGetStatusString)
typedef struct gpu_blas_api {
    decltype(&::cublasCreate)          cublasCreate;
    decltype(&::cublasDestroy)         cublasDestroy;
    decltype(&::cublasSetStream)       cublasSetStream;
    decltype(&::cublasSetWorkspace)    cublasSetWorkspace;
    decltype(&::cublasSetMathMode)     cublasSetMathMode;
    decltype(&::cublasGetStatusString) cublasGetStatusString;
    /* C++ overloads these (an int64_t variant): the C entry points' types */
    cublasStatus_t (*cublasGemmEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void *,
                                   const void *, cudaDataType, int, const void *, cudaDataType, int, const void *,
                                   void *, cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
    cublasStatus_t (*cublasGemmStridedBatchedEx)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                                 const void *, const void *, cudaDataType, int, long long int,
                                                 const void *, cudaDataType, int, long long int, const void *, void *,
                                                 cudaDataType, int, long long int, int, cublasComputeType_t,
                                                 cublasGemmAlgo_t);
} gpu_blas_api;
extern gpu_blas_api gpu_blas;
/* Loads cuBLAS once per process (thread-safe); CM_ERR_UNSUPPORTED naming the library when it cannot. */
int gpu_blas_load(void);

/* ---- errors (gpu_device.cu) ---------------------------------------------------------------------------- */

/* Records a CUDA runtime failure of `call` on device: CM_ERR_NOMEM for an
 * allocation failure, CM_ERR_INTERNAL otherwise (cudaGetErrorString named);
 * clears the non-sticky error state. Returns the code. */
int gpu_cuda_fail(cudaError_t e, int device, const char *call, const char *file, int line);
/* Same for a cuBLAS status. */
int gpu_blas_fail(cublasStatus_t s, int device, const char *call, const char *file, int line);

#define GPU_CU(dev, call)                                                                                      \
    do {                                                                                                       \
        cudaError_t e_ = (call);                                                                               \
        if (e_ != cudaSuccess) return gpu_cuda_fail(e_, (dev), #call, __FILE__, __LINE__);                     \
    } while (0)
#define GPU_BLAS(dev, call)                                                                                    \
    do {                                                                                                       \
        cublasStatus_t s_ = (call);                                                                            \
        if (s_ != CUBLAS_STATUS_SUCCESS) return gpu_blas_fail(s_, (dev), #call, __FILE__, __LINE__);           \
    } while (0)
/* After a kernel launch: a bad configuration is reported naming the kernel. */
#define GPU_LAUNCHED(dev, what)                                                                                \
    do {                                                                                                       \
        cudaError_t e_ = cudaGetLastError();                                                                   \
        if (e_ != cudaSuccess) return gpu_cuda_fail(e_, (dev), what, __FILE__, __LINE__);                      \
    } while (0)

/* ---- dtypes ------------------------------------------------------------------------------------------ */

/* Bytes of one element of a weight matrix / GEMM operand in dtype. */
static inline size_t gpu_elt(cm_gpu_dtype dt) { return dt == CM_GPU_FP32 ? 4 : 2; }
static inline cudaDataType gpu_cuda_type(cm_gpu_dtype dt) {
    return dt == CM_GPU_BF16 ? CUDA_R_16BF : dt == CM_GPU_FP16 ? CUDA_R_16F : CUDA_R_32F;
}
const char *gpu_dtype_name(cm_gpu_dtype dt);

template <typename T> __device__ __forceinline__ float gpu_to_f(T v);
template <> __device__ __forceinline__ float gpu_to_f<float>(float v) { return v; }
template <> __device__ __forceinline__ float gpu_to_f<__nv_bfloat16>(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ float gpu_to_f<__half>(__half v) { return __half2float(v); }

template <typename T> __device__ __forceinline__ T gpu_from_f(float v);
template <> __device__ __forceinline__ float gpu_from_f<float>(float v) { return v; }
template <> __device__ __forceinline__ __nv_bfloat16 gpu_from_f<__nv_bfloat16>(float v) {
    return __float2bfloat16_rn(v);
}
template <> __device__ __forceinline__ __half gpu_from_f<__half>(float v) { return __float2half_rn(v); }

/* Runs BODY with T the element type of dtype dt. */
#define GPU_DISPATCH(dt, BODY)                                                                                 \
    switch (dt) {                                                                                              \
    case CM_GPU_BF16: { typedef __nv_bfloat16 T; BODY; } break;                                                \
    case CM_GPU_FP16: { typedef __half T; BODY; } break;                                                       \
    default: { typedef float T; BODY; } break;                                                                 \
    }

/* Block-wide sum of a double (blockDim.x a multiple of 32, at most 1024);
 * every thread gets the total. Uses 33 doubles of shared memory. */
__device__ __forceinline__ double gpu_block_sum(double v) {
    __shared__ double part[33];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nw = (blockDim.x + 31) >> 5;
    __syncthreads();   /* part[] may still be read by a previous call */
    if (lane == 0) part[warp] = v;
    __syncthreads();
    double t = 0;
    for (int w = 0; w < nw; w++) t += part[w];
    return t;
}

/* ---- GEMM (gpu_gemm.cu) -------------------------------------------------------------------------------- */

/* y (n, out) = beta * y + x (n, in) . W^T; x and W of cuda type xt (the
 * replica's T, or CUDA_R_32F), y float32; row strides ldx, ldy. */
int gpu_linear(cm_gpu_model *g, const void *x, cudaDataType xt, size_t ldx, const void *W, size_t n, size_t in,
               size_t out, float *y, size_t ldy, float beta);
/* Latent attention scores and mixing, per head hh < heads (float32):
 * S[hh] (c, r) = scale * Q[:, hh dh:(hh+1) dh] . K[:, hh dh:...]^T with
 * Q (c, ldq) and K (r, ldk); then O[:, hh dh:...] (c, ldo) = P[hh] (c, r) .
 * V[:, hh dh:...] with V (r, ldk). */
int gpu_latent_scores(cm_gpu_model *g, const float *Q, size_t ldq, const float *K, size_t ldk, size_t c, size_t r,
                      size_t heads, size_t dh, float scale, float *S);
int gpu_latent_mix(cm_gpu_model *g, const float *P, const float *V, size_t ldk, size_t c, size_t r, size_t heads,
                   size_t dh, float *O, size_t ldo);

/* ---- elementwise, norms, embeddings (gpu_norm.cu) ------------------------------------------------------ */

/* x (n, h) float32 = word[ids] + pos[pos_ids] (+ type0); tables in T. */
int gpu_embed_bert(cm_gpu_model *g, const int32_t *ids, const int32_t *pos_ids, size_t n, float *x);
/* x (n, h) float32 = embed[ids] (T). */
int gpu_embed_dec(cm_gpu_model *g, const int32_t *ids, size_t n, float *x);
/* v = in + r + b (r, b may be NULL); y = (v - mean) / sqrt(var + eps) * gam + bet per row of width d;
 * y into x_out (float32, may alias in) and/or t_out (T); either may be NULL. */
int gpu_layernorm(cm_gpu_model *g, const float *in, const float *r, const float *b, const float *gam, const float *bet,
                  float eps, size_t n, size_t d, float *x_out, void *t_out);
/* y = w * x / sqrt(mean(x^2) + eps) per row (n, d); out in T (to_t) or float32 (may alias x). */
int gpu_rmsnorm(cm_gpu_model *g, const float *x, const float *w, float eps, size_t n, size_t d, void *out, int to_t);
/* y[i, :d] = act(y[i, :d] + b) (row stride ld; b may be NULL); into y (float32, in place) or, with t_out, into
 * t_out (n, d) in T. */
int gpu_bias_act(cm_gpu_model *g, float *y, size_t n, size_t d, size_t ld, const float *b, cm_act act, void *t_out);
/* Per-head RMSNorm (qn/kn, NULL for none) and RoPE (rotate-half, tables cs/sn (max_len, dh/2) indexed by pos)
 * in place on q heads [0, nh) and k heads [0, nkv) of qkv (n, ld): q at column 0, k at column k_col. */
int gpu_qk_norm_rope(cm_gpu_model *g, float *qkv, size_t ld, size_t k_col, size_t n, size_t nh, size_t nkv,
                     size_t dh, const float *qn, const float *kn, float eps, const int32_t *pos, const float *cs,
                     const float *sn);
/* out (n, d) T = silu(gu[:, :d] + b[:d]) * (gu[:, d:] + b[d:]), gu (n, 2d) float32, b (2d) or NULL. */
int gpu_swiglu(cm_gpu_model *g, const float *gu, const float *b, size_t n, size_t d, void *out);
/* out (n, d) T = (u[:, :d] + b[:d]) * gelu_erf(u[:, d:] + b[d:]), u (n, 2d) float32. */
int gpu_geglu(cm_gpu_model *g, const float *u, const float *b, size_t n, size_t d, void *out);
/* out (n) T = x (n) float32. */
int gpu_to_t(cm_gpu_model *g, const float *x, size_t n, void *out);
/* Softmax of each of `rows` rows of width cols, in place. */
int gpu_softmax_rows(cm_gpu_model *g, float *S, size_t rows, size_t cols);

/* ---- attention (gpu_attention.cu) ---------------------------------------------------------------------- */

typedef struct gpu_attn {
    const float   *q, *k, *v;          /* head h of q at column h*dh; kv head j of k, v at column j*dh */
    size_t         ldq, ldkv;
    void          *out;                /* (n_tokens, ldo) in T: head h at column h*dh */
    size_t         ldo;
    const int32_t *tile_seq, *tile_q0; /* (n_tiles): sequence and first query row of each tile of GPU_ATT_BQ rows */
    size_t         n_tiles;
    const int32_t *offset, *length;    /* (n_seqs) */
    size_t         n_heads, n_kv_heads, dh;
    int            causal;
    size_t         window;             /* causal only: key j visible to query i when j > i - window; 0 = none */
    const float   *rel_bias;           /* MPNet (buckets, n_heads), or NULL */
    const int32_t *bucket;             /* bucket[(j - i) + bucket_center] */
    size_t         bucket_center;
} gpu_attn;

enum { GPU_ATT_BQ = 32 };              /* query rows per attention tile */

/* out = softmax(q k^T / sqrt(dh) + bias, masked) v per sequence and head (flash-style, float32). */
int gpu_attention(cm_gpu_model *g, const gpu_attn *a);

/* ---- pooling (gpu_pool.cu, gpu_latent.cu) -------------------------------------------------------------- */

/* out (ns, d) = the generic pooling kind of hidden (n_tokens, d) per sequence, first_tok[s] the first pooled
 * token (instruction exclusion resolved on the host). */
int gpu_pool_generic(cm_gpu_model *g, cm_pool_kind kind, const float *hidden, size_t d, const int32_t *offset,
                     const int32_t *length, const int32_t *first_tok, size_t ns, float *out);
/* y (n, out) = act(x . W^T + b) for one Dense module. */
int gpu_dense_apply(cm_gpu_model *g, const gpu_dense *m, const float *x, size_t n, float *y);
/* Each row (n, d) divided by its L2 norm (rows of norm 0 left alone). */
int gpu_l2_normalize(cm_gpu_model *g, float *x, size_t n, size_t d);

/* Scratch of the latent pooling for chunks of `chunk` tokens and ns sequences. */
typedef struct gpu_latent_ws {
    float   *x;       /* (chunk, d) */
    void    *t;       /* (chunk, max(d, inner, ff)) in T */
    float   *q;       /* (chunk, inner) */
    float   *S;       /* (heads, chunk, r) */
    float   *o;       /* (chunk, inner) */
    float   *u;       /* (chunk, 2 ff) */
    double  *acc;     /* (ns, d) */
    int32_t *rows;    /* (n_tokens) pooled token rows, then (n_tokens) owners, then (ns) counts */
    size_t   chunk;
} gpu_latent_ws;
/* Latent pooling of hidden (b->n_tokens, d) into out (ns, d); host_tmp: 2 n_tokens + ns int32 of host memory. */
int gpu_latent_pool(cm_gpu_model *g, const cm_hf_batch *b, const float *hidden, int exclude_instr,
                    const gpu_latent_ws *ws, int32_t *host_tmp, float *out);

/* ---- helpers ----------------------------------------------------------------------------------------- */

static inline size_t gpu_align(size_t n) { return (n + 255) & ~(size_t)255; }
static inline unsigned gpu_blocks(size_t n, unsigned per) { return (unsigned)((n + per - 1) / per); }

#endif
