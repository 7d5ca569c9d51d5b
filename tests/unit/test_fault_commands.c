/*
 * test_fault_commands.c: allocation fault injection (fault.h) over small
 * in-process runs of the library paths behind every command but `cmteb run`
 * (that one is test_fault_injection.c):
 *   compare   cm_variants (mean and cls of tests/fixtures/hf/bert-tiny), each
 *             variant embedding a few texts, without and with a cache;
 *   report    cm_report_build / cm_report_build_from, cm_report_compare,
 *             cm_report_render in every format, written with
 *             cm_write_file_atomic;
 *   check     the verdicts, their table and JUnit XML (cm_check_*);
 *   embed     cm_encoder_init + cm_encoder_encode (hash);
 *   info      cm_model_describe of hf:bert-tiny (weights opened);
 *   tokenize  cm_tokenizer_load + cm_tokenizer_encode;
 *   list      cm_catalog_init + cm_catalog_select.
 * The report and check inputs are tests/fixtures/results/check (baseline and
 * small_drop, with per-item side files).
 *
 * Each phase counts the allocations of a clean call, then fails allocation k
 * for k = 1.. that count (strided to at most max_runs calls) and checks: no
 * crash and no leak (the sanitizer build runs this under LSan); a failure
 * either shows (an error code with a non-empty cm_last_error()) or the call
 * recovered and its output equals the clean call's; a file written (report
 * output, cache) is absent or complete: no temporary left, the report file
 * equals the clean output, and a clean call over a cache a failed call left
 * gives the clean vectors.
 */
#include "check.h"
#include "fault.h"
#include "cmteb/check.h"
#include "cmteb/report.h"
#include "cmteb/task.h"
#include "cmteb/tokenizer.h"
#include "cmteb/variants.h"

#include <ftw.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Calls per phase (k strided to fit); CMTEB_FAULT_RUNS overrides it. */
static long max_runs = 48;

static char *root, *cache_dir, *out_file, *model_spec, *model_dir, *fix_dir;
static cm_catalog *cat;
static const char *phase_name;
static long phase_k;
static size_t bad_count;

static FILE *report_to;   /* stderr, also while the calls' own messages go to /dev/null */

static void bad(const char *what) {
    bad_count++;
    fprintf(report_to ? report_to : stderr, "%s k=%ld: %s\n", phase_name, phase_k, what);
}


static int check_temp(const char *p, const struct stat *st, int flag, struct FTW *f) {
    (void)st;
    if (flag == FTW_F && strstr(p + f->base, ".tmp.")) bad("temporary file left behind");
    return 0;
}

/* What a call produced (vectors or text), kept with plain realloc (not
 * hooked), compared with the clean call's. */
static char *got, *want;
static size_t got_len, want_len;

static void record(const void *p, size_t n) {
    char *g = realloc(got, got_len + n + 1);
    if (!g) abort();
    memcpy(g + got_len, p, n);
    got = g;
    got_len += n;
}
static void record_reset(void) { got_len = 0; }

/* ---- compare: two variants of one backbone ------------------------------- */
static const char *texts[] = {"A man is playing a guitar.", "hello world", "naïve café", "hello world"};
enum { N_TEXTS = sizeof texts / sizeof texts[0] };

static const char *variants_cache;   /* NULL or the cache folder of this phase */

