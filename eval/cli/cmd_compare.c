/*
 * cmd_compare.c: `cmteb compare`, several variants of one hf: model in one
 * run (pooling, attention, instructions on/off, instruction tokens pooled or
 * not, normalisation, max length), each written as its own model in the
 * normal results layout, then a comparison report (markdown, HTML, JSON)
 * with paired-bootstrap significance against the first variant.
 *
 * Sharing forward passes: variants whose inputs are the same (same attention
 * mask, max length and instruction use) form a group around one loaded
 * model. Each variant is an encoder over a "variant backend"; when one of a
 * group's variants asks for texts that no variant has seen yet, the backbone
 * runs once on them (cm_hf_encode_multi) and every pooling of the group is
 * applied to the same hidden states. The other variants' vectors go straight
 * into their own embedding caches (cm_embedder_put; on disk, flushed as a
 * normal run flushes), where their embedders find them on their turn, so
 * memory does not grow with the corpus or the number of variants, and an
 * interrupted compare resumes inside a task. With --no-cache they wait in
 * the group's in-memory stash instead, keyed by (role, instruction, text);
 * tasks run one at a time, all variants per task, and the stash is emptied
 * after each task, so it holds at most one task's texts x variants.
 */
#include "eval/cli/cli.h"
#include "cmteb/interrupt.h"
#include "eval/run.h"
#include "engine/backend.h"
#include "engine/hf/hf_model.h"
#include "cmteb/report.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/results.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f) {
    fprintf(f,
        "usage: cmteb compare --model hf:PATH --variant NAME:KEY=VALUE[,KEY=VALUE...] ...\n"
        "                     (--tasks A,B | --benchmark NAME | --task-file FILE ...) [options]\n"
        "\n"
        "Evaluates several variants of one model in one run. Each variant's results are written\n"
        "as model <model>-<NAME> in the normal layout (cmteb report reads them); the comparison\n"
        "(each variant's scores, its difference to the first variant, paired-bootstrap\n"
        "significance) goes to OUTPUT/comparisons/<model>/comparison.{md,html,json}.\n"
        "Variants that share a forward pass (same attention, max_length and instruction use)\n"
        "share it: the backbone runs once per text and every pooling reads the same hidden\n"
        "states. The run prints how many forward passes that saved.\n"
        "\n"
        "variant keys:\n"
        "  pooling=cls|mean|last|weightedmean|max|mean_sqrt_len|latent   attention=bidirectional|causal\n"
        "  instructions=on|off        pass the task instruction (default: as the model says)\n"
        "  pool_instruction=on|off    instruction tokens inside the pooled mean or left out\n"
        "  normalize=on|off           L2-normalise   max_length=N\n"
        "  example: --variant mean:pooling=mean --variant lastcausal:pooling=last,attention=causal\n"
        "\n"
        "  --model hf:PATH        the model folder (hf: models only)\n"
        "  --model-name ORG/NAME  base name of the results (default: from the model)\n"
        "  --tasks A,B | --benchmark NAME | --task-file FILE (repeatable)\n"
        "  --data-dir DIR         hub downloads (default: data)   --output DIR (default: results)\n"
        "  --overwrite            re-evaluate tasks whose result exists\n"
        "  --cache-dir DIR        embedding cache, one per variant (default: OUTPUT/.cache)\n"
        "  --no-cache             keep shared vectors in memory instead (one task's texts x variants)\n"
        "  --threads N  --batch-size N  --quiet\n"
        "  --resamples N  --seed N  --alpha P   bootstrap (default 1000, 42, 0.05)\n");
}

/* ---- variants --------------------------------------------------------------- */

typedef struct variant {
    char        *name;
    char        *spec;              /* the KEY=VALUE text, for provenance */
    cm_pool_spec pool;              /* kind DEFAULT / exclude_instr -1 / normalize -1: the model's */
    const char  *attention;         /* NULL, "bidirectional" or "causal" */
    int          instructions;      /* -1 model, 0 off, 1 on (resolved to 0/1 once the model is loaded) */
    int          max_length;        /* 0: model */
    /* run state */
    struct group *g;
    size_t       slot;              /* index of this variant's pooling in its group */
    char        *full_name;         /* <model>-<name> */
    char        *fingerprint;
    cm_encoder  *enc;
    cm_embedder *emb;
    char        *model_dir;
    size_t       requested;         /* texts that reached the backend */
    size_t       distinct;          /* of those, distinct per task: what this variant alone would run */
    size_t       from_siblings;     /* vectors a sibling's pass put into this variant's cache */
} variant;

