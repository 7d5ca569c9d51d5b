/*
 * cmd_compare.c: `cmteb compare`, several variants of one hf: model in one
 * run (pooling, attention, instructions on/off, instruction tokens pooled or
 * not, normalisation, max length), each written as its own model in the
 * normal results layout, then a comparison report (markdown, HTML, JSON)
 * with paired-bootstrap significance against the first variant.
 *
 * The variants share the backbone's forward pass through cmteb/variants.h
 * (embedding/variants.c): this file parses the arguments, runs the tasks
 * one at a time, every variant per task (so a --no-cache stash holds one
 * task's texts), and writes the comparison.
 */
#include "eval/cli/cli.h"
#include "eval/run.h"
#include "cmteb/array.h"
#include "cmteb/interrupt.h"
#include "cmteb/report.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/results.h"
#include "cmteb/status.h"
#include "cmteb/task.h"
#include "cmteb/util.h"
#include "cmteb/variants.h"

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
        "Variants that share a forward pass (same attention, max_length, dim, dtype and instruction use)\n"
        "share it: the backbone runs once per text and every pooling reads the same hidden\n"
        "states. The run prints how many forward passes that saved.\n"
        "\n"
        "variant keys:\n"
        "  pooling=cls|mean|last|weightedmean|max|mean_sqrt_len|latent   attention=bidirectional|causal\n"
        "  instructions=on|off        pass the task instruction (default: as the model says)\n"
        "  pool_instruction=on|off    instruction tokens inside the pooled mean or left out\n"
        "  normalize=on|off           L2-normalise   max_length=N   dim=N (Matryoshka truncation)\n"
        "  dtype=fp32|bf16|int8       the CPU engine's compute dtype (over --dtype; fp16: GPU)\n"
        "  example: --variant mean:pooling=mean --variant lastcausal:pooling=last,attention=causal\n"
        "           --variant fp32:dtype=fp32 --variant int8:dtype=int8   (dtypes side by side)\n"
        "\n"
        "  --model hf:PATH        the model folder (hf: models only)\n"
        "  --model-name ORG/NAME  base name of the results (default: from the model)\n"
        "  --tasks A,B | --benchmark NAME | --task-file FILE (repeatable)\n"
        "  --type TYPE            keep only the selected tasks of one type\n"
        "  --data-dir DIR         hub downloads (default: data)   --output DIR (default: results)\n"
        "  --overwrite            re-evaluate tasks whose result exists\n"
        "  --cache-dir DIR        embedding cache, one per variant (default: OUTPUT/.cache)\n"
        "  --no-cache             keep shared vectors in memory instead (one task's texts x variants)\n"
        "  --device D             auto (default: the GPUs when built with CUDA and one is visible, else the\n"
        "                         CPU), cpu, cuda (every visible GPU), cuda:N, cuda:0,1,...\n"
        "  --dtype T              CPU: fp32 (default), bf16 or int8; GPU: bf16 (default), fp16 or fp32\n"
        "  --threads N  --batch-size N  --quiet\n"
        "  --resamples N  --seed N  --alpha P   bootstrap (default 1000, 42, 0.05)\n");
}

/* ---- variants --------------------------------------------------------------- */