static int run_variants(void) {
    const char *poolings[2] = {"mean", "cls"};
    cm_variant_def defs[2];
    for (int k = 0; k < 2; k++) {
        defs[k] = cm_variant_default_def();
        defs[k].name = poolings[k];
        defs[k].spec = k ? "pooling=cls" : "pooling=mean";
        defs[k].params.pooling = poolings[k];
        defs[k].params.threads = 1;
    }
    cm_variants_params p = cm_variants_default_params();
    p.model_spec = model_spec;
    p.model_name = "test/bert-tiny";
    p.cache_dir = variants_cache;
    p.threads = 1;
    p.quiet = 1;
    cm_variants *vs = NULL;
    int rc = cm_variants_init(&vs, defs, 2, &p);
    if (rc) {
        if (vs) bad("cm_variants_init failed but set *out");
        return rc;
    }
    for (size_t i = 0; !rc && i < 2; i++) {
        cm_embedder *e = cm_variants_embedder(vs, i);
        size_t dim = cm_embedder_dim(e);
        float *v = malloc(N_TEXTS * dim * sizeof *v);
        rc = cm_variants_ready(vs, i);
        if (!rc) rc = cm_embed(e, texts, N_TEXTS, CM_ROLE_QUERY, NULL, "test", v);
        if (!rc) record(v, N_TEXTS * dim * sizeof *v);
        free(v);
    }
    cm_variants_end_task(vs);
    cm_variants_free(vs);
    return rc;
}

static void prepare_cold_cache(void) { fault_rm_rf(cache_dir); }

/* After a call over the cache: a clean call over what it left gives the
 * clean vectors. */
static void verify_cache(void) {
    nftw(cache_dir, check_temp, 16, FTW_PHYS);
    record_reset();
    int rc = run_variants();
    if (rc) bad("a clean call over the cache a failed call left fails");
    else if (got_len != want_len || memcmp(got, want, want_len))
        bad("the cache a failed call left gives other vectors");
}

/* ---- report and check ----------------------------------------------------- */
static cm_report *build_report(int from_loaded, int *rc) {
    char *b = cm_path_join(fix_dir, "baseline"), *c = cm_path_join(fix_dir, "small_drop");
    cm_report *r = NULL;
    if (!b || !c) *rc = cm_error(CM_ERR_NOMEM, "out of memory");
    else if (!from_loaded) {
        const char *dirs[] = {b, c};
        *rc = cm_report_build(&r, cat, dirs, 2, NULL);
    } else {
        cm_model_results *m[2] = {NULL, NULL};
        char *mb = cm_path_join(b, "cmteb-test__tiny-model/1"), *mc = cm_path_join(c, "cmteb-test__tiny-model/1");
        *rc = mb && mc ? CM_OK : cm_error(CM_ERR_NOMEM, "out of memory");
        if (!*rc) *rc = cm_model_results_load(&m[0], mb, cat);
        if (!*rc) *rc = cm_model_results_load(&m[1], mc, cat);
        if (!*rc) *rc = cm_report_build_from(&r, cat, m, 2, NULL);
        else { cm_model_results_free(m[0]); cm_model_results_free(m[1]); }
        free(mb);
        free(mc);
    }
    free(b);
    free(c);
    if (*rc && r) { bad("cm_report_build failed but set *out"); cm_report_free(r); r = NULL; }
    return r;
}

static int compare_report(cm_report *r) {
    cm_bootstrap_params bp = cm_bootstrap_default_params();
    bp.resamples = 200;
    return cm_report_compare(r, &bp, 0.05);
}

static int report_loaded;

/* `cmteb report`/`compare`: build, compare, render every format, write the
 * last one atomically. */
static int run_report(void) {
    int rc;
    cm_report *r = build_report(report_loaded, &rc);
    if (!rc) rc = compare_report(r);
    cm_str out = {0};
    for (int f = CM_REPORT_MD; !rc && f <= CM_REPORT_HTML; f++) {
        out.len = 0;
        if (out.s) out.s[0] = 0;
        rc = cm_report_render(r, (cm_report_format)f, &out);
        if (!rc) record(out.s, out.len);
    }
    if (!rc) rc = cm_write_file_atomic(out_file, out.s, out.len);
    cm_str_free(&out);
    cm_report_free(r);
    return rc;
}

static void prepare_out_file(void) { remove(out_file); }

static void verify_out_file(void) {
    nftw(root, check_temp, 16, FTW_PHYS);
    char *t = NULL;
    size_t n = 0;
    if (cm_read_file(out_file, &t, &n)) { cm_error_clear(); return; }   /* absent: fine */
    /* the HTML page or the JUnit XML: the last part of the clean output */
    if (n > want_len || memcmp(t, want + want_len - n, n) || n == 0) bad("the report file is incomplete");
    free(t);
}

