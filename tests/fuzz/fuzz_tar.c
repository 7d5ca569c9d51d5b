/*
 * fuzz_tar.c: libFuzzer harness for the tar reader (datasets/formats/tar.c,
 * cm_tar_read_member, libarchive underneath). The first byte is a control
 * byte: bit 0 gzip-compresses the archive in the harness (so mutations reach
 * the tar headers through the gzip filter), bit 1 caps the member at 64 bytes
 * instead of the 1 GiB the MASSIVE reader allows. The rest splits by length
 * (fz_split_len): the member name to look for (empty: 1.0/data/en-US.jsonl),
 * then the archive's bytes. A member read must be NUL-terminated at *len and
 * every byte of it readable.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "datasets/formats/formats.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The archive gzip-compressed into a new buffer (*out_len bytes; caller frees), or NULL. */
static unsigned char *gzip_bytes(const uint8_t *data, size_t size, size_t *out_len) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK) return NULL;
    size_t cap = deflateBound(&z, (uLong)size) + 32;
    unsigned char *out = malloc(cap);
    if (!out) { deflateEnd(&z); return NULL; }
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    if (r != Z_STREAM_END) { free(out); return NULL; }
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t ctl = data[0];
    fz_part parts[2];
    fz_split_len(data + 1, size - 1, parts, 2);
    char member[256] = "1.0/data/en-US.jsonl";
    if (parts[0].size > 0) {
        size_t n = parts[0].size < sizeof member - 1 ? parts[0].size : sizeof member - 1;
        memcpy(member, parts[0].data, n);
        member[n] = '\0';
    }
    const char *name = ctl & 1 ? "a.tar.gz" : "a.tar";
    if (ctl & 1) {
        size_t zlen = 0;
        unsigned char *z = gzip_bytes(parts[1].data, parts[1].size, &zlen);
        if (!z) return 0;
        fz_write(name, z, zlen);
        free(z);
    } else {
        fz_write(name, parts[1].data, parts[1].size);
    }
    char path[4096];
    char *buf = NULL;
    size_t len = 0;
    int rc = fz_debug_rc(cm_tar_read_member(fz_path(path, name), member, ctl & 2 ? 64 : (size_t)1 << 30, &buf, &len));
    if (rc == CM_OK) {
        if (!buf || buf[len] != '\0') abort();
        volatile unsigned sink = 0;
        for (size_t i = 0; i < len; i++) sink += (unsigned char)buf[i];
        (void)sink;
    } else if (buf || len) {
        abort();   /* an error leaves no buffer behind */
    }
    free(buf);
    fz_remove(name);
    return 0;
}
