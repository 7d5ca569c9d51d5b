/*
 * util.h: the small runtime every layer of cmteb shares: memory helpers,
 * growable strings, paths and files (atomic writes, mkdir -p), hashing,
 * clocks, float-vector helpers and .npy files.
 *
 * Ownership: functions that return a char* or a buffer allocate it and the
 * caller frees it with free(); nothing here keeps global state.
 */
#ifndef CMTEB_UTIL_H
#define CMTEB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- memory ------------------------------------------------------------ */
/* Every allocation of cmteb's own code goes through these (and cJSON's too).
 * They record CM_ERR_NOMEM (with the byte count)
 * on failure and return NULL; callers return CM_ERR_NOMEM. Memory they
 * return is released with free(). */
void *cm_malloc(size_t n);
void *cm_calloc(size_t count, size_t size);
void *cm_realloc(void *p, size_t n);
char *cm_strdup(const char *s);                   /* NULL in, NULL out */
char *cm_strndup(const char *s, size_t n);
char *cm_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The one hook under cm_malloc/cm_calloc/cm_realloc (SQLite-style fault
 * injection, accounting): both functions behave like malloc/realloc and must
 * return memory that free() releases, typically by calling them after a
 * check. NULL restores the C library's. cJSON allocates through it too.
 * Process-wide: install before starting threads. */
typedef struct cm_alloc_hooks {
    void *(*malloc_fn)(size_t n);
    void *(*realloc_fn)(void *p, size_t n);
} cm_alloc_hooks;

void cm_set_alloc_hooks(const cm_alloc_hooks *hooks);

/* How many allocations through cm_malloc/cm_calloc/cm_realloc and cJSON have
 * failed in this process so far. A writer that builds a document with calls
 * whose failures go unchecked (cJSON_Add* drops a member silently when it
 * cannot allocate) compares the count before and after, and writes nothing
 * when it moved. */
size_t cm_alloc_failures(void);

/* For calls that tolerate failures of optional parts inside (a file that
 * cannot be read is skipped, a member that cannot be added is dropped) but
 * must not report success with an incomplete result when the reason was
 * memory: returns rc unchanged when it is an error or when no allocation has
 * failed since mark (a cm_alloc_failures() value taken at the start), else
 * CM_ERR_NOMEM with "out of memory while WHAT (the result would be incomplete)". */
int cm_alloc_guard(int rc, size_t mark, const char *what);

/* ---- growable string ----------------------------------------------------- */
/* A string builder with a sticky error: after a failed append every later
 * append does nothing and returns the same error, and cm_str_error says so,
 * so a builder can be filled without checking each call and checked once
 * before its text is used. */
typedef struct cm_str {
    char  *s;    /* NUL-terminated, owned; NULL until the first append */
    size_t len;
    size_t cap;
    int    err;  /* CM_OK, or the first failure */
} cm_str;

