/*
 * test_batch_plan.c: the host side of the CUDA engine (engine/cuda/gpu_plan.h),
 * which runs everywhere: device specs ("cpu", "cuda", "cuda:N", "cuda:0,1,3",
 * "auto") and their resolution against what a machine has, dtype names, the
 * batch planner (token budget, sequence cap, a memory model), splitting a
 * batch in halves when a fake executor reports device out-of-memory down to
 * the single sequence that fails with its length and bytes, dealing batches
 * dynamically to several replicas (a slow replica takes fewer), results
 * written back in input order, and a worker's error reaching the caller.
 */
#include "check.h"

#include "engine/arch/model.h"
#include "engine/cuda/gpu_plan.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

static int has(const char *needle) { return strstr(cm_last_error(), needle) != NULL; }

static void test_device_parse(void) {
    cm_device_spec d;
    CHECK_OK(cm_device_parse(NULL, &d));
    CHECK(d.kind == CM_DEVICE_AUTO);
    CHECK_OK(cm_device_parse("auto", &d));
    CHECK(d.kind == CM_DEVICE_AUTO);
    CHECK_OK(cm_device_parse("cpu", &d));
    CHECK(d.kind == CM_DEVICE_CPU && d.n_ids == 0);
    CHECK_OK(cm_device_parse("cuda", &d));
    CHECK(d.kind == CM_DEVICE_CUDA && d.n_ids == 0);
    CHECK_OK(cm_device_parse("cuda:1", &d));
    CHECK(d.kind == CM_DEVICE_CUDA && d.n_ids == 1 && d.ids[0] == 1);
    CHECK_OK(cm_device_parse("cuda:0,1,3", &d));
    CHECK(d.n_ids == 3 && d.ids[0] == 0 && d.ids[1] == 1 && d.ids[2] == 3);
    CHECK_OK(cm_device_parse("cuda:3,0", &d));   /* the order given is kept */
    CHECK(d.n_ids == 2 && d.ids[0] == 3 && d.ids[1] == 0);

    CHECK(cm_device_parse("tpu", &d) == CM_ERR_ARG && has("unknown device 'tpu'") && has("cuda:N"));
    CHECK(cm_device_parse("cudax", &d) == CM_ERR_ARG && has("unknown device 'cudax'"));
    CHECK(cm_device_parse("CPU", &d) == CM_ERR_ARG);
    CHECK(cm_device_parse("cuda:", &d) == CM_ERR_ARG && has("expected a GPU ordinal"));
    CHECK(cm_device_parse("cuda:a", &d) == CM_ERR_ARG && has("expected a GPU ordinal"));
    CHECK(cm_device_parse("cuda:-1", &d) == CM_ERR_ARG);
    CHECK(cm_device_parse("cuda:1,", &d) == CM_ERR_ARG);
    CHECK(cm_device_parse("cuda:0 ", &d) == CM_ERR_ARG && has("unexpected ' '"));
    CHECK(cm_device_parse("cuda:0,2,0", &d) == CM_ERR_ARG && has("cuda:0 listed twice"));
    CHECK(cm_device_parse("cuda:99999999", &d) == CM_ERR_ARG && has("too large"));
    char many[256] = "cuda:";
    for (int k = 0; k <= CM_GPU_MAX_DEVICES; k++) snprintf(many + strlen(many), 8, "%s%d", k ? "," : "", k);
    CHECK(cm_device_parse(many, &d) == CM_ERR_ARG && has("more than 16 GPUs"));
}

