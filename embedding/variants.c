/*
 * variants.c: variants of one model sharing the backbone's forward pass
 * (see variants.h).
 *
 * A "model" is one loaded encoder per distinct pass (attention, max length,
 * templates); a group is a model and an instruction use, holding one pooling
 * per variant (slot). Each variant's encoder (cm_encoder_init_fn) serves
 * texts from the group's stash when a sibling's pass left them there, and
 * otherwise runs the group's pass on the rest (cm_encoder_encode_pools),
 * keeping its own pooling and handing the siblings theirs: into their
 * caches (cm_embedder_put), or into the stash when there is no cache. The
 * stash stores every text of the pass (also in one-variant groups), so a
 * text asked for twice in a task runs once whatever the grouping.
 */
#include "cmteb/variants.h"

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct group group;

typedef struct variant {
    char        *name;
    char        *spec;
    char        *pooling;        /* owned copy of the definition's */
    cm_encoder_params params;    /* the definition's, pooling pointing at the copy above */
    int          instructions;   /* -1 / 0 / 1 as defined, then resolved to 0/1 */
    group       *g;
    size_t       slot;           /* index of this variant's pooling in its group */
    char        *full_name;      /* <model>-<name> */
    char        *fingerprint;
    cm_encoder  *enc;
    cm_embedder *emb;
    size_t       distinct;       /* texts this variant alone would run, per task */
    size_t       from_siblings;  /* vectors a sibling's pass put into this variant's cache */
} variant;

typedef struct model {
    cm_encoder *enc;
    size_t      first;           /* the variant whose parameters loaded it */
} model;

struct group {
    model           *m;
    int              instructions;  /* 0/1: instruction use of every variant of the group */
    size_t           nv;            /* variants (poolings) in the group */
    cm_pool_params  *pools;         /* (nv) */
    variant        **members;       /* (nv) the variant of each slot */
    int              cached;        /* 1: siblings' vectors go to their caches; 0: to the stash */
    size_t           dim;
    size_t           forwarded;     /* texts run through the backbone */
    /* the stash: a 16-byte key of (role, instruction, text) -> row */
    cm_strmap       *index;
    float           *vecs;          /* (rows, nv, dim) */
    size_t           vecs_cap;      /* in floats */
    unsigned char   *seen;          /* (rows, nv): slot k asked for the row's text in this task */
    size_t           seen_cap;
    size_t           rows;
};

struct cm_variants {
    variant *v;
    size_t   nv;
    model   *models;
    size_t   n_models;
    group   *groups;
    size_t   n_groups;
    char    *cache_dir;
};

cm_variant_def cm_variant_default_def(void) {
    cm_variant_def d;
    memset(&d, 0, sizeof d);
    d.params = cm_encoder_default_params();
    d.instructions = -1;
    return d;
}

cm_variants_params cm_variants_default_params(void) {
    cm_variants_params p;
    memset(&p, 0, sizeof p);
    return p;
}

/* ---- the stash ------------------------------------------------------------ */

enum { KEY_LEN = 16 };

static void text_key(cm_role role, const char *instruction, const char *text, unsigned char key[KEY_LEN]) {
    const char *ins = instruction ? instruction : "";
    uint64_t a = cm_hash64(text, strlen(text), 0x9e3779b97f4a7c15ULL + (uint64_t)role);
    uint64_t b = cm_hash64(ins, strlen(ins), 0x3c6ef372fe94f82bULL);
    uint64_t k1 = a ^ (b * 0xff51afd7ed558ccdULL);
    uint64_t k2 = cm_hash64(text, strlen(text), b ^ (0xc4ceb9fe1a85ec53ULL + (uint64_t)role));
    memcpy(key, &k1, 8);
    memcpy(key + 8, &k2, 8);
}

static void stash_clear(group *g) {
    cm_strmap_free(g->index);
    free(g->vecs);
    free(g->seen);
    g->index = NULL;
    g->vecs = NULL;
    g->seen = NULL;
    g->vecs_cap = g->seen_cap = g->rows = 0;
}

/* 1 and *row when the stash holds the key, else 0. */
static int stash_find(const group *g, const unsigned char *key, size_t *row) {
    uint64_t r;
    if (!g->index || !cm_strmap_getn(g->index, (const char *)key, KEY_LEN, &r)) return 0;
    *row = (size_t)r;
    return 1;
}