static int parse_onoff(const char *k, const char *v, int *out) {
    if (!strcasecmp(v, "on") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1") ||
        !strcasecmp(v, "pooled"))
        *out = 1;
    else if (!strcasecmp(v, "off") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0") ||
             !strcasecmp(v, "excluded"))
        *out = 0;
    else
        return cm_error(CM_ERR_ARG, "variant key '%s' expects on or off, got '%s'", k, v);
    return CM_OK;
}

/* "NAME:KEY=VALUE,KEY=VALUE" or "NAME". */
static int parse_variant(const char *arg, variant *v) {
    memset(v, 0, sizeof *v);
    v->pool.kind = CM_POOL_DEFAULT;
    v->pool.exclude_instr = -1;
    v->pool.normalize = -1;
    v->instructions = -1;
    const char *colon = strchr(arg, ':');
    size_t nl = colon ? (size_t)(colon - arg) : strlen(arg);
    if (!nl) return cm_error(CM_ERR_ARG, "--variant '%s': expected NAME:KEY=VALUE[,KEY=VALUE...]", arg);
    for (size_t i = 0; i < nl; i++)
        if (!(isalnum((unsigned char)arg[i]) || arg[i] == '-' || arg[i] == '_' || arg[i] == '.'))
            return cm_error(CM_ERR_ARG, "--variant '%s': the name may hold letters, digits, '-', '_' and '.'", arg);
    if (!(v->name = cm_strndup(arg, nl)) || !(v->spec = cm_strdup(colon ? colon + 1 : ""))) return CM_ERR_NOMEM;
    char *copy = cm_strdup(v->spec), *save = NULL;
    if (!copy) return CM_ERR_NOMEM;
    int rc = CM_OK;
    for (char *kv = strtok_r(copy, ",", &save); kv && !rc; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) { rc = cm_error(CM_ERR_ARG, "--variant %s: '%s' is not KEY=VALUE", v->name, kv); break; }
        *eq = '\0';
        const char *k = kv, *val = eq + 1;
        if (!strcmp(k, "pooling")) {
            rc = cm_pool_parse(val, &v->pool.kind);
        } else if (!strcmp(k, "attention")) {
            if (!strcmp(val, "causal")) v->attention = "causal";
            else if (!strcmp(val, "bidirectional")) v->attention = "bidirectional";
            else rc = cm_error(CM_ERR_ARG, "--variant %s: attention expects causal or bidirectional, got '%s'", v->name, val);
        } else if (!strcmp(k, "instructions") || !strcmp(k, "instruction")) {
            rc = parse_onoff(k, val, &v->instructions);
        } else if (!strcmp(k, "pool_instruction") || !strcmp(k, "instruction_tokens")) {
            int on;
            if (!(rc = parse_onoff(k, val, &on))) v->pool.exclude_instr = on ? 0 : 1;
        } else if (!strcmp(k, "normalize")) {
            rc = parse_onoff(k, val, &v->pool.normalize);
        } else if (!strcmp(k, "max_length")) {
            char *end;
            long x = strtol(val, &end, 10);
            if (*end || x <= 0 || x > 1 << 20) rc = cm_error(CM_ERR_ARG, "--variant %s: max_length expects a positive integer", v->name);
            else v->max_length = (int)x;
        } else {
            rc = cm_error(CM_ERR_ARG, "--variant %s: unknown key '%s' (expected pooling, attention, instructions, "
                          "pool_instruction, normalize, max_length)", v->name, k);
        }
    }
    free(copy);
    if (rc) return cm_error_wrap(rc, "--variant %s", arg);
    return CM_OK;
}

static void variant_clear(variant *v) {
    cm_embedder_free(v->emb);
    cm_encoder_free(v->enc);   /* releases the backend state (a vstate), not the group */
    free(v->name); free(v->spec); free(v->full_name); free(v->fingerprint); free(v->model_dir);
}

/* ---- groups: one loaded model, one stash ------------------------------------- */

typedef struct stash_entry {
    uint64_t k1, k2;
    size_t   row;
    uint64_t seen;   /* bit k: variant slot k asked for this text in this task */
} stash_entry;

typedef struct shared_model {
    cm_hf_model *m;
    const char  *attention;
    int          max_length;
    int          refs;
} shared_model;

