/*
 * safetensors.c: implements safetensors.h: mmap'd single-file and sharded
 * checkpoints, header validation, lookup, conversion to float32.
 */
#include "engine/nn/safetensors.h"

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

typedef struct st_file {
    char          *path;
    void          *map;
    size_t         size;
    cJSON         *meta;    /* __metadata__ (detached), or NULL */
} st_file;

struct cm_safetensors {
    char         *path;
    st_file      *files;
    size_t        nfiles;
    cm_st_tensor *t;        /* sorted by name */
    size_t        n, cap;
    size_t        data_bytes;
};

const char *cm_st_dtype_str(cm_st_dtype d) {
    switch (d) {
    case CM_ST_F32: return "F32";
    case CM_ST_F16: return "F16";
    case CM_ST_BF16: return "BF16";
    default: return "other";
    }
}

static int dtype_parse(const char *s, cm_st_dtype *d, size_t *size, const char **name) {
    static const struct { const char *n; cm_st_dtype d; size_t sz; } tab[] = {
        {"F32", CM_ST_F32, 4},    {"F16", CM_ST_F16, 2},    {"BF16", CM_ST_BF16, 2}, {"F64", CM_ST_OTHER, 8},
        {"I64", CM_ST_OTHER, 8},  {"I32", CM_ST_OTHER, 4},  {"I16", CM_ST_OTHER, 2}, {"I8", CM_ST_OTHER, 1},
        {"U64", CM_ST_OTHER, 8},  {"U32", CM_ST_OTHER, 4},  {"U16", CM_ST_OTHER, 2}, {"U8", CM_ST_OTHER, 1},
        {"BOOL", CM_ST_OTHER, 1}, {"F8_E4M3", CM_ST_OTHER, 1}, {"F8_E5M2", CM_ST_OTHER, 1},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(tab[i].n, s)) {
            *d = tab[i].d;
            *size = tab[i].sz;
            if (name) *name = tab[i].n;
            return 1;
        }
    return 0;
}

static int cmp_tensor(const void *a, const void *b) {
    return strcmp(((const cm_st_tensor *)a)->name, ((const cm_st_tensor *)b)->name);
}

typedef struct range { uint64_t b, e; } range;
static int cmp_range(const void *a, const void *b) {
    const range *x = a, *y = b;
    return x->b < y->b ? -1 : x->b > y->b ? 1 : (x->e < y->e ? -1 : x->e > y->e);
}