/* `cmteb check`: verdicts, table, JUnit XML written atomically. */
static int run_check(void) {
    int rc;
    cm_report *r = build_report(0, &rc);
    if (!rc) rc = compare_report(r);
    cm_check_verdict *v = NULL;
    size_t n_failed = 0;
    cm_str table = {0}, xml = {0};
    cm_check_params cp = cm_check_default_params();
    if (!rc) rc = cm_check_evaluate(r, &cp, &v, &n_failed);
    if (!rc) rc = cm_check_render_table(r, &cp, v, &table);
    if (!rc) rc = cm_check_render_junit(r, &cp, v, &xml);
    if (!rc) {
        record(&n_failed, sizeof n_failed);
        record(table.s, table.len);
        record(xml.s, xml.len);
        rc = cm_write_file_atomic(out_file, xml.s, xml.len);
    }
    cm_str_free(&table);
    cm_str_free(&xml);
    free(v);
    cm_report_free(r);
    return rc;
}

/* ---- embed, info, tokenize, list ------------------------------------------ */
static int run_embed(void) {
    cm_encoder_params ep = cm_encoder_default_params();
    ep.quiet = 1;
    cm_encoder *e = NULL;
    int rc = cm_encoder_init(&e, "hash:64", &ep);
    if (rc && e) bad("cm_encoder_init failed but set *out");
    float v[N_TEXTS * 64];
    if (!rc) rc = cm_encoder_encode(e, texts, N_TEXTS, CM_ROLE_DOCUMENT, "an instruction", v);
    if (!rc) record(v, sizeof v);
    cm_encoder_free(e);
    return rc;
}

static int run_info(void) {
    cm_encoder_params ep = cm_encoder_default_params();
    ep.quiet = 1;
    cJSON *d = NULL;
    int rc = cm_model_describe(model_spec, &ep, 1, &d);
    if (rc && d) bad("cm_model_describe failed but set *out");
    if (!rc) {
        cm_set_alloc_hooks(NULL);   /* printing is the test's: counted nor failed */
        char *s = cJSON_PrintUnformatted(d);
        cm_set_alloc_hooks(&(cm_alloc_hooks){fault_malloc_, fault_realloc_});
        if (s) record(s, strlen(s));
        free(s);
    }
    cJSON_Delete(d);
    return rc;
}

static int run_tokenize(void) {
    cm_tokenizer *t = NULL;
    int rc = cm_tokenizer_load(&t, model_dir);
    if (rc && t) bad("cm_tokenizer_load failed but set *out");
    cm_tok_encoding enc = {0};
    cm_tok_options o = cm_tok_default_options();
    for (size_t i = 0; !rc && i < N_TEXTS; i++) {
        rc = cm_tokenizer_encode(t, texts[i], &o, &enc);
        if (!rc) record(enc.ids, enc.n * sizeof *enc.ids);
    }
    cm_tok_encoding_free(&enc);
    cm_tokenizer_free(t);
    return rc;
}

static int run_list(void) {
    cm_catalog *c = NULL;
    int rc = cm_catalog_init(&c);
    if (rc && c) bad("cm_catalog_init failed but set *out");
    const char *sels[] = {"DemoSTS,DemoRetrieval", NULL};
    for (int k = 0; !rc && k < 2; k++) {
        cm_task_selection s = cm_task_default_selection();
        s.tasks = sels[k];
        if (k) s.benchmark = "MTEB(eng, v1)";
        const cm_task **ts = NULL;
        size_t n = 0;
        rc = cm_catalog_select(c, &s, &ts, &n);
        for (size_t i = 0; !rc && i < n; i++) record(ts[i]->name, strlen(ts[i]->name) + 1);
        if (rc && ts) bad("cm_catalog_select failed but set *out");
        free(ts);
    }
    cm_catalog_free(c);
    return rc;
}