typedef struct group {
    shared_model *sm;
    int           instructions; /* 0/1: instruction use of every variant of the group */
    size_t        nv;           /* variants (poolings) in the group */
    cm_pool_spec *pools;        /* (nv) */
    struct variant **members;   /* (nv) the variant of each pooling slot */
    int           cached;       /* 1: siblings' vectors go to their caches; 0: to the stash */
    size_t        dim;
    /* stash: rows of nv vectors each */
    stash_entry  *tab;          /* open addressing, cap slots */
    size_t        cap, used;
    float        *vecs;         /* (rows, nv, dim) */
    size_t        rows, rows_cap;
    size_t        forwarded;    /* texts run through the backbone */
} group;

/* Variants per group are at most 64 (one bit each in stash_entry.seen). */
#define MAX_VARIANTS 64

static void stash_clear(group *g) {
    free(g->tab);
    free(g->vecs);
    g->tab = NULL;
    g->vecs = NULL;
    g->cap = g->used = g->rows = g->rows_cap = 0;
}

static void text_key(cm_role role, const char *instruction, const char *text, uint64_t *k1, uint64_t *k2) {
    const char *ins = instruction ? instruction : "";
    uint64_t a = cm_hash64(text, strlen(text), 0x9e3779b97f4a7c15ULL + (uint64_t)role);
    uint64_t b = cm_hash64(ins, strlen(ins), 0x3c6ef372fe94f82bULL);
    *k1 = a ^ (b * 0xff51afd7ed558ccdULL);
    *k2 = cm_hash64(text, strlen(text), b ^ (0xc4ceb9fe1a85ec53ULL + (uint64_t)role));
}

static stash_entry *stash_find(group *g, uint64_t k1, uint64_t k2) {
    if (!g->cap) return NULL;
    for (size_t i = (size_t)k1 & (g->cap - 1);; i = (i + 1) & (g->cap - 1)) {
        stash_entry *e = &g->tab[i];
        if (e->row == (size_t)-1) return NULL;
        if (e->k1 == k1 && e->k2 == k2) return e;
    }
}

static int stash_put(group *g, uint64_t k1, uint64_t k2, const float *const *outs, size_t r, uint64_t seen) {
    if ((g->used + 1) * 2 > g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 1024;
        stash_entry *nt = cm_malloc(cap * sizeof *nt);
        if (!nt) return CM_ERR_NOMEM;
        for (size_t i = 0; i < cap; i++) nt[i].row = (size_t)-1;
        for (size_t i = 0; i < g->cap; i++) {
            if (g->tab[i].row == (size_t)-1) continue;
            size_t j = (size_t)g->tab[i].k1 & (cap - 1);
            while (nt[j].row != (size_t)-1) j = (j + 1) & (cap - 1);
            nt[j] = g->tab[i];
        }
        free(g->tab);
        g->tab = nt;
        g->cap = cap;
    }
    if (g->rows == g->rows_cap) {
        size_t rc = g->rows_cap ? g->rows_cap * 2 : 256;
        float *nv = cm_realloc(g->vecs, rc * g->nv * g->dim * sizeof *nv);
        if (!nv) return CM_ERR_NOMEM;
        g->vecs = nv;
        g->rows_cap = rc;
    }
    for (size_t k = 0; k < g->nv; k++)
        memcpy(g->vecs + (g->rows * g->nv + k) * g->dim, outs[k] + r * g->dim, g->dim * sizeof(float));
    size_t j = (size_t)k1 & (g->cap - 1);
    while (g->tab[j].row != (size_t)-1) j = (j + 1) & (g->cap - 1);
    g->tab[j].k1 = k1;
    g->tab[j].k2 = k2;
    g->tab[j].row = g->rows++;
    g->tab[j].seen = seen;
    g->used++;
    return CM_OK;
}

/* ---- the variant backend ------------------------------------------------------- */

static int vb_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    (void)state; (void)arg; (void)params; (void)info;
    return cm_error(CM_ERR_INTERNAL, "the compare variant backend is created by cmteb compare only");
}

