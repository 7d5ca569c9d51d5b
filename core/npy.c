/* npy.c: NumPy .npy v1/v2 reading (float32/float16, 2-D, C order) and float32 writing. */
#include "cmteb/status.h"
#include "cmteb/util.h"

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

int cm_npy_read_f32(const char *path, float **out, size_t *n, size_t *d) {
    *out = NULL;
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
    const char *sh = strstr(hdr, "'shape':");
    size_t rows = 0, cols = 0;
    int got = sh ? sscanf(sh, "'shape': (%zu, %zu)", &rows, &cols) : 0;
    free(hdr);
    if (got != 2) { fclose(f); return cm_error(CM_ERR_FORMAT, "%s: expected a 2-D array of shape (n, dim)", path); }
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
