/*
 * gpu.h: the CUDA side of the native engine as host code sees it.
 *
 * Built with the CUDA toolkit (CMTEB_HAVE_CUDA), the .cu files of engine/cuda implement
 * these functions; without it gpu_stub.c does, and every call that would need
 * a GPU fails with CM_ERR_UNSUPPORTED ("this cmteb was built without CUDA").
 * Host-only logic (device lists, dtype names, batch planning, splitting on
 * out-of-memory) lives in gpu_plan.h and is tested on machines without a GPU.
 *
 * A cm_gpu_model is one replica of a loaded cm_hf_model on one device: the
 * weights copied there in the chosen dtype (bf16 by default; f32/f16
 * checkpoints converted at upload), cuBLAS handles, a stream and a scratch
 * arena sized for the largest batch seen so far. Several replicas of one model
 * on several devices may run at the same time from different threads; one
 * replica is driven by one thread at a time.
 *
 * Ownership: cm_gpu_model_load allocates (device and host memory) and borrows
 * the cm_hf_model for its configuration (it must outlive the replica; the
 * weights are copied, so the checkpoint mapping may be dropped after load);
 * cm_gpu_model_free releases everything (NULL is fine).
 */
#ifndef CMTEB_ENGINE_CUDA_GPU_H
#define CMTEB_ENGINE_CUDA_GPU_H

#include <stddef.h>
#include <stdint.h>

#include "engine/arch/model.h"
#include "engine/hf/hf_model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this build has the CUDA engine, else 0. */
int cm_gpu_built(void);

/* What `cmteb info` shows of a device. */
typedef struct cm_gpu_device {
    int    index;              /* CUDA device ordinal */
    char   name[128];          /* "NVIDIA H100 80GB HBM3" */
    int    cc_major, cc_minor; /* compute capability */
    int    sm_count;
    size_t mem_total;          /* bytes */
    size_t mem_free;           /* bytes, when queried */
} cm_gpu_device;

/* Number of visible devices into *n: 0 (and CM_OK) when the build has no
 * CUDA, no driver is installed or no device is visible. */
int cm_gpu_count(int *n);
/* Fills *out for device index; CM_ERR_ARG for a bad index. */
int cm_gpu_device_info(int index, cm_gpu_device *out);

typedef enum cm_gpu_dtype {
    CM_GPU_BF16 = 0,   /* weights and activations bf16, fp32 accumulation (default) */
    CM_GPU_FP16 = 1,   /* weights and activations fp16, fp32 accumulation */
    CM_GPU_FP32 = 2,   /* everything fp32 (TF32 tensor cores off): the parity path */
} cm_gpu_dtype;

/* Bytes the weights of m take on a device in dtype (exact, from the loaded
 * model's tensors), for `cmteb info` and the "does not fit" error: what
 * cm_gpu_model_load allocates for them (weight matrices and embedding tables
 * in dtype; biases, norms, MPNet's bias table, NV-Embed's precomputed latent
 * K/V and the Dense modules in float32; each tensor 256-byte aligned). Load
 * needs 32 MiB of cuBLAS workspace on top. m must be loaded with weights
 * (CM_ERR_ARG otherwise). */
int cm_gpu_weight_bytes(const cm_hf_model *m, cm_gpu_dtype dtype, size_t *bytes);

typedef struct cm_gpu_model cm_gpu_model;

/* Uploads m (loaded with weights) to device `device` in dtype. When it does
 * not fit: CM_ERR_NOMEM, the message naming the device, the bytes needed and
 * the bytes free. */
int  cm_gpu_model_load(cm_gpu_model **out, const cm_hf_model *m, int device, cm_gpu_dtype dtype);
void cm_gpu_model_free(cm_gpu_model *g);

/* Device bytes a batch of n_tokens tokens in n_seqs sequences, the longest
 * max_len tokens, needs beyond the weights (activations and scratch), for
 * planning batch sizes: the size of the arena cm_gpu_model_encode grows to
 * for such a batch (computed by the same layout function; the arena is kept
 * between calls and only grows). */
size_t cm_gpu_batch_bytes(const cm_gpu_model *g, size_t n_tokens, size_t n_seqs, size_t max_len);

/* One forward pass over the packed batch b (model.h layout) with attention
 * (BIDIRECTIONAL or CAUSAL, resolved), then for each pools[k] (kind resolved,
 * never CM_POOL_DEFAULT; exclude_instr and normalize 0 or 1) the pooled
 * vectors after the model's Dense modules and the optional L2 norm, copied to
 * host memory outs[k] (b->n_seqs, out_dim) in batch order. Synchronous.
 * Returns CM_ERR_NOMEM (message naming the device and the bytes asked) when
 * the device runs out of memory, leaving the replica usable, so the caller
 * can split the batch and retry; CM_ERR_INTERNAL for any other CUDA/cuBLAS
 * failure (message naming the call). */
int cm_gpu_model_encode(cm_gpu_model *g, const cm_hf_batch *b, cm_attn_kind attention, const cm_pool_spec *pools,
                        size_t npools, float *const *outs);

#ifdef __cplusplus
}
#endif
#endif