/* ---- the sweep -------------------------------------------------------------- */

static long total_clean, total_injected;

/* prepare: before each call (NULL: nothing); verify: after each (NULL: nothing). */
static void sweep(const char *name, int (*call)(void), void (*prepare)(void), void (*verify)(void)) {
    phase_name = name;
    phase_k = 0;
    if (prepare) prepare();
    record_reset();
    cm_error_clear();
    fault_arm(0);
    int rc = call();
    fault_disarm();
    long clean = fault_allocs;
    CHECK_OK(rc);
    CHECK(got_len > 0);
    free(want);
    want = malloc(got_len + 1);
    if (!want) abort();
    memcpy(want, got, got_len);
    want_len = got_len;
    if (verify) verify();
    long stride = clean / max_runs + 1;
    size_t runs = 0, shown = 0, recovered = 0;
    size_t bad_before = bad_count;
    for (long k = 1; k <= clean; k += stride) {
        phase_k = k;
        if (prepare) prepare();
        record_reset();
        cm_error_clear();
        fault_arm(k);
        rc = call();
        fault_disarm();
        long injected = fault_injected;
        runs++;
        total_injected += injected;
        if (rc) {
            if (!cm_last_error()[0]) bad("failed with an empty cm_last_error()");
            if (!injected) bad("failed with no failure injected");
            shown++;
        } else if (injected) {
            if (got_len != want_len || memcmp(got, want, want_len)) {
                bad("succeeded with an output unlike the clean one");
            }
            recovered++;
        }
        if (verify) verify();
    }
    CHECK(bad_count == bad_before);
    CHECK(shown > 0);
    printf("%-22s %6ld allocations in a clean call; %zu calls (stride %ld): %zu failed visibly, %zu recovered\n",
           name, clean, runs, stride, shown, recovered);
    total_clean += clean;
}

int main(void) {
    max_runs = fault_runs(max_runs);
    const char *src = check_env("CMTEB_SRC");
    root = cm_asprintf("%s/fault_commands.%d", check_env("CMTEB_TMP"), (int)getpid());
    cache_dir = cm_path_join(root, "cache");
    out_file = cm_path_join(root, "report.out");
    model_dir = cm_asprintf("%s/tests/fixtures/hf/bert-tiny", src);
    model_spec = cm_asprintf("hf:%s", model_dir);
    fix_dir = cm_asprintf("%s/tests/fixtures/results/check", src);
    fault_rm_rf(root);
    CHECK(cm_mkdir_p(root) == CM_OK);
    CHECK_OK(cm_catalog_init(&cat));
    if (!cat) return check_report();

    FILE *saved = fault_quiet_stderr();   /* hundreds of expected failure messages */
    report_to = saved;
    double t0 = cm_now();
    variants_cache = NULL;
    sweep("compare, no cache", run_variants, NULL, NULL);
    variants_cache = cache_dir;
    sweep("compare, cold cache", run_variants, prepare_cold_cache, verify_cache);
    sweep("compare, warm cache", run_variants, NULL, verify_cache);
    report_loaded = 0;
    sweep("report (folders)", run_report, prepare_out_file, verify_out_file);
    report_loaded = 1;
    sweep("report (loaded)", run_report, prepare_out_file, verify_out_file);
    sweep("check", run_check, prepare_out_file, verify_out_file);
    sweep("embed (hash)", run_embed, NULL, NULL);
    sweep("info (hf)", run_info, NULL, NULL);
    sweep("tokenize", run_tokenize, NULL, NULL);
    sweep("list", run_list, NULL, NULL);
    printf("%ld allocations in the clean calls, %ld failures injected one at a time, %.1f s\n", total_clean,
           total_injected, cm_now() - t0);
    fault_restore_stderr(saved);
    report_to = NULL;

    fault_rm_rf(root);
    cm_catalog_free(cat);
    free(got);
    free(want);
    free(root);
    free(cache_dir);
    free(out_file);
    free(model_dir);
    free(model_spec);
    free(fix_dir);
    return check_report();
}