/* One --variant argument: its definition and the strings it owns. */
typedef struct variant {
    char          *name;
    char          *spec;      /* the KEY=VALUE text, for provenance */
    char          *pooling;
    cm_variant_def def;       /* points at the strings above */
    char          *model_dir; /* where its results go, once the variants are open */
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
    cm_variant_def *d = &v->def;
    *d = cm_variant_default_def();
    const char *colon = strchr(arg, ':');
    size_t nl = colon ? (size_t)(colon - arg) : strlen(arg);
    if (!nl) return cm_error(CM_ERR_ARG, "--variant '%s': expected NAME:KEY=VALUE[,KEY=VALUE...]", arg);
    for (size_t i = 0; i < nl; i++)
        if (!(isalnum((unsigned char)arg[i]) || arg[i] == '-' || arg[i] == '_' || arg[i] == '.'))
            return cm_error(CM_ERR_ARG, "--variant '%s': the name may hold letters, digits, '-', '_' and '.'", arg);
    if (!(v->name = cm_strndup(arg, nl)) || !(v->spec = cm_strdup(colon ? colon + 1 : ""))) return CM_ERR_NOMEM;
    d->name = v->name;
    d->spec = v->spec;
    char *copy = cm_strdup(v->spec), *save = NULL;
    if (!copy) return CM_ERR_NOMEM;
    int rc = CM_OK;
    for (char *kv = strtok_r(copy, ",", &save); kv && !rc; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) { rc = cm_error(CM_ERR_ARG, "--variant %s: '%s' is not KEY=VALUE", v->name, kv); break; }
        *eq = '\0';
        const char *k = kv, *val = eq + 1;
        if (!strcmp(k, "pooling")) {
            if (!(rc = cm_pool_check(val))) {
                free(v->pooling);
                if (!(v->pooling = cm_strdup(val))) rc = CM_ERR_NOMEM;
                d->params.pooling = v->pooling;
            }
        } else if (!strcmp(k, "attention")) {
            if (!strcmp(val, "causal")) d->params.attention = "causal";
            else if (!strcmp(val, "bidirectional")) d->params.attention = "bidirectional";
            else
                rc = cm_error(CM_ERR_ARG, "--variant %s: attention expects causal or bidirectional, got '%s'",
                              v->name, val);
        } else if (!strcmp(k, "instructions") || !strcmp(k, "instruction")) {
            rc = parse_onoff(k, val, &d->instructions);
        } else if (!strcmp(k, "pool_instruction") || !strcmp(k, "instruction_tokens")) {
            rc = parse_onoff(k, val, &d->params.pool_instruction);
        } else if (!strcmp(k, "normalize")) {
            rc = parse_onoff(k, val, &d->params.normalize);
        } else if (!strcmp(k, "max_length")) {
            char *end;
            long x = strtol(val, &end, 10);
            if (*end || x <= 0 || x > 1 << 20)
                rc = cm_error(CM_ERR_ARG, "--variant %s: max_length expects a positive integer", v->name);
            else
                d->params.max_length = (int)x;
        } else if (!strcmp(k, "dtype")) {   /* the engine's compute dtype (hf): fp32, bf16, int8 (CPU) */
            static const char *const dtypes[] = {"fp32", "bf16", "int8", "fp16"};   /* static: outlive `copy` */
            d->params.dtype = NULL;
            for (size_t j = 0; j < sizeof dtypes / sizeof dtypes[0]; j++)
                if (!strcmp(val, dtypes[j])) d->params.dtype = dtypes[j];
            if (!d->params.dtype)
                rc = cm_error(CM_ERR_ARG, "--variant %s: dtype expects fp32, bf16 or int8 (CPU) or fp16 (GPU), got "
                              "'%s'", v->name, val);
        } else if (!strcmp(k, "dim")) {   /* Matryoshka truncation (hf) */
            char *end;
            long x = strtol(val, &end, 10);
            if (*end || x <= 0 || x > 1 << 20)
                rc = cm_error(CM_ERR_ARG, "--variant %s: dim expects a positive integer", v->name);
            else
                d->params.dim = (int)x;
        } else {
            rc = cm_error(CM_ERR_ARG, "--variant %s: unknown key '%s' (expected pooling, attention, instructions, "
                          "pool_instruction, normalize, max_length, dim, dtype)", v->name, k);
        }
    }
    free(copy);
    if (rc) return cm_error_wrap(rc, "--variant %s", arg);
    return CM_OK;
}

static void variant_clear(variant *v) {
    free(v->name); free(v->spec); free(v->pooling); free(v->model_dir);
}

/* At most this many variants. */
#define MAX_VARIANTS 64

/* ---- the command ---------------------------------------------------------------- */

typedef struct compare_opts {
    const char  *model, *model_name, *data_dir, *output, *cache_dir;
    cm_cli_tasks ts;
    int          threads, batch_size, quiet, overwrite, no_cache;
    const char  *device, *dtype;
    cm_bootstrap_params bp;
    double alpha;
} compare_opts;

