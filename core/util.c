/* util.c: memory, strings, paths, files, hashing and clocks (see util.h). */
#include "cmteb/util.h"
#include "cmteb/status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

static cm_alloc_hooks hooks = {malloc, realloc};
static size_t alloc_failures;   /* cm_alloc_failures(); updated atomically */

static void count_failure(void) { __atomic_add_fetch(&alloc_failures, 1, __ATOMIC_RELAXED); }

size_t cm_alloc_failures(void) { return __atomic_load_n(&alloc_failures, __ATOMIC_RELAXED); }

int cm_alloc_guard(int rc, size_t mark, const char *what) {
    if (rc != CM_OK || cm_alloc_failures() == mark) return rc;
    return cm_error(CM_ERR_NOMEM, "out of memory while %s (the result would be incomplete)", what);
}

/* " under the address-space limit (ulimit -v N kB)" into buf when one is set (the likely cause), else "". */
static const char *as_limit_note(char *buf, size_t cap) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return "";
    snprintf(buf, cap, " under the address-space limit (ulimit -v %llu kB)", (unsigned long long)rl.rlim_cur / 1024);
    return buf;
}

/* Blocks from this size on are aligned to 2 MiB and marked for transparent huge pages: a fresh 100 MB vector
 * buffer then faults in 50 times instead of 25,000, which was a tenth of a short evaluation's CPU time. free()
 * releases them as any other block. */
#define BIG_BLOCK ((size_t)8 << 20)
#define HUGE_PAGE ((size_t)2 << 20)

static void *big_malloc(size_t n) {
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, n) != 0) return NULL;
    madvise(p, n & ~(HUGE_PAGE - 1), MADV_HUGEPAGE);   /* advice only: without THP nothing changes */
    return p;
}

/* Every failed allocation counts and leaves a message, also cJSON's (whose
 * callers often return CM_ERR_NOMEM without one). */
static void *hook_malloc(size_t n) {
    void *p = n >= BIG_BLOCK && hooks.malloc_fn == malloc ? big_malloc(n) : hooks.malloc_fn(n);
    if (!p) {
        char note[96];
        count_failure();
        cm_error(CM_ERR_NOMEM, "out of memory allocating %zu bytes%s", n, as_limit_note(note, sizeof note));
    }
    return p;
}

/* cJSON always allocates through hook_malloc, so that its failures count in
 * cm_alloc_failures() (its own callers mostly ignore them: a cJSON_Add* that
 * fails drops the member silently). */
static void install_cjson_hooks(void) {
    cJSON_Hooks jh = {hook_malloc, free};
    cJSON_InitHooks(&jh);
}

__attribute__((constructor)) static void util_init(void) { install_cjson_hooks(); }

void cm_set_alloc_hooks(const cm_alloc_hooks *h) {
    if (h) {
        hooks = *h;
    } else {
        hooks.malloc_fn = malloc;
        hooks.realloc_fn = realloc;
    }
    install_cjson_hooks();
}

void *cm_malloc(size_t n) {
    return hook_malloc(n ? n : 1);   /* its message names the size (and a ulimit -v) */
}

void *cm_calloc(size_t count, size_t size) {
    if (!count) count = 1;
    if (!size) size = 1;
    void *p = count > SIZE_MAX / size ? NULL : hook_malloc(count * size);
    if (!p) {
        if (count > SIZE_MAX / size) count_failure();
        char note[96];
        cm_error(CM_ERR_NOMEM, "out of memory allocating %zu x %zu bytes%s", count, size,
                 as_limit_note(note, sizeof note));
        return NULL;
    }
    memset(p, 0, count * size);
    return p;
}

void *cm_realloc(void *p, size_t n) {
    void *q = hooks.realloc_fn(p, n ? n : 1);
    if (!q) count_failure();
    char note[96];
    if (!q) cm_error(CM_ERR_NOMEM, "out of memory reallocating %zu bytes%s", n, as_limit_note(note, sizeof note));
    return q;
}

char *cm_strdup(const char *s) {
    if (!s) return NULL;
    return cm_strndup(s, strlen(s));
}