/* Maps and parses one file, appending its tensors. */
static int load_file(cm_safetensors *st, const char *path) {
    st_file *f = &st->files[st->nfiles];
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return cm_error(CM_ERR_IO, "%s: cannot open safetensors file", path);
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return cm_error(CM_ERR_IO, "%s: not a regular file", path);
    }
    f->path = cm_strdup(path);
    if (!f->path) {
        close(fd);
        return CM_ERR_NOMEM;
    }
    st->nfiles++;
    f->size = (size_t)sb.st_size;
    if (f->size < 8) {
        close(fd);
        return cm_error(CM_ERR_FORMAT, "%s: %zu bytes, too short for a safetensors file (8-byte header size)", path,
                        f->size);
    }
    f->map = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (f->map == MAP_FAILED) {
        f->map = NULL;
        return cm_error(CM_ERR_IO, "%s: mmap failed", path);
    }
    const unsigned char *p = f->map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen > ST_MAX_HEADER || hlen > f->size - 8)
        return cm_error(CM_ERR_FORMAT, "%s: header size %llu exceeds the file (%zu bytes) or the 100 MB limit; "
                        "not a safetensors file?", path, (unsigned long long)hlen, f->size);
    size_t failures = cm_alloc_failures();
    cJSON *h = cJSON_ParseWithLength((const char *)p + 8, (size_t)hlen);
    if (!h && cm_alloc_failures() != failures)
        return cm_error(CM_ERR_NOMEM, "%s: out of memory parsing the header", path);
    if (!h || !cJSON_IsObject(h)) {
        cJSON_Delete(h);
        return cm_error(CM_ERR_FORMAT, "%s: header is not a JSON object", path);
    }
    const unsigned char *buf = p + 8 + hlen;
    uint64_t buflen = f->size - 8 - hlen;
    size_t first = st->n;
    int rc = CM_OK;
    for (cJSON *it = h->child; it; it = it->next) {
        if (!strcmp(it->string, "__metadata__")) continue;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsObject(it) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of) ||
            cJSON_GetArraySize(of) != 2) {
            rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s': expected {\"dtype\": str, \"shape\": [..], "
                          "\"data_offsets\": [begin, end]}", path, it->string);
            break;
        }
        if ((rc = cm_array_reserve(st->t, st->cap, st->n + 1)) != CM_OK) break;
        cm_st_tensor *t = &st->t[st->n];
        memset(t, 0, sizeof *t);
        if (!dtype_parse(dt->valuestring, &t->dtype, &t->elem_size, NULL)) {
            rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s': unknown dtype '%s'", path, it->string, dt->valuestring);
            break;
        }
        t->ndim = cJSON_GetArraySize(sh);
        if (t->ndim > CM_ST_MAX_DIMS) {
            rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s': %d dimensions (at most %d supported)", path,
                          it->string, t->ndim, CM_ST_MAX_DIMS);
            break;
        }
        int64_t numel = 1;
        int k = 0, bad = 0;
        for (cJSON *d = sh->child; d; d = d->next, k++) {
            if (!cJSON_IsNumber(d) || d->valuedouble < 0 || d->valuedouble > 9.0e15 ||
                d->valuedouble != (double)(int64_t)d->valuedouble) { bad = 1; break; }
            t->shape[k] = (int64_t)d->valuedouble;
            if (t->shape[k] && numel > INT64_MAX / t->shape[k]) { bad = 1; break; }
            numel *= t->shape[k];
        }
        double b0 = cJSON_GetArrayItem(of, 0)->valuedouble, b1 = cJSON_GetArrayItem(of, 1)->valuedouble;
        if (bad || !cJSON_IsNumber(cJSON_GetArrayItem(of, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(of, 1)) ||
            b0 < 0 || b1 < b0) {
            rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s': bad shape or data_offsets", path, it->string);
            break;
        }
        if (b1 > (double)buflen) {   /* before the casts: a huge double does not fit uint64_t */
            rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s': data_offsets [%.0f, %.0f] run past the data buffer "
                          "(%llu bytes); file truncated?", path, it->string, b0, b1, (unsigned long long)buflen);
            break;
        }
        uint64_t ob = (uint64_t)b0, oe = (uint64_t)b1;
        if (oe > buflen) {
            rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] run past the data buffer "
                          "(%llu bytes); file truncated?", path, it->string, (unsigned long long)ob,
                          (unsigned long long)oe, (unsigned long long)buflen);
            break;
        }
        /* numel <= buflen first, so numel * elem_size cannot wrap to the byte count */
        if ((uint64_t)numel > buflen || (uint64_t)numel * t->elem_size != oe - ob) {
            rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s': %llu bytes for %lld elements of %s (expected %llu)",
                          path, it->string, (unsigned long long)(oe - ob), (long long)numel, dt->valuestring,
                          (unsigned long long)numel * t->elem_size);
            break;
        }
        t->numel = numel;
        t->name = it->string;         /* repointed after the header is kept (below) */
        t->dtype_name = dt->valuestring;
        t->data = buf + ob;
        t->nbytes = (size_t)(oe - ob);
        t->file = f->path;
        st->n++;
    }
    if (rc == CM_OK) {
        /* overlap check */
        size_t m = st->n - first;
        range *r = m ? cm_malloc(m * sizeof *r) : NULL;
        if (m && !r) rc = CM_ERR_NOMEM;
        for (size_t i = 0; rc == CM_OK && i < m; i++) {
            r[i].b = (uint64_t)((const unsigned char *)st->t[first + i].data - buf);
            r[i].e = r[i].b + st->t[first + i].nbytes;
        }
        if (rc == CM_OK && m) {
            qsort(r, m, sizeof *r, cmp_range);
            for (size_t i = 1; i < m; i++)
                if (r[i].b < r[i - 1].e) {
                    rc = cm_error(CM_ERR_FORMAT, "%s: tensors overlap in the data buffer (bytes %llu..%llu and "
                                  "%llu..%llu)", path, (unsigned long long)r[i - 1].b, (unsigned long long)r[i - 1].e,
                                  (unsigned long long)r[i].b, (unsigned long long)r[i].e);
                    break;
                }
        }
        free(r);
    }
    if (rc == CM_OK) {
        /* Copy the names and dtype strings so the JSON can go. */
        for (size_t i = first; i < st->n; i++) {
            char *nm = cm_strdup(st->t[i].name);
            if (!nm) { rc = CM_ERR_NOMEM; st->n = i; break; }
            st->t[i].name = nm;
            cm_st_dtype d = CM_ST_OTHER;
            size_t sz = 0;
            const char *nm_static = "other";
            dtype_parse(st->t[i].dtype_name, &d, &sz, &nm_static);
            st->t[i].dtype_name = nm_static;   /* static string, outlives the header JSON */
        }
        cJSON *meta = cJSON_DetachItemFromObjectCaseSensitive(h, "__metadata__");
        f->meta = meta;
    } else {
        st->n = first;   /* names still point into h: drop them */
    }
    cJSON_Delete(h);
    return rc;
}