int  cm_str_append(cm_str *b, const char *s);
int  cm_str_appendn(cm_str *b, const char *s, size_t n);
int  cm_str_printf(cm_str *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* CM_OK, or the error of the first append that failed. */
int  cm_str_error(const cm_str *b);
void cm_str_free(cm_str *b);

/* ---- paths and files ----------------------------------------------------- */
char *cm_path_join(const char *a, const char *b);       /* caller frees */
char *cm_path_dirname(const char *path);                /* caller frees; "." if none */
const char *cm_path_basename(const char *path);         /* borrowed, points into path */
int   cm_file_exists(const char *path);                 /* 1 regular file, 0 otherwise */
int   cm_dir_exists(const char *path);                  /* 1 directory, 0 otherwise */
int   cm_mkdir_p(const char *path);                     /* CM_OK or CM_ERR_IO */
/* Reads a whole file (gzip-compressed files are inflated when the name ends in
 * .gz). *out is NUL-terminated and owned by the caller. At most
 * CM_READ_MAX_DATA bytes (after inflating): more is an error naming the file,
 * as are bytes after the last gzip member. */
int   cm_read_file(const char *path, char **out, size_t *len);
#define CM_READ_MAX_DATA ((size_t)4 << 30)   /* data files (corpora, texts) */
#define CM_READ_MAX_JSON ((size_t)64 << 20)  /* task files, config and results JSON */
struct cJSON;
/* The first key that appears twice in one object of the tree (depth first),
 * or NULL. cJSON keeps the first of such keys and Python's json the last, so
 * a file with one means different things to different readers. */
const char *cm_json_duplicate_key(const struct cJSON *root);
/* cm_read_file with a size limit of max bytes (after inflating). */
int   cm_read_file_max(const char *path, char **out, size_t *len, size_t max);
/* CM_OK when the gzip file at path ends with its last gzip member, total
 * being the bytes it inflated to; an error naming the file when bytes follow
 * (zlib's readers ignore them). Cheap when the file is one member. */
int   cm_gz_check_end(const char *path, uint64_t total);
/* Writes data to path atomically: a temporary file in the same folder,
 * fsync, rename. A reader never sees a half-written file. */
int   cm_write_file_atomic(const char *path, const void *data, size_t len);
/* Takes an exclusive advisory lock on DIR/NAME (created with its folder,
 * holding our pid; NAME may have a folder part, e.g. ".cmteb/run.lock") so
 * that two processes never write one folder at once; *fd receives the lock
 * (release it with cm_dir_unlock; the system releases it when the process
 * dies, kill -9 included). CM_ERR_IO "DIR is in use by another process (pid
 * N)" when someone holds it. */
int   cm_dir_lock(const char *dir, const char *name, int *fd);
void  cm_dir_unlock(int fd);   /* -1 is fine */
/* Bytes of address space this process may still map under RLIMIT_AS
 * (`ulimit -v`): the limit minus its current VmSize; SIZE_MAX when there is no
 * limit or it cannot be read. */
size_t cm_address_space_left(void);
/* CM_ERR_NOMEM with a message naming the limit, what needs the memory and
 * how to fix it, when cm_address_space_left() < need; else CM_OK. For code
 * about to call a dependency that never fails an allocation but retries it
 * forever (OpenBLAS's per-thread 128 MiB buffers under a small ulimit -v). */
int   cm_address_space_check(size_t need, const char *what);
/* Names that become one component of a path (task names, splits, subsets,
 * model names, revisions) must never leave the folder they are joined to.
 * cm_path_component_check: CM_OK, or CM_ERR_ARG naming field and value when
 * value is empty, "." or "..", or holds '/', '\\' or a control character.
 * cm_path_component_clean: a copy safe to use as one component ('/' becomes
 * "__", anything but [A-Za-z0-9._-] becomes '_', "." and ".." lose their
 * first dot); caller frees; NULL when out of memory. */
int   cm_path_component_check(const char *value, const char *field);
char *cm_path_component_clean(const char *name);
/* Removes the temporaries cm_write_file_atomic leaves when its process is
 * killed ("NAME.tmp.PID" whose PID is no live process) in dir and its
 * subfolders down to depth levels; adds their count to *removed. A missing
 * dir is not an error. */
int   cm_remove_stale_temps(const char *dir, int depth, size_t *removed);

/* ---- hashing ------------------------------------------------------------- */
/* 64-bit hash of a byte string (FNV-1a with a final avalanche); seed varies it. */
uint64_t cm_hash64(const void *data, size_t len, uint64_t seed);
/* Hex of a 64-bit value into out[17]. */
void cm_hex64(uint64_t v, char out[17]);

/* ---- clocks -------------------------------------------------------------- */
double cm_now(void);   /* monotonic seconds */

/* ---- float vectors ------------------------------------------------------- */
/* Checks that n floats are finite; on failure records CM_ERR_NUMERIC naming
 * what (a label for the message) and the first bad index. */
int    cm_check_finite(const float *x, size_t n, const char *what);
/* Index of the first NaN or infinity in x[0..n), n when all are finite. */
size_t cm_first_nonfinite(const float *x, size_t n);
double cm_dot(const float *a, const float *b, size_t d);
double cm_norm(const float *a, size_t d);
/* L2-normalises each of n rows of width d in place; zero rows stay zero. */
void   cm_l2_normalize_rows(float *x, size_t n, size_t d);

/* ---- .npy ---------------------------------------------------------------- */
/* Writes a float32 C-order (n, d) array as NumPy .npy v1.0, atomically. */
int cm_npy_write_f32(const char *path, const float *x, size_t n, size_t d);
/* Reads a 2-D float32 or float16 .npy (little-endian, C order) into a new
 * float32 buffer (*out, caller frees). Other dtypes or layouts are errors
 * that name the file and the dtype found. */
int cm_npy_read_f32(const char *path, float **out, size_t *n, size_t *d);
/* Opens a .npy file as cm_npy_read_f32 checks it (same errors) and leaves
 * *f at the first data byte of its (n, d) elements of elem_size bytes (4:
 * float32, 2: float16), for reading in pieces; caller fcloses *f. */
int cm_npy_open(const char *path, FILE **f, size_t *n, size_t *d, int *elem_size);

/* IEEE half and bfloat16 to float. */
float cm_f16_to_f32(uint16_t h);
float cm_bf16_to_f32(uint16_t h);
uint16_t cm_f32_to_bf16(float f);   /* round to nearest even */

#ifdef __cplusplus
}
#endif
#endif
