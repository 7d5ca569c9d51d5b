/*
 * test_kmeans.c: tasks/clustering/kmeans.c against scikit-learn's
 * MiniBatchKMeans(n_init="auto", random_state=RandomState(seed))
 * (tests/reference/ref_learn_cluster.py -> tests/fixtures/learning/cluster.json):
 *   - k-means++ picks the very same rows (same RandomState stream);
 *   - the clustering agrees with scikit-learn's (V-measure between the two
 *     labelings) and scores the same against the true labels (within 0.01);
 *   - the same labels with 1 and 4 threads; n < k is refused.
 */
#include "check.h"
#include "cmteb/util.h"
#include "tasks/clustering/kmeans.h"
#include "tasks/clustering/vmeasure.h"

#include <cjson/cJSON.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static float *read_mat(const cJSON *m, size_t *rows, size_t *cols) {
    *rows = (size_t)get(m, "rows")->valueint;
    *cols = (size_t)get(m, "cols")->valueint;
    float *a = malloc(*rows * *cols * sizeof *a);
    const char *p = get(m, "data")->valuestring;
    for (size_t i = 0; i < *rows * *cols; i++) {
        char *end;
        a[i] = strtof(p, &end);
        p = end;
    }
    return a;
}

static int *ints(const cJSON *a) {
    int n = cJSON_GetArraySize(a), *v = malloc((size_t)(n ? n : 1) * sizeof *v);
    for (int i = 0; i < n; i++) v[i] = cJSON_GetArrayItem(a, i)->valueint;
    return v;
}

int main(void) {
    char *path = cm_path_join(check_env("CMTEB_SRC"), "tests/fixtures/learning/cluster.json"), *text = NULL;
    if (cm_read_file(path, &text, NULL)) SKIP("fixture tests/fixtures/learning/cluster.json not found");
    cJSON *doc = cJSON_Parse(text);
    CHECK(doc != NULL);
    const cJSON *c;
    cJSON_ArrayForEach(c, get(doc, "kmeans")) {
        size_t n, d;
        float *X = read_mat(get(c, "X"), &n, &d);
        int *y = ints(get(c, "y")), *sk = ints(get(c, "labels"));
        int *lab = malloc(n * sizeof *lab), *lab4 = malloc(n * sizeof *lab4);
        cm_kmeans_params p = cm_kmeans_default_params();
        p.n_clusters = get(c, "k")->valueint;
        p.batch_size = get(c, "batch")->valueint;
        p.threads = 1;
        cm_mt19937 rng;
        cm_mt_seed(&rng, (uint32_t)get(c, "seed")->valueint);
        cm_kmeans_info info;
        float *centers = malloc((size_t)p.n_clusters * d * sizeof *centers);
        CHECK_OK(cm_minibatch_kmeans(X, n, d, &p, &rng, lab, centers, &info));
        /* k-means++ alone, after the same draws sklearn makes first */
        {
            size_t batch = (size_t)p.batch_size < n ? (size_t)p.batch_size : n, init = 3 * batch;
            if (init < (size_t)p.n_clusters) init = 3 * (size_t)p.n_clusters;
            if (init > n) init = n;
            size_t *sub = malloc(init * sizeof *sub), *chosen = malloc((size_t)p.n_clusters * sizeof *chosen);
            cm_mt_seed(&rng, (uint32_t)get(c, "seed")->valueint);
            for (size_t i = 0; i < init; i++) (void)cm_rs_randint(&rng, 0, (int64_t)n);   /* validation rows */
            for (size_t i = 0; i < init; i++) sub[i] = init < n ? (size_t)cm_rs_randint(&rng, 0, (int64_t)n) : i;
            CHECK_OK(cm_kmeans_plusplus(X, d, sub, init, p.n_clusters, &rng, 1, centers, chosen));
            const cJSON *want = get(c, "init_rows");
            int same = cJSON_GetArraySize(want) == p.n_clusters;
            for (int j = 0; same && j < p.n_clusters; j++) same = (int)chosen[j] == cJSON_GetArrayItem(want, j)->valueint;
            if (!same) fprintf(stderr, "%s: k-means++ picked other rows than sklearn\n", get(c, "name")->valuestring);
            CHECK(same);
            free(sub);
            free(chosen);
        }
        double v_agree, v_ours, v_sk;
        CHECK_OK(cm_v_measure(sk, lab, n, &v_agree, NULL, NULL));
        CHECK_OK(cm_v_measure(y, lab, n, &v_ours, NULL, NULL));
        CHECK_OK(cm_v_measure(y, sk, n, &v_sk, NULL, NULL));
        printf("%-22s n=%zu k=%d: steps %d (sklearn %d), agreement V %.4f, V vs truth %.4f (sklearn %.4f)\n",
               get(c, "name")->valuestring, n, p.n_clusters, info.n_steps, get(c, "n_steps")->valueint, v_agree,
               v_ours, v_sk);
        CHECK_NEAR(v_ours, v_sk, 0.01);
        CHECK(v_agree > 0.9);
        p.threads = 4;
        cm_mt_seed(&rng, (uint32_t)get(c, "seed")->valueint);
        CHECK_OK(cm_minibatch_kmeans(X, n, d, &p, &rng, lab4, NULL, NULL));
        CHECK(memcmp(lab, lab4, n * sizeof *lab) == 0);
        free(X); free(y); free(sk); free(lab); free(lab4); free(centers);
    }
    float X2[4] = {0, 1, 2, 3};
    int l2[4];
    cm_kmeans_params p = cm_kmeans_default_params();
    p.n_clusters = 5;
    cm_mt19937 rng;
    cm_mt_seed(&rng, 42);
    CHECK(cm_minibatch_kmeans(X2, 4, 1, &p, &rng, l2, NULL, NULL) == CM_ERR_ARG);
    cJSON_Delete(doc);
    free(text);
    free(path);
    return check_report();
}
