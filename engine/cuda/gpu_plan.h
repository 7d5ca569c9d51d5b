/*
 * gpu_plan.h: the host-side logic of the CUDA engine, pure C and compiled in
 * every build (tested on machines without a GPU, tests/unit/test_batch_plan.c):
 *
 *   - device specs: "cpu", "cuda" (every visible GPU), "cuda:N", "cuda:0,1,3",
 *     "auto" (cuda when the build has CUDA and a GPU is visible, else cpu);
 *   - dtype names: "bf16", "fp16", "fp32";
 *   - the batch planner: sequences sorted by length are cut into batches by a
 *     token budget, a sequence cap and a device-memory model (a function such
 *     as cm_gpu_batch_bytes, and the bytes a batch may use);
 *   - running one batch with splitting: an executor (a function pointer, so
 *     that tests inject a fake) that fails with CM_ERR_NOMEM gets the two
 *     halves instead, recursively, down to one sequence, which then fails
 *     with an error naming its length and the memory it needed;
 *   - the dealer: one worker thread per replica takes jobs from a bounded
 *     queue as it becomes free (dynamic dealing); the producer blocks while
 *     the queue is full, so CPU work (tokenization) overlaps the workers'.
 *
 * Ownership: cm_batch_plan_make fills a plan the caller frees with
 * cm_batch_plan_free; cm_plan_dealer_start allocates a dealer that
 * cm_plan_dealer_finish joins and frees (always, also on error).
 */
#ifndef CMTEB_ENGINE_CUDA_GPU_PLAN_H
#define CMTEB_ENGINE_CUDA_GPU_PLAN_H

#include <stddef.h>

#include "engine/cuda/gpu.h"

/* ---- devices and dtypes ------------------------------------------------- */

enum { CM_GPU_MAX_DEVICES = 16 };

typedef enum cm_device_kind {
    CM_DEVICE_AUTO = 0,   /* cuda when built with CUDA and a GPU is visible, else cpu */
    CM_DEVICE_CPU  = 1,
    CM_DEVICE_CUDA = 2,
} cm_device_kind;

typedef struct cm_device_spec {
    cm_device_kind kind;
    int            n_ids;                    /* CUDA: listed ordinals; 0 = every visible GPU */
    int            ids[CM_GPU_MAX_DEVICES];  /* distinct, in the order given */
} cm_device_spec;

/* Parses s (NULL or "" = "auto") into *out. CM_ERR_ARG naming the forms
 * (cpu, cuda, cuda:N, cuda:0,1,..., auto) for anything else, a repeated or
 * negative ordinal, or more than CM_GPU_MAX_DEVICES ordinals. */
int cm_device_parse(const char *s, cm_device_spec *out);

/* Resolves in (AUTO, or CUDA with every visible GPU) against what the
 * process has: built (cm_gpu_built()) and n_visible GPUs (cm_gpu_count), and
 * whether the caller can run on a GPU at all (cuda_ok: the hf backend).
 * *out is CPU, or CUDA with n_ids >= 1. An explicit CUDA request fails with
 * CM_ERR_UNSUPPORTED saying why (built without CUDA, no GPU visible, the
 * backend has no CUDA engine) and CM_ERR_ARG for an ordinal not visible. */
int cm_device_resolve(const cm_device_spec *in, int built, int n_visible, int cuda_ok, cm_device_spec *out);

/* Writes the resolved spec in parseable form ("cpu", "cuda:0,2") into buf
 * (size cap; truncated at cap - 1). */
void cm_device_format(const cm_device_spec *d, char *buf, size_t cap);

/* "bf16" | "fp16" | "fp32" (also "bfloat16", "float16", "float32") into *out;
 * CM_ERR_ARG naming the choices otherwise. */
int cm_gpu_dtype_parse(const char *s, cm_gpu_dtype *out);
/* "bf16", "fp16", "fp32". */
const char *cm_gpu_dtype_name(cm_gpu_dtype d);
/* Bytes per weight element in dtype (2, 2, 4). */
size_t cm_gpu_dtype_size(cm_gpu_dtype d);

/* ---- planning ----------------------------------------------------------- */

/* Device bytes a batch of n_tokens tokens in n_seqs sequences, the longest
 * max_len, needs beyond the weights (cm_gpu_batch_bytes has this shape with
 * ctx the replica). */
typedef size_t (*cm_plan_bytes_fn)(const void *ctx, size_t n_tokens, size_t n_seqs, size_t max_len);

typedef struct cm_plan_params {
    size_t           max_tokens;   /* token budget of a batch (>= 1) */
    size_t           max_seqs;     /* at most this many sequences per batch; 0: no limit */
    size_t           mem_budget;   /* device bytes a batch may use (bytes_fn); 0: no memory model */
    cm_plan_bytes_fn bytes_fn;     /* NULL: no memory model */
    const void      *bytes_ctx;
} cm_plan_params;