static int vb_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                     float *out) {
    variant *v = state;
    group *g = v->g;
    size_t dim = g->dim, *miss = cm_malloc((n ? n : 1) * sizeof *miss), m = 0;
    if (!miss) return CM_ERR_NOMEM;
    v->requested += n;
    for (size_t i = 0; i < n; i++) {
        uint64_t k1, k2;
        text_key(role, instruction, texts[i] ? texts[i] : "", &k1, &k2);
        stash_entry *e = stash_find(g, k1, k2);
        if (e) {
            memcpy(out + i * dim, g->vecs + (e->row * g->nv + v->slot) * dim, dim * sizeof *out);
            if (!(e->seen & ((uint64_t)1 << v->slot))) {
                e->seen |= (uint64_t)1 << v->slot;
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
        if (!rc) rc = cm_hf_encode_multi(g->sm->m, mt, m, role, instruction, g->pools, g->nv, (float *const *)outs);
        if (!rc) g->forwarded += m;
        for (size_t j = 0; j < m && !rc; j++) memcpy(out + miss[j] * dim, outs[v->slot] + j * dim, dim * sizeof *out);
        if (!rc && g->cached) v->distinct += m;
        /* Cached: each sibling's vectors into its cache (this variant's own go
         * there through its embedder). */
        for (size_t k = 0; k < g->nv && !rc && g->cached; k++) {
            variant *w = g->members[k];
            if (w == v) continue;
            for (size_t j = 0; j < m && rc >= 0; j++) {
                rc = cm_embedder_put(w->emb, role, instruction, mt[j], outs[k] + j * dim);
                if (rc > 0) w->from_siblings++;
            }
            if (rc > 0) rc = CM_OK;
        }
        /* Stash: every text (also for one-variant groups), so a text asked
         * for twice in a task runs once whatever the grouping. */
        for (size_t j = 0; j < m && !rc && !g->cached; j++) {
            uint64_t k1, k2;
            text_key(role, instruction, mt[j], &k1, &k2);
            stash_entry *e = stash_find(g, k1, k2);
            if (e) continue;   /* the same text twice in one call */
            rc = stash_put(g, k1, k2, (const float *const *)outs, j, (uint64_t)1 << v->slot);
            v->distinct++;
        }
        for (size_t k = 0; outs && k < g->nv; k++) free(outs[k]);
        free(outs);
        free(mt);
    }
    free(miss);
    return rc;
}

static void vb_free(void *state) { (void)state; /* variants are owned by cmd_compare */ }

static const cm_backend_i variant_backend = {
    "variant", "variant     a pooling variant of a shared hf model (cmteb compare)", vb_init, vb_encode, vb_free,
};

/* ---- the command ---------------------------------------------------------------- */

static int add_task(const cm_task ***v, size_t *n, const cm_task *t) {
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i] == t) return CM_OK;
    const cm_task **nv = cm_realloc((void *)*v, (*n + 1) * sizeof *nv);
    if (!nv) return CM_ERR_NOMEM;
    nv[(*n)++] = t;
    *v = nv;
    return CM_OK;
}

typedef struct compare_opts {
    const char *model, *model_name, *tasks, *bench, *data_dir, *output, *cache_dir;
    const char *task_files[64];
    int n_task_files, threads, batch_size, quiet, overwrite, no_cache;
    cm_bootstrap_params bp;
    double alpha;
} compare_opts;