static void test_device_resolve(void) {
    cm_device_spec in, r;
    char buf[64];
    /* auto: cpu unless built with CUDA, a GPU is visible and the backend can use it */
    cm_device_parse("auto", &in);
    CHECK_OK(cm_device_resolve(&in, 0, 0, 1, &r));
    CHECK(r.kind == CM_DEVICE_CPU);
    CHECK_OK(cm_device_resolve(&in, 1, 0, 1, &r));
    CHECK(r.kind == CM_DEVICE_CPU);
    CHECK_OK(cm_device_resolve(&in, 1, 2, 0, &r));
    CHECK(r.kind == CM_DEVICE_CPU);
    CHECK_OK(cm_device_resolve(&in, 1, 2, 1, &r));
    CHECK(r.kind == CM_DEVICE_CUDA && r.n_ids == 2 && r.ids[0] == 0 && r.ids[1] == 1);
    cm_device_format(&r, buf, sizeof buf);
    CHECK(!strcmp(buf, "cuda:0,1"));
    /* "cuda": every visible GPU */
    cm_device_parse("cuda", &in);
    CHECK_OK(cm_device_resolve(&in, 1, 3, 1, &r));
    CHECK(r.n_ids == 3 && r.ids[2] == 2);
    CHECK(cm_device_resolve(&in, 0, 0, 1, &r) == CM_ERR_UNSUPPORTED && has("built without CUDA"));
    CHECK(cm_device_resolve(&in, 1, 0, 1, &r) == CM_ERR_UNSUPPORTED && has("no GPU visible"));
    CHECK(cm_device_resolve(&in, 1, 1, 0, &r) == CM_ERR_UNSUPPORTED && has("no CUDA engine"));
    cm_device_parse("cuda:0,2", &in);
    CHECK(cm_device_resolve(&in, 1, 2, 1, &r) == CM_ERR_ARG && has("cuda:2: only 2 GPUs visible (cuda:0 to cuda:1)"));
    cm_device_parse("cuda:1", &in);
    CHECK(cm_device_resolve(&in, 1, 1, 1, &r) == CM_ERR_ARG && has("only 1 GPU visible (cuda:0)"));
    CHECK_OK(cm_device_resolve(&in, 1, 4, 1, &r));
    cm_device_format(&r, buf, sizeof buf);
    CHECK(!strcmp(buf, "cuda:1"));
    cm_device_parse("cpu", &in);
    CHECK_OK(cm_device_resolve(&in, 1, 4, 1, &r));
    cm_device_format(&r, buf, sizeof buf);
    CHECK(r.kind == CM_DEVICE_CPU && !strcmp(buf, "cpu"));
    /* a formatted spec parses back to itself */
    cm_device_parse("cuda:3,0,7", &in);
    cm_device_format(&in, buf, sizeof buf);
    cm_device_spec back;
    CHECK_OK(cm_device_parse(buf, &back));
    CHECK(back.n_ids == 3 && back.ids[0] == 3 && back.ids[1] == 0 && back.ids[2] == 7);
}

static void test_dtype(void) {
    cm_gpu_dtype t;
    CHECK(cm_gpu_dtype_parse("bf16", &t) == CM_OK && t == CM_GPU_BF16);
    CHECK(cm_gpu_dtype_parse("fp16", &t) == CM_OK && t == CM_GPU_FP16);
    CHECK(cm_gpu_dtype_parse("fp32", &t) == CM_OK && t == CM_GPU_FP32);
    CHECK(cm_gpu_dtype_parse("bfloat16", &t) == CM_OK && t == CM_GPU_BF16);
    CHECK(cm_gpu_dtype_parse("int8", &t) == CM_ERR_ARG && has("unknown dtype 'int8' (expected bf16, fp16 or fp32)"));
    CHECK(cm_gpu_dtype_parse(NULL, &t) == CM_ERR_ARG);
    CHECK(!strcmp(cm_gpu_dtype_name(CM_GPU_BF16), "bf16") && !strcmp(cm_gpu_dtype_name(CM_GPU_FP32), "fp32"));
    CHECK(cm_gpu_dtype_size(CM_GPU_FP16) == 2 && cm_gpu_dtype_size(CM_GPU_FP32) == 4);
}

/* A memory model: 100 bytes per token plus a padded n_seqs x max_len^2 attention score block of 4-byte floats. */
static size_t fake_bytes(const void *ctx, size_t ntok, size_t ns, size_t maxlen) {
    (void)ctx;
    return 100 * ntok + 4 * ns * maxlen * maxlen;
}

