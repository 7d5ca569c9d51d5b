/*
 * safetensors.h: memory-mapped safetensors checkpoints (single file or
 * sharded through model.safetensors.index.json), tensor lookup by name,
 * validation, and conversion to float32.
 *
 * Format (huggingface/safetensors): u64 little-endian header size N, N bytes
 * of JSON {"NAME": {"dtype", "shape", "data_offsets": [BEGIN, END]}, ...,
 * "__metadata__": {...}}, then the byte buffer; offsets are relative to the
 * buffer, END exclusive, row-major little-endian data. cm_st_open checks:
 * header size within the file and under 100 MB, valid JSON, known fields,
 * END >= BEGIN, END within the buffer, byte length == numel * dtype size, no
 * two tensors overlapping, no duplicate names across shards. Tensors of other
 * dtypes (I8, I64, BOOL, ...) are listed with dtype CM_ST_OTHER; asking for
 * them as float is an error naming the dtype.
 *
 * Data pointers point into the mapping and may be unaligned for their dtype
 * (the format does not promise alignment): read through memcpy or the
 * helpers below. cm_st_bf16_ptr returns an aligned BF16 pointer when the
 * mapping happens to be 2-byte aligned (it nearly always is), for callers that
 * keep weights BF16 in memory and convert per tile.
 *
 * Ownership: cm_st_open allocates the checkpoint and maps the files;
 * cm_st_free unmaps and frees (NULL is fine). Tensor records and their data
 * pointers are borrowed from the checkpoint and valid until cm_st_free.
 */
#ifndef CMTEB_ENGINE_NN_SAFETENSORS_H
#define CMTEB_ENGINE_NN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define CM_ST_MAX_DIMS 8

typedef enum cm_st_dtype {
    CM_ST_F32   = 0,
    CM_ST_F16   = 1,
    CM_ST_BF16  = 2,
    CM_ST_OTHER = 3,   /* present in the file, not usable as weights */
} cm_st_dtype;

typedef struct cm_st_tensor {
    const char  *name;                 /* borrowed */
    cm_st_dtype  dtype;
    const char  *dtype_name;           /* as written in the header: "F32", "BF16", "I64", ... */
    int          ndim;                 /* 0 for a scalar */
    int64_t      shape[CM_ST_MAX_DIMS];
    int64_t      numel;                /* product of shape (1 for a scalar) */
    size_t       elem_size;            /* bytes per element */
    const void  *data;                 /* numel * elem_size bytes inside the mapping; maybe unaligned */
    size_t       nbytes;
    const char  *file;                 /* path of the shard holding it (for messages) */
} cm_st_tensor;

typedef struct cm_safetensors cm_safetensors;

/* Opens PATH: a .safetensors file, a model.safetensors.index.json, or a model
 * folder (tries model.safetensors.index.json, then model.safetensors, then a
 * single *.safetensors file). Every file is mmap'd read-only and validated.
 * Errors name the file and what was wrong. Caller frees with cm_st_free. */
int  cm_st_open(cm_safetensors **out, const char *path);
void cm_st_free(cm_safetensors *st);

size_t              cm_st_count(const cm_safetensors *st);
const cm_st_tensor *cm_st_at(const cm_safetensors *st, size_t i);     /* sorted by name */
/* NULL when absent (no error recorded). Borrowed. */
const cm_st_tensor *cm_st_find(const cm_safetensors *st, const char *name);
/* The first of PREFIX+name for each prefix in prefixes (NULL-terminated,
 * "" means none), e.g. {"", "bert.", "model.", NULL}. NULL when absent. */
const cm_st_tensor *cm_st_find_prefixed(const cm_safetensors *st, const char *const *prefixes, const char *name);
/* Total bytes of tensor data across shards. */
size_t              cm_st_data_bytes(const cm_safetensors *st);
/* The path given to cm_st_open (for messages). Borrowed. */
const char         *cm_st_path(const cm_safetensors *st);
/* A value from __metadata__ (first file that has it), or NULL. Borrowed. */
const char         *cm_st_metadata(const cm_safetensors *st, const char *key);

/* Looks NAME up and checks its shape. ndim < 0 skips the shape check; a dim
 * of -1 in shape matches anything. Returns CM_ERR_NOTFOUND ("file: tensor
 * 'NAME' not found") or CM_ERR_FORMAT ("tensor 'NAME' has shape [a, b],
 * expected [c, d] from config.json"). */
int cm_st_expect(const cm_safetensors *st, const char *name, int ndim, const int64_t *shape,
                 const cm_st_tensor **out);
/* Checks a tensor's shape as above. */
int cm_st_check_shape(const cm_st_tensor *t, int ndim, const int64_t *shape);

/* Converts elements [first, first+count) of a float tensor (F32/F16/BF16) to
 * float32 into dst (count floats, caller-allocated). Row r of a 2-D tensor
 * (rows, cols) is first = r*cols, count = cols. */
int cm_st_read_f32(const cm_st_tensor *t, size_t first, size_t count, float *dst);
/* The whole tensor as a new float32 array of numel values (caller frees). */
int cm_st_to_f32(const cm_st_tensor *t, float **out);

/* Raw BF16 data as uint16 words when t is BF16 and the pointer is 2-byte
 * aligned; NULL otherwise (then use cm_st_read_f32 or copy). Borrowed. */
const uint16_t *cm_st_bf16_ptr(const cm_st_tensor *t);

/* "F32" / "F16" / "BF16" / "other". */
const char *cm_st_dtype_str(cm_st_dtype d);

#endif