static int has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int open_index(cm_safetensors *st, const char *index_path) {
    char *text = NULL;
    size_t len = 0;
    CM_TRY(cm_read_file(index_path, &text, &len));
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(j, "weight_map");
    if (!cJSON_IsObject(wm)) {
        cJSON_Delete(j);
        return cm_error(CM_ERR_FORMAT, "%s: expected an object with \"weight_map\": {tensor: file}", index_path);
    }
    /* unique file list */
    size_t nf = 0;
    const char **files = cm_malloc(sizeof *files * (size_t)(cJSON_GetArraySize(wm) + 1));
    if (!files) { cJSON_Delete(j); return CM_ERR_NOMEM; }
    int rc = CM_OK;
    for (cJSON *it = wm->child; it; it = it->next) {
        if (!cJSON_IsString(it)) {
            rc = cm_error(CM_ERR_FORMAT, "%s: weight_map['%s']: expected a file name", index_path, it->string);
            break;
        }
        if (strchr(it->valuestring, '/') || !strcmp(it->valuestring, "..")) {
            rc = cm_error(CM_ERR_FORMAT, "%s: weight_map['%s']: file '%s' must be a plain name in the folder",
                          index_path, it->string, it->valuestring);
            break;
        }
        size_t k = 0;
        while (k < nf && strcmp(files[k], it->valuestring)) k++;
        if (k == nf) files[nf++] = it->valuestring;
    }
    char *dir = cm_path_dirname(index_path);
    if (rc == CM_OK && !dir) rc = CM_ERR_NOMEM;
    if (rc == CM_OK) {
        st->files = cm_calloc(nf ? nf : 1, sizeof *st->files);
        if (!st->files) rc = CM_ERR_NOMEM;
    }
    for (size_t k = 0; rc == CM_OK && k < nf; k++) {
        char *p = cm_path_join(dir, files[k]);
        if (!p) { rc = CM_ERR_NOMEM; break; }
        rc = load_file(st, p);
        free(p);
    }
    /* every mapped tensor must be in the shard the index says */
    if (rc == CM_OK) {
        for (cJSON *it = wm->child; it; it = it->next) {
            const cm_st_tensor *t = NULL;
            for (size_t i = 0; i < st->n && !t; i++)
                if (!strcmp(st->t[i].name, it->string)) t = &st->t[i];
            if (!t) {
                rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s' is listed in weight_map but not found in '%s'",
                              index_path, it->string, it->valuestring);
                break;
            }
        }
    }
    free(dir);
    free(files);
    cJSON_Delete(j);
    return rc;
}