/* Checks that plan covers [0, n) in order and that every batch respects p or is a single sequence, and is
 * maximal (the next sequence would break a limit). */
static void check_plan(const size_t *lens, size_t n, const cm_plan_params *p, const cm_batch_plan *plan) {
    size_t at = 0;
    int ok_cover = 1, ok_limits = 1, ok_max = 1, ok_sums = 1;
    for (size_t b = 0; b < plan->n; b++) {
        const cm_plan_batch *x = &plan->batches[b];
        if (x->begin != at || x->end <= x->begin) ok_cover = 0;
        size_t ntok = 0, ns = x->end - x->begin;
        for (size_t i = x->begin; i < x->end; i++) ntok += lens[i];
        if (ntok != x->n_tokens || x->max_len != lens[x->end - 1]) ok_sums = 0;
        int fits = ntok <= p->max_tokens && (!p->max_seqs || ns <= p->max_seqs) &&
                   (!p->bytes_fn || p->bytes_fn(NULL, ntok, ns, x->max_len) <= p->mem_budget);
        if (!fits && ns > 1) ok_limits = 0;
        if (x->end < n) {
            size_t nt = ntok + lens[x->end], nn = ns + 1, ml = lens[x->end];
            int next_fits = nt <= p->max_tokens && (!p->max_seqs || nn <= p->max_seqs) &&
                            (!p->bytes_fn || p->bytes_fn(NULL, nt, nn, ml) <= p->mem_budget);
            if (next_fits) ok_max = 0;
        }
        at = x->end;
    }
    CHECK(at == n && ok_cover);
    CHECK(ok_sums);
    CHECK(ok_limits);
    CHECK(ok_max);
}

static void test_plan(void) {
    /* hand-computed: budget 6 tokens */
    size_t lens[] = {1, 2, 3, 4, 5, 10};
    cm_plan_params p = cm_plan_default_params();
    CHECK(p.max_tokens == 32768 && p.max_seqs == 0 && p.bytes_fn == NULL);
    p.max_tokens = 6;
    cm_batch_plan plan;
    CHECK_OK(cm_batch_plan_make(lens, 6, &p, &plan));
    CHECK(plan.n == 4);
    if (plan.n == 4) {
        CHECK(plan.batches[0].begin == 0 && plan.batches[0].end == 3 && plan.batches[0].n_tokens == 6);
        CHECK(plan.batches[1].begin == 3 && plan.batches[1].end == 4);
        CHECK(plan.batches[2].begin == 4 && plan.batches[2].end == 5);
        CHECK(plan.batches[3].begin == 5 && plan.batches[3].end == 6 && plan.batches[3].max_len == 10);
    }
    check_plan(lens, 6, &p, &plan);
    cm_batch_plan_free(&plan);
    /* a sequence cap */
    p.max_tokens = 1000;
    p.max_seqs = 4;
    CHECK_OK(cm_batch_plan_make(lens, 6, &p, &plan));
    CHECK(plan.n == 2 && plan.batches[0].end == 4);
    cm_batch_plan_free(&plan);
    /* bad input */
    size_t unsorted[] = {3, 2}, zero[] = {0, 1};
    CHECK(cm_batch_plan_make(unsorted, 2, &p, &plan) == CM_ERR_ARG && has("not sorted"));
    CHECK(cm_batch_plan_make(zero, 2, &p, &plan) == CM_ERR_ARG && has("sequence 0 has no tokens"));
    p.max_tokens = 0;
    CHECK(cm_batch_plan_make(lens, 6, &p, &plan) == CM_ERR_ARG);
    CHECK_OK(cm_batch_plan_make(lens, 0, &(cm_plan_params){.max_tokens = 8}, &plan));
    CHECK(plan.n == 0);
    cm_batch_plan_free(&plan);

    /* random sorted lengths under the memory model: long sequences get small batches */
    enum { N = 3000 };
    static size_t rl[N];
    uint64_t s = 12345;
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        rl[i] = 1 + (size_t)((s >> 33) % 512);
    }
    for (size_t i = 1; i < N; i++)   /* insertion sort */
        for (size_t j = i; j > 0 && rl[j] < rl[j - 1]; j--) { size_t t = rl[j]; rl[j] = rl[j - 1]; rl[j - 1] = t; }
    cm_plan_params q = cm_plan_default_params();
    q.max_tokens = 16384;
    q.bytes_fn = fake_bytes;
    q.mem_budget = 4u << 20;
    CHECK_OK(cm_batch_plan_make(rl, N, &q, &plan));
    check_plan(rl, N, &q, &plan);
    /* the memory model binds for the long ones: the last batch holds fewer sequences than the first */
    CHECK(plan.n > 2 && plan.batches[plan.n - 1].end - plan.batches[plan.n - 1].begin <
                            plan.batches[0].end - plan.batches[0].begin);
    cm_batch_plan_free(&plan);
    q.bytes_fn = NULL;
    CHECK_OK(cm_batch_plan_make(rl, N, &q, &plan));
    check_plan(rl, N, &q, &plan);
    cm_batch_plan_free(&plan);
}