/* Stores row r of every pooling's outs under key, asked for by slot. */
static int stash_put(group *g, const unsigned char *key, const float *const *outs, size_t r, size_t slot) {
    if (!g->index) {
        cm_strmap_params sp = cm_strmap_default_params();
        sp.copy_keys = 1;
        sp.expected = 1024;
        CM_TRY(cm_strmap_init(&g->index, &sp));
    }
    CM_TRY(cm_array_reserve(g->vecs, g->vecs_cap, (g->rows + 1) * g->nv * g->dim));
    CM_TRY(cm_array_reserve(g->seen, g->seen_cap, (g->rows + 1) * g->nv));
    int rc = cm_strmap_putn(g->index, (const char *)key, KEY_LEN, g->rows);
    if (rc < 0) return rc;
    for (size_t k = 0; k < g->nv; k++) {
        memcpy(g->vecs + (g->rows * g->nv + k) * g->dim, outs[k] + r * g->dim, g->dim * sizeof(float));
        g->seen[g->rows * g->nv + k] = k == slot;
    }
    g->rows++;
    return CM_OK;
}

/* ---- a variant's encoder ---------------------------------------------------- */

static int variant_encode(void *ctx, const char *const *texts, size_t n, cm_role role, const char *instruction,
                          float *out) {
    variant *v = ctx;
    group *g = v->g;
    size_t dim = g->dim, *miss = cm_malloc((n ? n : 1) * sizeof *miss), m = 0;
    if (!miss) return CM_ERR_NOMEM;
    unsigned char key[KEY_LEN];
    for (size_t i = 0; i < n; i++) {
        size_t row;
        text_key(role, instruction, texts[i] ? texts[i] : "", key);
        if (stash_find(g, key, &row)) {
            memcpy(out + i * dim, g->vecs + (row * g->nv + v->slot) * dim, dim * sizeof *out);
            if (!g->seen[row * g->nv + v->slot]) {
                g->seen[row * g->nv + v->slot] = 1;
                v->distinct++;
            }
        } else {
            miss[m++] = i;
        }
    }
    int rc = CM_OK;
    if (m) {
        const char **mt = cm_malloc(m * sizeof *mt);
        float **outs = cm_calloc(g->nv, sizeof *outs);
        rc = mt && outs ? CM_OK : CM_ERR_NOMEM;
        for (size_t k = 0; k < g->nv && !rc; k++)
            if (!(outs[k] = cm_malloc(m * dim * sizeof **outs))) rc = CM_ERR_NOMEM;
        for (size_t j = 0; j < m && !rc; j++) mt[j] = texts[miss[j]] ? texts[miss[j]] : "";
        /* One backbone pass, every pooling of the group. */
        if (!rc)
            rc = cm_encoder_encode_pools(g->m->enc, mt, m, role, instruction, g->pools, g->nv, (float *const *)outs);
        if (!rc) g->forwarded += m;
        for (size_t j = 0; j < m && !rc; j++) memcpy(out + miss[j] * dim, outs[v->slot] + j * dim, dim * sizeof *out);
        if (!rc && g->cached) v->distinct += m;
        /* Cached: each sibling's vectors into its cache (this variant's own
         * go there through its embedder). */
        for (size_t k = 0; k < g->nv && !rc && g->cached; k++) {
            variant *w = g->members[k];
            if (w == v) continue;
            for (size_t j = 0; j < m && rc >= 0; j++) {
                rc = cm_embedder_put(w->emb, role, instruction, mt[j], outs[k] + j * dim);
                if (rc > 0) w->from_siblings++;
            }
            if (rc > 0) rc = CM_OK;
        }
        /* No cache: every text into the stash. */
        for (size_t j = 0; j < m && !rc && !g->cached; j++) {
            size_t row;
            text_key(role, instruction, mt[j], key);
            if (stash_find(g, key, &row)) continue;   /* the same text twice in one call */
            rc = stash_put(g, key, (const float *const *)outs, j, v->slot);
            v->distinct++;
        }
        for (size_t k = 0; outs && k < g->nv; k++) free(outs[k]);
        free(outs);
        free(mt);
    }
    free(miss);
    return rc;
}

/* ---- the set ---------------------------------------------------------------- */

static int same_str(const char *a, const char *b) { return a == b || (a && b && !strcmp(a, b)); }

