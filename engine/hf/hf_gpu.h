/*
 * hf_gpu.h: the CUDA path of the hf engine: one replica of a loaded model per
 * listed GPU (cm_gpu_model, engine/cuda/gpu.h) and the pipeline that feeds
 * them (engine/cuda/gpu_plan.h):
 *
 *   texts -> windows of texts tokenized by CPU threads -> sorted by length ->
 *   batches cut by a token budget and the device-memory model -> a bounded
 *   queue -> one worker thread per replica, each taking the next batch when
 *   free (a batch the device cannot hold is split in halves) -> pooled rows
 *   written at their input positions.
 *
 * While the replicas run the batches of one window, the calling thread
 * tokenizes the next (the queue holds a few batches per replica).
 *
 * Ownership: cm_hf_gpu_open allocates (the replicas borrow m, which must
 * outlive them); cm_hf_gpu_free releases (NULL ok) and must run before the
 * model's own state is freed.
 */
#ifndef CMTEB_ENGINE_HF_HF_GPU_H
#define CMTEB_ENGINE_HF_HF_GPU_H

#include <stddef.h>

#include "engine/cuda/gpu_plan.h"
#include "engine/hf/hf_model.h"

typedef struct cm_hf_gpu cm_hf_gpu;

/* Loads one replica of m (loaded with weights) per ordinal of dev (CUDA,
 * resolved) in dtype. A model that does not fit: cm_gpu_model_load's error
 * (CM_ERR_NOMEM naming the device, the bytes needed and free). batch_seqs:
 * at most this many texts per batch (0: no limit). */
int  cm_hf_gpu_open(cm_hf_gpu **out, const cm_hf_model *m, const cm_device_spec *dev, cm_gpu_dtype dtype,
                    size_t batch_seqs);
void cm_hf_gpu_free(cm_hf_gpu *g);

/* Encodes texts[0..n) on the replicas: outs[k] (n, out_dim) float32 for
 * pools[k] (resolved: no CM_POOL_DEFAULT, exclude_instr and normalize 0/1),
 * in input order. */
int cm_hf_gpu_encode(cm_hf_gpu *g, const cm_hf_model *m, const char *const *texts, size_t n, cm_role role,
                     const char *instruction, const cm_pool_spec *pools, size_t npools, float *const *outs);

#endif
