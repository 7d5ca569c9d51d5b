/* encoder.c: dispatches a model SPEC to its backend (see encoder.h, backend.h). */
#include "backend.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

struct cm_encoder {
    const cm_backend_i *be;
    void              *state;
    cm_encoder_info    info;
};

const cm_backend_i *const cm_backends[] = {
    &cm_backend_hash, &cm_backend_glove, &cm_backend_precomputed, &cm_backend_hf, &cm_backend_openai, NULL,
};

const char *cm_role_name(cm_role r) { return r == CM_ROLE_QUERY ? "query" : "document"; }

cm_encoder_params cm_encoder_default_params(void) {
    cm_encoder_params p;
    memset(&p, 0, sizeof p);
    p.device = "cpu";
    p.normalize = -1;
    p.pool_instruction = -1;
    return p;
}

int cm_encoder_init(cm_encoder **out, const char *spec, const cm_encoder_params *params) {
    *out = NULL;
    cm_encoder_params dflt = cm_encoder_default_params();
    if (!params) params = &dflt;
    if (!spec || !*spec) return cm_error(CM_ERR_ARG, "empty model spec (expected e.g. hash, glove:PATH, hf:PATH)");
    const char *colon = strchr(spec, ':');
    size_t slen = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *arg = colon ? colon + 1 : NULL;
    for (int i = 0; cm_backends[i]; i++) {
        const cm_backend_i *be = cm_backends[i];
        if (strlen(be->scheme) != slen || strncmp(be->scheme, spec, slen) != 0) continue;
        cm_encoder *e = cm_calloc(1, sizeof *e);
        if (!e) return CM_ERR_NOMEM;
        e->be = be;
        int rc = be->init(&e->state, arg, params, &e->info);
        if (rc) {
            free(e);
            return cm_error_wrap(rc, "model %s", spec);
        }
        CM_ASSERT(e->info.dim > 0 && e->info.name && e->info.fingerprint);
        if (!e->info.revision) e->info.revision = "no_revision_available";
        if (!e->info.loader) e->info.loader = be->scheme;
        *out = e;
        return CM_OK;
    }
    cm_str known = {0};
    for (int i = 0; cm_backends[i]; i++) {
        if (i) cm_str_append(&known, ", ");
        cm_str_append(&known, cm_backends[i]->scheme);
    }
    int rc = cm_error(CM_ERR_ARG, "unknown model spec '%s' (known schemes: %s)", spec, known.s ? known.s : "");
    cm_str_free(&known);
    return rc;
}

int cm_encoder_init_backend(cm_encoder **out, const cm_backend_i *be, void *state, const cm_encoder_info *info) {
    *out = NULL;
    cm_encoder *e = cm_calloc(1, sizeof *e);
    if (!e) { be->free(state); return CM_ERR_NOMEM; }
    e->be = be;
    e->state = state;
    e->info = *info;
    CM_ASSERT(e->info.dim > 0 && e->info.name && e->info.fingerprint);
    if (!e->info.revision) e->info.revision = "no_revision_available";
    if (!e->info.loader) e->info.loader = be->scheme;
    *out = e;
    return CM_OK;
}

int cm_encoder_encode(cm_encoder *e, const char *const *texts, size_t n, cm_role role,
                      const char *instruction, float *out) {
    if (n == 0) return CM_OK;
    return e->be->encode(e->state, texts, n, role, instruction, out);
}

const cm_encoder_info *cm_encoder_get_info(const cm_encoder *e) { return &e->info; }
size_t cm_encoder_dim(const cm_encoder *e) { return e->info.dim; }

void cm_encoder_free(cm_encoder *e) {
    if (!e) return;
    e->be->free(e->state);
    free(e);
}
