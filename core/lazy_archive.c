/*
 * lazy_archive.c: the libarchive functions cmteb calls, forwarded to the library lazylib.c opens on first use
 * (see cmteb/lazylib.h). Defined with the names and prototypes of <archive.h> and <archive_entry.h>, which the
 * compiler checks against the headers. Without the library each returns the function's failure value.
 */
#include <archive.h>
#include <archive_entry.h>

#include "core/lazylib_int.h"

#define ARCHIVE_FUNCTIONS(X)                                                                                       \
    X(archive_read_new) X(archive_read_support_filter_gzip) X(archive_read_support_filter_bzip2)                  \
    X(archive_read_support_filter_xz) X(archive_read_support_format_tar) X(archive_read_support_format_gnutar)    \
    X(archive_read_open_filename) X(archive_read_next_header) X(archive_read_data) X(archive_read_free)          \
    X(archive_error_string) X(archive_entry_pathname) X(archive_entry_filetype) X(archive_entry_size_is_set)     \
    X(archive_entry_size)

ARCHIVE_FUNCTIONS(CM_LAZY_POINTER)
const cm_lazy_sym cm_lazy_archive_syms[] = {ARCHIVE_FUNCTIONS(CM_LAZY_ENTRY)};
const size_t      cm_lazy_archive_n = sizeof cm_lazy_archive_syms / sizeof cm_lazy_archive_syms[0];

#define READY cm_lazy_ready(CM_LAZY_ARCHIVE)

struct archive *archive_read_new(void) { return READY ? lazy_archive_read_new() : NULL; }
int archive_read_support_filter_gzip(struct archive *a) {
    return READY ? lazy_archive_read_support_filter_gzip(a) : ARCHIVE_FATAL;
}
int archive_read_support_filter_bzip2(struct archive *a) {
    return READY ? lazy_archive_read_support_filter_bzip2(a) : ARCHIVE_FATAL;
}
int archive_read_support_filter_xz(struct archive *a) {
    return READY ? lazy_archive_read_support_filter_xz(a) : ARCHIVE_FATAL;
}
int archive_read_support_format_tar(struct archive *a) {
    return READY ? lazy_archive_read_support_format_tar(a) : ARCHIVE_FATAL;
}
int archive_read_support_format_gnutar(struct archive *a) {
    return READY ? lazy_archive_read_support_format_gnutar(a) : ARCHIVE_FATAL;
}
int archive_read_open_filename(struct archive *a, const char *_filename, size_t _block_size) {
    return READY ? lazy_archive_read_open_filename(a, _filename, _block_size) : ARCHIVE_FATAL;
}
int archive_read_next_header(struct archive *a, struct archive_entry **entry) {
    return READY ? lazy_archive_read_next_header(a, entry) : ARCHIVE_FATAL;
}
la_ssize_t archive_read_data(struct archive *a, void *buf, size_t n) {
    return READY ? lazy_archive_read_data(a, buf, n) : ARCHIVE_FATAL;
}
int         archive_read_free(struct archive *a) { return READY ? lazy_archive_read_free(a) : ARCHIVE_FATAL; }
const char *archive_error_string(struct archive *a) {
    return READY ? lazy_archive_error_string(a) : "libarchive could not be loaded";
}

const char *archive_entry_pathname(struct archive_entry *e) { return READY ? lazy_archive_entry_pathname(e) : NULL; }
__LA_MODE_T archive_entry_filetype(struct archive_entry *e) { return READY ? lazy_archive_entry_filetype(e) : 0; }
int         archive_entry_size_is_set(struct archive_entry *e) { return READY ? lazy_archive_entry_size_is_set(e) : 0; }
la_int64_t  archive_entry_size(struct archive_entry *e) { return READY ? lazy_archive_entry_size(e) : 0; }