/* ---- a fake device: out of memory above cap bytes ------------------------ */

enum { MAXSEQ = 4096 };

typedef struct fake_dev {
    const size_t   *lens;    /* sorted lengths */
    const size_t   *index;   /* sorted position -> input index */
    size_t          cap;     /* bytes a batch may use */
    double         *out;     /* (n) results in input order */
    int            *runs;    /* (n) how often each sequence was computed */
    size_t          calls, fails;
    int             fail_at; /* sorted position whose batch fails with CM_ERR_INTERNAL (-1 none) */
    int             slow_replica;   /* this replica sleeps 20 ms per batch, the others 1 ms (-1: no sleep) */
    pthread_mutex_t mu;
} fake_dev;

static int fake_exec(void *ctx, int replica, size_t begin, size_t end) {
    fake_dev *f = ctx;
    size_t ntok = 0;
    for (size_t i = begin; i < end; i++) ntok += f->lens[i];
    pthread_mutex_lock(&f->mu);
    f->calls++;
    pthread_mutex_unlock(&f->mu);
    if (f->fail_at >= 0 && (size_t)f->fail_at >= begin && (size_t)f->fail_at < end)
        return cm_error(CM_ERR_INTERNAL, "boom at sequence %d", f->fail_at);
    size_t need = fake_bytes(NULL, ntok, end - begin, f->lens[end - 1]);
    if (need > f->cap) {
        pthread_mutex_lock(&f->mu);
        f->fails++;
        pthread_mutex_unlock(&f->mu);
        return cm_error(CM_ERR_NOMEM, "fake device: %zu bytes asked, %zu free", need, f->cap);
    }
    if (f->slow_replica >= 0) {
        struct timespec ts = {0, (replica == f->slow_replica ? 20 : 1) * 1000000L};
        nanosleep(&ts, NULL);
    }
    for (size_t i = begin; i < end; i++) {   /* written back at the input position */
        f->out[f->index[i]] = 1000.0 * (double)f->index[i] + (double)f->lens[i];
        f->runs[f->index[i]]++;   /* distinct sequences per batch: no two threads share an entry */
    }
    return CM_OK;
}

