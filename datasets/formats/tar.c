/* tar.c: one member of a tarball read whole, through libarchive (see formats.h). */
#include "datasets/formats/formats.h"
#include "cmteb/lazylib.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cm_tar_read_member(const char *archive, const char *member, size_t max_bytes, char **data, size_t *len) {
    *data = NULL;
    *len = 0;
    if (!cm_file_exists(archive)) return cm_error(CM_ERR_NOTFOUND, "%s: archive not found", archive);
    CM_TRY(cm_need_archive());
    struct archive *a = archive_read_new();
    if (!a) return CM_ERR_NOMEM;
    archive_read_support_filter_gzip(a);
    archive_read_support_filter_bzip2(a);
    archive_read_support_filter_xz(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int rc = CM_OK;
    if (archive_read_open_filename(a, archive, 1 << 16) != ARCHIVE_OK) {
        rc = cm_error(CM_ERR_FORMAT, "%s: not a readable tar archive (expected tar, optionally gzip/bzip2/xz "
                      "compressed): %s", archive, archive_error_string(a) ? archive_error_string(a) : "unknown");
        archive_read_free(a);
        return rc;
    }
    struct archive_entry *e;
    size_t n_entries = 0;
    cm_str seen = {0};
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        const char *name = archive_entry_pathname(e);
        n_entries++;
        if (!name || strcmp(name, member) != 0) {
            if (name && n_entries <= 6) cm_str_printf(&seen, "%s%s", seen.len ? ", " : "", name);
            continue;
        }
        if (archive_entry_filetype(e) != AE_IFREG) {
            rc = cm_error(CM_ERR_FORMAT, "%s: member %s is not a regular file", archive, member);
            break;
        }
        la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
        if (size < 0 || (uint64_t)size > max_bytes) {
            rc = cm_error(CM_ERR_FORMAT, "%s: member %s has %s size %lld (at most %zu bytes are read)", archive, member,
                          size < 0 ? "an unknown" : "a too large", (long long)size, max_bytes);
            break;
        }
        /* the header's size is only a claim: the buffer grows as bytes arrive (doubling from 64 KiB), so that a
         * small or truncated archive claiming a large member never allocates much more than it holds */
        size_t want = (size_t)size, cap = want < ((size_t)64 << 10) ? want : ((size_t)64 << 10);
        char *buf = cm_malloc(cap + 1);
        if (!buf) { rc = CM_ERR_NOMEM; break; }
        size_t got = 0;
        while (got < want) {
            if (got == cap) {
                size_t grown = cap > want / 2 ? want : 2 * cap;
                char *nb = cm_realloc(buf, grown + 1);
                if (!nb) { rc = CM_ERR_NOMEM; break; }
                buf = nb;
                cap = grown;
            }
            la_ssize_t k = archive_read_data(a, buf + got, cap - got);
            if (k <= 0) {
                rc = cm_error(CM_ERR_FORMAT, "%s: member %s is truncated or damaged (read %zu of %lld bytes%s%s)",
                              archive, member, got, (long long)size, k < 0 ? ": " : "",
                              k < 0 && archive_error_string(a) ? archive_error_string(a) : "");
                break;
            }
            got += (size_t)k;
        }
        if (rc) { free(buf); break; }
        buf[got] = '\0';
        *data = buf;
        *len = got;
        break;
    }
    if (!rc && !*data) {
        if (r == ARCHIVE_FATAL)
            rc = cm_error(CM_ERR_FORMAT, "%s: truncated or damaged archive after %zu members, before %s was found: %s",
                          archive, n_entries, member, archive_error_string(a) ? archive_error_string(a) : "unknown");
        else
            rc = cm_error(CM_ERR_NOTFOUND, "%s: no member %s (%zu members%s%s%s)", archive, member, n_entries,
                          seen.len ? ", e.g. " : "", seen.len ? seen.s : "", n_entries > 6 ? ", ..." : "");
    }
    cm_str_free(&seen);
    archive_read_free(a);
    return rc;
}
