/*
 * test_train_log.c: the pooler trainer's log over resumed runs (engine/train/trainer.c, cmteb/pooler_train.h).
 * cm_pooler_log_means: the first and last epochs' mean losses of a log, NaN for an empty one, the line named
 * when one is malformed, CM_ERR_IO for a missing file. Resume: a run stopped at its checkpoint (step 3) whose
 * log then got lines of later steps (as a run killed between checkpoints leaves them) resumes with those lines
 * dropped, logs every step once, and ends with the head and the per-step losses of an uninterrupted run; the
 * log's epoch means then equal the uninterrupted run's in-memory means (to the log's 6 decimals).
 */
#include "check.h"
#include "cmteb/pooler_train.h"

#include <string.h>
#include <unistd.h>

static char *path_in(const char *dir, const char *name) { return cm_path_join(dir, name); }

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static size_t count_lines(const char *path, const char *needle, size_t *with) {
    char *buf = NULL;
    size_t len = 0, n = 0;
    *with = 0;
    if (cm_read_file(path, &buf, &len) != CM_OK) return 0;
    for (size_t i = 0; i < len; i++) n += buf[i] == '\n';
    for (char *p = buf; (p = strstr(p, needle)); p++) (*with)++;
    free(buf);
    return n;
}

/* 8 texts of 2-4 token states of width D, examples (q = i, pos = i + 4) for i < 4 */
#define D 8
typedef struct {
    cm_pooler_states st;
    cm_pooler_example ex[4];
} toy;

static void toy_init(toy *t) {
    memset(t, 0, sizeof *t);
    t->st.n = 8;
    t->st.d = D;
    t->st.len = calloc(8, sizeof(size_t));
    t->st.s0 = calloc(8, sizeof(size_t));
    t->st.off = calloc(8, sizeof(size_t));
    size_t rows = 0;
    for (size_t i = 0; i < 8; i++) {
        t->st.off[i] = rows;
        t->st.len[i] = 2 + i % 3;
        rows += t->st.len[i];
    }
    t->st.x = malloc(rows * D * sizeof(float));
    uint64_t s = 12345;
    for (size_t i = 0; i < rows * D; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        t->st.x[i] = (float)((double)(s >> 40) / (double)(1ull << 24) - 0.5);
    }
    for (size_t i = 0; i < 4; i++) {
        t->ex[i].q = i;
        t->ex[i].pos = i + 4;
    }
}

static void toy_free(toy *t) {
    free(t->st.len); free(t->st.s0); free(t->st.off); free(t->st.x);
}

/* trains a fresh mean-linear head for max_steps (3 epochs of 2 steps at most); returns the status */
static int train(const toy *t, const char *ckpt, const char *logp, long max_steps, double *first, double *last,
                 float *w_out) {
    cm_head_params hp = cm_head_default_params();
    hp.kind = CM_HEAD_MEAN_LINEAR;
    hp.d = D;
    cm_head *h = NULL;
    CM_TRY(cm_head_init(&h, &hp));
    cm_pooler_train_params p = cm_pooler_train_default_params();
    p.epochs = 3;
    p.batch = 2;
    p.max_steps = max_steps;
    p.checkpoint_dir = ckpt;
    p.checkpoint_every = 100;
    p.log_path = logp;
    int rc = cm_pooler_train(h, &t->st, t->ex, 4, &p, first, last);
    if (w_out) memcpy(w_out, cm_head_weights(h), cm_head_n_params(h) * sizeof(float));
    cm_head_free(h);
    return rc;
}

int main(void) {
    const char *base = getenv("CMTEB_TMP") ? getenv("CMTEB_TMP") : "/tmp";
    char *dir = cm_asprintf("%s/test_train_log_%d", base, (int)getpid());
    CHECK_OK(cm_mkdir_p(dir));
    char *logp = path_in(dir, "log.tsv");
    double a, b;

    /* means of the first and last epochs */
    put(logp, "1\t1\t2.0\n2\t1\t1.0\n3\t2\t0.75\n4\t2\t0.25\n5\t3\t0.5\n6\t3\t0.25\n");
    CHECK_OK(cm_pooler_log_means(logp, &a, &b));
    CHECK_NEAR(a, 1.5, 1e-12);
    CHECK_NEAR(b, 0.375, 1e-12);
    put(logp, "");
    CHECK_OK(cm_pooler_log_means(logp, &a, &b));
    CHECK(isnan(a) && isnan(b));
    put(logp, "1\t1\t2.0\n2\t1\tnope\n");
    CHECK(cm_pooler_log_means(logp, &a, &b) == CM_ERR_FORMAT);
    CHECK(strstr(cm_last_error(), "log.tsv:2: expected") != NULL);
    char *missing = path_in(dir, "none.tsv");
    CHECK(cm_pooler_log_means(missing, &a, &b) == CM_ERR_IO);
    free(missing);

    /* resume after stale lines: the same head and losses as one uninterrupted run */
    toy t;
    toy_init(&t);
    char *ck1 = path_in(dir, "ck1"), *ck2 = path_in(dir, "ck2"), *log1 = path_in(dir, "log1.tsv"),
         *log2 = path_in(dir, "log2.tsv");
    float w1[4096], w2[4096];
    double f1, l1, f2, l2;
    CHECK_OK(train(&t, ck1, log1, 0, &f1, &l1, w1));          /* uninterrupted: 6 steps */
    CHECK_OK(train(&t, ck2, log2, 3, &f2, &l2, NULL));        /* stopped at step 3, checkpoint there */
    FILE *f = fopen(log2, "a");
    fputs("4\t2\t9.5\n5\t3\t9.5\n", f);                        /* logged by a run that died before step 6 */
    fclose(f);
    CHECK_OK(train(&t, ck2, log2, 0, &f2, &l2, w2));          /* resumes at step 3 */
    size_t stale = 0, n2 = count_lines(log2, "9.5", &stale), dummy = 0;
    CHECK(n2 == 6);
    CHECK(stale == 0);
    CHECK(count_lines(log1, "\t", &dummy) == 6);
    char *b1 = NULL, *b2 = NULL;
    size_t n1b = 0, n2b = 0;
    CHECK_OK(cm_read_file(log1, &b1, &n1b));
    CHECK_OK(cm_read_file(log2, &b2, &n2b));
    CHECK(n1b == n2b && b1 && b2 && !memcmp(b1, b2, n1b));   /* every step once, the same losses */
    free(b1);
    free(b2);
    cm_head_params hp = cm_head_default_params();
    hp.kind = CM_HEAD_MEAN_LINEAR;
    hp.d = D;
    cm_head *h = NULL;
    CHECK_OK(cm_head_init(&h, &hp));
    size_t np = cm_head_n_params(h);
    cm_head_free(h);
    CHECK(np <= 4096 && !memcmp(w1, w2, np * sizeof(float)));
    CHECK_OK(cm_pooler_log_means(log2, &a, &b));
    CHECK_NEAR(a, f1, 1e-6);   /* the log holds each loss to 6 decimals */
    CHECK_NEAR(b, l1, 1e-6);
    CHECK(!isnan(f2));          /* the resumed call ran epochs 2-3 only: its own first mean is epoch 2's */

    toy_free(&t);
    char *cmd = cm_asprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    free(ck1); free(ck2); free(log1); free(log2); free(logp); free(dir);
    return check_report();
}