static void test_split(void) {
    size_t lens[8] = {2, 3, 3, 4, 5, 6, 7, 9}, index[8] = {7, 6, 5, 4, 3, 2, 1, 0};
    double out[8] = {0};
    int runs[8] = {0};
    fake_dev f = {lens, index, 0, out, runs, 0, 0, -1, -1, PTHREAD_MUTEX_INITIALIZER};
    /* everything fits: one call */
    f.cap = 1u << 20;
    size_t splits = 0;
    CHECK_OK(cm_plan_exec_split(fake_exec, &f, 0, lens, 0, 8, NULL, &splits));
    CHECK(f.calls == 1 && splits == 0);
    /* a cap that holds about two sequences: split down, every sequence computed exactly once */
    memset(runs, 0, sizeof runs);
    f.calls = 0;
    f.cap = fake_bytes(NULL, 11, 2, 6);
    cm_plan_params p = cm_plan_default_params();
    p.bytes_fn = fake_bytes;
    CHECK_OK(cm_plan_exec_split(fake_exec, &f, 0, lens, 0, 8, &p, &splits));
    int once = 1;
    for (int i = 0; i < 8; i++) once &= runs[i] == 1;
    CHECK(once);
    CHECK(splits >= 3 && f.fails == splits);   /* each failure split once */
    for (int i = 0; i < 8; i++) CHECK(out[index[i]] == 1000.0 * (double)index[i] + (double)lens[i]);
    /* a single sequence that does not fit: its length and the bytes it needs */
    f.cap = fake_bytes(NULL, 8, 1, 8);
    int rc = cm_plan_exec_split(fake_exec, &f, 0, lens, 0, 8, &p, NULL);
    char want[160];
    snprintf(want, sizeof want, "a sequence of 9 tokens needs %zu bytes of device memory", fake_bytes(NULL, 9, 1, 9));
    CHECK(rc == CM_ERR_NOMEM && has(want) && has("fake device: "));
    /* without a memory model: still the length */
    CHECK(cm_plan_exec_split(fake_exec, &f, 0, lens, 0, 8, NULL, NULL) == CM_ERR_NOMEM &&
          has("a sequence of 9 tokens does not fit"));
    /* other errors are final: no split */
    f.cap = 1u << 20;
    f.fail_at = 3;
    f.calls = 0;
    splits = 0;
    CHECK(cm_plan_exec_split(fake_exec, &f, 0, lens, 0, 8, &p, &splits) == CM_ERR_INTERNAL && has("boom at sequence 3"));
    CHECK(f.calls == 1 && splits == 0);
}

static void test_deal(void) {
    /* n texts of random length in input order -> sorted -> planned -> dealt to 3 replicas */
    enum { N = 1500 };
    static size_t in_len[N], lens[N], index[N];
    static double out[N];
    static int runs[N];
    uint64_t s = 777;
    for (size_t i = 0; i < N; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        in_len[i] = 1 + (size_t)((s >> 33) % 300);
        index[i] = i;
    }
    for (size_t i = 1; i < N; i++)   /* stable insertion sort of the indices by length */
        for (size_t j = i; j > 0 && in_len[index[j]] < in_len[index[j - 1]]; j--) {
            size_t t = index[j]; index[j] = index[j - 1]; index[j - 1] = t;
        }
    for (size_t i = 0; i < N; i++) lens[i] = in_len[index[i]];
    cm_plan_params p = cm_plan_default_params();
    p.max_tokens = 4096;
    cm_batch_plan plan;
    CHECK_OK(cm_batch_plan_make(lens, N, &p, &plan));
    fake_dev f = {lens, index, (size_t)-1, out, runs, 0, 0, -1, 0, PTHREAD_MUTEX_INITIALIZER};
    size_t done[3] = {0};
    CHECK_OK(cm_plan_deal(&plan, lens, &p, 3, fake_exec, &f, done));
    int ok = 1;
    for (size_t i = 0; i < N; i++) ok &= runs[i] == 1 && out[i] == 1000.0 * (double)i + (double)in_len[i];
    CHECK(ok);   /* every text once, its result at its input position */
    CHECK(done[0] + done[1] + done[2] == plan.n);
    /* dynamic dealing: the replica 20x slower ran fewer batches than each of the others */
    CHECK(done[0] < done[1] && done[0] < done[2]);
    printf("dealt %zu batches: %zu (slow replica), %zu, %zu\n", plan.n, done[0], done[1], done[2]);

    /* splitting inside the dealer: a device that holds about 1500 tokens' worth */
    memset(runs, 0, sizeof runs);
    f.slow_replica = -1;
    f.cap = fake_bytes(NULL, 1500, 5, 300);
    CHECK_OK(cm_plan_deal(&plan, lens, &p, 2, fake_exec, &f, NULL));
    ok = 1;
    for (size_t i = 0; i < N; i++) ok &= runs[i] == 1;
    CHECK(ok && f.fails > 0);

    /* a worker's error reaches the caller with its message; the rest stops */
    f.cap = (size_t)-1;
    f.fail_at = N / 2;
    CHECK(cm_plan_deal(&plan, lens, &p, 3, fake_exec, &f, NULL) == CM_ERR_INTERNAL && has("boom at sequence 750"));
    cm_batch_plan_free(&plan);

    /* the dealer directly: bad sizes, and a push after the error reports it */
    cm_plan_dealer *d = NULL;
    CHECK(cm_plan_dealer_start(&d, 0, 4, NULL, NULL) == CM_ERR_ARG && d == NULL);
    CHECK(cm_plan_dealer_finish(NULL, NULL) == CM_OK);
}