int cm_st_open(cm_safetensors **out, const char *path) {
    *out = NULL;
    cm_safetensors *st = cm_calloc(1, sizeof *st);
    if (!st) return CM_ERR_NOMEM;
    st->path = cm_strdup(path);
    int rc = st->path ? CM_OK : CM_ERR_NOMEM;
    char *target = NULL;
    if (rc == CM_OK && cm_dir_exists(path)) {
        char *idx = cm_path_join(path, "model.safetensors.index.json");
        char *one = cm_path_join(path, "model.safetensors");
        if (!idx || !one) rc = CM_ERR_NOMEM;
        else if (cm_file_exists(idx)) { target = idx; idx = NULL; }
        else if (cm_file_exists(one)) { target = one; one = NULL; }
        else {
            /* a single *.safetensors file */
            DIR *d = opendir(path);
            struct dirent *e;
            int count = 0;
            while (d && (e = readdir(d))) {
                if (has_suffix(e->d_name, ".safetensors")) {
                    count++;
                    if (!target) target = cm_path_join(path, e->d_name);
                }
            }
            if (d) closedir(d);
            if (count != 1) {
                free(target);
                target = NULL;
                rc = cm_error(CM_ERR_NOTFOUND, "%s: no model.safetensors or model.safetensors.index.json%s "
                              "(PyTorch .bin checkpoints are not supported: convert them to safetensors)", path,
                              count > 1 ? " and several *.safetensors files" : "");
            }
        }
        free(idx);
        free(one);
    } else if (rc == CM_OK) {
        target = cm_strdup(path);
        if (!target) rc = CM_ERR_NOMEM;
    }
    if (rc == CM_OK) {
        if (has_suffix(target, ".json")) {
            rc = open_index(st, target);
        } else {
            st->files = cm_calloc(1, sizeof *st->files);
            rc = st->files ? load_file(st, target) : CM_ERR_NOMEM;
        }
    }
    free(target);
    if (rc == CM_OK && st->n) {
        qsort(st->t, st->n, sizeof *st->t, cmp_tensor);
        for (size_t i = 1; i < st->n; i++)
            if (!strcmp(st->t[i].name, st->t[i - 1].name)) {
                rc = cm_error(CM_ERR_FORMAT, "%s: tensor '%s' appears twice (%s and %s)", path, st->t[i].name,
                              st->t[i - 1].file, st->t[i].file);
                break;
            }
    }
    if (rc != CM_OK) {
        cm_st_free(st);
        return rc;
    }
    for (size_t i = 0; i < st->n; i++) st->data_bytes += st->t[i].nbytes;
    *out = st;
    return CM_OK;
}

void cm_st_free(cm_safetensors *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free((char *)st->t[i].name);
    for (size_t i = 0; i < st->nfiles; i++) {
        if (st->files[i].map) munmap(st->files[i].map, st->files[i].size);
        cJSON_Delete(st->files[i].meta);
        free(st->files[i].path);
    }
    free(st->files);
    free(st->t);
    free(st->path);
    free(st);
}

size_t cm_st_count(const cm_safetensors *st) { return st->n; }
const cm_st_tensor *cm_st_at(const cm_safetensors *st, size_t i) { return i < st->n ? &st->t[i] : NULL; }
size_t cm_st_data_bytes(const cm_safetensors *st) { return st->data_bytes; }
const char *cm_st_path(const cm_safetensors *st) { return st->path; }

