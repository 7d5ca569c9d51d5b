/*
 * fuzz_hub.c: libFuzzer harness for the hub client's parsers
 * (datasets/hub/hub_parse.c, hub_api.c; declared in datasets/hub/hub_int.h):
 * the input, split at the first NUL, is text A and text B. A goes through
 * hub_listing_parse (a tree API page), hub_link_next (a Link header),
 * hub_retry_after_seconds, hub_etag_clean, hub_percent_encode (both modes),
 * hub_is_commit and hub_is_hex_prefix; hub_glob_match matches pattern A
 * against path B and B against A.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "datasets/hub/hub_int.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_part p[2];
    size_t k = fz_split(data, size, p, 2);
    char *a = cm_strndup((const char *)p[0].data, p[0].size);
    char *b = cm_strndup(k > 1 ? (const char *)p[1].data : "", k > 1 ? p[1].size : 0);
    if (!a || !b) { free(a); free(b); return 0; }
    (void)fz_dir();   /* silences the library's log */

    hub_listing l = {0};
    if (fz_debug_rc(hub_listing_parse(&l, a, "fuzz")) == CM_OK)
        for (size_t i = 0; i < l.n; i++) (void)strlen(l.e[i].path);
    hub_listing_free(&l);

    free(hub_link_next(a));
    volatile double w = hub_retry_after_seconds(a, 1.7e9);
    (void)w;
    free(hub_etag_clean(a));
    free(hub_percent_encode(a, 0));
    free(hub_percent_encode(a, 1));
    (void)hub_is_commit(a);
    (void)hub_is_hex_prefix(a);
    (void)hub_glob_match(a, b);
    (void)hub_glob_match(b, a);
    free(a);
    free(b);
    return 0;
}