static int job_fail(void *ctx, int replica, const cm_plan_job *job) {
    (void)ctx; (void)replica;
    return job->begin == 2 ? cm_error(CM_ERR_IO, "job %zu failed", job->begin) : CM_OK;
}

static void test_dealer_push_after_error(void) {
    cm_plan_dealer *d = NULL;
    CHECK_OK(cm_plan_dealer_start(&d, 1, 1, job_fail, NULL));
    int rc = CM_OK;
    for (size_t k = 0; k < 1000 && rc == CM_OK; k++) {
        cm_plan_job j = {NULL, k, k + 1};
        rc = cm_plan_dealer_push(d, &j);
    }
    CHECK(rc == CM_ERR_IO && has("job 2 failed"));
    cm_error_clear();
    size_t done[1];
    CHECK(cm_plan_dealer_finish(d, done) == CM_ERR_IO && has("job 2 failed"));
    CHECK(done[0] == 2);   /* jobs 0 and 1 ran; nothing after the error */
}

/* The latent pooling's token list: rows in sequence order, owners, counts; the instruction left out only where
 * a token remains (lengths 1, 5, 3, 4 with instructions 0, 2, 3, 5: the last two pooled whole). */
static void test_latent_rows(void) {
    cm_hf_batch b;
    memset(&b, 0, sizeof b);
    const int32_t ids[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    const size_t lens[4] = {1, 5, 3, 4}, instr[4] = {0, 2, 3, 5};
    for (int s = 0; s < 4; s++) CHECK_OK(cm_hf_batch_add(&b, ids, lens[s], instr[s]));
    int32_t rows[13], owner[13], cnt[4];
    CHECK(cm_gpu_latent_rows(&b, 0, rows, owner, cnt) == 13);
    for (int i = 0; i < 13; i++) CHECK(rows[i] == i);
    CHECK(owner[0] == 0 && owner[1] == 1 && owner[5] == 1 && owner[6] == 2 && owner[9] == 3 && owner[12] == 3);
    CHECK(cnt[0] == 1 && cnt[1] == 5 && cnt[2] == 3 && cnt[3] == 4);
    CHECK(cm_gpu_latent_rows(&b, 1, rows, owner, cnt) == 11);   /* sequence 1 drops its 2 instruction tokens */
    const int32_t want_rows[11] = {0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, want_owner[11] = {0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3};
    CHECK(memcmp(rows, want_rows, sizeof want_rows) == 0);
    CHECK(memcmp(owner, want_owner, sizeof want_owner) == 0);
    CHECK(cnt[0] == 1 && cnt[1] == 3 && cnt[2] == 3 && cnt[3] == 4);
    cm_hf_batch_free(&b);
}

int main(void) {
    test_latent_rows();
    test_device_parse();
    test_device_resolve();
    test_dtype();
    test_plan();
    test_split();
    test_deal();
    test_dealer_push_after_error();
    return check_report();
}