static int run_compare(const compare_opts *o, variant *vs, size_t nv) {
    int rc = CM_OK;
    cm_catalog *cat = NULL;
    const cm_task **sel = NULL, **list = NULL;
    size_t n_sel = 0, n_list = 0, n_models = 0, n_groups = 0;
    shared_model *models = cm_calloc(nv, sizeof *models);
    group *groups = cm_calloc(nv, sizeof *groups);
    char *base = NULL, *revision = NULL, *cmp_dir = NULL, *cache_dir = NULL;
    cm_report *rep = NULL;
    cm_str md = {0}, html = {0}, js = {0};
    cJSON *settings = NULL;
    if (!models || !groups) { rc = CM_ERR_NOMEM; goto done; }

    /* Tasks. */
    if ((rc = cm_catalog_init(&cat))) goto done;
    size_t before = cm_catalog_count(cat);
    for (int i = 0; i < o->n_task_files && !rc; i++) rc = cm_catalog_add_file(cat, o->task_files[i]);
    if (rc) goto done;
    if (o->tasks) {
        char *copy = cm_strdup(o->tasks), *save = NULL;
        if (!copy) { rc = CM_ERR_NOMEM; goto done; }
        for (char *tok = strtok_r(copy, ",", &save); tok && !rc; tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            if (!*tok) continue;
            const cm_task *t = cm_catalog_find(cat, tok);
            rc = t ? add_task(&sel, &n_sel, t) : cm_error(CM_ERR_NOTFOUND, "unknown task '%s' (see cmteb list)", tok);
        }
        free(copy);
        if (rc) goto done;
    }
    if (o->bench) {
        if ((rc = cm_catalog_benchmark(cat, o->bench, &list, &n_list))) goto done;
        for (size_t i = 0; i < n_list && !rc; i++) rc = add_task(&sel, &n_sel, list[i]);
        if (rc) goto done;
    }
    if (!o->tasks && !o->bench)
        for (size_t i = before; i < cm_catalog_count(cat) && !rc; i++) rc = add_task(&sel, &n_sel, cm_catalog_get(cat, i));
    if (rc) goto done;
    if (!n_sel) { rc = cm_error(CM_ERR_NOTFOUND, "no task selected"); goto done; }

    /* Models: one per (attention, max_length); groups: per model and instruction use. */
    const char *path = o->model + 3;
    if (!(base = o->model_name ? cm_strdup(o->model_name) : cm_hf_folder_model_name(path))) { rc = CM_ERR_NOMEM; goto done; }
    revision = cm_hf_folder_revision(path);
    for (size_t i = 0; i < nv; i++) {
        variant *v = &vs[i];
        shared_model *sm = NULL;
        for (size_t k = 0; k < n_models && !sm; k++)
            if ((models[k].attention == v->attention ||
                 (models[k].attention && v->attention && !strcmp(models[k].attention, v->attention))) &&
                models[k].max_length == v->max_length)
                sm = &models[k];
        if (!sm) {
            sm = &models[n_models++];
            sm->attention = v->attention;
            sm->max_length = v->max_length;
            cm_encoder_params ep = cm_encoder_default_params();
            ep.attention = v->attention;
            ep.max_length = v->max_length;
            ep.threads = o->threads;
            ep.batch_size = o->batch_size;
            ep.quiet = o->quiet;
            if ((rc = cm_hf_model_load(&sm->m, path, &ep, 1))) goto done;
        }
        /* Instruction use as it will be: the variant's, else the model's (a template in the folder). */
        const cm_hf_settings *set = cm_hf_model_settings(sm->m);
        int instr = v->instructions >= 0 ? v->instructions : (set->query_template || set->document_template) ? 1 : 0;
        group *g = NULL;
        for (size_t k = 0; k < n_groups && !g; k++)
            if (groups[k].sm == sm && groups[k].instructions == instr) g = &groups[k];
        if (!g) {
            g = &groups[n_groups++];
            g->sm = sm;
            g->instructions = instr;
            g->dim = (size_t)cm_hf_model_config(sm->m)->out_dim;
            g->cached = !o->no_cache;
            if (!(g->pools = cm_calloc(nv, sizeof *g->pools)) || !(g->members = cm_calloc(nv, sizeof *g->members))) {
                rc = CM_ERR_NOMEM;
                goto done;
            }
        }
        v->g = g;
        v->slot = g->nv;
        g->members[g->nv] = v;
        g->pools[g->nv++] = v->pool;
        sm->refs++;
    }

    /* One encoder, embedder (with its own cache) and results folder per variant. */
    if (!o->no_cache && !(cache_dir = o->cache_dir ? cm_strdup(o->cache_dir) : cm_path_join(o->output, ".cache"))) {
        rc = CM_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nv; i++) {
        variant *v = &vs[i];
        const cm_hf_settings *set = cm_hf_model_settings(v->g->sm->m);
        char *fp_src = cm_asprintf("%s|compare|%s", cm_hf_model_fingerprint(v->g->sm->m), v->spec);
        char hex[17];
        if (!fp_src) { rc = CM_ERR_NOMEM; goto done; }
        cm_hex64(cm_hash64(fp_src, strlen(fp_src), 7), hex);
        free(fp_src);
        v->fingerprint = cm_strdup(hex);
        v->full_name = cm_asprintf("%s-%s", base, v->name);
        if (!v->fingerprint || !v->full_name) { rc = CM_ERR_NOMEM; goto done; }
        v->instructions = v->g->instructions;   /* resolved, so the embedder does what the grouping assumed */
        int64_t np = -1, bytes = -1;
        cm_hf_model_arch(v->g->sm->m)->footprint(cm_hf_model_config(v->g->sm->m), &np, &bytes);
        cm_encoder_info info = {0};
        info.name = v->full_name;
        info.revision = revision ? revision : "no_revision_available";
        info.loader = "hf";
        info.fingerprint = v->fingerprint;
        info.dim = v->g->dim;
        info.max_tokens = (int64_t)set->max_length;
        info.n_parameters = np;
        info.uses_instructions = v->instructions;
        if ((rc = cm_encoder_init_backend(&v->enc, &variant_backend, v, &info))) goto done;
        cm_embedder_params mp = cm_embedder_default_params();
        mp.quiet = o->quiet;
        mp.use_instructions = v->instructions;
        mp.cache_dir = cache_dir;
        if (o->batch_size > 0) mp.batch_size = o->batch_size;
        if ((rc = cm_embedder_init(&v->emb, v->enc, &mp))) goto done;
        if (!(v->model_dir = cm_results_model_dir(o->output, v->full_name, info.revision))) { rc = CM_ERR_NOMEM; goto done; }
    }
    if (!o->quiet) {
        fprintf(stderr, "compare: %zu variants of %s in %zu forward-pass group%s (%zu model load%s)\n", nv, base,
                n_groups, n_groups == 1 ? "" : "s", n_models, n_models == 1 ? "" : "s");
        for (size_t k = 0; k < n_groups; k++) {
            fprintf(stderr, "  group %zu:", k + 1);
            for (size_t i = 0; i < nv; i++)
                if (vs[i].g == &groups[k]) fprintf(stderr, " %s", vs[i].name);
            fprintf(stderr, "\n");
        }
    }

    /* Run: task by task, every variant; the stash holds one task's texts. */
    cm_interrupt_install();
    size_t failed = 0;
    int interrupted = 0;
    for (size_t t = 0; t < n_sel && !interrupted; t++) {
        for (size_t i = 0; i < nv && !interrupted; i++) {
            variant *v = &vs[i];
            cm_run_params rp = cm_run_default_params();
            rp.data_dir = o->data_dir;
            rp.output_dir = o->output;
            rp.model_spec = o->model;
            rp.model_dir = v->model_dir;
            rp.threads = o->threads;
            rp.batch_size = o->batch_size;
            rp.quiet = o->quiet;
            rp.overwrite = o->overwrite;
            settings = cJSON_CreateObject();
            cJSON_AddStringToObject(settings, "compare_variant", v->name);
            cJSON_AddStringToObject(settings, "variant_spec", v->spec);
            rp.settings = settings;
            cm_run_summary sum = {0};
            if ((rc = cm_embedder_flush(v->emb))) goto done;   /* siblings' vectors become visible */
            rc = cm_run_tasks(v->emb, &sel[t], 1, &rp, &sum);
            if (!rc) {
                failed += sum.n_failed;
                interrupted = sum.interrupted;
                if (!o->quiet && sum.n && !sum.results[0].status)
                    fprintf(stderr, "  %s / %s: %.2f\n", sel[t]->name, v->name, 100.0 * sum.results[0].main_score);
            }
            cm_run_summary_free(&sum);
            cJSON_Delete(settings);
            settings = NULL;
            if (rc) goto done;
        }
        for (size_t k = 0; k < n_groups; k++) stash_clear(&groups[k]);
    }

    /* Forward passes saved. */
    size_t separate = 0, forwarded = 0;
    for (size_t i = 0; i < nv; i++) separate += vs[i].distinct + vs[i].from_siblings;
    for (size_t k = 0; k < n_groups; k++) forwarded += groups[k].forwarded;
    printf("Forward passes: %zu texts through the backbone; the %zu variants run separately would need %zu: "
           "%zu saved by sharing (%zu forward-pass group%s)\n\n", forwarded, nv, separate, separate - forwarded,
           n_groups, n_groups == 1 ? "" : "s");

    /* The comparison report, baseline = the first variant. */
    cm_model_results **res = cm_calloc(nv, sizeof *res);
    if (!res) { rc = CM_ERR_NOMEM; goto done; }
    for (size_t i = 0; i < nv && !rc; i++) {
        if ((rc = cm_model_results_load(&res[i], vs[i].model_dir, cat))) break;
        free(res[i]->label);
        if (!(res[i]->label = cm_strdup(vs[i].name))) rc = CM_ERR_NOMEM;
    }
    if (rc) {
        for (size_t i = 0; i < nv; i++) cm_model_results_free(res[i]);
        free(res);
        goto done;
    }
    const char **names = cm_calloc(n_sel, sizeof *names);
    if (!names) {
        for (size_t i = 0; i < nv; i++) cm_model_results_free(res[i]);
        free(res);
        rc = CM_ERR_NOMEM;
        goto done;
    }
    for (size_t t = 0; t < n_sel; t++) names[t] = sel[t]->name;
    cm_report_params p = cm_report_default_params();
    p.tasks = names;
    p.n_tasks = n_sel;
    p.label_revisions = 0;
    rc = cm_report_build_from(&rep, cat, res, nv, &p);
    free(res);
    free(names);
    if (rc) goto done;
    free(rep->title);
    if (!(rep->title = cm_asprintf("%s: %zu variants", base, nv))) { rc = CM_ERR_NOMEM; goto done; }
    if ((rc = cm_report_compare(rep, &o->bp, o->alpha))) goto done;
    if ((rc = cm_report_render_md(rep, &md)) || (rc = cm_report_render_html(rep, &html)) ||
        (rc = cm_report_render_json(rep, &js)))
        goto done;
    char *safe = cm_results_model_dir("comparisons", base, "x");   /* comparisons/<org>__<model>/x */
    char *dir = safe ? cm_path_dirname(safe) : NULL;
    free(safe);
    cmp_dir = dir ? cm_path_join(o->output, dir) : NULL;
    free(dir);
    if (!cmp_dir) { rc = CM_ERR_NOMEM; goto done; }
    if ((rc = cm_mkdir_p(cmp_dir))) goto done;
    const struct { const char *file; cm_str *s; } outs[] = {{"comparison.md", &md}, {"comparison.html", &html},
                                                            {"comparison.json", &js}};
    for (size_t k = 0; k < 3 && !rc; k++) {
        char *f = cm_path_join(cmp_dir, outs[k].file);
        rc = f ? cm_write_file_atomic(f, outs[k].s->s, outs[k].s->len) : CM_ERR_NOMEM;
        free(f);
    }
    if (rc) goto done;
    fwrite(md.s, 1, md.len, stdout);
    printf("Written: %s/comparison.{md,html,json}\n", cmp_dir);
    for (size_t i = 0; i < nv; i++) printf("Variant %s: %s\n", vs[i].name, vs[i].model_dir);
    if (failed) rc = cm_error(CM_ERR_INTERNAL, "%zu task evaluation%s failed (see above)", failed, failed == 1 ? "" : "s");
    if (interrupted) rc = cm_error(CM_ERR_INTERRUPTED, "interrupted; run the same command again to resume");
done:
    cJSON_Delete(settings);
    cm_str_free(&md); cm_str_free(&html); cm_str_free(&js);
    cm_report_free(rep);
    for (size_t i = 0; i < nv; i++) {   /* encoders reference the groups: free them first */
        cm_embedder_free(vs[i].emb);
        vs[i].emb = NULL;
        cm_encoder_free(vs[i].enc);
        vs[i].enc = NULL;
    }
    for (size_t k = 0; groups && k < n_groups; k++) {
        stash_clear(&groups[k]);
        free(groups[k].pools);
        free(groups[k].members);
    }
    for (size_t k = 0; models && k < n_models; k++) cm_hf_model_free(models[k].m);
    free(groups); free(models);
    free(base); free(revision); free(cmp_dir); free(cache_dir);
    free((void *)sel); free((void *)list);
    cm_catalog_free(cat);
    return rc;
}