/* Variants a and b run the same forward pass. */
static int same_pass(const cm_encoder_params *a, const cm_encoder_params *b) {
    return same_str(a->attention, b->attention) && a->max_length == b->max_length && a->dim == b->dim &&
           same_str(a->dtype, b->dtype) &&
           same_str(a->query_template, b->query_template) && same_str(a->document_template, b->document_template);
}

static int load_model(model *m, const variant *v, const cm_variants_params *p) {
    cm_encoder_params ep = cm_encoder_default_params();
    ep.attention = v->params.attention;
    ep.max_length = v->params.max_length;
    ep.dim = v->params.dim;
    ep.query_template = v->params.query_template;
    ep.document_template = v->params.document_template;
    ep.model_name = p->model_name;
    ep.threads = p->threads;
    ep.batch_size = p->batch_size;
    ep.quiet = p->quiet;
    ep.device = p->device;
    ep.dtype = v->params.dtype ? v->params.dtype : p->dtype;   /* a variant's dtype=... over --dtype */
    return cm_encoder_init(&m->enc, p->model_spec, &ep);
}

/* The variant's encoder and embedder, named <model>-<name>. */
static int open_variant(cm_variants *vs, variant *v, const cm_variants_params *p) {
    const cm_encoder_info *base = cm_encoder_get_info(v->g->m->enc);
    /* Fingerprint: the model's and the variant's overrides (the cache key). */
    char *fp_src = cm_asprintf("%s|compare|%s", base->fingerprint, v->spec);
    char hex[17];
    if (!fp_src) return CM_ERR_NOMEM;
    cm_hex64(cm_hash64(fp_src, strlen(fp_src), 7), hex);
    free(fp_src);
    v->fingerprint = cm_strdup(hex);
    v->full_name = cm_asprintf("%s-%s", cm_variants_model_name(vs), v->name);
    if (!v->fingerprint || !v->full_name) return CM_ERR_NOMEM;
    v->instructions = v->g->instructions;   /* resolved, so the embedder does what the grouping assumed */
    cm_encoder_info info = *base;
    info.name = v->full_name;
    info.fingerprint = v->fingerprint;
    info.uses_instructions = v->instructions;
    CM_TRY(cm_encoder_init_fn(&v->enc, variant_encode, v, &info));
    cm_embedder_params mp = cm_embedder_default_params();
    mp.quiet = p->quiet;
    mp.use_instructions = v->instructions;
    mp.cache_dir = vs->cache_dir;
    if (p->batch_size > 0) mp.batch_size = p->batch_size;
    return cm_embedder_init(&v->emb, v->enc, &mp);
}

static int copy_def(variant *v, const cm_variant_def *d) {
    if (!d->name || !*d->name) return cm_error(CM_ERR_ARG, "a variant needs a name");
    CM_TRY(cm_pool_check(d->params.pooling));
    v->params = d->params;
    v->instructions = d->instructions;
    v->name = cm_strdup(d->name);
    v->spec = cm_strdup(d->spec ? d->spec : "");
    v->pooling = cm_strdup(d->params.pooling);
    if (!v->name || !v->spec || (d->params.pooling && !v->pooling)) return CM_ERR_NOMEM;
    v->params.pooling = v->pooling;
    return CM_OK;
}