char *cm_strndup(const char *s, size_t n) {
    char *d = cm_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *cm_asprintf(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = n < 0 ? NULL : cm_malloc((size_t)n + 1);
    if (out) vsnprintf(out, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (n < 0) cm_error(CM_ERR_ARG, "bad format string");
    return out;
}

/* ---- cm_str -------------------------------------------------------------- */
static int str_reserve(cm_str *b, size_t extra) {
    if (b->err) return b->err;
    if (b->len + extra + 1 <= b->cap) return CM_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    char *s = cm_realloc(b->s, cap);
    if (!s) return b->err = CM_ERR_NOMEM;
    b->s = s;
    b->cap = cap;
    return CM_OK;
}

int cm_str_appendn(cm_str *b, const char *s, size_t n) {
    CM_TRY(str_reserve(b, n));
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return CM_OK;
}

int cm_str_append(cm_str *b, const char *s) { return cm_str_appendn(b, s, strlen(s)); }

int cm_str_printf(cm_str *b, const char *fmt, ...) {
    if (b->err) return b->err;
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) { va_end(ap2); return b->err = cm_error(CM_ERR_ARG, "bad format string"); }
    int rc = str_reserve(b, (size_t)n);
    if (rc) { va_end(ap2); return rc; }
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
    return CM_OK;
}

int cm_str_error(const cm_str *b) { return b->err; }

void cm_str_free(cm_str *b) {
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->err = CM_OK;
}

/* ---- paths and files ----------------------------------------------------- */
char *cm_path_join(const char *a, const char *b) {
    if (!a || !*a) return cm_strdup(b);
    if (b[0] == '/') return cm_strdup(b);
    size_t la = strlen(a);
    return cm_asprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *cm_path_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return cm_strdup(".");
    if (slash == path) return cm_strdup("/");
    return cm_strndup(path, (size_t)(slash - path));
}

const char *cm_path_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int cm_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cm_dir_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cm_mkdir_p(const char *path) {
    char *p = cm_strdup(path);
    if (!p) return CM_ERR_NOMEM;
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int rc = cm_error(CM_ERR_IO, "%s: cannot create folder: %s", p, strerror(errno));
                free(p);
                return rc;
            }
            *s = c;
            if (c == '\0') break;
        }
    }
    free(p);
    if (!cm_dir_exists(path)) return cm_error(CM_ERR_IO, "%s: exists and is not a folder", path);
    return CM_OK;
}

static int ends_with(const char *s, const char *suffix) {
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* Slow path of cm_gz_check_end: inflate every member, then look at what is left. */
static int gz_scan_members(const char *path, FILE *f) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return cm_error(CM_ERR_NOMEM, "out of memory inflating");
    unsigned char *in = cm_malloc(1 << 16), *outb = cm_malloc(1 << 16);
    int rc = in && outb ? CM_OK : CM_ERR_NOMEM, ended = 0;
    uint64_t off = 0;   /* file offset of in[0] */
    rewind(f);
    while (!rc) {
        if (!zs.avail_in) {
            off += (uint64_t)(zs.next_in ? zs.next_in - in : 0);
            zs.next_in = in;
            zs.avail_in = (uInt)fread(in, 1, 1 << 16, f);
            if (!zs.avail_in) break;
        }
        if (ended) {   /* a member ended: another must start here, or the file ends */
            if (zs.avail_in < 2 && !feof(f)) {
                in[0] = zs.next_in[0];
                off += (uint64_t)(zs.next_in - in);
                zs.avail_in = 1 + (uInt)fread(in + 1, 1, (1 << 16) - 1, f);
                zs.next_in = in;
            }
            if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) {
                rc = cm_error(CM_ERR_FORMAT, "%s: trailing garbage after the gzip data (at byte %llu)", path,
                              (unsigned long long)(off + (uint64_t)(zs.next_in - in)));
                break;
            }
            inflateReset(&zs);
            ended = 0;
        }
        zs.next_out = outb;
        zs.avail_out = 1 << 16;
        int z = inflate(&zs, Z_NO_FLUSH);
        if (z == Z_STREAM_END) ended = 1;
        else if (z != Z_OK && z != Z_BUF_ERROR) rc = cm_error(CM_ERR_FORMAT, "%s: corrupt gzip data", path);
    }
    if (!rc && ferror(f)) rc = cm_error(CM_ERR_IO, "%s: read failed", path);
    inflateEnd(&zs);
    free(in);
    free(outb);
    return rc;
}