int cm_cmd_compare(int argc, char **argv) {
    compare_opts o;
    memset(&o, 0, sizeof o);
    o.data_dir = getenv("CMTEB_DATA_DIR") ? getenv("CMTEB_DATA_DIR") : "data";
    o.output = "results";
    o.bp = cm_bootstrap_default_params();
    o.alpha = 0.05;
    variant *vs = cm_calloc((size_t)argc + 1, sizeof *vs);
    size_t nv = 0;
    int bad = 0, code = 2;
    if (!vs) return cm_cli_fail("compare", NULL);
    for (int i = 1; i < argc && !bad; i++) {
        const char *v = NULL;
        char msg[400];
        if (cm_opt_flag(argv, i, "--help") || cm_opt_flag(argv, i, "-h")) { usage(stdout); code = 0; goto out; }
        else if (cm_opt_value(argc, argv, &i, "--model", &o.model, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--model-name", &o.model_name, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--tasks", &o.tasks, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--benchmark", &o.bench, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--task-file", &v, &bad)) {
            if (v && o.n_task_files < 64) o.task_files[o.n_task_files++] = v;
        }
        else if (cm_opt_value(argc, argv, &i, "--data-dir", &o.data_dir, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--output", &o.output, &bad)) {}
        else if (cm_opt_flag(argv, i, "--overwrite")) o.overwrite = 1;
        else if (cm_opt_value(argc, argv, &i, "--cache-dir", &o.cache_dir, &bad)) {}
        else if (cm_opt_flag(argv, i, "--no-cache")) o.no_cache = 1;
        else if (cm_opt_flag(argv, i, "--quiet") || cm_opt_flag(argv, i, "-q")) o.quiet = 1;
        else if (cm_opt_value(argc, argv, &i, "--variant", &v, &bad)) {
            if (!v) continue;
            if (parse_variant(v, &vs[nv])) {
                variant_clear(&vs[nv]);
                code = cm_cli_usage_error("compare", cm_last_error());
                goto out;
            }
            for (size_t k = 0; k < nv; k++)
                if (!strcmp(vs[k].name, vs[nv].name)) {
                    snprintf(msg, sizeof msg, "two variants are named '%s'", vs[nv].name);
                    variant_clear(&vs[nv]);
                    code = cm_cli_usage_error("compare", msg);
                    goto out;
                }
            nv++;
        }
        else if (cm_opt_value(argc, argv, &i, "--threads", &v, &bad)) {
            long x = v ? cm_opt_long("--threads", v) : -1;
            if (x < 0) goto out;
            o.threads = (int)x;
        }
        else if (cm_opt_value(argc, argv, &i, "--batch-size", &v, &bad)) {
            long x = v ? cm_opt_long("--batch-size", v) : -1;
            if (x <= 0) { code = cm_cli_usage_error("compare", "--batch-size expects a positive integer"); goto out; }
            o.batch_size = (int)x;
        }
        else if (cm_opt_value(argc, argv, &i, "--resamples", &v, &bad)) {
            long x = v ? cm_opt_long("--resamples", v) : -1;
            if (x <= 0) { code = cm_cli_usage_error("compare", "--resamples expects a positive integer"); goto out; }
            o.bp.resamples = (size_t)x;
        }
        else if (cm_opt_value(argc, argv, &i, "--seed", &v, &bad)) {
            long x = v ? cm_opt_long("--seed", v) : -1;
            if (x < 0) goto out;
            o.bp.seed = (uint64_t)x;
        }
        else if (cm_opt_value(argc, argv, &i, "--alpha", &v, &bad)) {
            char *end;
            o.alpha = v ? strtod(v, &end) : 0;
            if (!v || *end || !(o.alpha > 0 && o.alpha < 1)) { code = cm_cli_usage_error("compare", "--alpha expects a number in (0, 1)"); goto out; }
        }
        else {
            snprintf(msg, sizeof msg, "unknown option '%s'", argv[i]);
            code = cm_cli_usage_error("compare", msg);
            goto out;
        }
    }
    if (bad) goto out;
    if (!o.model || strncmp(o.model, "hf:", 3) || !o.model[3]) {
        code = cm_cli_usage_error("compare", "give --model hf:PATH (compare varies the native engine's pooling, "
                                             "attention and inputs)");
        goto out;
    }
    if (nv < 2) { code = cm_cli_usage_error("compare", "give at least two --variant NAME:KEY=VALUE,..."); goto out; }
    if (nv > MAX_VARIANTS) { code = cm_cli_usage_error("compare", "at most 64 variants"); goto out; }
    if (!o.tasks && !o.bench && !o.n_task_files) {
        code = cm_cli_usage_error("compare", "say which tasks: --tasks A,B, --benchmark NAME or --task-file FILE");
        goto out;
    }
    int rc = run_compare(&o, vs, nv);
    code = rc ? cm_cli_fail("compare", rc == CM_ERR_NOTFOUND ? "see 'cmteb list' for tasks and whether their data is present" : NULL) : 0;
    if (rc == CM_ERR_INTERRUPTED) code = 130;
out:
    for (size_t k = 0; k < nv; k++) variant_clear(&vs[k]);
    free(vs);
    return code;
}