int cm_variants_init(cm_variants **out, const cm_variant_def *defs, size_t n, const cm_variants_params *p) {
    *out = NULL;
    if (!n) return cm_error(CM_ERR_ARG, "no variant given");
    if (!p || !p->model_spec) return cm_error(CM_ERR_ARG, "variants: no model spec");
    cm_variants *vs = cm_calloc(1, sizeof *vs);
    if (!vs) return CM_ERR_NOMEM;
    int rc = CM_OK;
    vs->v = cm_calloc(n, sizeof *vs->v);
    vs->models = cm_calloc(n, sizeof *vs->models);
    vs->groups = cm_calloc(n, sizeof *vs->groups);
    if (!vs->v || !vs->models || !vs->groups) { rc = CM_ERR_NOMEM; goto fail; }
    for (size_t i = 0; i < n && !rc; i++, vs->nv++) {
        rc = copy_def(&vs->v[i], &defs[i]);
        for (size_t k = 0; k < i && !rc; k++)
            if (!strcmp(vs->v[k].name, vs->v[i].name))
                rc = cm_error(CM_ERR_ARG, "two variants are named '%s'", vs->v[i].name);
        if (rc) rc = cm_error_wrap(rc, "variant %s", defs[i].name ? defs[i].name : "(unnamed)");
    }
    if (rc) goto fail;
    if (p->cache_dir && !(vs->cache_dir = cm_strdup(p->cache_dir))) { rc = CM_ERR_NOMEM; goto fail; }

    /* Models: one per distinct pass; groups: per model and instruction use. */
    for (size_t i = 0; i < n; i++) {
        variant *v = &vs->v[i];
        model *m = NULL;
        for (size_t k = 0; k < vs->n_models && !m; k++)
            if (same_pass(&vs->v[vs->models[k].first].params, &v->params)) m = &vs->models[k];
        if (!m) {
            m = &vs->models[vs->n_models++];
            m->first = i;
            if ((rc = load_model(m, v, p))) goto fail;
        }
        /* Instruction use as it will be: the variant's, else the model's. */
        int instr = v->instructions >= 0 ? v->instructions : cm_encoder_get_info(m->enc)->uses_instructions ? 1 : 0;
        group *g = NULL;
        for (size_t k = 0; k < vs->n_groups && !g; k++)
            if (vs->groups[k].m == m && vs->groups[k].instructions == instr) g = &vs->groups[k];
        if (!g) {
            g = &vs->groups[vs->n_groups++];
            g->m = m;
            g->instructions = instr;
            g->dim = cm_encoder_dim(m->enc);
            g->cached = vs->cache_dir != NULL;
            if (!(g->pools = cm_calloc(n, sizeof *g->pools)) || !(g->members = cm_calloc(n, sizeof *g->members))) {
                rc = CM_ERR_NOMEM;
                goto fail;
            }
        }
        v->g = g;
        v->slot = g->nv;
        g->members[g->nv] = v;
        g->pools[g->nv].pooling = v->params.pooling;
        g->pools[g->nv].normalize = v->params.normalize;
        g->pools[g->nv++].pool_instruction = v->params.pool_instruction;
    }
    for (size_t i = 0; i < n; i++)
        if ((rc = open_variant(vs, &vs->v[i], p))) goto fail;
    *out = vs;
    return CM_OK;
fail:
    cm_variants_free(vs);
    return rc;
}

void cm_variants_free(cm_variants *vs) {
    if (!vs) return;
    for (size_t i = 0; i < vs->nv; i++) {   /* embedders flush into caches, encoders reference the groups */
        variant *v = &vs->v[i];
        cm_embedder_free(v->emb);
        cm_encoder_free(v->enc);
        free(v->name); free(v->spec); free(v->pooling); free(v->full_name); free(v->fingerprint);
    }
    for (size_t k = 0; k < vs->n_groups; k++) {
        stash_clear(&vs->groups[k]);
        free(vs->groups[k].pools);
        free(vs->groups[k].members);
    }
    for (size_t k = 0; k < vs->n_models; k++) cm_encoder_free(vs->models[k].enc);
    free(vs->v); free(vs->models); free(vs->groups); free(vs->cache_dir);
    free(vs);
}

size_t cm_variants_count(const cm_variants *vs) { return vs->nv; }

const char *cm_variants_model_name(const cm_variants *vs) { return cm_encoder_get_info(vs->models[0].enc)->name; }

const char *cm_variants_name(const cm_variants *vs, size_t i) { return vs->v[i].name; }

size_t cm_variants_group(const cm_variants *vs, size_t i) { return (size_t)(vs->v[i].g - vs->groups); }

cm_embedder *cm_variants_embedder(cm_variants *vs, size_t i) { return vs->v[i].emb; }

int cm_variants_ready(cm_variants *vs, size_t i) { return cm_embedder_flush(vs->v[i].emb); }

void cm_variants_end_task(cm_variants *vs) {
    for (size_t k = 0; k < vs->n_groups; k++) stash_clear(&vs->groups[k]);
}

cm_variants_stats cm_variants_get_stats(const cm_variants *vs) {
    cm_variants_stats s = {.n_groups = vs->n_groups, .n_models = vs->n_models};
    for (size_t i = 0; i < vs->nv; i++) s.separate += vs->v[i].distinct + vs->v[i].from_siblings;
    for (size_t k = 0; k < vs->n_groups; k++) s.forwarded += vs->groups[k].forwarded;
    return s;
}
