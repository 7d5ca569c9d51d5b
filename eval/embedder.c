/* embedder.c: placeholder pass-through (cache lands next). */
#include "cmteb/embedder.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>

struct cm_embedder { cm_encoder *enc; cm_embedder_params p; cm_embedder_stats st; };

cm_embedder_params cm_embedder_default_params(void) {
    cm_embedder_params p = {NULL, 64, 0, -1};
    return p;
}
int cm_embedder_init(cm_embedder **out, cm_encoder *enc, const cm_embedder_params *params) {
    cm_embedder *e = cm_calloc(1, sizeof *e);
    if (!e) return CM_ERR_NOMEM;
    e->enc = enc;
    e->p = params ? *params : cm_embedder_default_params();
    *out = e;
    return CM_OK;
}
int cm_embed(cm_embedder *e, const char *const *texts, size_t n, cm_role role, const char *instruction,
             const char *label, float *out) {
    (void)label;
    int use = e->p.use_instructions < 0 ? cm_encoder_get_info(e->enc)->uses_instructions : e->p.use_instructions;
    return cm_encoder_encode(e->enc, texts, n, role, use ? instruction : NULL, out);
}
size_t cm_embedder_dim(const cm_embedder *e) { return cm_encoder_dim(e->enc); }
const cm_encoder_info *cm_embedder_info(const cm_embedder *e) { return cm_encoder_get_info(e->enc); }
cm_embedder_stats cm_embedder_get_stats(const cm_embedder *e) { return e->st; }
int cm_embedder_flush(cm_embedder *e) { (void)e; return CM_OK; }
void cm_embedder_free(cm_embedder *e) { free(e); }