int cm_gz_check_end(const char *path, uint64_t total) {
    FILE *f = fopen(path, "rb");
    if (!f) return cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char t[4];
    /* One member: the file's last 4 bytes are its inflated size mod 2^32. */
    int rc = CM_OK;
    if (fseek(f, -4, SEEK_END) == 0 && fread(t, 1, 4, f) == 4 &&
        ((uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24) == (uint32_t)total)
        rc = CM_OK;
    else
        rc = gz_scan_members(path, f);
    fclose(f);
    return rc;
}

const char *cm_json_duplicate_key(const cJSON *root) {
    if (!root) return NULL;
    for (const cJSON *a = root->child; a; a = a->next) {
        if (cJSON_IsObject(root) && a->string)
            for (const cJSON *b = a->next; b; b = b->next)
                if (b->string && !strcmp(a->string, b->string)) return a->string;
        const char *d = cm_json_duplicate_key(a);
        if (d) return d;
    }
    return NULL;
}

int cm_read_file(const char *path, char **out, size_t *len) {
    return cm_read_file_max(path, out, len, CM_READ_MAX_DATA);
}

int cm_read_file_max(const char *path, char **out, size_t *len, size_t max) {
    *out = NULL;
    if (len) *len = 0;
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max && !ends_with(path, ".gz"))
        return cm_error(CM_ERR_ARG, "%s: %llu bytes, more than the %zu MiB this kind of file may have", path,
                        (unsigned long long)st.st_size, max >> 20);
    gzFile gz = gzopen(path, "rb"); /* reads plain files transparently */
    if (!gz) return cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    size_t cap = 1 << 16, n = 0;
    char *buf = cm_malloc(cap);
    if (!buf) { gzclose(gz); return CM_ERR_NOMEM; }
    for (;;) {
        if (n > max) {
            int rc = cm_error(CM_ERR_ARG, "%s: more than the %zu MiB this kind of file may have (stopped reading)",
                              path, max >> 20);
            free(buf);
            gzclose(gz);
            return rc;
        }
        if (n + 65536 + 1 > cap) {
            cap = cap * 2 < max + 65536 + 1 ? cap * 2 : max + 65536 + 1;   /* n <= max: room for one read */
            char *nb = cm_realloc(buf, cap);
            if (!nb) { free(buf); gzclose(gz); return CM_ERR_NOMEM; }
            buf = nb;
        }
        int r = gzread(gz, buf + n, 65536);
        if (r < 0) {
            int err;
            const char *msg = gzerror(gz, &err);
            int rc = cm_error(CM_ERR_IO, "%s: read failed: %s", path, msg);
            free(buf);
            gzclose(gz);
            return rc;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    int direct = gzdirect(gz);
    gzclose(gz);
    int rc = direct ? CM_OK : cm_gz_check_end(path, n);
    if (rc) { free(buf); return rc; }
    buf[n] = '\0';
    *out = buf;
    if (len) *len = n;
    return CM_OK;
}

int cm_write_file_atomic(const char *path, const void *data, size_t len) {
    char *tmp = cm_asprintf("%s.tmp.%d", path, (int)getpid());
    if (!tmp) return CM_ERR_NOMEM;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        int rc = cm_error(CM_ERR_IO, "%s: cannot write: %s", tmp, strerror(errno));
        free(tmp);
        return rc;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int rc = cm_error(CM_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return rc;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int rc = cm_error(CM_ERR_IO, "%s: cannot flush: %s", tmp, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        int rc = cm_error(CM_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    return CM_OK;
}

/* ---- hashing ------------------------------------------------------------- */
uint64_t cm_hash64(const void *data, size_t len, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ (seed * 0x9e3779b97f4a7c15ULL);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    /* splitmix64 finaliser: spreads FNV's weak low bits */
    h ^= (uint64_t)len;
    h ^= h >> 30; h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27; h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

void cm_hex64(uint64_t v, char out[17]) {
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) { out[i] = hex[v & 15]; v >>= 4; }
    out[16] = '\0';
}

double cm_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- vectors ------------------------------------------------------------- */
size_t cm_first_nonfinite(const float *x, size_t n) {
    /* blocks scanned branch-free on the exponent bits (the compiler vectorises it), then the block searched */
    size_t i = 0;
    for (; i < n; i += 256) {
        const size_t m = n - i < 256 ? n - i : 256;
        uint32_t bad = 0;
        for (size_t j = 0; j < m; j++) {
            uint32_t u;
            memcpy(&u, x + i + j, 4);
            bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
        }
        if (bad) break;
    }
    for (; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

int cm_check_finite(const float *x, size_t n, const char *what) {
    size_t i = cm_first_nonfinite(x, n);
    if (i < n)
        return cm_error(CM_ERR_NUMERIC, "%s: value %zu is %s (expected a finite number)",
                        what, i, isnan(x[i]) ? "NaN" : "infinite");
    return CM_OK;
}

double cm_dot(const float *a, const float *b, size_t d) {
    double s = 0;
    for (size_t i = 0; i < d; i++) s += (double)a[i] * b[i];
    return s;
}

double cm_norm(const float *a, size_t d) { return sqrt(cm_dot(a, a, d)); }

/* r (d) divided by its norm nn in float64, each value rounded to float; left as it is when nn is 0. */
static void divide_row(float *r, size_t d, double nn) {
    if (nn > 0)
        for (size_t j = 0; j < d; j++) r[j] = (float)(r[j] / nn);
}

void cm_l2_normalize_rows(float *x, size_t n, size_t d) {
    size_t i = 0;
    /* Four rows side by side: each row's sum of squares still adds its terms in order (a float's square is exact
     * in double, so fused or not the bits are cm_norm's), but the four chains run at once instead of one add's
     * latency per term; the compiler puts the four in one vector. */
    for (; i + 4 <= n; i += 4) {
        float *r0 = x + i * d, *r1 = r0 + d, *r2 = r1 + d, *r3 = r2 + d;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (size_t j = 0; j < d; j++) {
            s0 += (double)r0[j] * r0[j];
            s1 += (double)r1[j] * r1[j];
            s2 += (double)r2[j] * r2[j];
            s3 += (double)r3[j] * r3[j];
        }
        divide_row(r0, d, sqrt(s0));
        divide_row(r1, d, sqrt(s1));
        divide_row(r2, d, sqrt(s2));
        divide_row(r3, d, sqrt(s3));
    }
    for (; i < n; i++) divide_row(x + i * d, d, cm_norm(x + i * d, d));
}

/* ---- half floats ---------------------------------------------------------- */
float cm_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal */
            float f = ldexpf((float)man, -24);
            return (h & 0x8000) ? -f : f;
        }
    } else if (exp == 31) bits = sign | 0x7f800000u | (man << 13);
    else bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float cm_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t cm_f32_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x40); /* NaN */
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

/* ---- names that become file names ---------------------------------------- */
int cm_path_component_check(const char *value, const char *field) {
    if (!value || !value[0]) return cm_error(CM_ERR_ARG, "%s: empty (it names a file)", field);
    const char *why = NULL;
    if (!strcmp(value, ".") || !strcmp(value, "..")) why = "is '.' or '..'";
    for (const unsigned char *p = (const unsigned char *)value; *p && !why; p++) {
        if (*p == '/' || *p == '\\') why = "contains a path separator";
        else if (*p < 0x20 || *p == 0x7f) why = "contains a control character";
    }
    if (!why) return CM_OK;
    cm_str shown = {0};   /* the value with control bytes as \xNN, so the message is safe to print */
    for (const unsigned char *p = (const unsigned char *)value; *p && shown.len < 200; p++) {
        if (*p < 0x20 || *p == 0x7f) cm_str_printf(&shown, "\\x%02x", *p);
        else cm_str_appendn(&shown, (const char *)p, 1);
    }
    int rc = cm_error(CM_ERR_ARG, "%s: '%s' %s; it becomes a file name inside the output folder, so it must be a "
                                  "single path component (no '/', '\\', '..' or control characters)",
                      field, shown.s ? shown.s : "?", why);
    cm_str_free(&shown);
    return rc;
}

char *cm_path_component_clean(const char *s) {
    cm_str b = {0};
    for (const char *p = s ? s : ""; *p; p++) {
        if (*p == '/') { cm_str_append(&b, "__"); continue; }
        char c = *p;
        if (!(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z')))
            c = '_';
        cm_str_appendn(&b, &c, 1);
    }
    if (cm_str_error(&b)) { cm_str_free(&b); return NULL; }
    if (!b.s) return cm_strdup("_");
    if (!strcmp(b.s, ".") || !strcmp(b.s, "..")) b.s[0] = '_';
    return b.s;
}

/* ---- temporaries of dead processes ---------------------------------------- */
/* The pid of a cm_write_file_atomic temporary ("NAME.tmp.PID"), or 0. */
static long temp_pid(const char *name) {
    const char *t = NULL;
    for (const char *p = strstr(name, ".tmp."); p; p = strstr(p + 1, ".tmp.")) t = p;
    if (!t || t == name || !t[5]) return 0;
    long pid = 0;
    for (const char *p = t + 5; *p; p++) {
        if (*p < '0' || *p > '9' || pid > 100000000) return 0;
        pid = pid * 10 + (*p - '0');
    }
    return pid;
}

int cm_remove_stale_temps(const char *dir, int depth, size_t *removed) {
    DIR *d = opendir(dir);
    if (!d) return CM_OK;   /* nothing there yet */
    int rc = CM_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = cm_path_join(dir, e->d_name);
        if (!p) { rc = CM_ERR_NOMEM; break; }
        struct stat st;
        if (lstat(p, &st) == 0) {
            long pid = temp_pid(e->d_name);
            if (S_ISDIR(st.st_mode) && depth > 0) rc = cm_remove_stale_temps(p, depth - 1, removed);
            else if (S_ISREG(st.st_mode) && pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == -1 &&
                     errno == ESRCH && unlink(p) == 0)
                (*removed)++;
        }
        free(p);
    }
    closedir(d);
    return rc;
}

/* ---- folder locks ---------------------------------------------------------- */
size_t cm_address_space_left(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return SIZE_MAX;
    char line[256];
    unsigned long long kb = 0;
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) found = sscanf(line, "VmSize: %llu kB", &kb) == 1;
    fclose(f);
    if (!found) return SIZE_MAX;
    unsigned long long used = kb * 1024ull;
    return used >= (unsigned long long)rl.rlim_cur ? 0 : (size_t)((unsigned long long)rl.rlim_cur - used);
}

int cm_address_space_check(size_t need, const char *what) {
    size_t left = cm_address_space_left();
    if (left >= need) return CM_OK;
    struct rlimit rl;
    getrlimit(RLIMIT_AS, &rl);
    return cm_error(CM_ERR_NOMEM,
                    "the address-space limit (ulimit -v %llu kB) leaves %zu MiB, but %s needs about %zu MiB "
                    "more: raise the limit, or use fewer --threads",
                    (unsigned long long)rl.rlim_cur / 1024, left >> 20, what, need >> 20);
}

int cm_dir_lock(const char *dir, const char *name, int *fd) {
    *fd = -1;
    char *path = cm_path_join(dir, name), *parent = path ? cm_path_dirname(path) : NULL;
    int mrc = parent ? cm_mkdir_p(parent) : CM_ERR_NOMEM;
    free(parent);
    if (mrc) {
        free(path);
        return mrc;
    }
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f < 0) {
        int rc = cm_error(CM_ERR_IO, "%s: cannot open the lock file: %s", path, strerror(errno));
        free(path);
        return rc;
    }
    if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        char pid[32] = "";
        ssize_t k = busy ? pread(f, pid, sizeof pid - 1, 0) : -1;
        if (k > 0) pid[k] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        int rc = busy ? cm_error(CM_ERR_IO, "%s is in use by another cmteb process (pid %s): wait for it to finish, "
                                 "or write to another folder", dir, pid[0] ? pid : "?")
                      : cm_error(CM_ERR_IO, "%s: cannot lock: %s", path, strerror(errno));
        close(f);
        free(path);
        return rc;
    }
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(f, 0) != 0 || pwrite(f, buf, (size_t)len, 0) != len) {
        /* the lock holds without the pid; the message of a second process just says "?" */
    }
    free(path);
    *fd = f;
    return CM_OK;
}

void cm_dir_unlock(int fd) {
    if (fd >= 0) close(fd);
}