static int run_compare(const compare_opts *o, variant *vs, size_t nv) {
    int rc = CM_OK;
    cm_catalog *cat = NULL;
    const cm_task **sel = NULL;
    size_t n_sel = 0;
    cm_variants *set = NULL;
    char *cmp_dir = NULL, *cache_dir = NULL;
    cm_report *rep = NULL;
    cm_str md = {0}, html = {0}, js = {0};
    cJSON *settings = NULL;

    /* Tasks. */
    if ((rc = cm_cli_select_tasks(&o->ts, &cat, &sel, &n_sel))) goto done;

    /* The variants: one encoder and embedder (with its own cache) each, sharing forward passes. */
    if (!o->no_cache && !(cache_dir = o->cache_dir ? cm_strdup(o->cache_dir) : cm_path_join(o->output, ".cache"))) {
        rc = CM_ERR_NOMEM;
        goto done;
    }
    cm_variant_def *defs = cm_calloc(nv, sizeof *defs);
    if (!defs) { rc = CM_ERR_NOMEM; goto done; }
    for (size_t i = 0; i < nv; i++) defs[i] = vs[i].def;
    cm_variants_params vp = cm_variants_default_params();
    vp.model_spec = o->model;
    vp.model_name = o->model_name;
    vp.cache_dir = cache_dir;
    vp.threads = o->threads;
    vp.batch_size = o->batch_size;
    vp.device = o->device;
    vp.dtype = o->dtype;
    vp.quiet = o->quiet;
    rc = cm_variants_init(&set, defs, nv, &vp);
    free(defs);
    if (rc) goto done;
    const char *base = cm_variants_model_name(set);
    for (size_t i = 0; i < nv; i++) {
        const cm_encoder_info *info = cm_embedder_info(cm_variants_embedder(set, i));
        if (!(vs[i].model_dir = cm_results_model_dir(o->output, info->name, info->revision))) {
            rc = CM_ERR_NOMEM;
            goto done;
        }
    }
    cm_variants_stats st = cm_variants_get_stats(set);
    if (!o->quiet) {
        fprintf(stderr, "compare: %zu variants of %s in %zu forward-pass group%s (%zu model load%s)\n", nv, base,
                st.n_groups, st.n_groups == 1 ? "" : "s", st.n_models, st.n_models == 1 ? "" : "s");
        for (size_t k = 0; k < st.n_groups; k++) {
            fprintf(stderr, "  group %zu:", k + 1);
            for (size_t i = 0; i < nv; i++)
                if (cm_variants_group(set, i) == k) fprintf(stderr, " %s", vs[i].name);
            fprintf(stderr, "\n");
        }
    }

    /* Run: task by task, every variant; the stash holds one task's texts. */
    cm_interrupt_install();
    size_t failed = 0;
    int interrupted = 0;
    for (size_t t = 0; t < n_sel && !interrupted; t++) {
        for (size_t i = 0; i < nv && !interrupted; i++) {
            const variant *v = &vs[i];
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
            if ((rc = cm_variants_ready(set, i))) goto done;   /* siblings' vectors become visible */
            rc = cm_run_tasks(cm_variants_embedder(set, i), &sel[t], 1, &rp, &sum);
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
        cm_variants_end_task(set);
    }

    /* Forward passes saved. */
    st = cm_variants_get_stats(set);
    printf("Forward passes: %zu texts through the backbone; the %zu variants run separately would need %zu: "
           "%zu saved by sharing (%zu forward-pass group%s)\n\n", st.forwarded, nv, st.separate,
           st.separate - st.forwarded, st.n_groups, st.n_groups == 1 ? "" : "s");

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
    size_t stale = 0;   /* what a compare killed while writing these files left */
    if ((rc = cm_remove_stale_temps(cmp_dir, 0, &stale))) goto done;
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
    if (failed)
        rc = cm_error(CM_ERR_INTERNAL, "%zu task evaluation%s failed (see above)", failed, failed == 1 ? "" : "s");
    if (interrupted) rc = cm_error(CM_ERR_INTERRUPTED, "interrupted; run the same command again to resume");
done:
    cJSON_Delete(settings);
    cm_str_free(&md); cm_str_free(&html); cm_str_free(&js);
    cm_report_free(rep);
    cm_variants_free(set);
    free(cmp_dir); free(cache_dir);
    free((void *)sel);
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
        else if (cm_opt_tasks(argc, argv, &i, &o.ts, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--data-dir", &o.data_dir, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--output", &o.output, &bad)) {}
        else if (cm_opt_flag(argv, i, "--overwrite")) o.overwrite = 1;
        else if (cm_opt_value(argc, argv, &i, "--cache-dir", &o.cache_dir, &bad)) {}
        else if (cm_opt_flag(argv, i, "--no-cache")) o.no_cache = 1;
        else if (cm_opt_flag(argv, i, "--quiet") || cm_opt_flag(argv, i, "-q")) o.quiet = 1;
        else if (cm_opt_value(argc, argv, &i, "--device", &o.device, &bad)) {}
        else if (cm_opt_value(argc, argv, &i, "--dtype", &o.dtype, &bad)) {}
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
            if (!v || *end || !(o.alpha > 0 && o.alpha < 1)) {
                code = cm_cli_usage_error("compare", "--alpha expects a number in (0, 1)");
                goto out;
            }
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
    if (!o.ts.tasks && !o.ts.benchmark && !o.ts.n_files) {
        code = cm_cli_usage_error("compare", "say which tasks: --tasks A,B, --benchmark NAME or --task-file FILE");
        goto out;
    }
    int rc = run_compare(&o, vs, nv);
    const char *hint = rc == CM_ERR_NOTFOUND ? "see 'cmteb list' for tasks and whether their data is present" : NULL;
    code = rc ? cm_cli_fail("compare", hint) : 0;
    if (rc == CM_ERR_INTERRUPTED) code = 130;
out:
    for (size_t k = 0; k < nv; k++) variant_clear(&vs[k]);
    free(vs);
    return code;
}
