/* npy.c: NumPy .npy v1/v2 reading (float32/float16, 2-D, C order) and float32 writing. */
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cm_npy_write_f32(const char *path, const float *x, size_t n, size_t d) {
    char hdr[128];
    int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %zu), }", n, d);
    size_t total = 10 + (size_t)hl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t)hl + pad + 1;
    size_t bytes = 10 + hlen + n * d * sizeof(float);
    unsigned char *buf = cm_malloc(bytes);
    if (!buf) return CM_ERR_NOMEM;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)(hlen & 0xff);
    buf[9] = (unsigned char)(hlen >> 8);
    memcpy(buf + 10, hdr, (size_t)hl);
    memset(buf + 10 + hl, ' ', pad);
    buf[10 + hlen - 1] = '\n';
    if (n > 0 && d > 0) memcpy(buf + 10 + hlen, x, n * d * sizeof(float));
    int rc = cm_write_file_atomic(path, buf, bytes);
    free(buf);
    return rc;
}

/* Parses the header's 'shape': (a, b) into *rows, *cols; 0 when it is 2-D with
 * non-negative decimal dims, else -1. The shape text as written goes to txt. */
static int npy_shape(const char *hdr, char *txt, size_t cap, size_t *rows, size_t *cols) {
    snprintf(txt, cap, "(missing)");
    const char *p = strstr(hdr, "'shape':");
    if (!p) return -1;
    p += 8;
    while (*p == ' ') p++;
    const char *close = *p == '(' ? strchr(p, ')') : NULL;
    if (!close) { snprintf(txt, cap, "%.20s", p); return -1; }
    snprintf(txt, cap, "%.*s", (int)(close - p + 1 < 60 ? close - p + 1 : 60), p);
    size_t dims[2];
    int nd = 0;
    p++;
    for (;;) {
        while (*p == ' ') p++;
        if (p == close) break;
        if (*p < '0' || *p > '9' || nd == 2) return -1;
        size_t v = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (v > (SIZE_MAX - 9) / 10) return -1;
            v = v * 10 + (size_t)(*p - '0');
        }
        dims[nd++] = v;
        while (*p == ' ') p++;
        if (*p == ',') p++;
        else if (p != close) return -1;
    }
    if (nd != 2) return -1;
    *rows = dims[0];
    *cols = dims[1];
    return 0;
}

int cm_npy_open(const char *path, FILE **fp, size_t *n, size_t *d, int *elem_size) {
    *fp = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return cm_error(CM_ERR_IO, "%s: cannot open", path);
    unsigned char magic[12];
    if (fread(magic, 1, 10, f) != 10 || memcmp(magic, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return cm_error(CM_ERR_FORMAT, "%s: not a .npy file (bad magic)", path);
    }
    size_t hlen;
    if (magic[6] == 1) hlen = (size_t)magic[8] | ((size_t)magic[9] << 8);
    else {
        if (fread(magic + 10, 1, 2, f) != 2) {
            fclose(f);
            return cm_error(CM_ERR_FORMAT, "%s: truncated header", path);
        }
        hlen = (size_t)magic[8] | ((size_t)magic[9] << 8) | ((size_t)magic[10] << 16) | ((size_t)magic[11] << 24);
    }
    if (hlen > 1 << 20) { fclose(f); return cm_error(CM_ERR_FORMAT, "%s: header too large", path); }
    char *hdr = cm_malloc(hlen + 1);
    if (!hdr) { fclose(f); return CM_ERR_NOMEM; }
    if (fread(hdr, 1, hlen, f) != hlen) {
        free(hdr);
        fclose(f);
        return cm_error(CM_ERR_FORMAT, "%s: truncated header", path);
    }
    hdr[hlen] = '\0';
    int esize;
    if (strstr(hdr, "'<f4'") || strstr(hdr, "'float32'")) esize = 4;
    else if (strstr(hdr, "'<f2'") || strstr(hdr, "'float16'")) esize = 2;
    else {
        const char *ds = strstr(hdr, "'descr':");
        int rc = cm_error(CM_ERR_FORMAT,
                          "%s: dtype %.*s is not supported (expected little-endian float32 '<f4' or float16 '<f2')",
                          path, ds ? 16 : 7, ds ? ds + 9 : "unknown");
        free(hdr); fclose(f);
        return rc;
    }
    if (strstr(hdr, "'fortran_order': True")) {
        free(hdr); fclose(f);
        return cm_error(CM_ERR_FORMAT, "%s: Fortran-order arrays are not supported (save with np.ascontiguousarray)",
                        path);
    }
    size_t rows = 0, cols = 0, count = 0;
    char shape[64];
    int src = npy_shape(hdr, shape, sizeof shape, &rows, &cols);
    free(hdr);
    if (src != 0) {
        fclose(f);
        return cm_error(CM_ERR_FORMAT, "%s: shape %s is not supported (expected a 2-D array of shape (n, dim))",
                        path, shape);
    }
    /* the data must be exactly rows x cols elements: no overflow, nothing missing or left over */
    long here = ftell(f);
    long end = (here >= 0 && fseek(f, 0, SEEK_END) == 0) ? ftell(f) : -1;
    if (end < 0 || fseek(f, here, SEEK_SET) != 0) {
        fclose(f);
        return cm_error(CM_ERR_IO, "%s: cannot seek", path);
    }
    size_t avail = (size_t)(end - here);
    if (cols != 0 && rows > SIZE_MAX / 4 / cols) {
        fclose(f);
        return cm_error(CM_ERR_FORMAT, "%s: shape (%zu, %zu) is too large", path, rows, cols);
    }
    count = rows * cols;
    if (count * (size_t)esize != avail) {
        fclose(f);
        return cm_error(CM_ERR_FORMAT, "%s: shape (%zu, %zu) of %s needs %zu data bytes but the file holds %zu", path,
                        rows, cols, esize == 4 ? "float32" : "float16", count * (size_t)esize, avail);
    }
    *fp = f;
    *n = rows;
    *d = cols;
    *elem_size = esize;
    return CM_OK;
}

int cm_npy_read_f32(const char *path, float **out, size_t *n, size_t *d) {
    *out = NULL;
    FILE *f = NULL;
    size_t rows = 0, cols = 0;
    int esize = 4;
    CM_TRY(cm_npy_open(path, &f, &rows, &cols, &esize));
    size_t count = rows * cols;
    float *x = cm_malloc(count * sizeof(float) + 1);
    if (!x) { fclose(f); return CM_ERR_NOMEM; }
    if (esize == 4) {
        if (fread(x, 4, count, f) != count) {
            free(x);
            fclose(f);
            return cm_error(CM_ERR_FORMAT, "%s: truncated data (expected %zu x %zu float32)", path, rows, cols);
        }
    } else {
        uint16_t *h = cm_malloc(count * 2 + 1);
        if (!h) { free(x); fclose(f); return CM_ERR_NOMEM; }
        if (fread(h, 2, count, f) != count) {
            free(h);
            free(x);
            fclose(f);
            return cm_error(CM_ERR_FORMAT, "%s: truncated data (expected %zu x %zu float16)", path, rows, cols);
        }
        for (size_t i = 0; i < count; i++) x[i] = cm_f16_to_f32(h[i]);
        free(h);
    }
    fclose(f);
    *out = x;
    *n = rows;
    *d = cols;
    return CM_OK;
}