cm_plan_params cm_plan_default_params(void);   /* 32768 tokens, no other limit */

/* One batch: sequences [begin, end) of the sorted order. */
typedef struct cm_plan_batch {
    size_t begin, end;
    size_t n_tokens;   /* sum of the lengths */
    size_t max_len;    /* the longest */
} cm_plan_batch;

typedef struct cm_batch_plan {
    cm_plan_batch *batches;   /* (n) in sequence order */
    size_t         n;
} cm_batch_plan;

/* Cuts lens[0..n) (token counts, sorted ascending; each >= 1) into
 * consecutive batches: a batch grows while the next sequence keeps it within
 * max_tokens, max_seqs and (with a memory model) mem_budget. A sequence that
 * alone breaks a limit is a batch of its own (running it reports the
 * problem). CM_ERR_ARG for unsorted or zero lengths. Caller frees *out with
 * cm_batch_plan_free. */
int  cm_batch_plan_make(const size_t *lens, size_t n, const cm_plan_params *p, cm_batch_plan *out);
void cm_batch_plan_free(cm_batch_plan *plan);

/* Runs sequences [begin, end) on replica `replica`. Returns CM_ERR_NOMEM when
 * the device ran out of memory (the replica stays usable); any other error is
 * final. ctx is the caller's. */
typedef int (*cm_plan_exec_fn)(void *ctx, int replica, size_t begin, size_t end);

/* Runs [begin, end) through exec; on CM_ERR_NOMEM runs the two halves
 * [begin, mid) and [mid, end) the same way (recursively). A single sequence
 * that still fails: CM_ERR_NOMEM "a sequence of L tokens needs B bytes of
 * device memory beyond the weights (...)" with B from p->bytes_fn when set,
 * followed by the executor's own message. lens as for cm_batch_plan_make.
 * *n_splits (may be NULL) counts the splits made. */
int cm_plan_exec_split(cm_plan_exec_fn exec, void *ctx, int replica, const size_t *lens, size_t begin, size_t end,
                       const cm_plan_params *p, size_t *n_splits);

/* ---- dealing to replicas ------------------------------------------------ */

typedef struct cm_plan_job {
    void  *owner;        /* what the job's indices refer to (the caller's), e.g. a window of texts */
    size_t begin, end;   /* sequences [begin, end) of owner */
} cm_plan_job;

/* Runs one job on replica `replica` (called from that replica's worker
 * thread; a replica's jobs run one at a time). ctx is the caller's. */
typedef int (*cm_plan_job_fn)(void *ctx, int replica, const cm_plan_job *job);

typedef struct cm_plan_dealer cm_plan_dealer;

/* Starts n_replicas worker threads over a queue of at most capacity jobs
 * (>= 1). Caller finishes it with cm_plan_dealer_finish. */
int cm_plan_dealer_start(cm_plan_dealer **out, int n_replicas, size_t capacity, cm_plan_job_fn fn, void *ctx);
/* Queues a job, blocking while the queue is full. Returns the first worker
 * error instead once one has failed (stop producing; the job is not queued). */
int cm_plan_dealer_push(cm_plan_dealer *d, const cm_plan_job *job);
/* Closes the queue, waits for the workers to finish what is queued (after
 * the first error the rest is dropped), frees the dealer, and returns the
 * first error, its message recorded again on the calling thread. jobs_done
 * (may be NULL; n_replicas entries) receives the jobs each replica ran. */
int cm_plan_dealer_finish(cm_plan_dealer *d, size_t *jobs_done);

/* Deals every batch of plan to n_replicas workers (cm_plan_dealer, capacity
 * 2 * n_replicas), each running its batch with cm_plan_exec_split; returns
 * the first error. jobs_done as above. */
int cm_plan_deal(const cm_batch_plan *plan, const size_t *lens, const cm_plan_params *p, int n_replicas,
                 cm_plan_exec_fn exec, void *ctx, size_t *jobs_done);

/* ---- latent-attention pooling ------------------------------------------ */

/* The pooled tokens of b for NV-Embed's latent pooling on the device, as the CPU engine picks them
 * (cm_hf_batch_first_pooled): rows[0..np) their packed rows in sequence order, owner[0..np) the sequence of each,
 * cnt[0..n_seqs) how many each sequence pools; returns np. rows and owner hold b->n_tokens entries, cnt
 * b->n_seqs; int32 as the kernels read them. */
size_t cm_gpu_latent_rows(const cm_hf_batch *b, int exclude_instr, int32_t *rows, int32_t *owner, int32_t *cnt);

#endif