const cm_st_tensor *cm_st_find(const cm_safetensors *st, const char *name) {
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(st->t[mid].name, name);
        if (!c) return &st->t[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const cm_st_tensor *cm_st_find_prefixed(const cm_safetensors *st, const char *const *prefixes, const char *name) {
    char buf[512];
    for (size_t i = 0; prefixes[i]; i++) {
        int w = snprintf(buf, sizeof buf, "%s%s", prefixes[i], name);
        if (w < 0 || (size_t)w >= sizeof buf) continue;
        const cm_st_tensor *t = cm_st_find(st, buf);
        if (t) return t;
    }
    return NULL;
}

const char *cm_st_metadata(const cm_safetensors *st, const char *key) {
    for (size_t i = 0; i < st->nfiles; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(st->files[i].meta, key);
        if (cJSON_IsString(v)) return v->valuestring;
    }
    return NULL;
}

static void shape_str(char *buf, size_t cap, int ndim, const int64_t *shape) {
    size_t w = 0;
    w += (size_t)snprintf(buf + w, cap - w, "[");
    for (int i = 0; i < ndim && w < cap; i++)
        w += (size_t)snprintf(buf + w, cap - w, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (w < cap) snprintf(buf + w, cap - w, "]");
}

int cm_st_check_shape(const cm_st_tensor *t, int ndim, const int64_t *shape) {
    if (ndim < 0) return CM_OK;
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++)
        if (shape[i] >= 0 && shape[i] != t->shape[i]) ok = 0;
    if (ok) return CM_OK;
    char a[160], b[160];
    shape_str(a, sizeof a, t->ndim, t->shape);
    shape_str(b, sizeof b, ndim, shape);
    return cm_error(CM_ERR_FORMAT, "%s: tensor '%s' has shape %s, expected %s from config.json", t->file, t->name, a,
                    b);
}

int cm_st_expect(const cm_safetensors *st, const char *name, int ndim, const int64_t *shape,
                 const cm_st_tensor **out) {
    *out = NULL;
    const cm_st_tensor *t = cm_st_find(st, name);
    if (!t) return cm_error(CM_ERR_NOTFOUND, "%s: tensor '%s' not found", st->path, name);
    CM_TRY(cm_st_check_shape(t, ndim, shape));
    *out = t;
    return CM_OK;
}

int cm_st_read_f32(const cm_st_tensor *t, size_t first, size_t count, float *dst) {
    if (t->dtype == CM_ST_OTHER)
        return cm_error(CM_ERR_FORMAT, "%s: tensor '%s' has dtype %s; expected F32, F16 or BF16", t->file, t->name,
                        t->dtype_name);
    if (first > (size_t)t->numel || count > (size_t)t->numel - first)
        return cm_error(CM_ERR_ARG, "tensor '%s': elements [%zu, %zu) out of range (%lld)", t->name, first,
                        first + count, (long long)t->numel);
    const unsigned char *p = (const unsigned char *)t->data + first * t->elem_size;
    switch (t->dtype) {
    case CM_ST_F32:
        memcpy(dst, p, count * 4);
        break;
    case CM_ST_F16:
        for (size_t i = 0; i < count; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            dst[i] = cm_f16_to_f32(h);
        }
        break;
    case CM_ST_BF16:
        for (size_t i = 0; i < count; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            uint32_t u = (uint32_t)h << 16;
            memcpy(&dst[i], &u, 4);
        }
        break;
    default:
        break;
    }
    return CM_OK;
}

int cm_st_to_f32(const cm_st_tensor *t, float **out) {
    *out = NULL;
    float *x = cm_malloc((size_t)(t->numel ? t->numel : 1) * sizeof *x);
    if (!x) return CM_ERR_NOMEM;
    int rc = cm_st_read_f32(t, 0, (size_t)t->numel, x);
    if (rc) {
        free(x);
        return rc;
    }
    *out = x;
    return CM_OK;
}

const uint16_t *cm_st_bf16_ptr(const cm_st_tensor *t) {
    if (t->dtype != CM_ST_BF16 || ((uintptr_t)t->data & 1)) return NULL;
    return (const uint16_t *)t->data;
}
